//! When a failed attempt is sent again, and after how long.

use std::time::Duration;

/// Statuses that opt-in retries send again: the service asked to slow down or a gateway
/// could not reach it, so the request most likely did not take effect.
pub const RETRYABLE_STATUSES: [u16; 4] = [429, 502, 503, 504];

/// The most opt-in retries a front accepts: past ten, backoff waits minutes for an answer
/// that is not coming.
pub const MAX_RETRIES: u32 = 10;

/// The retry policy.
///
/// By default only a connection that could not be established is tried again: the request
/// cannot have reached the service then, so nothing is deleted twice. Retrying on
/// [`RETRYABLE_STATUSES`] is opt-in (`max_retries`), because a deletion that reached the
/// service must not be repeated by surprise. Each attempt is signed afresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Further attempts after a retryable status (opt-in; 0 by default).
    pub max_retries: u32,
    /// Further attempts after a connection could not be established.
    pub connect_retries: u32,
    /// The first backoff's upper bound; it doubles per attempt (full jitter).
    pub base_delay: Duration,
    /// The largest backoff.
    pub max_delay: Duration,
    /// The longest `Retry-After` honoured; a longer one is cut to this.
    pub retry_after_cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 0,
            connect_retries: 2,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
            retry_after_cap: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The default policy plus `retries` further attempts on retryable statuses.
    pub fn with_retries(retries: u32) -> Self {
        Self { max_retries: retries, ..Self::default() }
    }

    /// No retries at all, not even of failed connections.
    pub fn none() -> Self {
        Self { max_retries: 0, connect_retries: 0, ..Self::default() }
    }

    /// Full jitter: a uniform delay between zero and `base * 2^(retry - 1)`, capped.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exponent = retry.saturating_sub(1).min(20);
        let ceiling = self.base_delay.saturating_mul(1 << exponent).min(self.max_delay);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(fastrand::u64(0..=millis))
    }

    /// The delay before the next attempt: the backoff, or the server's `Retry-After` when
    /// longer (cut to `retry_after_cap`).
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let backoff = self.backoff(retry);
        match retry_after {
            Some(asked) => asked.min(self.retry_after_cap).max(backoff),
            None => backoff,
        }
    }
}

/// Reads `Retry-After` as seconds or as an HTTP date.
pub(crate) fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded_by_the_doubling_ceiling_and_the_cap() {
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(500),
            ..RetryPolicy::default()
        };
        for _ in 0..200 {
            assert!(policy.backoff(1) <= Duration::from_millis(100));
            assert!(policy.backoff(2) <= Duration::from_millis(200));
            assert!(policy.backoff(10) <= Duration::from_millis(500));
        }
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_cap() {
        let policy = RetryPolicy {
            base_delay: Duration::ZERO,
            retry_after_cap: Duration::from_secs(5),
            ..RetryPolicy::default()
        };
        assert_eq!(policy.delay(1, Some(Duration::from_secs(2))), Duration::from_secs(2));
        assert_eq!(policy.delay(1, Some(Duration::from_secs(60))), Duration::from_secs(5));
    }

    #[test]
    fn parses_both_retry_after_forms() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now), Some(Duration::from_secs(10)));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
