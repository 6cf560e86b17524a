//! The ZK follower: reads what the L1 finalized about the rollup (deposits, batches and their data
//! hashes, settled outputs), derives the state from it, and checks what the L1 recorded: a batch
//! whose recorded data hash differs from its data's, or a settled output its data does not lead
//! to, stops the follower there and is reported loudly.

use super::*;
use crate::l1client::QueueItem;
use crate::node::follower::upto;

/// The follower: the only writer of the node's view of the L1.
pub(super) struct ZkFollower<S> {
    shared: Arc<ZkShared>,
    client: L1Client<S>,
}

impl<S: L1Source> ZkFollower<S> {
    /// A follower of the rollup `shared` names.
    pub(super) fn new(shared: Arc<ZkShared>, client: L1Client<S>) -> Self {
        ZkFollower { shared, client }
    }

    /// Reads the L1 every `every` and announces each read on `synced`.
    pub(super) async fn run(self, every: Duration, synced: watch::Sender<Synced>) {
        let shared = self.shared.clone();
        let record = move |e: Option<String>| lock(&shared.view).last_error = e;
        crate::node::follower::follow(every, synced, || self.sync(), record).await
    }

    /// Reads what the L1 finalized about the rollup since the last read, and derives it.
    pub(super) async fn sync(&self) -> Result<RollupInfo, NodeError> {
        let rollup = self.client.rollup(&RollupRef::Id(self.shared.id)).await?;
        self.sync_deposits(rollup.deposits).await?;
        self.sync_batches(rollup.batches).await?;
        self.sync_settled(rollup.settled).await?;
        lock(&self.shared.view).rollup = rollup.clone();
        self.shared.note_frozen(&rollup);
        Ok(rollup)
    }

    async fn sync_deposits(&self, total: u64) -> Result<(), NodeError> {
        loop {
            let known = lock(&self.shared.view).derivation.deposits_known();
            if known >= total {
                return Ok(());
            }
            let page = upto(
                self.client.deposits(self.shared.id, known).await?,
                total - known,
            );
            if page.is_empty() {
                return Ok(());
            }
            let entries = page
                .iter()
                .map(|d| d.zk_entry())
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(seq) = &self.shared.seq {
                let mut seq = lock(seq);
                // The sequencer may already hold some (it read the queue when it opened).
                let skip = seq.deposits_known().saturating_sub(known) as usize;
                seq.add_deposits(entries.iter().skip(skip).copied());
            }
            lock(&self.shared.view).derivation.add_deposits(entries);
            debug!(from = known, count = page.len(), "deposits read from L1");
        }
    }

    async fn sync_batches(&self, total: u64) -> Result<(), NodeError> {
        loop {
            let derived = lock(&self.shared.view).derivation.batches();
            if derived >= total {
                return Ok(());
            }
            let page = upto(
                self.client.batches(self.shared.id, derived).await?,
                total - derived,
            );
            if page.is_empty() {
                return Ok(());
            }
            for b in page {
                let Some(input) = b.proof_input else {
                    return Err(L1Error::Malformed {
                        method: "l1_getRollupBatches",
                        reason: format!("ZK batch {} has no proofInput", b.index),
                    }
                    .into());
                };
                let blob = self.client.blob(&b.data_hash).await?;
                let mut view = lock(&self.shared.view);
                view.derivation.apply_batch(&blob, b.deposits_end, &input)?;
                view.batch_heights.push(b.height);
                if let Some((batch, why)) = view.derivation.stuck().filter(|(k, _)| *k == b.index) {
                    warn!(
                        batch,
                        "posted batch cannot apply ({why}): no proof can settle it; the sequencer must revert it"
                    );
                }
                debug!(batch = b.index, "ZK batch derived");
            }
        }
    }

    /// Reads the outputs settled since the last read (proven, or reverted to their prior) and
    /// checks each against the derivation.
    async fn sync_settled(&self, total: u64) -> Result<(), NodeError> {
        loop {
            let settled = lock(&self.shared.view).derivation.settled_batches();
            if settled >= total {
                return Ok(());
            }
            let page = upto(
                self.client.outputs(self.shared.id, settled).await?,
                total - settled,
            );
            if page.is_empty() {
                return Ok(());
            }
            let mut view = lock(&self.shared.view);
            for o in page {
                let reverted = view.derivation.reverted();
                view.derivation.settle(o.batch, &o.output)?;
                view.proven_heights.push(o.height);
                if view.derivation.reverted() > reverted {
                    warn!(batch = o.batch, "batch reverted on L1: it applies nothing");
                } else {
                    debug!(batch = o.batch, output = %o.output, "batch proven on L1");
                }
            }
        }
    }
}
