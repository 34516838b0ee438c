//! The `X-Sdk-Date` format, `YYYYMMDDTHHMMSSZ` in UTC.

use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

const SDK_DATE: &[BorrowedFormatItem<'static>] = format_description!("[year][month][day]T[hour][minute][second]Z");

/// Formats a time as an `X-Sdk-Date` value; any offset is converted to UTC first.
pub fn format_sdk_date(time: OffsetDateTime) -> String {
    let utc = time.to_offset(UtcOffset::UTC);
    // Written digit by digit: `time`'s formatter interprets a description on every call,
    // which cost more than the rest of a signature's string work.
    let Ok(year) = u16::try_from(utc.year()) else {
        return String::from("00000101T000000Z");
    };
    if year > 9999 {
        return String::from("00000101T000000Z");
    }
    let mut out = String::with_capacity(16);
    push_digits(&mut out, year, 4);
    push_digits(&mut out, u16::from(u8::from(utc.month())), 2);
    push_digits(&mut out, u16::from(utc.day()), 2);
    out.push('T');
    push_digits(&mut out, u16::from(utc.hour()), 2);
    push_digits(&mut out, u16::from(utc.minute()), 2);
    push_digits(&mut out, u16::from(utc.second()), 2);
    out.push('Z');
    out
}

fn push_digits(out: &mut String, value: u16, width: u32) {
    for place in (0..width).rev() {
        out.push(char::from(b'0' + (value / 10u16.pow(place) % 10) as u8));
    }
}

/// Parses an `X-Sdk-Date` value as UTC. `None` when it is not of the form `YYYYMMDDTHHMMSSZ`.
pub fn parse_sdk_date(value: &str) -> Option<OffsetDateTime> {
    PrimitiveDateTime::parse(value, SDK_DATE).ok().map(PrimitiveDateTime::assume_utc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn round_trips_and_converts_to_utc() {
        let t = datetime!(2024-01-02 03:04:05 UTC);
        assert_eq!(format_sdk_date(t), "20240102T030405Z");
        assert_eq!(parse_sdk_date("20240102T030405Z"), Some(t));
        assert_eq!(format_sdk_date(datetime!(2024-01-02 11:04:05 +08:00)), "20240102T030405Z");
    }

    #[test]
    fn formats_like_the_format_description() {
        // Every field at its widest and narrowest, and years needing leading zeros.
        for t in [
            datetime!(2024-01-02 03:04:05 UTC),
            datetime!(9999-12-31 23:59:59 UTC),
            datetime!(0000-01-01 00:00:00 UTC),
            datetime!(0042-10-09 10:09:08 UTC),
        ] {
            assert_eq!(format_sdk_date(t), t.format(SDK_DATE).unwrap(), "{t}");
        }
        assert_eq!(format_sdk_date(datetime!(-0001-12-31 23:59:59 UTC)), "00000101T000000Z");
    }

    #[test]
    fn rejects_other_forms() {
        for bad in ["", "2024-01-02T03:04:05Z", "20240102T030405", "20241302T030405Z", "x"] {
            assert_eq!(parse_sdk_date(bad), None, "{bad}");
        }
    }
}
