//! Withdrawals: paid once each from the escrow, against a Merkle proof into a settled output.

use super::{fold, RollupError, WithdrawalClaim, CLAIMS_DOMAIN};
use crate::exec::BlockBuilder;
use crate::view::StateRead;
use basalt_l2::{Optimistic, Withdrawal};
use basalt_merkle::{Blake3Hasher, MerkleProof, DEFAULT_DEPTH};

impl BlockBuilder<'_> {
    pub(crate) fn finalize_withdrawal(
        &mut self,
        claim: &WithdrawalClaim,
    ) -> Result<(), RollupError> {
        let rollup = claim.rollup;
        let h = self.rollup(rollup)?;
        if claim.batch >= h.settled {
            return Err(RollupError::NotSettled(claim.batch));
        }
        let settled = self
            .state()
            .output(rollup, claim.batch)
            .expect("settled outputs exist")
            .1;
        let withdrawals_root = basalt_l2::withdrawals_root::<Optimistic>(
            claim.withdrawals_tree_root,
            claim.withdrawal_count,
        );
        if basalt_l2::output::<Optimistic>(claim.state_root, withdrawals_root) != settled.output {
            return Err(RollupError::OutputMismatch(claim.batch));
        }
        if claim.index >= claim.withdrawal_count || claim.index > u32::MAX as u64 {
            return Err(RollupError::WithdrawalOutOfRange {
                index: claim.index,
                count: claim.withdrawal_count,
            });
        }
        let proof = MerkleProof {
            index: claim.index as u32,
            siblings: claim.proof.clone(),
        };
        let withdrawal = Withdrawal {
            recipient: claim.recipient,
            amount: claim.amount,
        };
        if claim.proof.len() != DEFAULT_DEPTH as usize
            || !proof.verify::<Blake3Hasher>(
                &claim.withdrawals_tree_root,
                withdrawal.leaf::<Optimistic>(),
            )
        {
            return Err(RollupError::BadWithdrawalProof);
        }
        if self.state().claimed(rollup, claim.index) {
            return Err(RollupError::AlreadyClaimed(claim.index));
        }
        let amount = claim.amount;
        let escrow = h
            .escrow
            .checked_sub(amount)
            .ok_or(RollupError::EscrowShort {
                escrow: h.escrow,
                amount,
            })?;
        let d = self.rollup_diff(h);
        d.header.escrow = escrow;
        d.header.claim_count += 1;
        d.header.claims_digest = fold(
            d.header.claims_digest,
            CLAIMS_DOMAIN,
            &claim.index.to_le_bytes(),
        );
        d.claims.push(claim.index);
        Ok(())
    }
}
