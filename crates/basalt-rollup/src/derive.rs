//! Derivation: the L2 state rebuilt from L1 data alone (the deposit queue and the posted batch
//! blobs), and the check of every proposed output against it. A verifier runs only this; the
//! proposer proposes what it derives, never what the sequencer claims; the challenger plays
//! disputes from the per-step traces and witnesses it rebuilds.
//!
//! It keeps a checkpoint state at the first batch whose output may still be disputed and the
//! inputs of every later batch, so the state before any of them can be rebuilt on demand.

#[cfg(feature = "faults")]
use crate::faults::plan::FaultPlan;
use basalt_l1::WithdrawalClaim;
use basalt_l2::{
    batch_deposits, batch_trace_txs, posted_batch_txs, BatchError, Commitment, Config,
    DepositEntry, L2State, L2Tx, Optimistic, Outcome, StepWitness, TxFailure,
};
use basalt_types::{Hash, PublicKey};
use std::collections::{HashMap, VecDeque};

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
    /// The state before batch `checkpoint_batch`.
    checkpoint: L2State<P>,
    checkpoint_batch: u64,
    /// Inputs of batches `checkpoint_batch..`.
    inputs: VecDeque<BatchInput>,
    /// The deposit range end of the last batch: where the next batch's range starts.
    deposits_end: u64,
    /// The fault a dishonest view injects.
    #[cfg(feature = "faults")]
    pub(crate) plan: FaultPlan,
}

/// What a batch applied: its deposit range end and its trace's transactions (its blob's, then its
/// deposit range: [`batch_trace_txs`]).
#[derive(Clone)]
struct BatchInput {
    deposits_end: u64,
    txs: Vec<L2Tx<P>>,
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
            checkpoint: state.clone(),
            state,
            deposits: Vec::new(),
            commitments: Vec::new(),
            tx_totals: Vec::new(),
            txs: HashMap::new(),
            checkpoint_batch: 0,
            inputs: VecDeque::new(),
            deposits_end: 0,
            #[cfg(feature = "faults")]
            plan: FaultPlan::default(),
        }
    }

    /// The state before batch `batch` (which must not be before the checkpoint).
    pub fn state_before(&self, batch: u64) -> Option<L2State<P>> {
        if batch < self.checkpoint_batch || batch > self.batches() {
            return None;
        }
        let mut state = self.checkpoint.clone();
        for (i, input) in self.inputs.iter().enumerate() {
            let b = self.checkpoint_batch + i as u64;
            if b == batch {
                break;
            }
            self.view()
                .run_batch(&mut state, b, input.deposits_end, &input.txs, false, None);
        }
        Some(state)
    }

    /// How this view applies batches.
    fn view(&self) -> View<'_> {
        View {
            deposits: &self.deposits,
            #[cfg(feature = "faults")]
            plan: self.plan,
        }
    }

    /// This view's trace of batch `batch`: the output before it, then after each transaction.
    pub fn trace(&self, batch: u64) -> Option<Vec<Hash>> {
        let mut state = self.state_before(batch)?;
        let input = self.input(batch)?;
        let mut trace = Vec::with_capacity(input.txs.len() + 1);
        trace.push(state.output());
        let mut push = |s: &L2State<P>| trace.push(s.output());
        self.view().run_batch(
            &mut state,
            batch,
            input.deposits_end,
            &input.txs,
            false,
            Some(&mut push),
        );
        Some(trace)
    }

    /// The witness of step `step` of batch `batch` against this view's output before that step.
    pub fn witness(&self, batch: u64, step: u64) -> Option<StepWitness<P>> {
        let mut state = self.state_before(batch)?;
        let input = self.input(batch)?;
        let step = usize::try_from(step).ok()?;
        let tx = input.txs.get(step)?;
        self.view().run_batch(
            &mut state,
            batch,
            input.deposits_end,
            &input.txs[..step],
            false,
            None,
        );
        let window = batch_deposits(&self.deposits, input.deposits_end)?;
        Some(state.witness(&window, tx))
    }

    fn input(&self, batch: u64) -> Option<&BatchInput> {
        self.inputs
            .get(usize::try_from(batch.checked_sub(self.checkpoint_batch)?).ok()?)
    }

    /// Moves the checkpoint up to batch `batch` (outputs before it are settled and can no longer
    /// be disputed), dropping the inputs it no longer needs.
    pub fn settle_to(&mut self, batch: u64) {
        while self.checkpoint_batch < batch.min(self.batches()) {
            let input = self.inputs.pop_front().expect("an input per derived batch");
            let view = View {
                deposits: &self.deposits,
                #[cfg(feature = "faults")]
                plan: self.plan,
            };
            view.run_batch(
                &mut self.checkpoint,
                self.checkpoint_batch,
                input.deposits_end,
                &input.txs,
                false,
                None,
            );
            self.checkpoint_batch += 1;
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
        if deposits_end > self.deposits_known() {
            return Err(DeriveError::MissingDeposits {
                batch: index,
                end: deposits_end,
                known: self.deposits_known(),
            });
        }
        let (blob_txs, undecodable) = posted_batch_txs::<P>(blob);
        let posted = blob_txs.len();
        let txs = batch_trace_txs(blob_txs, self.deposits_end, deposits_end);
        self.deposits_end = deposits_end;
        let mut next_withdrawal = self.state.withdrawals().len() as u64;
        #[cfg(feature = "faults")]
        if undecodable.is_some() {
            self.plan.undecodable(index);
        }
        let view = View {
            deposits: &self.deposits,
            #[cfg(feature = "faults")]
            plan: self.plan,
        };
        let (outcomes, _injected) =
            view.run_batch(&mut self.state, index, deposits_end, &txs, true, None);
        #[cfg(feature = "faults")]
        if let Some(step) = _injected {
            self.plan.injected(index, step);
        }
        let first = self.txs_in_first(index);
        // The blob's transactions are the posted ones; the range's deposits follow them. A forced
        // transaction is known by its own hash, at the place that applied it (the last posted
        // place when the range did).
        for (i, (tx, outcome)) in txs.iter().zip(&outcomes).enumerate() {
            // A deposit step that did not reach its place (applied already, or out of order)
            // did not run the forced transaction there.
            let reached = !matches!(
                outcome,
                Outcome::Failed(
                    TxFailure::DepositOutOfOrder { .. } | TxFailure::DepositUnavailable(_)
                )
            );
            let forced = tx.forced_in(&self.deposits).filter(|_| reached);
            if i >= posted && forced.is_none() {
                continue;
            }
            let effective = forced.as_ref().unwrap_or(tx);
            let withdrawal = match (effective, outcome) {
                (L2Tx::Withdraw { .. }, Outcome::Applied) => {
                    next_withdrawal += 1;
                    Some(next_withdrawal - 1)
                }
                _ => None,
            };
            let sequence = first + i.min(posted.saturating_sub(1)) as u64;
            let record = PostedTx {
                batch: index,
                sequence,
                failure: match outcome {
                    Outcome::Applied => None,
                    Outcome::Failed(why) => Some(*why),
                },
                withdrawal,
            };
            self.txs.entry(effective.hash()).or_insert(record);
            if forced.is_some() && i < posted {
                self.txs.entry(tx.hash()).or_insert(record);
            }
        }
        let commitment = self.state.commitment();
        let output = commitment.output();
        self.commitments.push(commitment);
        self.tx_totals.push(first + posted as u64);
        self.inputs.push_back(BatchInput { deposits_end, txs });
        Ok(DerivedBatch {
            index,
            txs: posted,
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

/// Called with the committed state after each transaction of a traced batch.
pub(crate) type StepHook<'a> = dyn FnMut(&L2State<P>) + 'a;

/// How a view applies batches: the deposit queue, and (feature `faults`) the fault it injects
/// if it is dishonest.
struct View<'a> {
    deposits: &'a [DepositEntry<P>],
    #[cfg(feature = "faults")]
    plan: FaultPlan,
}

impl View<'_> {
    /// Applies one batch to `state` as this view does, calling `each` with the committed state
    /// after every transaction if given. `inject` lets a not-yet-injected fault fit here. Returns
    /// the outcomes and the step where a fault was injected, if one was.
    #[cfg_attr(not(feature = "faults"), allow(unused_variables))]
    fn run_batch(
        &self,
        state: &mut L2State<P>,
        batch: u64,
        deposits_end: u64,
        txs: &[L2Tx<P>],
        inject: bool,
        each: Option<&mut StepHook<'_>>,
    ) -> (Vec<Outcome>, Option<u64>) {
        let window = batch_deposits(self.deposits, deposits_end)
            .expect("inputs are kept only for batches whose deposits are known");
        #[cfg(feature = "faults")]
        if self.plan.touches(batch, inject) {
            return self
                .plan
                .run_batch(state, &window, batch, txs, inject, each);
        }
        let Some(each) = each else {
            return (state.apply_batch(&window, txs), None);
        };
        let mut outcomes = Vec::with_capacity(txs.len());
        for tx in txs {
            outcomes.push(state.apply(&window, tx, basalt_l2::SigCheck::Verify));
            state.commit();
            each(state);
        }
        (outcomes, None)
    }
}
