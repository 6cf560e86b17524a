//! Output proposals: a bonded claim of the rollup's state after a batch, each the root of its own
//! claim tree. Any number may compete for a batch; settlement takes the first upheld one.

use super::{fold, OutputRecord, RollupError, OUTPUTS_DOMAIN};
use crate::dispute::tree::{ClaimTree, Rules};
use crate::dispute::Dispute;
use crate::exec::{balance_after, BlockBuilder};
use crate::state::Account;
use crate::view::StateRead;
use basalt_types::Encode;
use basalt_types::{Hash, PublicKey};

impl BlockBuilder<'_> {
    /// Proposes `output` after `batch` on `prior`, opening its claim tree.
    pub(crate) fn propose_output(
        &mut self,
        rollup: u32,
        signer: PublicKey,
        sender: &mut Account,
        batch: u64,
        prior: Hash,
        output: Hash,
    ) -> Result<(), RollupError> {
        let h = self.rollup(rollup)?;
        if h.params.kind.zk().is_some() {
            return Err(RollupError::NotOptimistic);
        }
        self.refuse_frozen(&h)?;
        if batch < h.settled {
            return Err(RollupError::AlreadySettled(batch));
        }
        let posted = self
            .state()
            .batch(rollup, batch)
            .ok_or(RollupError::BatchNotPosted(batch))?;
        let builds_on_proposal = match batch.checked_sub(1) {
            None => prior == h.genesis_output,
            Some(previous) => self.state().output_proposed(rollup, previous, &prior),
        };
        if !builds_on_proposal {
            return Err(RollupError::WrongPrior { batch, got: prior });
        }
        if self.state().was_proposed(rollup, batch, &prior, &output) {
            return Err(RollupError::AlreadyProposed { batch, output });
        }
        // Every move in the tree must be able to read the batch's data until it resolves.
        let expires = posted
            .height
            .saturating_add(self.params.blob_retention_blocks);
        let horizon = self.height.saturating_add(h.params.dispute_horizon());
        if expires <= horizon {
            return Err(RollupError::TooLate {
                batch,
                expires,
                horizon,
            });
        }
        let bond = h.params.proposer_bond;
        balance_after(sender, bond)?;
        // Every cheap refusal comes before the batch is decoded to count its steps.
        let (_, steps, _) = self.batch_txs(rollup, batch)?;
        let balance = balance_after(sender, bond)?;
        let bonds = h.bonds.checked_add(bond).ok_or(RollupError::Overflow)?;
        sender.balance = balance;
        let record = OutputRecord {
            batch,
            prior,
            output,
            proposer: signer,
            bond,
            height: self.height,
        };
        let rules = Rules::new(
            steps,
            prior,
            h.params.challenge_window,
            h.params.clock_extension,
        );
        let root = ClaimTree::root(output, signer, bond, self.height);
        let d = self.rollup_diff(h);
        let id = d.header.proposal_count;
        d.header.bonds = bonds;
        d.header.proposal_count += 1;
        d.header.claim_total += 1;
        d.header.proposals_digest = fold(
            d.header.proposals_digest,
            OUTPUTS_DOMAIN,
            &record.to_bytes(),
        );
        d.proposals.push(record);
        d.disputes
            .insert(id, Dispute::open(id, batch, rules, &root));
        d.tree_claims.insert(id, vec![root]);
        Ok(())
    }
}
