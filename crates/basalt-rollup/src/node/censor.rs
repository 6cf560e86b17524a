//! FAULT INJECTION: a censoring sequencer (`censor` in the node config, cargo feature `faults`).
//! It refuses at the door every transaction of the accounts holding one L2 key ([`super::admit`]),
//! and holds the L1 queue at each of the key's items (a deposit to it, or a transaction forced in
//! under it) for as long as it dares: until a quarter of the force-inclusion delay before the
//! item's deadline, past which the L1 refuses every batch that leaves the item out. It is what a
//! sequencer can do to one user, and where the protocol stops it.

use super::follower::Follower;
use super::*;
use basalt_types::PublicKey;

/// Blocks before a held item's deadline at which the censor gives in: its view of the L1 lags
/// the tip, and its batch carrying the item must be included before the deadline.
pub fn margin(force_inclusion_blocks: u64) -> u64 {
    (force_inclusion_blocks / 4).max(2)
}

/// Holds `seq`'s queue at the first item of `key` from `from` on (and past what its state
/// consumed), unless it holds the queue already.
pub(super) fn hold_first(seq: &mut Sequencer<P>, key: PublicKey, from: u64) {
    if seq.held().is_some() {
        return;
    }
    let next = seq.state().commitment().next_deposit.max(from);
    let first = first_of(seq, key, next);
    seq.hold_deposits(first);
}

/// The index of `key`'s first item in `seq`'s queue from `from` on.
fn first_of(seq: &Sequencer<P>, key: PublicKey, from: u64) -> Option<u64> {
    seq.deposit_entries()
        .iter()
        .enumerate()
        .skip(usize::try_from(from).unwrap_or(usize::MAX))
        .find(|(_, e)| e.key == key)
        .map(|(i, _)| i as u64)
}

impl<S: L1Source> Follower<S> {
    /// Gives in on every held item whose deadline is at most [`margin`] blocks past `rollup`'s
    /// height, holding the queue at the key's next item instead.
    pub(super) async fn censor(&self, rollup: &RollupInfo) -> Result<(), NodeError> {
        let (Some(key), Some(seq)) = (self.shared.censor, &self.shared.seq) else {
            return Ok(());
        };
        let before = lock(seq).held();
        let mut at = before;
        while let Some(index) = at {
            let page = self.client.deposits(self.shared.id, index).await?;
            let Some(item) = page.first().filter(|d| d.index == index) else {
                break; // not readable yet: hold here, and the next round decides
            };
            let deadline = item
                .height
                .saturating_add(rollup.params.force_inclusion_blocks);
            let margin = margin(rollup.params.force_inclusion_blocks);
            if rollup.height.saturating_add(margin) < deadline {
                break;
            }
            warn!(
                item = index,
                deadline,
                height = rollup.height,
                "CENSORING (fault injection): the held item is almost overdue; the L1 would \
                 refuse any batch without it, so it goes in now"
            );
            at = first_of(&lock(seq), key, index + 1);
        }
        let mut seq = lock(seq);
        if at != before {
            seq.hold_deposits(at);
        }
        if let Some(index) = at.filter(|i| Some(*i) != before) {
            warn!(
                item = index,
                "CENSORING (fault injection): holding the L1 queue at the censored key's item"
            );
        }
        Ok(())
    }
}
