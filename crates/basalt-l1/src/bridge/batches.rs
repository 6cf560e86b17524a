//! Batches: the sequencer's data posted as a blob, and its decoded transactions, priced by the size
//! and count its header declares.

use super::{fold, BatchRecord, RollupError, BATCHES_DOMAIN};
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
        if signer != h.params.sequencer {
            return Err(RollupError::NotSequencer {
                sequencer: h.params.sequencer,
                sender: signer,
            });
        }
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
                (header, deposits_end, Hash::ZERO)
            }
        };
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

    /// A posted batch and its transactions, decoded once per block however many actions need
    /// them; `None` for the transactions in a pricing-only run, which charges the decode and does
    /// none. A blob that does not decode means no transactions, as [`basalt_l2::posted_batch_txs`]
    /// has it for every L2 node.
    pub(crate) fn batch_txs(
        &mut self,
        rollup: u32,
        batch: u64,
    ) -> Result<(BatchRecord, Option<BatchTxs>), RollupError> {
        let record = self
            .state()
            .batch(rollup, batch)
            .ok_or(RollupError::BatchNotPosted(batch))?;
        // The whole price is known from the record, before any work. Every action that needs the
        // batch pays it, cached or not, so its price does not depend on the rest of the block.
        self.charge(crate::gas::batch_decode(record.raw_len, record.tx_count))?;
        if self.pricing_only {
            return Ok((record, None));
        }
        if let Some(txs) = self.decoded.get(&record.data_hash) {
            return Ok((record, Some(txs.clone())));
        }
        let state = self.state();
        let blob = state
            .blob(&record.data_hash, self.height)
            .ok_or(RollupError::DataExpired(batch))?;
        let txs = Arc::new(basalt_l2::posted_batch_txs::<Optimistic>(&blob.data).0);
        drop(blob);
        self.decoded.insert(record.data_hash, txs.clone());
        Ok((record, Some(txs)))
    }
}
