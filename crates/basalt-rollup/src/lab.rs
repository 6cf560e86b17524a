//! An in-process L1 for benchmarks and tests: the real L1 state machine driven block by block
//! (every block built, verified as a peer would verify it, then applied), without consensus or
//! p2p; and the dispute players that run the rollup node's own decision code ([`dispute_actions`])
//! against it.

use crate::{dispute_actions, Derivation, DeriveError, Fault, OpenTree, Traces};
use basalt_l1::{
    estimate_gas, gas, verify_block, Action, BlockBuilder, Genesis, L1State, Receipt, RollupParams,
    SignedTransaction, StateView, Transaction,
};
use basalt_l2::{MAX_BATCH_RAW_BYTES, MAX_BATCH_TXS};
use basalt_types::{Encode, Keypair, PublicKey};
use std::time::{Duration, Instant};

/// Why the local L1 could not make a block.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// The genesis, a transaction or a block was refused: a bug in the caller's setup.
    #[error("local L1: {0}")]
    Refused(String),
    /// An action did not take effect where it had to.
    #[error("local L1: action {index} failed: {error}")]
    Failed {
        /// Its place in the block.
        index: usize,
        /// The receipt's error.
        error: String,
    },
}

/// A transaction included in a local block: its receipt and its encoded size.
#[derive(Debug, Clone)]
pub struct Included {
    /// What it did and paid.
    pub receipt: Receipt,
    /// Bytes of the signed transaction, as carried in the block.
    pub bytes: usize,
}

/// The L1 state machine of one node, fed blocks of signed actions by a fixed set of keys.
pub struct LocalL1 {
    /// The state after the last block.
    pub state: L1State,
    /// How long a peer took to verify the last block (re-executing every transaction).
    pub last_verify: Duration,
    /// Distinct batches the last block's builder decoded.
    pub last_decoded: usize,
    keys: Vec<Keypair>,
    nonces: Vec<u64>,
    block_ms: u64,
}

impl LocalL1 {
    /// A chain from `genesis` whose transactions are signed by `keys` (referred to by index).
    pub fn new(genesis: &Genesis, keys: Vec<Keypair>) -> Result<Self, LabError> {
        let state = L1State::genesis(genesis)
            .map_err(|e| LabError::Refused(format!("genesis: {e}")))?
            .0;
        Ok(LocalL1 {
            state,
            last_verify: Duration::ZERO,
            last_decoded: 0,
            nonces: vec![0; keys.len()],
            keys,
            block_ms: genesis.params.block_time_ms,
        })
    }

    /// The public key of signer `who`.
    pub fn public(&self, who: usize) -> PublicKey {
        self.keys[who].public()
    }

    /// One block of these actions, each signed by its signer at its next nonce; the included
    /// transactions in order. An action may fail (its receipt says why); the block is still made.
    pub fn try_block(&mut self, actions: Vec<(usize, Action)>) -> Result<Vec<Included>, LabError> {
        self.try_block_with_gas(actions, None)
    }

    /// As [`LocalL1::try_block`], every action with gas limit `gas_limit` if given (else its
    /// intrinsic gas, or the estimate on the parent state with headroom).
    pub fn try_block_with_gas(
        &mut self,
        actions: Vec<(usize, Action)>,
        gas_limit: Option<u64>,
    ) -> Result<Vec<Included>, LabError> {
        let chain_id = self.state.chain_id();
        let base_fee = self.state.head().base_fee_per_gas;
        let block_gas_limit = self.state.params().block_gas_limit;
        let parent = StateView::new(&self.state, vec![]);
        let txs: Vec<SignedTransaction> = actions
            .into_iter()
            .map(|(who, action)| {
                let nonce = self.nonces[who];
                self.nonces[who] += 1;
                let gas_limit = if let Some(limit) = gas_limit {
                    limit
                } else if let Some(limit) = gas::known_limit(&action) {
                    limit.min(block_gas_limit)
                } else {
                    // Estimated on the parent state; an action that only works after an earlier
                    // one of this block gets room for the largest batch decode.
                    let estimate = estimate_gas(&parent, &self.keys[who].public(), &action)
                        .unwrap_or_else(|_| {
                            action.intrinsic_gas()
                                + gas::batch_decode(
                                    MAX_BATCH_RAW_BYTES as u64,
                                    MAX_BATCH_TXS as u64,
                                )
                        });
                    gas::limit_with_headroom(estimate, block_gas_limit)
                };
                Transaction {
                    chain_id,
                    nonce,
                    max_fee_per_gas: 2 * base_fee + 1,
                    priority_fee_per_gas: 1,
                    gas_limit,
                    action,
                }
                .sign(&self.keys[who])
            })
            .collect();
        drop(parent);
        let view = StateView::new(&self.state, vec![]);
        let mut builder = BlockBuilder::new(&view);
        let mut sizes = Vec::with_capacity(txs.len());
        for tx in txs {
            sizes.push(tx.to_bytes().len());
            let verified = tx
                .verify()
                .map_err(|e| LabError::Refused(format!("signature: {e}")))?;
            builder
                .apply(&verified)
                .map_err(|e| LabError::Refused(format!("transaction: {e}")))?;
        }
        self.last_decoded = builder.batches_decoded();
        let timestamp = self.state.head().timestamp_ms + self.block_ms;
        let exec = builder
            .finish(timestamp, self.state.committee()[0])
            .map_err(|e| LabError::Refused(format!("block: {e}")))?;
        let started = Instant::now();
        let checked = verify_block(&view, &exec.block)
            .map_err(|e| LabError::Refused(format!("verification: {e}")))?;
        self.last_verify = started.elapsed();
        drop(view);
        self.state.apply(&checked.diff);
        Ok(checked
            .diff
            .receipts
            .into_iter()
            .zip(sizes)
            .map(|(receipt, bytes)| Included { receipt, bytes })
            .collect())
    }

    /// One block of these actions, each of which must take effect.
    pub fn block(&mut self, actions: Vec<(usize, Action)>) -> Result<Vec<Included>, LabError> {
        self.block_with_gas(actions, None)
    }

    /// As [`LocalL1::block`], with the gas limits of [`LocalL1::try_block_with_gas`].
    pub fn block_with_gas(
        &mut self,
        actions: Vec<(usize, Action)>,
        gas_limit: Option<u64>,
    ) -> Result<Vec<Included>, LabError> {
        let included = self.try_block_with_gas(actions, gas_limit)?;
        if let Some((index, i)) = included
            .iter()
            .enumerate()
            .find(|(_, i)| !i.receipt.success())
        {
            return Err(LabError::Failed {
                index,
                error: i.receipt.failure.map_or("", |f| f.describe()).to_string(),
            });
        }
        Ok(included)
    }
}

/// The proposals of `rollup` whose claim trees have not resolved, with their trees.
pub fn open_trees(l1: &L1State, rollup: u32) -> Vec<OpenTree> {
    let Some(r) = l1.rollup(rollup) else {
        return Vec::new();
    };
    r.open
        .iter()
        .map(|p| OpenTree {
            proposal: *p,
            batch: r.disputes[*p as usize].batch,
            tree: r.trees[*p as usize].clone(),
        })
        .collect()
}

/// A party to a rollup's disputes: an L1 signer, its own derivation of the rollup (honest, or
/// with one fault injected) and what it does with it.
pub struct Player {
    /// Its signer index on the [`LocalL1`].
    pub who: usize,
    /// Its L1 key.
    pub key: PublicKey,
    /// The rollup it follows.
    pub rollup: u32,
    /// Its view of the rollup.
    pub view: Derivation,
    /// Whether it proposes the next output when its view agrees with the live prior.
    pub proposes: bool,
    /// Whether it has gone silent (sends nothing).
    pub silent: bool,
}

impl Player {
    /// A player for `rollup` with these parameters, deriving with `fault` injected from
    /// `(batch, step)` on, if any.
    pub fn new(
        who: usize,
        key: PublicKey,
        rollup: u32,
        params: &RollupParams,
        fault: Option<(Fault, (u64, u64))>,
        proposes: bool,
    ) -> Player {
        let config = params.l2_config(rollup);
        let view = match fault {
            None => Derivation::new(config, params.sequencer),
            Some((f, from)) => Derivation::with_fault(config, params.sequencer, f, from),
        };
        Player {
            who,
            key,
            rollup,
            view,
            proposes,
            silent: false,
        }
    }

    /// Derives the deposits and batches the L1 holds that the view has not derived yet.
    pub fn refresh(&mut self, l1: &L1State) -> Result<(), DeriveError> {
        let Some(r) = l1.rollup(self.rollup) else {
            return Ok(());
        };
        let known = self.view.deposits_known() as usize;
        self.view
            .add_deposits(r.deposits[known..].iter().map(|d| d.entry));
        for b in &r.batches[self.view.batches() as usize..] {
            let blob = l1.blob(&b.data_hash);
            self.view.apply(
                b.deposits_end,
                blob.as_ref().map_or(&[][..], |s| &s.data[..]),
            )?;
        }
        // Trees over settled batches may still be open: their traces stay derivable until then.
        let keep = r.oldest_open_batch().unwrap_or(u64::MAX);
        self.view.settle_to(r.header.settled.min(keep));
        Ok(())
    }

    /// What this player sends in the next block: every dispute move it owes, then, if it
    /// proposes, its output of every derived batch not settled that nobody proposed on its prior.
    pub fn actions(&self, l1: &L1State) -> Vec<Action> {
        let Some(r) = l1.rollup(self.rollup).filter(|_| !self.silent) else {
            return Vec::new();
        };
        let trees = open_trees(l1, self.rollup);
        let mut actions = dispute_actions(self.rollup, &self.view, &trees, &mut Traces::default());
        if !self.proposes {
            return actions;
        }
        for batch in r.header.settled..self.view.batches() {
            let (Some(prior), Some(output)) = (self.view.prior(batch), self.view.output(batch))
            else {
                break;
            };
            if !r.was_proposed(batch, &prior, &output) {
                actions.push(Action::ProposeOutput {
                    rollup: self.rollup,
                    batch,
                    prior,
                    output,
                });
            }
        }
        actions
    }
}
