//! Derivation of a ZK rollup: its L2 state rebuilt from L1 data alone (the deposit queue and the
//! posted batches, which carry no signatures: the proofs cover them), and the checks a verifier
//! makes of what the L1 recorded: each batch's data hash (the proof's public input) equals the
//! one recomputed here, and each settled output equals the derived one.
//!
//! It keeps the state at the last settled batch and the inputs of the batches after it. A batch
//! that cannot apply stops the derivation there: no proof can settle it, so the sequencer must
//! revert it (`RevertBatches` settles every unproven batch as a no-op on the last settled output,
//! and their deposits return to the queue), and derivation goes on from the settled state.

use basalt_l1::{felt_hash, WithdrawalClaim};
use basalt_l2::{
    apply_posted, data_hash, decode_zk_batch, BatchError, Commitment, Config, DepositEntry,
    DepositWindow, L2State, PostedBatchError, PostedTx, Zk,
};
use basalt_types::zk::{BabyPublicKey, Felt};
use basalt_types::Hash;

/// What one posted batch brought.
#[derive(Debug, Clone)]
struct Input {
    posted: Vec<PostedTx>,
    deposits_end: u64,
}

/// Why the L1's record of a batch cannot be trusted, or why the derivation waits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZkDeriveError {
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
    /// The L1 accepted a post whose data does not decode: the L1 decodes every ZK post, so the
    /// L1 data and this node disagree.
    #[error("batch {batch} was accepted by the L1 but does not decode here: {error}")]
    Undecodable {
        /// The batch.
        batch: u64,
        /// Why.
        error: BatchError,
    },
    /// The data hash the L1 recorded for a batch (its proof's public input) differs from the one
    /// computed here.
    #[error("batch {batch}: the L1 recorded data hash {l1}, the posted data hashes to {derived}")]
    DataHash {
        /// The batch.
        batch: u64,
        /// What the L1 recorded.
        l1: Hash,
        /// What its data hashes to.
        derived: Hash,
    },
    /// The L1 settled an output that its data does not lead to (nor is it a revert): a proof of
    /// a false statement was accepted.
    #[error("batch {batch}: the L1 settled output {settled}, its data leads to {derived}")]
    Settled {
        /// The batch.
        batch: u64,
        /// What the L1 settled.
        settled: Hash,
        /// What the derivation reached.
        derived: Hash,
    },
}

/// The state of a ZK rollup derived from the L1.
#[derive(Clone)]
pub struct ZkDerivation {
    config: Config,
    deposits: Vec<DepositEntry<Zk>>,
    /// The state after the last settled batch.
    settled: L2State<Zk>,
    settled_batches: u64,
    /// What the settled state committed to after each settled batch.
    settled_commitments: Vec<Commitment<Zk>>,
    /// Inputs of the batches after the last settled one.
    inputs: Vec<Input>,
    /// The state after the unsettled batches that apply, and their commitments.
    head: L2State<Zk>,
    head_commitments: Vec<Commitment<Zk>>,
    /// The first unsettled batch that cannot apply, and why: derivation stops before it.
    stuck: Option<(u64, PostedBatchError)>,
    /// Batches settled as no-ops by a revert.
    reverted: u64,
    /// Transactions posted in batches `0..=k`, for each batch `k` read.
    tx_totals: Vec<u64>,
}

impl ZkDerivation {
    /// Starts from the rollup's genesis; `fee_key` owns account 0.
    pub fn new(config: Config, fee_key: BabyPublicKey) -> Self {
        let state = L2State::genesis(config, fee_key);
        ZkDerivation {
            config,
            deposits: Vec::new(),
            settled: state.clone(),
            settled_batches: 0,
            settled_commitments: Vec::new(),
            inputs: Vec::new(),
            head: state,
            head_commitments: Vec::new(),
            stuck: None,
            reverted: 0,
            tx_totals: Vec::new(),
        }
    }

    /// Adds deposits the L1 queued after those already known.
    pub fn add_deposits(&mut self, entries: impl IntoIterator<Item = DepositEntry<Zk>>) {
        self.deposits.extend(entries);
    }

    /// Deposits fetched.
    pub fn deposits_known(&self) -> u64 {
        self.deposits.len() as u64
    }

    /// Batches read from the L1.
    pub fn batches(&self) -> u64 {
        self.settled_batches + self.inputs.len() as u64
    }

    /// Transactions posted in batches `0..batches`.
    pub fn txs_in_first(&self, batches: u64) -> u64 {
        batches
            .checked_sub(1)
            .and_then(|k| self.tx_totals.get(k as usize).copied())
            .unwrap_or(0)
    }

    /// The batch that posted transaction `sequence` (the sequencer's numbering), if one did.
    pub fn batch_of(&self, sequence: u64) -> Option<u64> {
        let k = self.tx_totals.partition_point(|total| *total <= sequence);
        (k < self.tx_totals.len()).then_some(k as u64)
    }

    /// Batches settled on the L1.
    pub fn settled_batches(&self) -> u64 {
        self.settled_batches
    }

    /// Batches settled as no-ops by a revert.
    pub fn reverted(&self) -> u64 {
        self.reverted
    }

    /// The first unsettled batch that cannot apply, and why.
    pub fn stuck(&self) -> Option<(u64, PostedBatchError)> {
        self.stuck
    }

    /// The state after every batch that applies.
    pub fn state(&self) -> &L2State<Zk> {
        &self.head
    }

    /// The state after the last settled batch.
    pub fn settled_state(&self) -> &L2State<Zk> {
        &self.settled
    }

    /// The output after batch `batch`, settled or derived.
    pub fn output(&self, batch: u64) -> Option<Felt> {
        self.commitment(batch).map(|c| c.output())
    }

    /// What the state commits to after batch `batch`, settled or derived.
    pub fn commitment(&self, batch: u64) -> Option<Commitment<Zk>> {
        match batch.checked_sub(self.settled_batches) {
            None => self.settled_commitments.get(batch as usize).copied(),
            Some(k) => self.head_commitments.get(k as usize).copied(),
        }
    }

    /// The posted transactions of batch `batch`, if it is not settled yet.
    pub fn posted(&self, batch: u64) -> Option<&[PostedTx]> {
        let k = batch.checked_sub(self.settled_batches)?;
        self.inputs.get(k as usize).map(|i| i.posted.as_slice())
    }

    /// The deposits known, as the STF reads the queue.
    pub fn deposit_window(&self) -> DepositWindow<'_, Zk> {
        self.deposits_from(0)
    }

    /// The deposits known from queue index `first` on, as the STF reads the queue.
    pub fn deposits_from(&self, first: u64) -> DepositWindow<'_, Zk> {
        let start = (first as usize).min(self.deposits.len());
        DepositWindow {
            first: start as u64,
            entries: &self.deposits[start..],
        }
    }

    /// Applies the next posted batch from its blob, after checking that the L1's data hash for it
    /// (`l1_data_hash`, its proof's public input) is the one its data and the queue give.
    pub fn apply_batch(
        &mut self,
        blob: &[u8],
        deposits_end: u64,
        l1_data_hash: &Hash,
    ) -> Result<(), ZkDeriveError> {
        let batch = self.batches();
        if deposits_end > self.deposits_known() {
            return Err(ZkDeriveError::MissingDeposits {
                batch,
                end: deposits_end,
                known: self.deposits_known(),
            });
        }
        let posted =
            decode_zk_batch(blob).map_err(|error| ZkDeriveError::Undecodable { batch, error })?;
        // The batch consumes the queue from where the batches before it stopped: the L1 keeps the
        // range exact, so the state before it (applied or not) starts there.
        let missing = ZkDeriveError::MissingDeposits {
            batch,
            end: deposits_end,
            known: self.deposits_known(),
        };
        let consumed = posted.iter().filter(|p| **p == PostedTx::Deposit).count() as u64;
        let first = deposits_end
            .checked_sub(consumed)
            .ok_or_else(|| missing.clone())?;
        let window = self.deposit_window();
        let derived = data_hash(&self.config, &posted, &window, first)
            .map(felt_hash)
            .map_err(|_| missing)?;
        if derived != *l1_data_hash {
            return Err(ZkDeriveError::DataHash {
                batch,
                l1: *l1_data_hash,
                derived,
            });
        }
        self.tx_totals
            .push(self.txs_in_first(batch) + posted.len() as u64);
        self.inputs.push(Input {
            posted,
            deposits_end,
        });
        if self.stuck.is_none() {
            self.apply_head(batch);
        }
        Ok(())
    }

    /// Applies unsettled batch `batch` (the next one) to the head state.
    fn apply_head(&mut self, batch: u64) {
        let input = &self.inputs[(batch - self.settled_batches) as usize];
        let mut next = self.head.clone();
        let window = DepositWindow {
            first: 0,
            entries: &self.deposits[..input.deposits_end as usize],
        };
        match apply_posted(&mut next, &window, &input.posted) {
            Ok(()) => {
                self.head_commitments.push(next.commitment());
                self.head = next;
            }
            Err(e) => self.stuck = Some((batch, e)),
        }
    }

    /// Records that the L1 settled batch `batch` (the next unsettled one) with `output`: checks it
    /// against the derivation, and moves the settled state on. An output equal to the last
    /// settled one is a revert (or a batch that changed nothing): the batch is a no-op and the
    /// batches after it are derived again from the settled state.
    pub fn settle(&mut self, batch: u64, output: &Hash) -> Result<(), ZkDeriveError> {
        debug_assert_eq!(batch, self.settled_batches);
        if self.inputs.is_empty() {
            return Err(ZkDeriveError::Settled {
                batch,
                settled: *output,
                derived: felt_hash(self.settled.output()),
            });
        }
        let prior = felt_hash(self.settled.output());
        let derived = self.head_commitments.first().map(|c| felt_hash(c.output()));
        if derived == Some(*output) {
            let input = self.inputs.remove(0);
            let window = DepositWindow {
                first: 0,
                entries: &self.deposits[..input.deposits_end as usize],
            };
            apply_posted(&mut self.settled, &window, &input.posted)
                .expect("the head applied this batch on the same state");
            self.settled_commitments
                .push(self.head_commitments.remove(0));
            self.settled_batches += 1;
            return Ok(());
        }
        if *output != prior {
            return Err(ZkDeriveError::Settled {
                batch,
                settled: *output,
                derived: derived.unwrap_or(prior),
            });
        }
        // A revert: the batch changes nothing, the later ones apply again from the settled state.
        self.inputs.remove(0);
        self.settled_commitments.push(self.settled.commitment());
        self.settled_batches += 1;
        self.reverted += 1;
        self.rederive();
        Ok(())
    }

    /// Derives the unsettled batches again from the settled state.
    fn rederive(&mut self) {
        self.head = self.settled.clone();
        self.head_commitments.clear();
        self.stuck = None;
        for k in 0..self.inputs.len() as u64 {
            self.apply_head(self.settled_batches + k);
            if self.stuck.is_some() {
                break;
            }
        }
    }

    /// The first batch whose output contains withdrawal `index`, settled or derived.
    pub fn batch_with_withdrawal(&self, index: u64) -> Option<u64> {
        let all = self
            .settled_commitments
            .iter()
            .chain(&self.head_commitments);
        let k = all.take_while(|c| c.withdrawal_count <= index).count() as u64;
        (k < self.settled_batches + self.head_commitments.len() as u64).then_some(k)
    }

    /// The claim of withdrawal `index` against the newest settled output, if it contains it.
    pub fn withdrawal_claim(&self, rollup: u32, index: u64) -> Option<WithdrawalClaim> {
        let batch = self.settled_batches.checked_sub(1)?;
        let c = self.settled.commitment();
        let (w, proof, tree_root) = self
            .settled
            .withdrawal_proof_at(index, c.withdrawal_count)?;
        Some(WithdrawalClaim {
            rollup,
            batch,
            state_root: felt_hash(c.state_root()),
            withdrawals_tree_root: felt_hash(tree_root),
            withdrawal_count: c.withdrawal_count,
            index,
            recipient: w.recipient,
            amount: w.amount,
            proof: proof.siblings.into_iter().map(felt_hash).collect(),
        })
    }
}
