//! When a job is read next: a wait that learns.
//!
//! Every read of a job is a call the service's quota counts, and a job seen ended late holds
//! the whole run. So a job is read near when it should end, as best known:
//! - a run's jobs take about as long as each other, so a run learns how long they take
//!   ([`JobPace`]) and reads each new job first near then;
//! - a running job's sub-jobs say how far it has come (`process`). Two readings give its
//!   progress rate, which the run's other jobs share: the next read is set where the job's
//!   progress at that rate reaches 100%. Until a run knows a rate, one job read shortly after
//!   its first progress gives it one; the time since acceptance alone would err late, since
//!   it counts the job's waiting before it ran;
//! - while a run knows nothing yet, one of its jobs (the scout) is read on its own schedule and
//!   the others wait for what it learns (at most `max_poll_interval`), then are read near when
//!   the run's jobs end: a run of a thousand jobs does not make a thousand probes;
//! - where nothing is known, the pauses grow from `poll_interval` by half each time, as they
//!   always did, and a projection that missed once is trusted no further than they are.
//!
//! Every pause stays within the wait's `max_poll_interval` and timeout; a throttled read
//! still waits as long as the service asks ([`crate::Client::wait_job`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use std::time::Instant;

use crate::client::WaitOptions;

/// The shortest pause between two reads of one job, whatever a projection says: a job
/// reporting 99% for long is not read in a busy loop.
const MIN_PAUSE: Duration = Duration::from_millis(10);
/// How much a new job's duration (or progress rate) weighs in the run's (an exponential
/// average: the run follows a service that slows down or speeds up within a few jobs).
const LEARNING_RATE: f64 = 0.3;
/// A job found ended at its first read ended some time before it, how long before nobody
/// knows: the estimate is nudged this much lower, and more for each such job in a row, so
/// that it does not stay wherever it first landed and follows a service that became faster.
const ENDED_BEFORE: f64 = 0.95;
/// The read that measures a run's first progress rate comes after this fraction of the time
/// since acceptance.
const RATE_PROBE: f64 = 0.25;

/// What a run has learnt of how long its jobs take, from acceptance to their end, and how
/// many times it read a job: shared by every batch of the run (clones share it).
#[derive(Debug, Clone, Default)]
pub struct JobPace(Arc<Shared>);

#[derive(Debug, Default)]
struct Shared {
    state: std::sync::Mutex<Learnt>,
    reads: AtomicUsize,
    /// Whether one of the run's jobs is the scout now.
    scouting: AtomicBool,
    /// Wakes the jobs waiting for the scout: something was learnt, or the scout left.
    learnt_something: tokio::sync::Notify,
}

#[derive(Debug, Default)]
struct Learnt {
    estimate: Option<Duration>,
    /// Percent per second, as the run's jobs progress while they run.
    rate: Option<f64>,
    /// Jobs in a row found ended at their first read.
    ended_unseen: i32,
}

impl JobPace {
    /// How long this run's jobs take, as learnt so far.
    pub fn estimate(&self) -> Option<Duration> {
        self.learnt().estimate
    }

    /// How many times the run's jobs were read (each a ShowJob call, retries of a throttled
    /// read included).
    pub fn reads(&self) -> usize {
        self.0.reads.load(Ordering::Relaxed)
    }

    pub(crate) fn counted_read(&self) {
        self.0.reads.fetch_add(1, Ordering::Relaxed);
    }

    fn learnt(&self) -> std::sync::MutexGuard<'_, Learnt> {
        self.0.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A job took about `duration`; `seen_running`: it was read before it ended (else it
    /// ended some time before `duration`).
    fn learn(&self, duration: Duration, seen_running: bool) {
        let mut learnt = self.learnt();
        let duration = if seen_running {
            learnt.ended_unseen = 0;
            duration
        } else {
            learnt.ended_unseen = learnt.ended_unseen.saturating_add(1).min(20);
            duration.mul_f64(ENDED_BEFORE.powi(learnt.ended_unseen))
        };
        learnt.estimate = Some(average(learnt.estimate, duration, |d| d.as_secs_f64(), Duration::from_secs_f64));
        drop(learnt);
        self.0.learnt_something.notify_waiters();
    }

    /// The scout's role, if no other job of the run holds it.
    fn scout(&self) -> Option<Scout> {
        self.0
            .scouting
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
            .then(|| Scout { pace: self.clone() })
    }

    fn learn_rate(&self, rate: f64) {
        let mut learnt = self.learnt();
        learnt.rate = Some(average(learnt.rate, rate, |r| r, |r| r));
    }
}

/// The role of the job that finds out how long a run's jobs take, while the run knows nothing;
/// given back when its wait ends, however it ends.
#[derive(Debug)]
struct Scout {
    pace: JobPace,
}

impl Drop for Scout {
    fn drop(&mut self) {
        self.pace.0.scouting.store(false, Ordering::Release);
        // A job waiting for it may take the role now.
        self.pace.0.learnt_something.notify_waiters();
    }
}

/// The run's exponential average of `known` and a new value.
fn average<T: Copy>(known: Option<T>, new: T, to: impl Fn(T) -> f64, from: impl Fn(f64) -> T) -> T {
    match known {
        None => new,
        Some(known) => from(to(known) * (1.0 - LEARNING_RATE) + to(new) * LEARNING_RATE),
    }
}

/// One job's reads: when the next one comes, from what the earlier ones said.
#[derive(Debug)]
pub(crate) struct JobReads<'a> {
    pace: &'a JobPace,
    options: &'a WaitOptions,
    /// When the wait began: every time below is since then.
    started: Instant,
    scout: Option<Scout>,
    /// The pause when nothing better is known: `poll_interval`, growing by half each read.
    interval: Duration,
    /// The latest reading of the job running with some progress, and the one before it with
    /// less: (time since the wait began, percent).
    latest: Option<(Duration, u8)>,
    earlier: Option<(Duration, u8)>,
    /// The latest time the job was seen not ended.
    running_at: Option<Duration>,
    /// Where the latest running reading projected the end, and whether a read was made there
    /// and found the job still running.
    projected_end: Option<Duration>,
    projection_missed: bool,
    /// Whether this job taught the run its projected duration already; whether it made the
    /// read that measures a rate (once: a job whose progress stands still measures none).
    taught: bool,
    probed: bool,
}

impl<'a> JobReads<'a> {
    pub(crate) fn new(pace: &'a JobPace, options: &'a WaitOptions) -> Self {
        let interval = match pace.estimate() {
            // A job that outlives the run's estimate is read again at a fraction of it.
            Some(estimate) => options.poll_interval.min(estimate / 4).max(MIN_PAUSE),
            None => options.poll_interval,
        };
        Self {
            pace,
            options,
            started: Instant::now(),
            scout: None,
            interval,
            latest: None,
            earlier: None,
            running_at: None,
            projected_end: None,
            projection_missed: false,
            taught: false,
            probed: false,
        }
    }

    /// The time since the wait began.
    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Waits `pause` (within `remaining`) before the next read, and never less than `asked`
    /// (what a throttled read was told to wait). While the run has learnt nothing of its jobs,
    /// one job (the scout) waits its own pauses and the others wait for what it learns, at
    /// most `max_poll_interval`, then until near when the run's jobs end.
    pub(crate) async fn wait(&mut self, pause: Duration, asked: Duration, remaining: Duration) {
        let deadline = Instant::now() + remaining;
        let asked_until = tokio::time::Instant::from_std((Instant::now() + asked).min(deadline));
        let cap = tokio::time::Instant::from_std(Instant::now() + self.options.max_poll_interval.min(remaining));
        loop {
            if self.pace.estimate().is_some() || self.scout.is_some() {
                break;
            }
            self.scout = self.pace.scout();
            if self.scout.is_some() {
                break;
            }
            let learnt = self.pace.0.learnt_something.notified();
            tokio::pin!(learnt);
            learnt.as_mut().enable();
            if self.pace.estimate().is_some() || !self.pace.0.scouting.load(Ordering::Acquire) {
                continue;
            }
            tokio::select! {
                () = learnt => continue,
                () = tokio::time::sleep_until(cap) => {
                    tokio::time::sleep_until(asked_until).await;
                    return;
                }
            }
        }
        let pause = match self.pace.estimate() {
            // Woken by what the scout learnt: near when this job should end.
            Some(estimate) if self.scout.is_none() && self.running_at.is_none() => {
                with_margin(estimate).saturating_sub(self.elapsed()).max(asked)
            }
            _ => pause,
        };
        let until = (Instant::now() + pause).min(deadline);
        tokio::time::sleep_until(tokio::time::Instant::from_std(until)).await;
    }

    /// The pause before the first read of a job just accepted: near when the run's jobs end,
    /// or `poll_interval` while the run knows nothing yet (a job is never done the moment it
    /// is accepted, so reading it at once would only spend a call).
    pub(crate) fn first_pause(&self) -> Duration {
        match self.pace.estimate() {
            Some(estimate) => with_margin(estimate),
            None => self.options.poll_interval,
        }
        .min(self.options.max_poll_interval)
    }

    /// The job was read `elapsed` after the wait began and is not ended, `percent` done (its
    /// sub-jobs' mean `process`): the pause before the next read.
    pub(crate) fn running(&mut self, elapsed: Duration, percent: u8) -> Duration {
        if self.projected_end.is_some_and(|end| elapsed >= end) {
            self.projection_missed = true;
        }
        self.running_at = Some(elapsed);
        if percent > 0 && percent < 100 && self.latest.is_none_or(|(_, before)| percent > before) {
            self.earlier = self.latest;
            self.latest = Some((elapsed, percent));
            if let Some(rate) = self.own_rate() {
                self.pace.learn_rate(rate);
            }
        }
        let rate = self.own_rate().or_else(|| self.pace.learnt().rate);
        self.projected_end = self.projection(rate);
        if let (Some(end), Some(_), false) = (self.projected_end, rate, self.taught) {
            // A projection at a measured rate is as good as an end seen: the run's next jobs
            // need not wait for this one to end to be read at the right time.
            self.pace.learn(end, true);
            self.taught = true;
        }
        let growing = self.interval;
        self.interval = self.interval.mul_f64(1.5).min(self.options.max_poll_interval);
        let pause = match (self.projected_end, rate) {
            // No rate anywhere yet: this job measures one, soon.
            (Some(end), None) if !self.probed => {
                self.probed = true;
                end.saturating_sub(elapsed).min(elapsed.mul_f64(RATE_PROBE))
            }
            (Some(end), _) if !self.projection_missed => with_margin(end.saturating_sub(elapsed)),
            // A projection that missed is trusted no further than the growing pauses.
            (Some(end), _) => with_margin(end.saturating_sub(elapsed)).max(growing),
            (None, _) => growing,
        };
        pause.clamp(MIN_PAUSE, self.options.max_poll_interval.max(MIN_PAUSE))
    }

    /// The job was seen ended `elapsed` after the wait began: what that teaches the run.
    pub(crate) fn ended(&self, elapsed: Duration) {
        let Some(since) = self.running_at else {
            self.pace.learn(elapsed, false);
            return;
        };
        let guess = match self.projected_end {
            Some(end) => end.clamp(since, elapsed),
            // Somewhere between the last two reads; nearer the later one, so that the next
            // job's first read rarely comes before its end.
            None => since + elapsed.saturating_sub(since).mul_f64(ENDED_BEFORE),
        };
        self.pace.learn(guess, true);
    }

    /// Percent per second between this job's last two readings.
    fn own_rate(&self) -> Option<f64> {
        let ((at, percent), (before, percent_before)) = (self.latest?, self.earlier?);
        Some(f64::from(percent - percent_before) / (at - before).as_secs_f64().max(f64::MIN_POSITIVE))
    }

    /// Where the latest reading projects the end: at `rate`, or, with none, from the time
    /// since the wait began (which counts a job's waiting before it ran, so it errs late).
    fn projection(&self, rate: Option<f64>) -> Option<Duration> {
        let (at, percent) = self.latest?;
        let seconds = match rate {
            Some(rate) if rate > 0.0 => at.as_secs_f64() + f64::from(100 - percent) / rate,
            _ => at.as_secs_f64() * 100.0 / f64::from(percent),
        };
        Duration::try_from_secs_f64(seconds).ok()
    }
}

/// A little past `duration`: a read at the very moment a job should end finds it running
/// as often as not.
fn with_margin(duration: Duration) -> Duration {
    duration.mul_f64(1.02) + Duration::from_millis(5)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> WaitOptions {
        WaitOptions {
            timeout: Duration::from_secs(600),
            poll_interval: Duration::from_millis(500),
            max_poll_interval: Duration::from_secs(10),
        }
    }

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    /// Plays a job of `duration` (a fifth waiting at 0%, then progress rising evenly) through
    /// `JobReads`: the number of reads, and how late after its end it was seen ended.
    fn play(pace: &JobPace, options: &WaitOptions, duration: Duration) -> (usize, Duration) {
        let mut reads = JobReads::new(pace, options);
        let mut at = reads.first_pause();
        let mut count = 0;
        loop {
            count += 1;
            if at >= duration {
                reads.ended(at);
                return (count, at - duration);
            }
            let waiting = duration / 5;
            let percent = if at < waiting {
                0
            } else {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let percent = ((at - waiting).as_secs_f64() / (duration - waiting).as_secs_f64() * 100.0) as u8;
                percent.clamp(1, 99)
            };
            at += reads.running(at, percent);
            assert!(count < 1000, "the reads never end");
        }
    }

    #[test]
    fn a_run_learns_its_jobs_duration_and_reads_each_about_once() {
        let (pace, options) = (JobPace::default(), options());
        let mut reads = Vec::new();
        let mut late = Vec::new();
        for _ in 0..50 {
            let (count, lateness) = play(&pace, &options, Duration::from_secs(1));
            reads.push(count);
            late.push(lateness);
        }
        assert!(reads[0] >= 2, "the first job is not known: {reads:?}");
        let tail = &reads[10..];
        let mean = tail.iter().sum::<usize>() as f64 / tail.len() as f64;
        assert!(mean <= 1.6, "reads per job once learnt: {mean} ({reads:?})");
        assert!(late[10..].iter().all(|l| *l <= ms(150)), "seen ended soon after its end: {late:?}");
        let estimate = pace.estimate().unwrap();
        assert!(estimate > ms(800) && estimate < ms(1200), "{estimate:?}");
    }

    #[test]
    fn a_run_follows_jobs_that_become_slower_and_faster() {
        let (pace, options) = (JobPace::default(), options());
        for _ in 0..20 {
            play(&pace, &options, Duration::from_secs(1));
        }
        for _ in 0..20 {
            play(&pace, &options, Duration::from_secs(4));
        }
        let estimate = pace.estimate().unwrap();
        assert!(estimate > ms(3500) && estimate < ms(4600), "slower: {estimate:?}");
        for _ in 0..40 {
            play(&pace, &options, ms(500));
        }
        let estimate = pace.estimate().unwrap();
        assert!(estimate < ms(700), "faster again: {estimate:?}");
    }

    #[test]
    fn without_progress_the_pauses_grow_as_before() {
        let (pace, options) = (JobPace::default(), options());
        let mut reads = JobReads::new(&pace, &options);
        assert_eq!(reads.first_pause(), ms(500));
        let pauses: Vec<Duration> = (1..=4).map(|i| reads.running(ms(500) * i, 0)).collect();
        assert_eq!(pauses, [ms(500), ms(750), ms(1125), ms(1687) + Duration::from_micros(500)]);
    }

    #[test]
    fn a_job_stuck_near_its_end_is_not_read_in_a_busy_loop() {
        let (pace, options) = (JobPace::default(), options());
        let mut reads = JobReads::new(&pace, &options);
        let mut at = reads.first_pause();
        let mut count = 0;
        while at < Duration::from_secs(60) {
            at += reads.running(at, 99);
            count += 1;
        }
        assert!(count < 30, "{count} reads in a minute of a job stuck at 99%");
    }

    #[test]
    fn every_pause_stays_within_the_wait_s_bounds() {
        let pace = JobPace::default();
        let options = WaitOptions { max_poll_interval: ms(200), ..options() };
        let mut reads = JobReads::new(&pace, &options);
        assert_eq!(reads.first_pause(), ms(200));
        assert_eq!(reads.running(ms(200), 1), ms(50), "a job's first progress: it is read soon after, for a rate");
        assert_eq!(reads.running(ms(250), 2), ms(200), "a projection 5 s out is cut to the longest pause");
        assert!(reads.running(ms(400), 99) >= MIN_PAUSE);
        pace.learn(Duration::from_secs(3600), true);
        assert_eq!(JobReads::new(&pace, &options).first_pause(), ms(200));
    }
}
