//! The dispute actions a block runs: joining, moves, one-step proofs re-executed through the shared
//! L2 state transition function, and the clocks and decisions settlement applies.

use super::{Choice, Dispute, DisputeError, DisputeResult, Side, Slash};
use crate::bridge::{RollupError, RollupHeader, ViewDeposits};
use crate::exec::{balance_after, BlockBuilder, TxError};
use crate::state::Account;
use crate::view::StateRead;
use basalt_l2::{Optimistic, StepWitness};
use basalt_types::{Amount, Decode, Hash, PublicKey};

impl BlockBuilder<'_> {
    /// Joins the dispute over the live output of `batch` on `side`, opening it on the first
    /// challenge. Returns the payouts of any game decided at once.
    pub(crate) fn join_dispute(
        &mut self,
        side: Side,
        rollup: u32,
        signer: PublicKey,
        sender: &mut Account,
        batch: u64,
        output: Hash,
    ) -> Result<Vec<(PublicKey, Amount)>, RollupError> {
        let mut h = self.rollup(rollup)?;
        let live = self.state().output(rollup, batch);
        let (proposal, record) = match live {
            Some((id, r)) if r.output == output => (id, r),
            _ => {
                return Err(RollupError::NotLive {
                    batch,
                    live: live.map(|(_, r)| r.output),
                    named: output,
                })
            }
        };
        if batch < h.settled {
            return Err(RollupError::AlreadySettled(batch));
        }
        let params = h.params.clone();
        let challenge_until = record.settles_at(params.challenge_window);
        let existing = self
            .state()
            .dispute_over(rollup, proposal)
            .map(|d| crate::gas::dispute_join(d, side));
        let mut dispute = match existing {
            Some(gas) => {
                self.charge(gas)?;
                self.state()
                    .dispute_over(rollup, proposal)
                    .cloned()
                    .expect("found above")
            }
            None if side == Side::Defender => return Err(RollupError::NotDisputed(batch)),
            None if self.height >= challenge_until => {
                return Err(RollupError::JoinClosed {
                    batch,
                    until: challenge_until,
                })
            }
            None => {
                // Every cheap refusal comes before the batch is decoded to count its steps.
                if record.proposer == signer {
                    return Err(DisputeError::AlreadyParty(signer).into());
                }
                balance_after(sender, params.dispute_bond)?;
                let (posted, txs) = self.batch_txs(rollup, batch)?;
                let steps = txs.map_or(posted.tx_count, |t| t.len() as u64);
                let d = Dispute::open(
                    h.dispute_count,
                    proposal,
                    &record,
                    steps,
                    self.height,
                    params.challenge_window,
                    params.dispute_clock,
                );
                h.dispute_count += 1;
                self.charge(crate::gas::dispute_join(&d, side))?;
                d
            }
        };
        let until = match side {
            Side::Challenger => dispute.challenge_until,
            Side::Defender => dispute.defend_until,
        };
        if dispute.result.is_some() || self.height >= until {
            return Err(RollupError::JoinClosed { batch, until });
        }
        let bond = params.dispute_bond;
        let balance = balance_after(sender, bond)?;
        h.bonds = h.bonds.checked_add(bond).ok_or(RollupError::Overflow)?;
        let slashes = dispute.join(side, signer, bond, self.height)?;
        sender.balance = balance;
        let payouts = self.slash(&mut h, &slashes);
        let d = self.write_header(h);
        d.disputes.insert(dispute.id, dispute);
        Ok(payouts)
    }

    /// Takes slashed bonds out of the rollup's holdings: each winner's share is returned for
    /// payment, the rest is burned.
    pub(crate) fn slash(
        &mut self,
        h: &mut RollupHeader,
        slashes: &[Slash],
    ) -> Vec<(PublicKey, Amount)> {
        slashes
            .iter()
            .map(|s| {
                let reward = h.params.slash_reward(s.bond);
                h.bonds -= s.bond;
                self.burned += s.bond - reward;
                (s.winner, reward)
            })
            .collect()
    }

    /// The open dispute `dispute` of `rollup`, if `signer` may move in its game `game`.
    pub(crate) fn dispute_for_move(
        &mut self,
        rollup: u32,
        signer: &PublicKey,
        dispute: u64,
        game: u32,
    ) -> Result<(RollupHeader, Dispute), RollupError> {
        let h = self.rollup(rollup)?;
        let gas = self
            .state()
            .dispute(rollup, dispute)
            .map(crate::gas::dispute_touch)
            .ok_or(DisputeError::UnknownDispute(dispute))?;
        self.charge(gas)?;
        let d = self
            .state()
            .dispute(rollup, dispute)
            .cloned()
            .expect("found above");
        d.mover(game, signer)?;
        Ok((h, d))
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn bisect(
        &mut self,
        rollup: u32,
        signer: PublicKey,
        dispute: u64,
        game: u32,
        choice: Choice,
        mid: Hash,
        end: Hash,
    ) -> Result<(), RollupError> {
        let (h, mut d) = self.dispute_for_move(rollup, &signer, dispute, game)?;
        d.bisect(game, choice, mid, end, self.height)?;
        self.rollup_diff(h).disputes.insert(d.id, d);
        Ok(())
    }

    /// Re-executes the disputed step through the shared L2 state transition function against
    /// the witness, and ends the game.
    pub(crate) fn one_step(
        &mut self,
        rollup: u32,
        signer: PublicKey,
        dispute: u64,
        game: u32,
        choice: Choice,
        witness: &[u8],
    ) -> Result<Vec<(PublicKey, Amount)>, RollupError> {
        let (mut h, mut d) = self.dispute_for_move(rollup, &signer, dispute, game)?;
        let segment = d.one_step_segment(game, choice)?;
        let witness = StepWitness::<Optimistic>::from_bytes(witness)
            .map_err(RollupError::MalformedWitness)?;
        // A witness that does not open the agreed claim is refused before the batch is decoded.
        witness.check_prior(&segment.start)?;
        let (batch, txs) = self.batch_txs(rollup, d.batch)?;
        let Some(txs) = txs else {
            return Ok(Vec::new()); // pricing only: the step itself is in the base price
        };
        let tx = txs
            .get(segment.a as usize)
            .ok_or(RollupError::NoSuchStep(segment.a))?;
        let state = self.state();
        let deposits = ViewDeposits {
            state: &state,
            rollup,
            end: batch.deposits_end,
        };
        let config = h.params.l2_config(rollup);
        let (_, result) =
            basalt_l2::execute_step(&config, &segment.start, &witness, &deposits, tx)?;
        let slash = d.one_step(game, choice, result, self.height)?;
        let payouts = self.slash(&mut h, &[slash]);
        let diff = self.write_header(h);
        diff.disputes.insert(d.id, d);
        Ok(payouts)
    }

    pub(crate) fn advance_dispute(&mut self, id: u32, dispute: u64) -> Result<(), TxError> {
        let due = self
            .state()
            .dispute(id, dispute)
            .expect("open disputes exist")
            .due(self.height);
        if !due {
            return Ok(()); // nothing to do, or dropped earlier in this block: no copy made
        }
        let mut h = self.rollup(id).expect("listed rollups exist");
        let mut d = self
            .state()
            .dispute(id, dispute)
            .cloned()
            .expect("open disputes exist");
        let slashes = d.timeouts(self.height);
        let decision = d.decide(self.height);
        if slashes.is_empty() && decision.is_none() {
            return Ok(());
        }
        let mut payouts = self.slash(&mut h, &slashes);
        if let Some(result) = decision {
            d.result = Some(result);
            // Bonds still in are returned; the proposer's stays locked until its output settles.
            let refunded = match result {
                DisputeResult::Removed { .. } => &d.challengers[..],
                _ => &d.defenders[1..],
            };
            for p in refunded.iter().filter(|p| p.active()) {
                h.bonds -= p.bond;
                payouts.push((p.key, p.bond));
            }
        }
        let batch = d.batch;
        let diff = self.write_header(h);
        diff.disputes.insert(d.id, d);
        for (to, amount) in payouts {
            self.pay(to, amount)?;
        }
        if matches!(decision, Some(DisputeResult::Removed { .. })) {
            self.remove_outputs(id, batch)?;
        }
        Ok(())
    }
}
