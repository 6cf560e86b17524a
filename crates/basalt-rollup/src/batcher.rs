//! The batcher's choice of what to post next: the oldest confirmed transactions not yet posted, as
//! many as fit in one L1 blob.

use crate::sequencer::Sequencer;
use basalt_l2::{encode_batch_with, encode_payload, Effort, L2Tx, Optimistic, MAX_BATCH_TXS};
use serde::{Deserialize, Serialize};

/// How hard the batcher compresses its blobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Best while the batcher keeps up; fast while at least another full batch waits behind
    /// the one it plans (the hardest levels compress slower than a busy sequencer confirms).
    #[default]
    Adaptive,
    /// Always the fewest bytes (zstd-19 and brotli-11, the smaller).
    Best,
    /// Always zstd-3.
    Fast,
}

/// A batch ready to post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchPlan {
    /// First transaction (sequence number) it carries.
    pub from: u64,
    /// One past the last.
    pub to: u64,
    /// The blob.
    pub data: Vec<u8>,
    /// The deposit range end to declare: past every deposit it applies, never below `prior_end`.
    pub deposits_end: u64,
}

/// Plans the batch of confirmed transactions from sequence `from`, in a blob of at most
/// `max_blob_bytes` compressed as `compression` says, after a batch whose deposit range ended at
/// `prior_end`. `None` if nothing waits.
pub fn plan_batch(
    seq: &Sequencer,
    from: u64,
    prior_end: u64,
    max_blob_bytes: usize,
    compression: Compression,
) -> Option<BatchPlan> {
    let (txs, waiting) = batch_candidates(seq, from);
    plan_txs(from, txs, waiting, prior_end, max_blob_bytes, compression)
}

/// The confirmed transactions from sequence `from` one batch may carry (at most
/// [`MAX_BATCH_TXS`]), and how many wait in all: read under the sequencer's lock, compressed
/// after it is released.
pub fn batch_candidates(seq: &Sequencer, from: u64) -> (Vec<L2Tx<Optimistic>>, u64) {
    let next = seq.next_sequence();
    let to = next.min(from.saturating_add(MAX_BATCH_TXS as u64));
    (seq.txs_in(from, to), next.saturating_sub(from))
}

/// Plans the batch from `from` out of `txs` (the [`batch_candidates`]; `waiting` of them wait
/// in all), as [`plan_batch`] does.
pub fn plan_txs(
    from: u64,
    mut txs: Vec<L2Tx<Optimistic>>,
    waiting: u64,
    prior_end: u64,
    max_blob_bytes: usize,
    compression: Compression,
) -> Option<BatchPlan> {
    if txs.is_empty() {
        return None;
    }
    txs.truncate(MAX_BATCH_TXS);
    // Compression barely shrinks signed transactions: cut on the raw size first, then halve until
    // the compressed blob fits.
    while txs.len() > 1 && encode_payload(&txs).len() > max_blob_bytes {
        txs.truncate(txs.len() * 3 / 4);
    }
    let effort = match compression {
        Compression::Best => Effort::Best,
        Compression::Fast => Effort::Fast,
        Compression::Adaptive if waiting >= 2 * txs.len() as u64 => Effort::Fast,
        Compression::Adaptive => Effort::Best,
    };
    let mut data = encode_batch_with(&txs, effort);
    while data.len() > max_blob_bytes && txs.len() > 1 {
        txs.truncate(txs.len() / 2);
        data = encode_batch_with(&txs, effort);
    }
    let deposits_end = txs
        .iter()
        .filter_map(|t| match t {
            L2Tx::<Optimistic>::Deposit { index } => Some(index + 1),
            _ => None,
        })
        .max()
        .unwrap_or(0)
        .max(prior_end);
    Some(BatchPlan {
        from,
        to: from + txs.len() as u64,
        data,
        deposits_end,
    })
}
