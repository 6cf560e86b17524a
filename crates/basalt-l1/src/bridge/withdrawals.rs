//! Withdrawals: paid once each from the escrow, against a Merkle proof into a settled output.

use super::{RollupError, WithdrawalClaim};
use crate::exec::BlockBuilder;
use crate::view::StateRead;
use basalt_l2::{Optimistic, Profile, Withdrawal, Zk};
use basalt_merkle::MerkleProof;
use basalt_types::Hash;

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
        let withdrawal = Withdrawal {
            recipient: claim.recipient,
            amount: claim.amount,
        };
        if h.params.kind.zk().is_some() {
            self.charge(crate::gas::ZK_WITHDRAWAL_GAS)?;
            check_proof::<Zk>(claim, &withdrawal, &settled.output, |h| {
                super::hash_felt(h).ok_or(RollupError::NotAFieldElement)
            })?;
        } else {
            check_proof::<Optimistic>(claim, &withdrawal, &settled.output, |h| Ok(*h))?;
        }
        if self.state().claimed(rollup, claim.index) {
            return Err(RollupError::AlreadyClaimed(claim.index));
        }
        self.pay_from_escrow(h, claim.amount, claim.index)?;
        Ok(())
    }
}

/// Checks a claim's roots against the settled output and its Merkle proof against the roots, in
/// the profile's hashes; `digest` reads an L1 hash as the profile's digest.
fn check_proof<P: Profile>(
    claim: &WithdrawalClaim,
    withdrawal: &Withdrawal,
    settled: &Hash,
    digest: impl Fn(&Hash) -> Result<P::Digest, RollupError>,
) -> Result<(), RollupError> {
    let tree_root = digest(&claim.withdrawals_tree_root)?;
    let withdrawals_root = basalt_l2::withdrawals_root::<P>(tree_root, claim.withdrawal_count);
    let output = basalt_l2::output::<P>(digest(&claim.state_root)?, withdrawals_root);
    if digest(settled)? != output {
        return Err(RollupError::OutputMismatch(claim.batch));
    }
    if claim.index >= claim.withdrawal_count || claim.index > u32::MAX as u64 {
        return Err(RollupError::WithdrawalOutOfRange {
            index: claim.index,
            count: claim.withdrawal_count,
        });
    }
    let per_level = <P::Hasher as basalt_merkle::TreeHasher>::ARITY as usize - 1;
    if claim.proof.len() != P::TREE_DEPTH as usize * per_level {
        return Err(RollupError::BadWithdrawalProof);
    }
    let proof = MerkleProof {
        index: claim.index as u32,
        siblings: claim
            .proof
            .iter()
            .map(&digest)
            .collect::<Result<Vec<_>, _>>()?,
    };
    if !proof.verify::<P::Hasher>(&tree_root, withdrawal.leaf::<P>()) {
        return Err(RollupError::BadWithdrawalProof);
    }
    Ok(())
}
