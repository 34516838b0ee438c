//! Fault injection: the misbehaviour of a real service and its gateways, on demand and
//! reproducibly, for reliability tests of clients.

use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// One way of failing a request.
///
/// A faulted request never changes the simulator's state, whatever it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FaultKind {
    /// 500 with the error body, code `WKS.0500`.
    InternalError,
    /// 503 with the error body, code `WKS.0503`.
    Unavailable,
    /// 429 with the error body, code `APIGW.0308`, and `Retry-After: <seconds>`.
    TooManyRequests { retry_after_secs: u64 },
    /// The connection is closed after the request was read, without an answer.
    DropConnection,
    /// 502 with an HTML page (`text/html`), as a proxy in front of the service answers.
    HtmlBadGateway,
    /// 200 whose `Content-Length` promises more than is sent, then the connection closes.
    TruncatedBody,
}

impl FaultKind {
    /// Every kind, with `retry_after_secs` 1 for the 429.
    pub const ALL: [FaultKind; 6] = [
        Self::InternalError,
        Self::Unavailable,
        Self::TooManyRequests {
            retry_after_secs: 1,
        },
        Self::DropConnection,
        Self::HtmlBadGateway,
        Self::TruncatedBody,
    ];
}

/// The names used by [`FaultKind`]'s `FromStr` and `Display`, for command lines and bindings:
/// `500`, `503`, `429` or `429:<secs>`, `drop`, `html`, `truncate`.
impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InternalError => f.write_str("500"),
            Self::Unavailable => f.write_str("503"),
            Self::TooManyRequests { retry_after_secs } => write!(f, "429:{retry_after_secs}"),
            Self::DropConnection => f.write_str("drop"),
            Self::HtmlBadGateway => f.write_str("html"),
            Self::TruncatedBody => f.write_str("truncate"),
        }
    }
}

impl FromStr for FaultKind {
    type Err = UnknownFault;

    /// Reads the names [`FaultKind`]'s `Display` writes; `429` alone means `Retry-After: 1`.
    fn from_str(name: &str) -> Result<Self, UnknownFault> {
        let name = name.trim();
        Ok(match name.to_ascii_lowercase().as_str() {
            "500" => Self::InternalError,
            "503" => Self::Unavailable,
            "429" => Self::TooManyRequests {
                retry_after_secs: 1,
            },
            "drop" => Self::DropConnection,
            "html" => Self::HtmlBadGateway,
            "truncate" => Self::TruncatedBody,
            other => match other.strip_prefix("429:").map(str::parse::<u64>) {
                Some(Ok(retry_after_secs)) => Self::TooManyRequests { retry_after_secs },
                _ => return Err(UnknownFault(name.to_owned())),
            },
        })
    }
}

/// A fault name that [`FaultKind`]'s `FromStr` does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault {0:?}: expected 500, 503, 429, 429:<seconds>, drop, html or truncate")]
pub struct UnknownFault(String);

/// The faults in force. `Faults::default()` is a well-behaved service.
///
/// For each request, in order: the first of [`Faults::fail_next`] is taken, if any; else one
/// number is drawn from the seeded generator and the first of [`Faults::random`] whose
/// running total of probabilities exceeds it applies. [`Faults::latency`] delays every
/// answer, faulted or not.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Added before every answer.
    pub latency: Duration,
    /// Faults for the next requests, one each, in order; consumed as requests arrive.
    pub fail_next: Vec<FaultKind>,
    /// Faults drawn at random, each with its probability (0.0 to 1.0).
    pub random: Vec<(FaultKind, f64)>,
    /// Seeds the generator behind [`Faults::random`]; the same seed and the same sequence of
    /// requests give the same faults.
    pub seed: u64,
    /// Desktops whose sub-job fails in jobs created while this is set: the deletion is
    /// accepted (200), the desktop keeps its resource, and the job ends `FAILED`.
    pub failing_desktops: Vec<String>,
}

impl Faults {
    /// No faults.
    pub fn none() -> Self {
        Self::default()
    }

    /// The next requests fail with `kinds`, one each, in order.
    pub fn fail_next(kinds: impl IntoIterator<Item = FaultKind>) -> Self {
        Self {
            fail_next: kinds.into_iter().collect(),
            ..Self::default()
        }
    }

    /// A fraction `rate` of requests answered 500 or 503 (half each), reproducibly from `seed`.
    pub fn error_rate(rate: f64, seed: u64) -> Self {
        let half = clamp_probability(rate) / 2.0;
        Self {
            random: vec![
                (FaultKind::InternalError, half),
                (FaultKind::Unavailable, half),
            ],
            seed,
            ..Self::default()
        }
    }

    #[must_use]
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    #[must_use]
    pub fn with_random(mut self, kind: FaultKind, probability: f64) -> Self {
        self.random.push((kind, probability));
        self
    }

    /// Sub-jobs for these desktops fail; see [`Faults::failing_desktops`].
    #[must_use]
    pub fn with_failing_desktops<I, S>(mut self, desktop_ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.failing_desktops = desktop_ids.into_iter().map(Into::into).collect();
        self
    }

    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

fn clamp_probability(p: f64) -> f64 {
    if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) }
}

/// The faults in force plus what they consume: the queue and the generator.
#[derive(Debug)]
pub(crate) struct FaultState {
    latency: Duration,
    queue: VecDeque<FaultKind>,
    random: Vec<(FaultKind, f64)>,
    seed: u64,
    rng: SplitMix64,
    failing_desktops: Vec<String>,
}

impl FaultState {
    pub(crate) fn new(faults: Faults) -> Self {
        let random = faults
            .random
            .into_iter()
            .map(|(kind, p)| (kind, clamp_probability(p)))
            .filter(|(_, p)| *p > 0.0)
            .collect();
        Self {
            latency: faults.latency,
            queue: faults.fail_next.into(),
            random,
            seed: faults.seed,
            rng: SplitMix64(faults.seed),
            failing_desktops: faults.failing_desktops,
        }
    }

    /// What the faults are now: the queue as far as it is not consumed yet.
    pub(crate) fn current(&self) -> Faults {
        Faults {
            latency: self.latency,
            fail_next: self.queue.iter().copied().collect(),
            random: self.random.clone(),
            seed: self.seed,
            failing_desktops: self.failing_desktops.clone(),
        }
    }

    /// Whether a new job's sub-job for this desktop is to fail.
    pub(crate) fn fails_desktop(&self, desktop_id: &str) -> bool {
        self.failing_desktops.iter().any(|id| id == desktop_id)
    }

    /// The fault for the next request, if any, and the latency to add.
    pub(crate) fn draw(&mut self) -> (Option<FaultKind>, Duration) {
        if let Some(kind) = self.queue.pop_front() {
            return (Some(kind), self.latency);
        }
        if self.random.is_empty() {
            return (None, self.latency);
        }
        let x = self.rng.next_f64();
        let mut total = 0.0;
        for (kind, p) in &self.random {
            total += p;
            if x < total {
                return (Some(*kind), self.latency);
            }
        }
        (None, self.latency)
    }
}

/// SplitMix64: tiny, fast, and the same on every platform, so a seed means one sequence.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(pub(crate) u64);

impl SplitMix64 {
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    fn next_f64(&mut self) -> f64 {
        // 53 random bits give every representable value in [0, 1) with equal spacing.
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_comes_first_and_is_consumed() {
        let mut state = FaultState::new(
            Faults::fail_next([FaultKind::InternalError, FaultKind::DropConnection])
                .with_latency(Duration::from_millis(5)),
        );
        assert_eq!(
            state.draw(),
            (Some(FaultKind::InternalError), Duration::from_millis(5))
        );
        assert_eq!(state.current().fail_next, [FaultKind::DropConnection]);
        assert_eq!(state.draw().0, Some(FaultKind::DropConnection));
        assert_eq!(state.draw().0, None);
    }

    #[test]
    fn random_faults_are_reproducible_and_near_their_rate() {
        let draws = |seed| {
            let mut state = FaultState::new(Faults::error_rate(0.3, seed));
            (0..10_000).map(|_| state.draw().0).collect::<Vec<_>>()
        };
        let a = draws(7);
        assert_eq!(a, draws(7));
        assert_ne!(a, draws(8));
        let failed = a.iter().filter(|f| f.is_some()).count();
        assert!((2_700..3_300).contains(&failed), "{failed}");
        let internal = a
            .iter()
            .filter(|f| **f == Some(FaultKind::InternalError))
            .count();
        assert!((1_300..1_700).contains(&internal), "{internal}");
    }

    #[test]
    fn names_round_trip() {
        for kind in FaultKind::ALL
            .into_iter()
            .chain([FaultKind::TooManyRequests {
                retry_after_secs: 30,
            }])
        {
            assert_eq!(kind.to_string().parse::<FaultKind>(), Ok(kind), "{kind}");
        }
        assert_eq!(" DROP ".parse::<FaultKind>(), Ok(FaultKind::DropConnection));
        assert_eq!(
            "429".parse::<FaultKind>(),
            Ok(FaultKind::TooManyRequests {
                retry_after_secs: 1
            })
        );
        for bad in ["", "404", "429:", "429:-1", "429:x", "dropped"] {
            assert!(
                bad.parse::<FaultKind>()
                    .unwrap_err()
                    .to_string()
                    .contains("expected 500"),
                "{bad}"
            );
        }
    }

    #[test]
    fn probabilities_are_clamped() {
        let mut always =
            FaultState::new(Faults::none().with_random(FaultKind::HtmlBadGateway, 7.0));
        assert!((0..100).all(|_| always.draw().0 == Some(FaultKind::HtmlBadGateway)));
        let mut never = FaultState::new(
            Faults::none()
                .with_random(FaultKind::HtmlBadGateway, f64::NAN)
                .with_random(FaultKind::Unavailable, -1.0),
        );
        assert!((0..100).all(|_| never.draw().0.is_none()));
        assert!(never.current().random.is_empty());
    }
}
