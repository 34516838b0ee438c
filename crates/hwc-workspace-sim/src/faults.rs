//! Fault injection: the misbehaviour of a real service and its gateways, on demand and
//! reproducibly, for reliability tests of clients.

use std::collections::VecDeque;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::str::FromStr;
use std::time::Duration;

/// The size of the [`FaultKind::OversizedBody`] answer: 10 MiB, ten times the largest body a
/// client has any reason to accept.
pub const OVERSIZED_BODY_BYTES: usize = 10 * 1024 * 1024;

/// One way of failing a request.
///
/// A faulted request never changes the simulator's state, whatever it answers.
/// [`FaultKind::ResetOnAccept`] acts on a connection as it is accepted, before any request is
/// read; every other kind acts on one request. Faults that hold a connection open
/// ([`FaultKind::NoAnswer`], [`FaultKind::StalledBody`]) let go when the client closes it or
/// the simulator stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FaultKind {
    /// 500 with the error body, code `WKS.0500`.
    InternalError,
    /// 503 with the error body, code `WKS.0503`.
    Unavailable,
    /// 429 with the error body, code `APIGW.0308`, and `Retry-After: <seconds>`.
    TooManyRequests {
        /// The `Retry-After` sent, in seconds.
        retry_after_secs: u64,
    },
    /// The connection is closed (a clean FIN) after the request was read, without an answer.
    DropConnection,
    /// 502 with an HTML page (`text/html`), as a proxy in front of the service answers.
    HtmlBadGateway,
    /// 200 whose `Content-Length` promises more than is sent, then the connection closes.
    TruncatedBody,
    /// The next connection is accepted and reset at once (RST, `SO_LINGER` 0), before its
    /// request is read: the request never reaches the service and is not counted.
    ResetOnAccept,
    /// The request is read, then the connection is reset (RST) instead of answered.
    ResetAfterRequest,
    /// The request is read and never answered.
    NoAnswer,
    /// A 200 head (`Content-Length` 49) and the first 11 bytes of the body are sent, then
    /// nothing more.
    StalledBody,
    /// An error status with a body of the given shape: JSON (the error body, with the code
    /// of the status), an HTML page, or nothing. `ErrorPage { status: 500, body: Json }`
    /// answers as [`FaultKind::InternalError`] does, and so on for 503 and the 502 page.
    ErrorPage {
        /// The status, 4xx or 5xx.
        status: u16,
        /// What the body holds.
        body: BodyShape,
    },
    /// 429 with the error body, code `APIGW.0308`, and no `Retry-After`.
    TooManyRequestsWithoutRetryAfter,
    /// 200 with a JSON body that is not the documented one (no `job_id`).
    UndocumentedBody,
    /// 200 with a JSON body of [`OVERSIZED_BODY_BYTES`]: the documented `job_id` plus
    /// padding, so a client without a size cap would accept it. It is sent chunked, without
    /// `Content-Length`, so a client learns its size only by reading.
    OversizedBody,
    /// 307 Temporary Redirect to the same path on another host (`Location:
    /// http://<to><path>`): a signed request must not follow it.
    Redirect {
        /// Where the redirect points.
        to: SocketAddr,
    },
}

/// The shape of an [`FaultKind::ErrorPage`] body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BodyShape {
    /// The documented error body, `application/json`.
    Json,
    /// An nginx-style error page, `text/html`.
    Html,
    /// No body at all (`Content-Length: 0`, no `Content-Type`).
    Empty,
}

impl BodyShape {
    const ALL: [BodyShape; 3] = [Self::Json, Self::Html, Self::Empty];

    fn name(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Html => "html",
            Self::Empty => "empty",
        }
    }
}

/// The statuses an [`FaultKind::ErrorPage`] takes by name: a failing service and the
/// gateway statuses in front of it.
const ERROR_PAGE_STATUSES: [u16; 4] = [500, 502, 503, 504];

/// A port nothing listens on, for the redirect in [`FaultKind::ALL`].
const REDIRECT_TARGET: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 9));

impl FaultKind {
    /// Every kind: `retry_after_secs` 1 for the 429, each [`BodyShape`] for 500, 502 and
    /// 503, and a redirect to `127.0.0.1:9`.
    pub const ALL: [FaultKind; 23] = [
        Self::InternalError,
        Self::Unavailable,
        Self::TooManyRequests { retry_after_secs: 1 },
        Self::DropConnection,
        Self::HtmlBadGateway,
        Self::TruncatedBody,
        Self::ResetOnAccept,
        Self::ResetAfterRequest,
        Self::NoAnswer,
        Self::StalledBody,
        Self::ErrorPage { status: 500, body: BodyShape::Json },
        Self::ErrorPage { status: 500, body: BodyShape::Html },
        Self::ErrorPage { status: 500, body: BodyShape::Empty },
        Self::ErrorPage { status: 502, body: BodyShape::Json },
        Self::ErrorPage { status: 502, body: BodyShape::Html },
        Self::ErrorPage { status: 502, body: BodyShape::Empty },
        Self::ErrorPage { status: 503, body: BodyShape::Json },
        Self::ErrorPage { status: 503, body: BodyShape::Html },
        Self::ErrorPage { status: 503, body: BodyShape::Empty },
        Self::TooManyRequestsWithoutRetryAfter,
        Self::UndocumentedBody,
        Self::OversizedBody,
        Self::Redirect { to: REDIRECT_TARGET },
    ];

    /// Whether the fault acts when a connection is accepted rather than on a request.
    pub fn acts_on_accept(self) -> bool {
        matches!(self, Self::ResetOnAccept)
    }
}

/// The names used by [`FaultKind`]'s `FromStr` and `Display`, for command lines and bindings:
/// `500`, `503`, `429` or `429:<secs>`, `429:none`, `drop`, `html`, `truncate`,
/// `reset-on-accept`, `reset`, `hang`, `stall`, `<status>:json|html|empty` (500, 502, 503,
/// 504), `undocumented`, `oversized`, `redirect:<host:port>`.
impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InternalError => f.write_str("500"),
            Self::Unavailable => f.write_str("503"),
            Self::TooManyRequests { retry_after_secs } => write!(f, "429:{retry_after_secs}"),
            Self::DropConnection => f.write_str("drop"),
            Self::HtmlBadGateway => f.write_str("html"),
            Self::TruncatedBody => f.write_str("truncate"),
            Self::ResetOnAccept => f.write_str("reset-on-accept"),
            Self::ResetAfterRequest => f.write_str("reset"),
            Self::NoAnswer => f.write_str("hang"),
            Self::StalledBody => f.write_str("stall"),
            Self::ErrorPage { status, body } => write!(f, "{status}:{}", body.name()),
            Self::TooManyRequestsWithoutRetryAfter => f.write_str("429:none"),
            Self::UndocumentedBody => f.write_str("undocumented"),
            Self::OversizedBody => f.write_str("oversized"),
            Self::Redirect { to } => write!(f, "redirect:{to}"),
        }
    }
}

impl FromStr for FaultKind {
    type Err = UnknownFault;

    /// Reads the names [`FaultKind`]'s `Display` writes; `429` alone means `Retry-After: 1`.
    fn from_str(name: &str) -> Result<Self, UnknownFault> {
        let name = name.trim();
        let unknown = || UnknownFault(name.to_owned());
        let lower = name.to_ascii_lowercase();
        Ok(match lower.as_str() {
            "500" => Self::InternalError,
            "503" => Self::Unavailable,
            "429" => Self::TooManyRequests { retry_after_secs: 1 },
            "429:none" => Self::TooManyRequestsWithoutRetryAfter,
            "drop" => Self::DropConnection,
            "html" => Self::HtmlBadGateway,
            "truncate" => Self::TruncatedBody,
            "reset-on-accept" => Self::ResetOnAccept,
            "reset" => Self::ResetAfterRequest,
            "hang" => Self::NoAnswer,
            "stall" => Self::StalledBody,
            "undocumented" => Self::UndocumentedBody,
            "oversized" => Self::OversizedBody,
            other => {
                if let Some(address) = other.strip_prefix("redirect:") {
                    let to = address.parse::<SocketAddr>().map_err(|_| unknown())?;
                    return Ok(Self::Redirect { to });
                }
                let (status, rest) = other.split_once(':').ok_or_else(unknown)?;
                let status = status.parse::<u16>().map_err(|_| unknown())?;
                if status == 429 {
                    let retry_after_secs = rest.parse::<u64>().map_err(|_| unknown())?;
                    return Ok(Self::TooManyRequests { retry_after_secs });
                }
                let body = BodyShape::ALL.into_iter().find(|shape| shape.name() == rest).ok_or_else(unknown)?;
                if !ERROR_PAGE_STATUSES.contains(&status) {
                    return Err(unknown());
                }
                Self::ErrorPage { status, body }
            }
        })
    }
}

/// A fault name that [`FaultKind`]'s `FromStr` does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown fault {0:?}: expected 500, 503, 429, 429:<seconds>, 429:none, drop, html, truncate, \
     reset-on-accept, reset, hang, stall, <500|502|503|504>:<json|html|empty>, undocumented, \
     oversized or redirect:<host:port>"
)]
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
    /// Answers about jobs that the documented service never gives, while this is set.
    pub job_reports: Option<JobReportFault>,
}

/// Answers about jobs that the documented service never gives: how a client reads reports
/// that contradict each other or cannot be used is tested against these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JobReportFault {
    /// An ended job says `SUCCESS` although the sub-jobs of failing desktops say `FAILED`.
    SuccessOverFailedSubJobs,
    /// An ended job says `FAILED` although every sub-job says `SUCCESS`.
    FailedOverSuccessfulSubJobs,
    /// An ended job says `SUCCESS` and reports no sub-job at all.
    NoSubJobs,
    /// Each desktop of an ended job is reported twice, by a `SUCCESS` and then a `FAILED`
    /// sub-job.
    ConflictingSubJobs,
    /// ShowJob describes another job: its `id` is not the one asked for.
    AnotherJob,
    /// The deletion answers with a job id that cannot be a path segment (`..`).
    UnusableJobId,
}

impl JobReportFault {
    /// Every kind, for tables of tests and the command line.
    pub const ALL: [Self; 6] = [
        Self::SuccessOverFailedSubJobs,
        Self::FailedOverSuccessfulSubJobs,
        Self::NoSubJobs,
        Self::ConflictingSubJobs,
        Self::AnotherJob,
        Self::UnusableJobId,
    ];

    /// The kind's name, as the command line and Python spell it.
    pub fn name(self) -> &'static str {
        match self {
            Self::SuccessOverFailedSubJobs => "success-over-failed-sub-jobs",
            Self::FailedOverSuccessfulSubJobs => "failed-over-successful-sub-jobs",
            Self::NoSubJobs => "no-sub-jobs",
            Self::ConflictingSubJobs => "conflicting-sub-jobs",
            Self::AnotherJob => "another-job",
            Self::UnusableJobId => "unusable-job-id",
        }
    }

    /// The kind named `name` (see [`JobReportFault::name`]).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

impl Faults {
    /// No faults.
    pub fn none() -> Self {
        Self::default()
    }

    /// The next requests fail with `kinds`, one each, in order.
    pub fn fail_next(kinds: impl IntoIterator<Item = FaultKind>) -> Self {
        Self { fail_next: kinds.into_iter().collect(), ..Self::default() }
    }

    /// A fraction `rate` of requests answered 500 or 503 (half each), reproducibly from `seed`.
    pub fn error_rate(rate: f64, seed: u64) -> Self {
        let half = clamp_probability(rate) / 2.0;
        Self { random: vec![(FaultKind::InternalError, half), (FaultKind::Unavailable, half)], seed, ..Self::default() }
    }

    #[must_use]
    /// A delay before every answer, as a slow network or service adds.
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    #[must_use]
    /// Draws `kind` for each request with this probability (0 to 1), besides the scripted faults.
    pub fn with_random(mut self, kind: FaultKind, probability: f64) -> Self {
        self.random.push((kind, probability));
        self
    }

    /// Answers about jobs that the documented service never gives; see [`JobReportFault`].
    #[must_use]
    pub fn with_job_reports(mut self, kind: JobReportFault) -> Self {
        self.job_reports = Some(kind);
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
    /// The seed of the random draws, so that a run can be repeated.
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
    job_reports: Option<JobReportFault>,
}

impl FaultState {
    pub(crate) fn new(faults: Faults) -> Self {
        let random =
            faults.random.into_iter().map(|(kind, p)| (kind, clamp_probability(p))).filter(|(_, p)| *p > 0.0).collect();
        Self {
            latency: faults.latency,
            queue: faults.fail_next.into(),
            random,
            seed: faults.seed,
            rng: SplitMix64(faults.seed),
            failing_desktops: faults.failing_desktops,
            job_reports: faults.job_reports,
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
            job_reports: self.job_reports,
        }
    }

    /// The hostile job reports in force, if any.
    pub(crate) fn job_reports(&self) -> Option<JobReportFault> {
        self.job_reports
    }

    /// Whether a new job's sub-job for this desktop is to fail.
    pub(crate) fn fails_desktop(&self, desktop_id: &str) -> bool {
        self.failing_desktops.iter().any(|id| id == desktop_id)
    }

    /// The fault for the next request, if any, and the latency to add: the first fault of
    /// the queue that acts on a request (faults acting on accept ahead of it wait for the
    /// next connection), else one draw against the random faults that act on a request.
    pub(crate) fn draw(&mut self) -> (Option<FaultKind>, Duration) {
        let queued = self.queue.iter().position(|kind| !kind.acts_on_accept());
        if let Some(kind) = queued.and_then(|index| self.queue.remove(index)) {
            return (Some(kind), self.latency);
        }
        (self.draw_random(false), self.latency)
    }

    /// Whether a connection just accepted is to be reset: the head of the queue if it acts
    /// on accept, else one draw against the random faults that act on accept. The generator
    /// is not touched when none do, so request faults stay reproducible from the seed.
    pub(crate) fn draw_at_accept(&mut self) -> Option<FaultKind> {
        if self.queue.front().is_some_and(|kind| kind.acts_on_accept()) {
            return self.queue.pop_front();
        }
        self.draw_random(true)
    }

    fn draw_random(&mut self, on_accept: bool) -> Option<FaultKind> {
        let mut candidates = self.random.iter().filter(|(kind, _)| kind.acts_on_accept() == on_accept).peekable();
        candidates.peek()?;
        let x = self.rng.next_f64();
        let mut total = 0.0;
        for (kind, p) in candidates {
            total += p;
            if x < total {
                return Some(*kind);
            }
        }
        None
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
        assert_eq!(state.draw(), (Some(FaultKind::InternalError), Duration::from_millis(5)));
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
        let internal = a.iter().filter(|f| **f == Some(FaultKind::InternalError)).count();
        assert!((1_300..1_700).contains(&internal), "{internal}");
    }

    #[test]
    fn names_round_trip() {
        let extra = [
            FaultKind::TooManyRequests { retry_after_secs: 30 },
            FaultKind::ErrorPage { status: 504, body: BodyShape::Empty },
            FaultKind::Redirect { to: "[::1]:8443".parse().unwrap() },
        ];
        for kind in FaultKind::ALL.into_iter().chain(extra) {
            assert_eq!(kind.to_string().parse::<FaultKind>(), Ok(kind), "{kind}");
        }
        let names: std::collections::HashSet<String> = FaultKind::ALL.iter().map(ToString::to_string).collect();
        assert_eq!(names.len(), FaultKind::ALL.len(), "every kind has its own name");
        assert_eq!(" DROP ".parse::<FaultKind>(), Ok(FaultKind::DropConnection));
        assert_eq!("429".parse::<FaultKind>(), Ok(FaultKind::TooManyRequests { retry_after_secs: 1 }));
        assert_eq!("502:HTML".parse::<FaultKind>(), Ok(FaultKind::ErrorPage { status: 502, body: BodyShape::Html }));
        for bad in [
            "",
            "404",
            "429:",
            "429:-1",
            "429:x",
            "dropped",
            "404:json",
            "500:xml",
            "500:",
            "redirect:",
            "redirect:localhost",
        ] {
            assert!(bad.parse::<FaultKind>().unwrap_err().to_string().contains("expected 500"), "{bad}");
        }
    }

    #[test]
    fn faults_on_accept_wait_for_a_connection_and_requests_pass_them() {
        let mut state = FaultState::new(Faults::fail_next([
            FaultKind::ResetOnAccept,
            FaultKind::InternalError,
            FaultKind::ResetOnAccept,
        ]));
        // A request on a connection that is already open takes the first request fault.
        assert_eq!(state.draw().0, Some(FaultKind::InternalError));
        assert_eq!(state.draw().0, None);
        assert_eq!(state.draw_at_accept(), Some(FaultKind::ResetOnAccept));
        assert_eq!(state.draw_at_accept(), Some(FaultKind::ResetOnAccept));
        assert_eq!(state.draw_at_accept(), None);

        // At accept only the head counts: a request fault ahead keeps its turn.
        let mut state = FaultState::new(Faults::fail_next([FaultKind::NoAnswer, FaultKind::ResetOnAccept]));
        assert_eq!(state.draw_at_accept(), None);
        assert_eq!(state.draw().0, Some(FaultKind::NoAnswer));
        assert_eq!(state.draw_at_accept(), Some(FaultKind::ResetOnAccept));
    }

    #[test]
    fn random_faults_on_accept_do_not_shift_the_request_sequence() {
        let requests = |faults: Faults| {
            let mut state = FaultState::new(faults);
            (0..1_000).map(|_| state.draw().0).collect::<Vec<_>>()
        };
        let plain = requests(Faults::error_rate(0.3, 11));
        let with_resets = requests(Faults::error_rate(0.3, 11).with_random(FaultKind::ResetOnAccept, 0.5));
        assert_eq!(plain, with_resets);
        let mut always = FaultState::new(Faults::none().with_random(FaultKind::ResetOnAccept, 1.0));
        assert_eq!(always.draw_at_accept(), Some(FaultKind::ResetOnAccept));
        assert_eq!(always.draw().0, None);
    }

    #[test]
    fn probabilities_are_clamped() {
        let mut always = FaultState::new(Faults::none().with_random(FaultKind::HtmlBadGateway, 7.0));
        assert!((0..100).all(|_| always.draw().0 == Some(FaultKind::HtmlBadGateway)));
        let mut never = FaultState::new(
            Faults::none().with_random(FaultKind::HtmlBadGateway, f64::NAN).with_random(FaultKind::Unavailable, -1.0),
        );
        assert!((0..100).all(|_| never.draw().0.is_none()));
        assert!(never.current().random.is_empty());
    }
}
