//! A run's account: every desktop's state, in a few bytes per desktop, so that a run's memory
//! follows what is in flight and not the size of the fleet.

use std::sync::Arc;

use crate::ids::IdList;
use crate::outcome::{DesktopOutcome, DesktopStatus};

/// Every desktop's state in a bulk run, by its place among the run's ids (input order): its
/// status, the job and request ids its batch shares (held once for the batch), and an error
/// code and reason only where there is one. A [`DesktopOutcome`] is made when one is asked
/// for ([`Account::get`], [`Account::iter`]).
#[derive(Debug, Clone)]
pub struct Account {
    ids: Arc<IdList>,
    slots: Vec<Option<Slot>>,
    /// (job id, request id) pairs, each held once for the desktops in a row that share it.
    shared: Vec<Shared>,
    recorded: usize,
}

/// A job id and a request id, as desktops of one batch share them.
type Shared = (Option<Box<str>>, Option<Box<str>>);

#[derive(Debug, Clone)]
struct Slot {
    status: DesktopStatus,
    /// Its place in `shared`. A run's ids are far fewer than `u32::MAX` (a million ids are
    /// 37 MB), and there are never more pairs than desktops.
    shared: u32,
    /// (error code, reason), where there is one.
    detail: Option<Box<(Option<String>, Option<String>)>>,
}

impl Account {
    /// The account of a run over `ids`, nothing recorded yet.
    pub(crate) fn new(ids: Arc<IdList>) -> Self {
        Self { slots: vec![None; ids.len()], ids, shared: Vec::new(), recorded: 0 }
    }

    /// Records `desktops`, each one of the ids at the places `within` (their batch's); one not
    /// among them is not recorded.
    pub(crate) fn record(&mut self, within: std::ops::Range<usize>, desktops: &[DesktopOutcome]) {
        // A batch's outcomes mostly come in its order: each search starts after the place
        // found last, and goes round the batch once at most.
        let mut next = within.start;
        for desktop in desktops {
            let (after, before) = (next..within.end, within.start..next);
            let Some(place) = after.chain(before).find(|&place| self.ids.get(place) == Some(&desktop.desktop_id))
            else {
                continue;
            };
            self.record_at(place, desktop);
            next = place + 1;
        }
    }

    fn record_at(&mut self, place: usize, desktop: &DesktopOutcome) {
        let pair = (desktop.job_id.as_deref(), desktop.request_id.as_deref());
        let same = self.shared.last().is_some_and(|(job, request)| (job.as_deref(), request.as_deref()) == pair);
        if !same {
            self.shared.push((pair.0.map(Box::from), pair.1.map(Box::from)));
        }
        let detail = (desktop.error_code.is_some() || desktop.fail_reason.is_some())
            .then(|| Box::new((desktop.error_code.clone(), desktop.fail_reason.clone())));
        let slot =
            Slot { status: desktop.status, shared: u32::try_from(self.shared.len() - 1).unwrap_or(u32::MAX), detail };
        if self.slots[place].replace(slot).is_none() {
            self.recorded += 1;
        }
    }

    /// The state of the desktop at `place` among the run's ids, once recorded.
    pub fn get(&self, place: usize) -> Option<DesktopOutcome> {
        let slot = self.slots.get(place)?.as_ref()?;
        let (job_id, request_id) = self.shared.get(slot.shared as usize).cloned().unwrap_or_default();
        let (error_code, fail_reason) = slot.detail.as_deref().cloned().unwrap_or_default();
        Some(DesktopOutcome {
            desktop_id: self.ids.get(place)?.to_owned(),
            status: slot.status,
            job_id: job_id.map(String::from),
            request_id: request_id.map(String::from),
            error_code,
            fail_reason,
        })
    }

    /// The status of the desktop at `place`, once recorded (no outcome is made).
    pub fn status(&self, place: usize) -> Option<DesktopStatus> {
        Some(self.slots.get(place)?.as_ref()?.status)
    }

    /// How many desktops the run has, recorded or not.
    pub fn desktops(&self) -> usize {
        self.ids.len()
    }

    /// How many desktops are recorded.
    pub fn len(&self) -> usize {
        self.recorded
    }

    /// Whether no desktop is recorded.
    pub fn is_empty(&self) -> bool {
        self.recorded == 0
    }

    /// Every recorded desktop's state, in input order, each made as it is reached.
    pub fn iter(&self) -> impl Iterator<Item = DesktopOutcome> + '_ {
        (0..self.slots.len()).filter_map(|place| self.get(place))
    }

    /// The places of the recorded desktops, in order.
    pub fn places(&self) -> impl Iterator<Item = usize> + '_ {
        self.slots.iter().enumerate().filter(|(_, slot)| slot.is_some()).map(|(place, _)| place)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(id: &str, status: DesktopStatus, job: Option<&str>, reason: Option<&str>) -> DesktopOutcome {
        DesktopOutcome {
            job_id: job.map(str::to_owned),
            request_id: job.map(|j| format!("req-{j}")),
            fail_reason: reason.map(str::to_owned),
            ..DesktopOutcome::new(id, status)
        }
    }

    #[test]
    fn an_account_gives_back_each_desktop_as_recorded_in_input_order() {
        let ids: Arc<IdList> = Arc::new(["a", "b", "c", "d"].iter().collect());
        let mut account = Account::new(Arc::clone(&ids));
        let recorded = [
            outcome("d", DesktopStatus::Failed, Some("j2"), Some("no")),
            outcome("c", DesktopStatus::Success, Some("j2"), None),
            outcome("a", DesktopStatus::Accepted, Some("j1"), None),
        ];
        account.record(2..4, &recorded[..2]);
        account.record(0..2, &[recorded[2].clone(), outcome("c", DesktopStatus::Unknown, None, None)]);
        assert_eq!(account.len(), 3, "an id outside its batch's places is not recorded");
        assert_eq!(account.desktops(), 4);
        let all: Vec<DesktopOutcome> = account.iter().collect();
        assert_eq!(all, [recorded[2].clone(), recorded[1].clone(), recorded[0].clone()]);
        assert_eq!(account.places().collect::<Vec<_>>(), [0, 2, 3]);
        assert_eq!(account.get(1), None);
        assert_eq!(account.status(3), Some(DesktopStatus::Failed));
        account.record(0..2, &[outcome("a", DesktopStatus::Success, Some("j1"), None)]);
        assert_eq!(account.len(), 3, "recorded again, counted once");
        assert_eq!(account.get(0).unwrap().status, DesktopStatus::Success);
        assert_eq!(account.shared.len(), 2, "pairs shared by desktops in a row are held once");
    }
}
