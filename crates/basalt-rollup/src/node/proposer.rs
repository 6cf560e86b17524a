//! The proposer actor: proposes, with the bond, the derived output of every unsettled batch
//! that has no proposal of it on the derived prior (a verifier leaves the sequencer a few blocks
//! to propose first). Competing proposals do not stop it: each
//! has its own tree. All that are due go at once, in batch order (a proposal's prior must be
//! proposed first, and the outbox sends in order).

use super::*;

/// Most proposals planned in one round.
const MAX_PROPOSALS_PER_ROUND: usize = 64;
/// L1 blocks a verifier leaves the sequencer, after a batch is posted, to propose its output
/// first: a right output proposed twice costs the second proposer a failed transaction.
pub(super) const VERIFIER_GRACE_BLOCKS: u64 = 5;

/// The proposer.
pub(super) struct Proposer {
    shared: Arc<Shared>,
}

impl Proposer {
    /// A proposer of the node's derived outputs.
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        Proposer { shared }
    }
}

impl Planner for Proposer {
    const ROLE: &'static str = "proposer";

    /// Every derived output not proposed yet on its derived prior (the outbox skips those
    /// already in flight).
    async fn plan(&mut self) -> Result<Vec<(Action, Posting)>, NodeError> {
        let view = lock(&self.shared.view);
        let d = &view.derivation;
        let posted = d.batches().min(view.rollup.batches);
        let grace = match self.shared.role {
            Role::Sequencer => 0,
            Role::Verifier => VERIFIER_GRACE_BLOCKS,
        };
        let height = view.rollup.height;
        Ok((view.rollup.settled..posted)
            .take_while(|&batch| {
                let at = view.batch_heights.get(batch as usize).copied();
                at.is_some_and(|at| at.saturating_add(grace) <= height)
            })
            .filter_map(|batch| {
                let (prior, output) = (d.prior(batch)?, d.output(batch)?);
                let proposed = view
                    .outputs
                    .iter()
                    .any(|o| (o.info.batch, o.info.prior, o.info.output) == (batch, prior, output));
                (!proposed).then_some((
                    Action::ProposeOutput {
                        rollup: self.shared.id,
                        batch,
                        prior,
                        output,
                    },
                    Posting::Output { batch },
                ))
            })
            .take(MAX_PROPOSALS_PER_ROUND)
            .collect())
    }
}
