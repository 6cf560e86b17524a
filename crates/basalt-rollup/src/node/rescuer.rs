//! The rescuer actor (a verifier that proposes): keeps the rollup live when its sequencer does
//! not. Once a queued item (a deposit, or a transaction forced in through the L1) is past its
//! force-inclusion deadline unconsumed, the L1 lets anyone post the rollup's next batch, which
//! must consume it; the rescuer then posts one with no transactions of its own that consumes the
//! queue from where the last batch left it, and the proposer proposes its derived output like any
//! other. A live sequencer consumes items long before their deadline, and the rescuer leaves a
//! late one [`GRACE_BLOCKS`] past it, so it posts only for one that vanished or censors.

use super::*;
use basalt_l1::{blob_hash, MAX_FORCED_PER_BATCH};

/// L1 blocks past an item's deadline the rescuer leaves the sequencer to post the batch itself:
/// two posts of one batch number waste one, and a rescue batch ahead of a late sequencer's
/// reorders what its own state applied.
pub(super) const GRACE_BLOCKS: u64 = 5;

/// Most queue items one rescue batch consumes: what the L1 may demand of one batch
/// (`MAX_FORCED_PER_BATCH`), within what one claim tree's trace holds.
const MAX_RESCUED: u64 = {
    let trace = basalt_l2::MAX_BATCH_TXS as u64;
    if trace < MAX_FORCED_PER_BATCH {
        trace
    } else {
        MAX_FORCED_PER_BATCH
    }
};

/// The rescuer.
pub(super) struct Rescuer<S> {
    shared: Arc<Shared>,
    client: L1Client<S>,
    max_blob_fee: u64,
    /// The first unconsumed queue item and the L1 height it was queued at, as last read.
    first: Option<(u64, u64)>,
}

impl<S: L1Source> Rescuer<S> {
    /// A rescuer paying at most `max_blob_fee` per blob byte.
    pub(super) fn new(shared: Arc<Shared>, client: L1Client<S>, max_blob_fee: u64) -> Self {
        Rescuer {
            shared,
            client,
            max_blob_fee,
            first: None,
        }
    }

    /// The L1 height queue item `index` was queued at (read once per item).
    async fn queued_at(&mut self, index: u64) -> Result<Option<u64>, NodeError> {
        if let Some((_, height)) = self.first.filter(|(i, _)| *i == index) {
            return Ok(Some(height));
        }
        let page = self.client.deposits(self.shared.id, index).await?;
        let found = page.first().filter(|d| d.index == index).map(|d| d.height);
        self.first = found.map(|h| (index, h));
        Ok(found)
    }
}

/// The batch a rescuer posts for rollup `rollup` as last read: `(index, deposits_end)` when its
/// first unconsumed item, queued at `first_queued_at`, is overdue by [`GRACE_BLOCKS`]; `None`
/// otherwise.
pub(super) fn rescue(rollup: &RollupInfo, first_queued_at: u64) -> Option<(u64, u64)> {
    let deadline = first_queued_at.saturating_add(rollup.params.force_inclusion_blocks);
    let due = deadline.saturating_add(GRACE_BLOCKS);
    (rollup.deposits > rollup.deposits_end && rollup.height >= due).then(|| {
        let end = rollup
            .deposits
            .min(rollup.deposits_end.saturating_add(MAX_RESCUED));
        (rollup.batches, end)
    })
}

impl<S: L1Source> Planner for Rescuer<S> {
    const ROLE: &'static str = "rescuer";

    /// A batch consuming the overdue queue, if the sequencer left it overdue and none of this
    /// node's batches is in flight.
    async fn plan(&mut self) -> Result<Vec<(Action, Posting)>, NodeError> {
        let (rollup, from) = {
            let view = lock(&self.shared.view);
            let busy = view
                .in_flight
                .iter()
                .any(|p| matches!(p.what, Posting::Batch { .. }));
            if busy || view.derivation.batches() < view.rollup.batches {
                return Ok(Vec::new());
            }
            let from = view.derivation.txs_in_first(view.rollup.batches);
            (view.rollup.clone(), from)
        };
        if rollup.deposits <= rollup.deposits_end {
            return Ok(Vec::new());
        }
        let Some(queued_at) = self.queued_at(rollup.deposits_end).await? else {
            return Ok(Vec::new());
        };
        let Some((index, deposits_end)) = rescue(&rollup, queued_at) else {
            return Ok(Vec::new());
        };
        warn!(
            batch = index,
            item = rollup.deposits_end,
            deadline = queued_at.saturating_add(rollup.params.force_inclusion_blocks),
            "the sequencer left a queued item past its force-inclusion deadline: posting the \
             rollup's next batch for it (anyone may, past a deadline)"
        );
        let data = basalt_l2::encode_batch::<P>(&[]);
        Ok(vec![(
            Action::PostBatch {
                rollup: self.shared.id,
                index,
                data_hash: blob_hash(&data),
                data,
                deposits_end,
                max_fee_per_blob_byte: self.max_blob_fee,
            },
            Posting::Batch {
                index,
                from,
                to: from,
                deposits_end,
            },
        )])
    }
}
