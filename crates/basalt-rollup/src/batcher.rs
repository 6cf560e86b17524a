//! The batcher's choice of what to post next: the oldest confirmed transactions not yet posted, as
//! many as fit in one L1 blob.

use crate::sequencer::Sequencer;
use basalt_l2::{encode_batch, encode_payload, L2Tx, Optimistic, MAX_BATCH_TXS};

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
/// `max_blob_bytes`, after a batch whose deposit range ended at `prior_end`. `None` if nothing
/// waits.
pub fn plan_batch(
    seq: &Sequencer,
    from: u64,
    prior_end: u64,
    max_blob_bytes: usize,
) -> Option<BatchPlan> {
    let mut txs = seq.txs_in(from, seq.next_sequence());
    if txs.is_empty() {
        return None;
    }
    txs.truncate(MAX_BATCH_TXS);
    // Compression barely shrinks signed transactions: cut on the raw size first, then halve until
    // the compressed blob fits.
    while txs.len() > 1 && encode_payload(&txs).len() > max_blob_bytes {
        txs.truncate(txs.len() * 3 / 4);
    }
    let mut data = encode_batch(&txs);
    while data.len() > max_blob_bytes && txs.len() > 1 {
        txs.truncate(txs.len() / 2);
        data = encode_batch(&txs);
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
