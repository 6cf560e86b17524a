//! Settlement, the step every block ends with: disputes advance, lost outputs are removed and
//! outputs whose window has passed settle, for the rollups due at this height only.
//!
//! Each rollup has a wake height ([`wake_height`]): the first height at which settlement could
//! change it without a transaction. Finalized state keeps the rollups in wake order, so a block
//! visits only the rollups due at its height, however many are registered or waiting.

use super::ChainUpdate;
use crate::dispute::DisputeResult;
use crate::exec::{BlockBuilder, TxError};
use crate::view::StateRead;
use std::collections::BTreeSet;

/// The first height at which settlement has work for rollup `id`: its first unsettled output's
/// window end (unless a dispute holds that output back) or an open dispute's next clock or
/// decision, whichever comes first. `None` when nothing will happen without a transaction.
pub(crate) fn wake_height(state: &impl StateRead, id: u32) -> Option<u64> {
    let h = state.rollup(id)?;
    let mut wake = None;
    if h.settled < h.output_count {
        let (proposal, out) = state.output(id, h.settled)?;
        let held = state
            .dispute_over(id, proposal)
            .is_some_and(|d| d.result.is_none());
        if !held {
            wake = Some(out.settles_at(h.params.challenge_window));
        }
    }
    for dispute in state.open_disputes(id) {
        let due = state.dispute(id, dispute).and_then(|d| d.next_due());
        wake = match (wake, due) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    wake
}

/// The rollups settlement must visit at `height`, in id order: those the finalized schedule has
/// due and not changed since, and those changed in the layers whose new wake height has come.
pub(crate) fn due_rollups(state: &impl StateRead, height: u64) -> Vec<u32> {
    let changed = state.changed_rollups();
    let mut due: BTreeSet<u32> = state
        .base()
        .wakes
        .range(..=(height, u32::MAX))
        .map(|(_, id)| *id)
        .filter(|id| !changed.contains_key(id))
        .collect();
    for id in changed.keys() {
        if wake_height(state, *id).is_some_and(|at| at <= height) {
            due.insert(*id);
        }
    }
    due.into_iter().collect()
}

impl BlockBuilder<'_> {
    /// Ends the games whose clocks ran out, decides the disputes whose joining has closed and whose
    /// games have all ended (removing lost outputs with every output built on them), then settles
    /// every output whose window has passed and which no challenger still contests, in order.
    pub(crate) fn settle_rollups(&mut self) -> Result<(), TxError> {
        let due = self.state().due_rollups(self.height);
        for id in &due {
            self.settle_rollup(*id)?;
        }
        #[cfg(debug_assertions)]
        self.check_nothing_else_due(&due)?;
        Ok(())
    }

    fn settle_rollup(&mut self, id: u32) -> Result<(), TxError> {
        for dispute in self.state().open_disputes(id) {
            self.advance_dispute(id, dispute)?;
        }
        self.settle_outputs(id)
    }

    /// Holds the schedule to the rule it replaces, in every debug build and so in every test:
    /// settling a rollup that is not due, as blocks once visited every rollup, changes nothing.
    #[cfg(debug_assertions)]
    fn check_nothing_else_due(&mut self, due: &[u32]) -> Result<(), TxError> {
        for id in 0..self.state().rollup_count() as u32 {
            if due.binary_search(&id).is_ok() {
                continue;
            }
            let before = self.changes.rollups.get(&id).cloned();
            self.settle_rollup(id)?;
            assert_eq!(
                self.changes.rollups.get(&id),
                before.as_ref(),
                "rollup {id} had settlement work at height {} but was not scheduled",
                self.height
            );
        }
        Ok(())
    }

    /// Removes the live output of `batch` and every output built on it. Outputs after the first
    /// lost nothing to a challenger: their proposers get their bonds back, and disputes over them
    /// are dropped with every bond still in returned.
    pub(crate) fn remove_outputs(&mut self, id: u32, batch: u64) -> Result<(), TxError> {
        let mut h = self.rollup(id).expect("listed rollups exist");
        let mut payouts = Vec::new();
        let mut dropped = Vec::new();
        for later in batch + 1..h.output_count {
            let (proposal, record) = self
                .state()
                .output(id, later)
                .expect("outputs below output_count exist");
            match self.state().dispute_over(id, proposal).cloned() {
                None => payouts.push((record.proposer, record.bond)),
                Some(mut d) => {
                    let open = d.result.is_none();
                    for p in d.challengers.iter().chain(&d.defenders) {
                        let proposer_after_upheld = p.key == record.proposer;
                        if p.active() && (open || proposer_after_upheld) {
                            payouts.push((p.key, p.bond));
                        }
                    }
                    if open {
                        d.cancel_games(self.height);
                        d.result = Some(DisputeResult::Dropped {
                            height: self.height,
                        });
                        dropped.push(d);
                    }
                }
            }
        }
        for (_, bond) in &payouts {
            h.bonds -= bond;
        }
        h.output_count = batch;
        let diff = self.write_header(h);
        match &mut diff.chain {
            Some(update) if batch >= update.keep => {
                update.append.truncate((batch - update.keep) as usize)
            }
            chain => {
                *chain = Some(ChainUpdate {
                    keep: batch,
                    append: Vec::new(),
                })
            }
        }
        for d in dropped {
            diff.disputes.insert(d.id, d);
        }
        for (to, amount) in payouts {
            self.pay(to, amount)?;
        }
        Ok(())
    }

    /// Settles, in order, every output whose window has passed and that no dispute holds back,
    /// returning its proposer's bond unless a game slashed it.
    pub(crate) fn settle_outputs(&mut self, id: u32) -> Result<(), TxError> {
        let h = self.rollup(id).expect("listed rollups exist");
        let window = h.params.challenge_window;
        let mut header = h.clone();
        let mut refunds = Vec::new();
        while header.settled < header.output_count {
            let (proposal, out) = self
                .state()
                .output(id, header.settled)
                .expect("outputs below output_count exist");
            if out.settles_at(window) > self.height {
                break;
            }
            let refund = match self.state().dispute_over(id, proposal).cloned() {
                None => true,
                Some(d) if d.result.is_none() => break,
                Some(d) => d.defenders[0].active(),
            };
            if refund {
                header.bonds -= out.bond;
                refunds.push((out.proposer, out.bond));
            }
            header.settled += 1;
        }
        if header.settled == h.settled {
            return Ok(());
        }
        self.write_header(header);
        for (proposer, bond) in refunds {
            self.pay(proposer, bond)?;
        }
        Ok(())
    }
}
