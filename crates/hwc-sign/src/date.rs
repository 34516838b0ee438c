//! The `X-Sdk-Date` format, `YYYYMMDDTHHMMSSZ` in UTC.

use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

const SDK_DATE: &[BorrowedFormatItem<'static>] =
    format_description!("[year][month][day]T[hour][minute][second]Z");

/// Formats a time as an `X-Sdk-Date` value; any offset is converted to UTC first.
pub fn format_sdk_date(time: OffsetDateTime) -> String {
    let utc = time.to_offset(UtcOffset::UTC);
    // Only years outside 0000-9999 can fail; they cannot be written in this format.
    utc.format(SDK_DATE).unwrap_or_else(|_| String::from("00000101T000000Z"))
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
    fn rejects_other_forms() {
        for bad in ["", "2024-01-02T03:04:05Z", "20240102T030405", "20241302T030405Z", "x"] {
            assert_eq!(parse_sdk_date(bad), None, "{bad}");
        }
    }
}
