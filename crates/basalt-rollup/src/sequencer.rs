//! The sequencer: orders transactions into L2 blocks, applies them with the shared STF, and logs
//! each block durably before confirming it (soft confirmation).
//!
//! A transaction that would fail is refused with its reason and never enters a block; queued L1
//! items are applied at the start of the next block, in queue order, and every one takes its place
//! in the block whatever it does (a forced transaction may fail: its place is consumed all the
//! same, so the block, the log and the batch must carry it).

use crate::log::{BlockLog, L2Block, LogError};
use basalt_l2::{
    Config, DepositEntry, DepositWindow, FeeMarket, FeeModel, L2State, L2Tx, Optimistic, Outcome,
    Profile, TxFailure,
};
use basalt_types::Hash;
use std::collections::HashMap;
use std::path::Path;

/// Whether a submitted transaction entered the block, or why it was refused.
pub type Admission = Result<(), TxFailure>;

/// Where a confirmed transaction sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxPosition {
    /// Its block.
    pub block: u64,
    /// Position among all confirmed transactions, counting from 0 (batches cover ranges of it).
    pub sequence: u64,
    /// The withdrawal index it created, for a withdrawal.
    pub withdrawal: Option<u64>,
    /// Why it did nothing: only a forced transaction, whose place is consumed either way, is
    /// confirmed with a failure.
    pub failure: Option<TxFailure>,
}

/// The sequencer's state: the L2 state after its last block, and every block it confirmed.
pub struct Sequencer<P: Profile = Optimistic> {
    state: L2State<P>,
    deposits: Vec<DepositEntry<P>>,
    blocks: Vec<L2Block<P>>,
    /// First sequence number of each block.
    starts: Vec<u64>,
    txs: HashMap<Hash, TxPosition>,
    log: BlockLog<P>,
    /// The execution price after the last block.
    market: FeeMarket,
    /// FAULT INJECTION: a censor holds the L1 queue before this item.
    #[cfg(feature = "faults")]
    hold: Option<u64>,
}

impl<P: Profile> Sequencer<P> {
    /// Opens the sequencer's log at `path` and replays it on the genesis state. `deposits` is the
    /// rollup's L1 deposit queue as known now (at least as long as what the log consumed).
    pub fn open(
        path: &Path,
        config: Config,
        sequencer: P::PublicKey,
        deposits: Vec<DepositEntry<P>>,
    ) -> Result<Self, SequencerError> {
        let (log, blocks) = BlockLog::open(path)?;
        let mut s = Sequencer {
            state: L2State::genesis(config, sequencer),
            deposits,
            blocks: Vec::new(),
            starts: Vec::new(),
            txs: HashMap::new(),
            log,
            market: FeeMarket::new(FeeModel::Fixed, config.min_fee),
            #[cfg(feature = "faults")]
            hold: None,
        };
        for block in blocks {
            let window = DepositWindow {
                first: 0,
                entries: &s.deposits,
            };
            let outcomes = s.state.apply_batch(&window, &block.txs);
            // A queue place may fail and still be consumed; anything else in a block applied.
            let replays = block.txs.iter().zip(&outcomes).all(|(tx, o)| {
                *o == Outcome::Applied || matches!(tx, L2Tx::Deposit { .. }) && consumed(o)
            });
            if !replays || s.state.output() != block.output {
                return Err(SequencerError::Replay(block.number));
            }
            s.remember(block, &outcomes);
        }
        Ok(s)
    }

    /// Records a block already applied to the state, with the outcome of each of its transactions.
    /// A forced transaction is known by its own hash (and by its place's) at its queue place.
    fn remember(&mut self, block: L2Block<P>, outcomes: &[Outcome]) {
        let start = self.next_sequence();
        let effective: Vec<L2Tx<P>> = block
            .txs
            .iter()
            .map(|tx| tx.forced_in(&self.deposits).unwrap_or(*tx))
            .collect();
        let creates_withdrawal = |(tx, o): (&L2Tx<P>, &Outcome)| {
            matches!(tx, L2Tx::Withdraw { .. }) && *o == Outcome::Applied
        };
        // The block's withdrawals are the newest ones, in order.
        let mut next_withdrawal = self.state.withdrawals().len() as u64
            - effective
                .iter()
                .zip(outcomes)
                .filter(|&t| creates_withdrawal(t))
                .count() as u64;
        for (i, ((tx, effective), outcome)) in
            block.txs.iter().zip(&effective).zip(outcomes).enumerate()
        {
            let withdrawal = creates_withdrawal((effective, outcome)).then(|| {
                next_withdrawal += 1;
                next_withdrawal - 1
            });
            let position = TxPosition {
                block: block.number,
                sequence: start + i as u64,
                withdrawal,
                failure: match outcome {
                    Outcome::Applied => None,
                    Outcome::Failed(why) => Some(*why),
                },
            };
            self.txs.insert(tx.hash(), position);
            self.txs.entry(effective.hash()).or_insert(position);
        }
        self.market.after_block(user_txs(&block.txs));
        self.starts.push(start);
        self.blocks.push(block);
    }

    /// Prices by `model` from now on, as if it had priced every block already confirmed (the
    /// rollup registered it; the market follows from the blocks alone).
    pub fn set_fee_model(&mut self, model: FeeModel) {
        let mut market = FeeMarket::new(model, self.state.config().min_fee);
        for block in &self.blocks {
            market.after_block(user_txs(&block.txs));
        }
        self.market = market;
    }

    /// The execution price as the confirmed blocks left it.
    pub fn market(&self) -> &FeeMarket {
        &self.market
    }

    /// The L2 state after the last confirmed block.
    pub fn state(&self) -> &L2State<P> {
        &self.state
    }

    /// Confirmed blocks, oldest first (block `n` is at index `n - 1`).
    pub fn blocks(&self) -> &[L2Block<P>] {
        &self.blocks
    }

    /// A confirmed block by number.
    pub fn block(&self, number: u64) -> Option<&L2Block<P>> {
        self.blocks
            .get(usize::try_from(number.checked_sub(1)?).ok()?)
    }

    /// The block holding confirmed transaction number `sequence`.
    pub fn block_at_sequence(&self, sequence: u64) -> Option<&L2Block<P>> {
        if sequence >= self.next_sequence() {
            return None;
        }
        let k = self.starts.partition_point(|s| *s <= sequence);
        // Empty blocks share a start with the next one: take the last block starting at or before.
        self.blocks[..k].iter().rev().find(|b| !b.txs.is_empty())
    }

    /// Where a confirmed transaction is.
    pub fn position(&self, hash: &Hash) -> Option<TxPosition> {
        self.txs.get(hash).copied()
    }

    /// Number of confirmed transactions (the next sequence number).
    pub fn next_sequence(&self) -> u64 {
        match (self.starts.last(), self.blocks.last()) {
            (Some(s), Some(b)) => s + b.txs.len() as u64,
            _ => 0,
        }
    }

    /// Confirmed transactions with sequence numbers in `from..to`.
    pub fn txs_in(&self, from: u64, to: u64) -> Vec<L2Tx<P>> {
        let first_block = self
            .starts
            .partition_point(|s| *s <= from)
            .saturating_sub(1);
        let mut out = Vec::new();
        for (start, block) in self.starts[first_block..]
            .iter()
            .zip(&self.blocks[first_block..])
        {
            for (i, tx) in block.txs.iter().enumerate() {
                let seq = start + i as u64;
                if seq >= to {
                    return out;
                }
                if seq >= from {
                    out.push(*tx);
                }
            }
        }
        out
    }

    /// Deposits known from L1 so far.
    pub fn deposits_known(&self) -> u64 {
        self.deposits.len() as u64
    }

    /// Where the queue items the next block applies end: every one known, unless a censor holds
    /// the queue.
    pub fn deposits_due(&self) -> u64 {
        let known = self.deposits.len() as u64;
        #[cfg(feature = "faults")]
        if let Some(at) = self.hold {
            return known.min(at);
        }
        known
    }

    /// FAULT INJECTION: holds the L1 queue before item `at`, or releases it (`None`).
    #[cfg(feature = "faults")]
    pub fn hold_deposits(&mut self, at: Option<u64>) {
        self.hold = at;
    }

    /// FAULT INJECTION: the queue item a censor holds the queue before, if any.
    #[cfg(feature = "faults")]
    pub fn held(&self) -> Option<u64> {
        self.hold
    }

    /// Every queue item known, in order.
    pub fn deposit_entries(&self) -> &[DepositEntry<P>] {
        &self.deposits
    }

    /// Adds deposits that L1 queued after the ones already known.
    pub fn add_deposits(&mut self, entries: impl IntoIterator<Item = DepositEntry<P>>) {
        self.deposits.extend(entries);
    }

    /// Applies queued deposits and then `txs`, in order, as the next block, and logs it durably.
    /// Returns the block and, for each of `txs`, whether it was included or why it was refused
    /// (a refused transaction is not in the block and changes nothing).
    pub fn produce(
        &mut self,
        timestamp_ms: u64,
        txs: &[L2Tx<P>],
    ) -> Result<(&L2Block<P>, Vec<Admission>), SequencerError> {
        let next = self.state.commitment().next_deposit;
        let mut all: Vec<L2Tx<P>> = (next..self.deposits_due())
            .map(|index| L2Tx::Deposit { index })
            .collect();
        let deposits = all.len();
        all.extend_from_slice(txs);
        let window = DepositWindow {
            first: 0,
            entries: &self.deposits,
        };
        let outcomes = self.state.apply_batch(&window, &all);
        let mut included = Vec::with_capacity(all.len());
        let mut kept = Vec::with_capacity(all.len());
        let mut results = Vec::with_capacity(txs.len());
        for (i, (tx, outcome)) in all.iter().zip(&outcomes).enumerate() {
            // Queue places come from L1 in order and are consumed whatever they do (a forced
            // transaction may fail); a refusal of a submitted transaction is its sender's.
            let keep = match i < deposits {
                true => consumed(outcome),
                false => {
                    results.push(match outcome {
                        Outcome::Applied => Ok(()),
                        Outcome::Failed(why) => Err(*why),
                    });
                    *outcome == Outcome::Applied
                }
            };
            if keep {
                included.push(*tx);
                kept.push(*outcome);
            }
        }
        let block = L2Block {
            number: self.blocks.len() as u64 + 1,
            timestamp_ms: timestamp_ms.max(self.blocks.last().map_or(0, |b| b.timestamp_ms)),
            txs: included,
            output: self.state.output(),
        };
        if let Err(e) = self.log.append(&block) {
            // The block was applied in memory but not made durable: the process must not go on
            // confirming on top of it. The caller stops; a restart replays the log.
            return Err(SequencerError::Log(e));
        }
        self.remember(block, &kept);
        Ok((self.blocks.last().expect("just pushed"), results))
    }
}

/// Users' transactions among `txs` (the rest are L1 queue places): what fills a block.
fn user_txs<P: Profile>(txs: &[L2Tx<P>]) -> usize {
    txs.iter()
        .filter(|tx| !matches!(tx, L2Tx::Deposit { .. }))
        .count()
}

/// Whether a queue place's outcome consumed it: every outcome but finding it out of order or not
/// yet fetched.
fn consumed(outcome: &Outcome) -> bool {
    !matches!(
        outcome,
        Outcome::Failed(TxFailure::DepositOutOfOrder { .. } | TxFailure::DepositUnavailable(_))
    )
}

/// Why the sequencer cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum SequencerError {
    /// The log failed.
    #[error(transparent)]
    Log(#[from] LogError),
    /// A logged block does not replay to its recorded output (wrong rollup, or missing deposits).
    #[error(
        "logged block {0} does not replay to its recorded output: wrong rollup or deposit queue"
    )]
    Replay(u64),
}
