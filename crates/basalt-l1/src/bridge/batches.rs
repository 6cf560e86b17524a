//! Batches: the sequencer's data posted as a blob, and its decoded transactions, priced by the size
//! and count its header declares.

use super::{fold, BatchRecord, RollupError, BATCHES_DOMAIN};

/// Most overdue items one batch must consume: a larger backlog is forced in over several batches,
/// so that a flood of deposits never makes a batch's trace too long for its claim tree.
pub const MAX_FORCED_PER_BATCH: u64 = 1_024;
use crate::exec::{BatchTxs, BlockBuilder};
use crate::state::{blob_hash, StoredBlob};
use crate::view::StateRead;
use basalt_l2::Optimistic;
use basalt_types::Encode;
use basalt_types::{Hash, PublicKey};
use std::sync::Arc;

impl BlockBuilder<'_> {
    pub(crate) fn post_batch(
        &mut self,
        rollup: u32,
        signer: PublicKey,
        index: u64,
        data: &[u8],
        data_hash: Hash,
        deposits_end: u64,
    ) -> Result<(), RollupError> {
        let h = self.rollup(rollup)?;
        self.refuse_frozen(&h)?;
        // Past a queued item's deadline the rollup no longer waits for its sequencer: anyone may
        // post its next batch, which must consume the overdue items.
        let overdue = self.overdue_items(&h);
        if signer != h.params.sequencer && overdue <= h.deposits_end {
            return Err(RollupError::NotSequencer {
                sequencer: h.params.sequencer,
                sender: signer,
            });
        }
        // A batch need not consume more overdue items than it can hold.
        let room = h
            .params
            .kind
            .zk()
            .map_or(MAX_FORCED_PER_BATCH, |z| z.slots as u64);
        let forced = overdue.min(h.deposits_end.saturating_add(room));
        if index != h.batch_count {
            return Err(RollupError::BatchOutOfOrder {
                expected: h.batch_count,
                got: index,
            });
        }
        let actual = blob_hash(data);
        if actual != data_hash {
            return Err(RollupError::DataHashMismatch {
                declared: data_hash,
                actual,
            });
        }
        let (header, deposits_end, proof_input) = match h.params.kind.zk().map(|z| z.slots) {
            // A ZK batch is decoded now: it must be provable as data, and its proof's input is
            // fixed while the deposits it reads are sure to be at hand.
            Some(slots) => self.zk_batch_input(&h, slots, data, deposits_end)?,
            None => {
                if deposits_end < h.deposits_end || deposits_end > h.deposit_count {
                    return Err(RollupError::BadDepositRange {
                        end: deposits_end,
                        consumed: h.deposits_end,
                        queued: h.deposit_count,
                    });
                }
                // A blob whose header does not parse decodes to no transactions, at the base
                // price.
                let header = basalt_l2::batch_header(data).unwrap_or(basalt_l2::BatchHeader {
                    raw_len: 0,
                    tx_count: 0,
                });
                // Its trace is the blob's transactions and a deposit for each of its range: one
                // claim tree must hold it.
                let steps = header.tx_count + (deposits_end - h.deposits_end);
                if steps > basalt_l2::MAX_BATCH_TXS as u64 {
                    return Err(RollupError::TooManySteps {
                        steps,
                        max: basalt_l2::MAX_BATCH_TXS as u64,
                    });
                }
                (header, deposits_end, Hash::ZERO)
            }
        };
        if deposits_end < forced {
            return Err(RollupError::OverdueSkipped {
                end: deposits_end,
                overdue: forced,
            });
        }
        let record = BatchRecord {
            data_hash,
            deposits_end,
            height: self.height,
            raw_len: header.raw_len,
            tx_count: header.tx_count,
            proof_input,
        };
        self.changes.blobs.push(StoredBlob {
            hash: data_hash,
            height: self.height,
            sender: signer,
            data: data.to_vec(),
        });
        let d = self.rollup_diff(h);
        d.header.batch_count += 1;
        d.header.deposits_end = deposits_end;
        d.header.batches_digest = fold(d.header.batches_digest, BATCHES_DOMAIN, &record.to_bytes());
        d.batches.push(record);
        Ok(())
    }

    /// How many queued items (from the first) are overdue at this block: queued at least
    /// `force_inclusion_blocks` ago. Items are queued in height order, so it is a binary search.
    pub(crate) fn overdue_items(&self, h: &super::RollupHeader) -> u64 {
        let Some(cutoff) = self.height.checked_sub(h.params.force_inclusion_blocks) else {
            return 0;
        };
        let state = self.state();
        let (mut lo, mut hi) = (h.deposits_end, h.deposit_count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match state.deposit(h.id, mid) {
                Some(d) if d.height <= cutoff => lo = mid + 1,
                _ => hi = mid,
            }
        }
        lo
    }

    /// A posted optimistic batch and the transactions it applies ([`basalt_l2::batch_trace_txs`]:
    /// its blob's, then its deposit range), decoded once per block however many actions need
    /// them; `None` for the transactions in a pricing-only run, which charges the decode and does
    /// none. A blob that does not decode means no blob transactions, as
    /// [`basalt_l2::posted_batch_txs`] has it for every L2 node. Also returns the trace's length.
    pub(crate) fn batch_txs(
        &mut self,
        rollup: u32,
        batch: u64,
    ) -> Result<(BatchRecord, u64, Option<BatchTxs>), RollupError> {
        let (record, from) = {
            let state = self.state();
            let record = state
                .batch(rollup, batch)
                .ok_or(RollupError::BatchNotPosted(batch))?;
            let from = batch
                .checked_sub(1)
                .and_then(|b| state.batch(rollup, b))
                .map_or(0, |b| b.deposits_end);
            (record, from)
        };
        let forced = record.deposits_end - from;
        let steps = record.tx_count + forced;
        // The whole price is known from the record, before any work. Every action that needs the
        // batch pays it, cached or not, so its price does not depend on the rest of the block.
        self.charge(crate::gas::batch_decode(record.raw_len, steps))?;
        if self.pricing_only {
            return Ok((record, steps, None));
        }
        if let Some(txs) = self.decoded.get(&(rollup, batch)) {
            return Ok((record, steps, Some(txs.clone())));
        }
        let state = self.state();
        let blob = state
            .blob(&record.data_hash, self.height)
            .ok_or(RollupError::DataExpired(batch))?;
        let blob_txs = basalt_l2::posted_batch_txs::<Optimistic>(&blob.data).0;
        drop(blob);
        let txs = Arc::new(basalt_l2::batch_trace_txs(
            blob_txs,
            from,
            record.deposits_end,
        ));
        self.decoded.insert((rollup, batch), txs.clone());
        Ok((record, txs.len() as u64, Some(txs)))
    }
}
