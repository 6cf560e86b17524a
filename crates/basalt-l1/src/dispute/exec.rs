//! The dispute moves a block runs, and the resolution settlement applies: counters, one-step
//! proofs re-executed through the shared L2 state transition function, and bottom-up resolution
//! paying every bond of a tree once its clocks have run out.

use super::tree::Claims;
use super::{Dispute, DisputeResult};
use crate::bridge::{RollupError, RollupHeader, ViewDeposits};
use crate::exec::{balance_after, BlockBuilder, TxError};
use crate::state::Account;
use crate::view::StateRead;
use basalt_l2::{Optimistic, StepWitness};
use basalt_types::{Amount, Decode, Hash, PublicKey};
use std::collections::BTreeMap;

impl BlockBuilder<'_> {
    /// The unresolved dispute of `proposal`, with its rollup's header.
    fn open_dispute(
        &self,
        rollup: u32,
        proposal: u64,
    ) -> Result<(RollupHeader, Dispute), RollupError> {
        let h = self.rollup(rollup)?;
        let d = self
            .state()
            .dispute(rollup, proposal)
            .ok_or(RollupError::UnknownProposal(proposal))?;
        if d.result.is_some() {
            return Err(RollupError::Resolved(proposal));
        }
        Ok((h, d))
    }

    /// Counters claim `parent` of `proposal`'s tree with `value`, locking the dispute bond.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn counter_claim(
        &mut self,
        rollup: u32,
        signer: PublicKey,
        sender: &mut Account,
        proposal: u64,
        parent: u32,
        attack: bool,
        value: Hash,
    ) -> Result<(), RollupError> {
        let (mut h, mut d) = self.open_dispute(rollup, proposal)?;
        let bond = h.params.dispute_bond;
        let balance = balance_after(sender, bond)?;
        let (claim, deadline) = {
            let state = self.state();
            let tree = state
                .tree(rollup, proposal)
                .expect("every proposal has a tree");
            let claim = tree.check_counter(parent, attack, value, signer, bond, self.height)?;
            (
                claim,
                tree.deadline(&claim).expect("a counter can be countered"),
            )
        };
        h.bonds = h.bonds.checked_add(bond).ok_or(RollupError::Overflow)?;
        h.claim_total += 1;
        sender.balance = balance;
        d.record(&claim, deadline);
        let diff = self.write_header(h);
        diff.disputes.insert(proposal, d);
        diff.tree_claims.entry(proposal).or_default().push(claim);
        Ok(())
    }

    /// Counters bottom claim `leaf` of `proposal`'s tree with a one-step proof: re-executes the
    /// step through the shared L2 state transition function against the witness (a step past the
    /// batch's transactions changes nothing) and records it if it contradicts the leaf.
    pub(crate) fn step_claim(
        &mut self,
        rollup: u32,
        signer: PublicKey,
        proposal: u64,
        leaf: u32,
        attack: bool,
        witness: &[u8],
    ) -> Result<(), RollupError> {
        let (mut h, mut d) = self.open_dispute(rollup, proposal)?;
        // Every cheap refusal (a leaf that is not one, stepped already, out of time) comes before
        // the witness is decoded and the batch with it.
        let check = {
            let state = self.state();
            let tree = state
                .tree(rollup, proposal)
                .expect("every proposal has a tree");
            tree.step_in_time(leaf, attack, self.height)?
        };
        let result = if check.step > d.rules.steps {
            check.pre // past the batch's transactions the trace repeats its final state
        } else {
            let witness = StepWitness::<Optimistic>::from_bytes(witness)
                .map_err(RollupError::MalformedWitness)?;
            witness.check_prior(&check.pre)?;
            let (batch, _, txs) = self.batch_txs(rollup, d.batch)?;
            let Some(txs) = txs else {
                return Ok(()); // pricing only: the step itself is in the base price
            };
            let Some(tx) = txs.get(check.step as usize - 1) else {
                // The batch decoded to fewer transactions than the tree was opened with: never,
                // as both count the same decode; refused rather than trusted.
                return Err(RollupError::Tree(super::tree::TreeError::NoTraceAncestor(
                    leaf, check.step,
                )));
            };
            let state = self.state();
            let deposits = ViewDeposits {
                state: &state,
                rollup,
                end: batch.deposits_end,
            };
            let config = h.params.l2_config(rollup);
            basalt_l2::execute_step(&config, &check.pre, &witness, &deposits, tx)?.1
        };
        let claim = {
            let state = self.state();
            let tree = state
                .tree(rollup, proposal)
                .expect("every proposal has a tree");
            tree.check_step(leaf, attack, result, signer, self.height)?
        };
        h.claim_total += 1;
        d.record(&claim, 0);
        let diff = self.write_header(h);
        diff.disputes.insert(proposal, d);
        diff.tree_claims.entry(proposal).or_default().push(claim);
        Ok(())
    }

    /// Resolves `proposal`'s tree, whose clocks have all run out: every bond goes to the first
    /// standing counter of its claim (its share, the rest burned) or back to its claimant.
    pub(crate) fn resolve_dispute(&mut self, rollup: u32, proposal: u64) -> Result<(), TxError> {
        let mut h = self.rollup(rollup).expect("listed rollups exist");
        let mut d = self
            .state()
            .dispute(rollup, proposal)
            .expect("unresolved disputes exist");
        let resolution = {
            let state = self.state();
            let tree = state
                .tree(rollup, proposal)
                .expect("every proposal has a tree");
            tree.resolve()
        };
        let mut payouts: BTreeMap<PublicKey, Amount> = BTreeMap::new();
        for (i, (to, bond)) in resolution.payouts.iter().enumerate() {
            h.bonds -= bond;
            let paid = if resolution.countered[i] {
                let reward = h.params.slash_reward(*bond);
                self.burned += bond - reward;
                reward
            } else {
                *bond
            };
            *payouts.entry(*to).or_default() += paid;
        }
        d.result = Some(if resolution.upheld {
            DisputeResult::Upheld {
                height: self.height,
            }
        } else {
            DisputeResult::Removed {
                height: self.height,
            }
        });
        self.write_header(h).disputes.insert(proposal, d);
        for (to, amount) in payouts {
            self.pay(to, amount)?;
        }
        Ok(())
    }
}
