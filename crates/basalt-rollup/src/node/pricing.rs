//! What the sequencer asks of a transaction: its fee model's execution price plus the L1 price
//! of the bytes the transaction adds to its batch (the L1's own gas rule,
//! [`basalt_l1::gas::l2_data_fee`], at what the sequencer pays the L1 a gas, its next-block base
//! fee and the tip its client adds, and at the next blob base fee, as last read).
//! Admission asks exactly that; a quote (`l2_estimateFee`) adds room for the prices to rise for a
//! block or two while the user signs.

use super::{lock, Core};
use crate::l1client::ChainInfo;
use crate::Sequencer;
use basalt_l2::{posted_bytes, FeeModel, L2Tx, Profile};
use basalt_types::Amount;
use std::sync::atomic::Ordering;

/// The L1 prices the data part is charged at: the next L1 block's, as last read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct L1Prices {
    /// What the sequencer pays a gas: the base fee and its client's tip
    /// ([`crate::l1client::priority_tip`]).
    pub gas_price: u64,
    /// Blob base fee per byte.
    pub blob_base_fee: u64,
}

impl From<&ChainInfo> for L1Prices {
    fn from(c: &ChainInfo) -> Self {
        let base = c.next_base_fee_per_gas;
        L1Prices {
            gas_price: base.saturating_add(crate::l1client::priority_tip(base)),
            blob_base_fee: c.next_blob_base_fee,
        }
    }
}

/// What a rollup fixed at registration that its prices depend on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pricing {
    /// Its fee model.
    pub model: FeeModel,
    /// Its circuit's slots, for a ZK rollup (its batches carry a proof each).
    pub zk_slots: Option<u32>,
}

/// The fee asked of one transaction, in parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Asked {
    /// The fee model's execution price.
    pub execution: Amount,
    /// The L1 price of its batch bytes.
    pub l1_data: Amount,
    /// Its batch bytes.
    pub bytes: u64,
}

impl Asked {
    /// The whole fee.
    pub fn total(&self) -> Amount {
        self.execution.saturating_add(self.l1_data)
    }
}

/// The running batch size is kept in sixteenths of a transaction.
const BATCH_SIZE_SCALE: u64 = 16;

/// A quote rises by a quarter of its L1 part: two L1 blocks' worth of the L1's fastest rise.
const L1_QUOTE_MARGIN: Amount = 4;

impl<Q: Profile> Core<Q> {
    /// The transactions the next batch of `seq` will carry, as estimated: as many as its recent
    /// batches carried, and at least those already waiting for it and the one being priced (a
    /// lone transaction pays its whole batch).
    pub fn batch_txs(&self, seq: &Sequencer<Q>) -> u64 {
        let recent = self.batch_size.load(Ordering::Relaxed) / BATCH_SIZE_SCALE;
        let waiting = seq
            .next_sequence()
            .saturating_sub(self.batched_to.load(Ordering::Relaxed));
        recent.max(waiting.saturating_add(1))
    }

    /// Records that the batches planned or on L1 end at transaction `to`.
    pub fn note_batched_to(&self, to: u64) {
        self.batched_to.fetch_max(to, Ordering::Relaxed);
    }

    /// Counts a batch of the transactions `from..to` into the running batch size (each batch
    /// weighs an eighth).
    pub fn note_batch(&self, from: u64, to: u64) {
        self.note_batched_to(to);
        let new = to.saturating_sub(from).saturating_mul(BATCH_SIZE_SCALE);
        let _ = self
            .batch_size
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
                Some(match old {
                    0 => new,
                    old => old - old / 8 + new / 8,
                })
            });
    }

    /// The least fee `tx` must pay to be admitted now by the sequencer `seq`.
    pub fn asked(&self, seq: &Sequencer<Q>, tx: &L2Tx<Q>) -> Asked {
        let bytes = posted_bytes(tx, self.pricing.zk_slots.is_some());
        let p = *lock(&self.l1_prices);
        Asked {
            execution: seq.market().execution_price(),
            l1_data: basalt_l1::gas::l2_data_fee(
                self.pricing.zk_slots,
                bytes,
                self.batch_txs(seq),
                p.gas_price,
                p.blob_base_fee,
            ),
            bytes,
        }
    }

    /// A fee for `tx` (whose own fee field is ignored) from the sequencer `seq` that stays enough
    /// while the L1's fees rise for two blocks and the L2 base fee for one, and, in an auction,
    /// bids into the next block (`clearing`, the least fee that would have).
    pub fn quote(&self, seq: &Sequencer<Q>, clearing: Amount, tx: &L2Tx<Q>) -> (Asked, Asked) {
        // The fee is part of the bytes priced: settle on a fee whose own encoding it pays for.
        let mut tx = *tx;
        let (mut least, mut quoted) = (self.asked(seq, &tx), self.asked(seq, &tx));
        for _ in 0..4 {
            least = self.asked(seq, &tx);
            quoted = Asked {
                execution: seq.market().execution_quote(),
                l1_data: least
                    .l1_data
                    .saturating_add(least.l1_data.div_ceil(L1_QUOTE_MARGIN)),
                bytes: least.bytes,
            };
            if clearing > quoted.total() {
                quoted.execution = clearing - quoted.l1_data;
            }
            let before = posted_bytes(&tx, self.pricing.zk_slots.is_some());
            tx = tx.with_fee(quoted.total());
            if posted_bytes(&tx, self.pricing.zk_slots.is_some()) == before {
                break;
            }
        }
        (least, quoted)
    }
}

/// Reads the L1's next-block fees every `every` into the node's prices (a failed read keeps the
/// last; the follower reports an unreachable L1).
pub(crate) async fn follow_l1_prices<Q: Profile, S: crate::L1Source>(
    core: std::sync::Arc<impl std::ops::Deref<Target = Core<Q>>>,
    client: crate::l1client::L1Client<S>,
    every: std::time::Duration,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Ok(chain) = client.chain_info().await {
            *lock(&core.l1_prices) = L1Prices::from(&chain);
        }
    }
}
