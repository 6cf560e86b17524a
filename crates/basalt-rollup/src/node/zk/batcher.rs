//! The ZK batcher (sequencer only): posts the confirmed transactions not yet posted, at most the
//! circuit's slot count per batch and without signatures (the proof covers them), pipelined past
//! the batches in flight as the optimistic batcher is. A batch is due once it fills its slots or
//! its oldest transaction has waited `max_delay_ms`: every batch costs one whole proof, however
//! few transactions it holds, so full batches are what keeps proving ahead of the load.

use super::*;
use crate::node::batcher::{blob_fee_within, due, Cursor, MAX_BATCHES_IN_FLIGHT};
use basalt_l1::blob_hash;
use basalt_l2::{encode_zk_batch, Effort, PostedTx};

/// The ZK batcher.
pub(super) struct ZkBatcher<S> {
    shared: Arc<ZkShared>,
    client: L1Client<S>,
    config: BatcherConfig,
    data_dir: String,
    fee_wait_logged: bool,
}

impl<S: L1Source> ZkBatcher<S> {
    /// A batcher posting what the node's sequencer confirms.
    pub(super) fn new(
        shared: Arc<ZkShared>,
        client: L1Client<S>,
        config: BatcherConfig,
        data_dir: String,
    ) -> Self {
        ZkBatcher {
            shared,
            client,
            config,
            data_dir,
            fee_wait_logged: false,
        }
    }

    /// Where the next batch starts, past the batches in flight; `None` while a failed post
    /// waits to be released.
    fn cursor(&self) -> Option<Cursor> {
        let view = lock(&self.shared.view);
        let first = Cursor {
            index: view.rollup.batches,
            from: view.derivation.txs_in_first(view.rollup.batches),
            deposits_end: view.rollup.deposits_end,
            in_flight: 0,
        };
        first.past(&view.in_flight)
    }

    fn due(&self, from: u64) -> Result<bool, NodeError> {
        let seq = lock(self.shared.seq.as_ref().expect("a sequencer"));
        due(
            &seq,
            from,
            self.shared.slots as u64,
            self.config.max_delay_ms,
            &self.data_dir,
        )
    }
}

impl<S: L1Source> Planner for ZkBatcher<S> {
    const ROLE: &'static str = "batcher";

    /// The batches due now, each starting where the one before it ends.
    async fn plan(&mut self) -> Result<Vec<(Action, Posting)>, NodeError> {
        let Some(mut c) = self.cursor() else {
            return Ok(Vec::new());
        };
        if c.in_flight >= MAX_BATCHES_IN_FLIGHT || !self.due(c.from)? {
            return Ok(Vec::new());
        }
        let chain = self.client.chain_info().await?;
        let cap = self.config.max_blob_fee;
        if !blob_fee_within(chain.next_blob_base_fee, cap, &mut self.fee_wait_logged) {
            return Ok(Vec::new());
        }
        let mut posts = Vec::new();
        while c.in_flight + posts.len() < MAX_BATCHES_IN_FLIGHT && self.due(c.from)? {
            let posted: Vec<PostedTx> = {
                let seq = lock(self.shared.seq.as_ref().expect("a sequencer"));
                let to = seq
                    .next_sequence()
                    .min(c.from.saturating_add(self.shared.slots as u64));
                seq.txs_in(c.from, to).iter().map(PostedTx::from).collect()
            };
            // A few dozen transactions without signatures: compressed hard in microseconds.
            let data = encode_zk_batch(&posted, Effort::Best);
            let deposits = posted.iter().filter(|p| **p == PostedTx::Deposit).count() as u64;
            let to = c.from + posted.len() as u64;
            self.shared.note_batch(c.from, to);
            let deposits_end = c.deposits_end + deposits;
            let what = Posting::Batch {
                index: c.index,
                from: c.from,
                to,
                deposits_end,
            };
            posts.push((
                Action::PostBatch {
                    rollup: self.shared.id,
                    index: c.index,
                    data_hash: blob_hash(&data),
                    data,
                    deposits_end,
                    max_fee_per_blob_byte: self.config.max_blob_fee,
                },
                what,
            ));
            c.index += 1;
            c.from = to;
            c.deposits_end = deposits_end;
        }
        Ok(posts)
    }
}
