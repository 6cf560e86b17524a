//! Output proposals: a bonded claim of the rollup's state after a batch.

use super::{fold, ChainUpdate, OutputRecord, RollupError, OUTPUTS_DOMAIN};
use crate::exec::{balance_after, BlockBuilder};
use crate::state::Account;
use crate::view::StateRead;
use basalt_types::Encode;
use basalt_types::{Hash, PublicKey};

impl BlockBuilder<'_> {
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
        if batch != h.output_count {
            return Err(RollupError::WrongBatch {
                expected: h.output_count,
                got: batch,
            });
        }
        let posted = self
            .state()
            .batch(rollup, batch)
            .ok_or(RollupError::BatchNotPosted(batch))?;
        let expected = match batch.checked_sub(1) {
            None => h.genesis_output,
            Some(previous) => {
                self.state()
                    .output(rollup, previous)
                    .expect("outputs below output_count exist")
                    .1
                    .output
            }
        };
        if prior != expected {
            return Err(RollupError::WrongPrior {
                expected,
                got: prior,
            });
        }
        if self.state().proven_wrong(rollup, batch, &prior, &output) {
            return Err(RollupError::ProvenWrong { batch, output });
        }
        // Every dispute over this proposal must be able to read the batch's data to its end.
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
        let d = self.rollup_diff(h);
        let id = d.header.proposal_count;
        d.header.bonds = bonds;
        d.header.proposal_count += 1;
        d.header.proposals_digest = fold(
            d.header.proposals_digest,
            OUTPUTS_DOMAIN,
            &record.to_bytes(),
        );
        d.proposals.push(record);
        match &mut d.chain {
            Some(update) => update.append.push(id),
            None => {
                d.chain = Some(ChainUpdate {
                    keep: d.header.output_count,
                    append: vec![id],
                })
            }
        }
        d.header.output_count += 1;
        Ok(())
    }
}
