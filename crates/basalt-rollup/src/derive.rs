//! Derivation: the L2 state rebuilt from L1 data alone (the deposit queue and the posted batch
//! blobs), and the check of every proposed output against it. A verifier runs only this; the
//! proposer proposes what it derives, never what the sequencer claims.

use basalt_l1::WithdrawalClaim;
use basalt_l2::{
    batch_deposits, posted_batch_txs, BatchError, Commitment, Config, DepositEntry, L2State, L2Tx,
    Optimistic, Outcome, TxFailure,
};
use basalt_types::{Hash, PublicKey};
use std::collections::HashMap;

type P = Optimistic;

/// The state derived so far and the output after each batch.
#[derive(Clone)]
pub struct Derivation {
    state: L2State<P>,
    genesis_output: Hash,
    deposits: Vec<DepositEntry<P>>,
    /// What the state commits to after each batch.
    commitments: Vec<Commitment<P>>,
    /// Transactions in batches `0..=k`, for each batch `k`.
    tx_totals: Vec<u64>,
    txs: HashMap<Hash, PostedTx>,
}

/// Where a posted transaction sits and what it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostedTx {
    /// The batch that carried it.
    pub batch: u64,
    /// Its position among all posted transactions, counting from 0.
    pub sequence: u64,
    /// Why it was a no-op, if it was.
    pub failure: Option<TxFailure>,
    /// The withdrawal index it created, for an applied withdrawal.
    pub withdrawal: Option<u64>,
}

/// What one derived batch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedBatch {
    /// Its index.
    pub index: u64,
    /// Transactions it carried.
    pub txs: usize,
    /// Why its blob did not decode, if it did not (it then applies nothing).
    pub undecodable: Option<BatchError>,
    /// The output after it.
    pub output: Hash,
}

/// A proposed output compared with the derived one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The proposal equals the derived output.
    Match,
    /// It does not: the challenger disputes it.
    Mismatch {
        /// The derived output.
        derived: Hash,
    },
    /// The batch is not derived yet.
    Pending,
}

/// Why derivation cannot go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeriveError {
    /// The batch may consume deposits the deriver has not fetched.
    #[error("batch {batch} consumes deposits up to {end}, only {known} are known")]
    MissingDeposits {
        /// The batch.
        batch: u64,
        /// Its deposit range end.
        end: u64,
        /// Deposits fetched.
        known: u64,
    },
}

impl Derivation {
    /// Starts from the rollup's genesis.
    pub fn new(config: Config, sequencer: PublicKey) -> Self {
        let state = L2State::genesis(config, sequencer);
        Derivation {
            genesis_output: state.output(),
            state,
            deposits: Vec::new(),
            commitments: Vec::new(),
            tx_totals: Vec::new(),
            txs: HashMap::new(),
        }
    }

    /// The derived state after the last batch.
    pub fn state(&self) -> &L2State<P> {
        &self.state
    }

    /// Batches derived.
    pub fn batches(&self) -> u64 {
        self.commitments.len() as u64
    }

    /// Deposits fetched.
    pub fn deposits_known(&self) -> u64 {
        self.deposits.len() as u64
    }

    /// Transactions in the first `batches` batches.
    pub fn txs_in_first(&self, batches: u64) -> u64 {
        batches
            .checked_sub(1)
            .map_or(0, |k| self.tx_totals[k as usize])
    }

    /// What the state committed to after batch `batch`.
    pub fn commitment(&self, batch: u64) -> Option<Commitment<P>> {
        self.commitments.get(usize::try_from(batch).ok()?).copied()
    }

    /// The output after batch `batch`.
    pub fn output(&self, batch: u64) -> Option<Hash> {
        self.commitment(batch).map(|c| c.output())
    }

    /// The batch that carried the posted transaction number `sequence`.
    pub fn batch_of(&self, sequence: u64) -> Option<u64> {
        let k = self.tx_totals.partition_point(|total| *total <= sequence);
        (k < self.tx_totals.len()).then_some(k as u64)
    }

    /// The first batch whose output contains withdrawal `index`.
    pub fn batch_with_withdrawal(&self, index: u64) -> Option<u64> {
        let k = self
            .commitments
            .partition_point(|c| c.withdrawal_count <= index);
        (k < self.commitments.len()).then_some(k as u64)
    }

    /// A posted transaction by hash (the first time it was posted, if a batch repeated it).
    pub fn tx(&self, hash: &Hash) -> Option<PostedTx> {
        self.txs.get(hash).copied()
    }

    /// The claim of withdrawal `index` against the output of batch `batch`, if that output
    /// contains it. The L1 pays it once that output has settled.
    pub fn withdrawal_claim(&self, rollup: u32, batch: u64, index: u64) -> Option<WithdrawalClaim> {
        let c = self.commitment(batch)?;
        let (w, proof, tree_root) = self.state.withdrawal_proof_at(index, c.withdrawal_count)?;
        debug_assert_eq!(tree_root, c.withdrawals_tree_root);
        Some(WithdrawalClaim {
            rollup,
            batch,
            state_root: c.state_root(),
            withdrawals_tree_root: tree_root,
            withdrawal_count: c.withdrawal_count,
            index,
            recipient: w.recipient,
            amount: w.amount,
            proof: proof.siblings,
        })
    }

    /// The output batch `batch` builds on.
    pub fn prior(&self, batch: u64) -> Option<Hash> {
        match batch.checked_sub(1) {
            None => Some(self.genesis_output),
            Some(k) => self.output(k),
        }
    }

    /// Adds deposits the L1 queued after those already known.
    pub fn add_deposits(&mut self, entries: impl IntoIterator<Item = DepositEntry<P>>) {
        self.deposits.extend(entries);
    }

    /// Applies the next posted batch from its blob.
    pub fn apply(&mut self, deposits_end: u64, blob: &[u8]) -> Result<DerivedBatch, DeriveError> {
        let index = self.batches();
        let window =
            batch_deposits(&self.deposits, deposits_end).ok_or(DeriveError::MissingDeposits {
                batch: index,
                end: deposits_end,
                known: self.deposits.len() as u64,
            })?;
        let (txs, undecodable) = posted_batch_txs::<P>(blob);
        let mut next_withdrawal = self.state.withdrawals().len() as u64;
        let outcomes = self.state.apply_batch(&window, &txs);
        let first = self.txs_in_first(index);
        for (i, (tx, outcome)) in txs.iter().zip(&outcomes).enumerate() {
            let withdrawal = match (tx, outcome) {
                (L2Tx::Withdraw { .. }, Outcome::Applied) => {
                    next_withdrawal += 1;
                    Some(next_withdrawal - 1)
                }
                _ => None,
            };
            self.txs.entry(tx.hash()).or_insert(PostedTx {
                batch: index,
                sequence: first + i as u64,
                failure: match outcome {
                    Outcome::Applied => None,
                    Outcome::Failed(why) => Some(*why),
                },
                withdrawal,
            });
        }
        let commitment = self.state.commitment();
        let output = commitment.output();
        self.commitments.push(commitment);
        self.tx_totals.push(first + txs.len() as u64);
        Ok(DerivedBatch {
            index,
            txs: txs.len(),
            undecodable,
            output,
        })
    }

    /// Checks a proposed output for `batch`.
    pub fn check(&self, batch: u64, proposed: Hash) -> Verdict {
        match self.output(batch) {
            None => Verdict::Pending,
            Some(derived) if derived == proposed => Verdict::Match,
            Some(derived) => Verdict::Mismatch { derived },
        }
    }
}
