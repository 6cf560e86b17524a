//! Settlement, the step every block ends with: claim trees whose clocks have run out resolve, and
//! each batch's output settles, in batch order, as the first upheld proposal that builds on the
//! settled output before it; for the rollups due at this height only.
//!
//! Each rollup has a wake height ([`wake_height`]): the first height at which settlement could
//! change it without a transaction, its next tree to resolve. Finalized state keeps the rollups in
//! wake order, so a block visits only the rollups due at its height, however many are registered
//! or waiting.
//!
//! The delay bound: the honest output of a batch, proposed as soon as its batch is posted, resolves
//! within `dispute_bound` blocks whatever is played against it, and settles then, or as soon as
//! the batch before it has; wrong proposals resolve removed without holding it back.

use crate::exec::{BlockBuilder, TxError};
use crate::view::StateRead;
use std::collections::BTreeSet;

/// The first height at which settlement has work for rollup `id`: its next claim tree to resolve.
/// `None` when nothing will happen without a transaction.
pub(crate) fn wake_height(state: &impl StateRead, id: u32) -> Option<u64> {
    state.next_resolution(id)
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
    /// Resolves every tree whose clocks have run out, then extends each settled chain as far as
    /// upheld proposals reach.
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
        for proposal in self.state().resolvable(id, self.height) {
            self.resolve_dispute(id, proposal)?;
        }
        self.settle_outputs(id);
        Ok(())
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

    /// Settles, in batch order, each next batch whose output has an upheld proposal built on the
    /// settled output before it (the lowest id if several are).
    pub(crate) fn settle_outputs(&mut self, id: u32) {
        let h = self.rollup(id).expect("listed rollups exist");
        if self.frozen(&h) {
            return; // a frozen rollup settles nothing more: its users exit
        }
        let mut header = h.clone();
        let mut settled = Vec::new();
        while header.settled < header.batch_count {
            let batch = header.settled;
            let state = self.state();
            let prior = match settled.last() {
                Some(p) => {
                    state
                        .proposal(id, *p)
                        .expect("settled proposals exist")
                        .output
                }
                None => state
                    .settled_prior(id, batch)
                    .expect("the batch before a settled prefix has settled"),
            };
            let Some(proposal) = state.first_upheld(id, batch, &prior) else {
                break;
            };
            settled.push(proposal);
            header.settled += 1;
        }
        if settled.is_empty() {
            return;
        }
        header.settled_at = self.height;
        self.write_header(header).chain.extend(settled);
    }
}
