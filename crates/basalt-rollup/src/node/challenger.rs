//! The challenger actor: every dispute move the node owes, in every open claim tree whose prior
//! it agrees with, played with its derived trace as the truth ([`crate::dispute_actions`]). All
//! go at once, at consecutive nonces, so the node answers a crowd of claims in a block or two,
//! not one per finality round; the outbox skips moves in flight and moves the L1 refused.

use super::*;
use crate::game::{dispute_actions, Traces};

/// Most dispute moves planned in one round.
const MOVES_PER_ROUND: usize = 512;

/// The challenger.
pub(super) struct Challenger<S> {
    shared: Arc<Shared>,
    client: L1Client<S>,
    traces: Traces,
}

impl<S: L1Source> Challenger<S> {
    /// A challenger playing with the node's derivation.
    pub(super) fn new(shared: Arc<Shared>, client: L1Client<S>) -> Self {
        Challenger {
            shared,
            client,
            traces: Traces::default(),
        }
    }

    /// The open claim trees of the rollup, read from the L1 in bounded pages.
    async fn open_trees(&self) -> Result<Vec<OpenTree>, NodeError> {
        let ids = lock(&self.shared.view).unresolved.clone();
        let mut trees = Vec::with_capacity(ids.len());
        for proposal in ids {
            let (d, tree) = self.client.tree(self.shared.id, proposal).await?;
            trees.push(OpenTree {
                proposal,
                batch: d.batch,
                tree: Arc::new(tree),
            });
        }
        Ok(trees)
    }
}

impl<S: L1Source> Planner for Challenger<S> {
    const ROLE: &'static str = "challenger";
    // A counter to an honest claim after the freeze would otherwise win its bond by default.
    const WHEN_FROZEN: bool = true;

    async fn plan(&mut self) -> Result<Vec<(Action, Posting)>, NodeError> {
        if lock(&self.shared.view).unresolved.is_empty() {
            return Ok(Vec::new());
        }
        let trees = self.open_trees().await?;
        let view = lock(&self.shared.view);
        Ok(
            dispute_actions(self.shared.id, &view.derivation, &trees, &mut self.traces)
                .into_iter()
                .take(MOVES_PER_ROUND)
                .map(|action| {
                    let what = describe(&action, &trees);
                    (action, what)
                })
                .collect(),
        )
    }
}

/// The batch a dispute action concerns and what it is, for logs.
fn describe(action: &Action, trees: &[OpenTree]) -> Posting {
    let batch_of = |id: &u64| {
        trees
            .iter()
            .find(|t| t.proposal == *id)
            .map_or(0, |t| t.batch)
    };
    let (batch, what) = match action {
        Action::Counter {
            proposal, attack, ..
        } => (
            batch_of(proposal),
            if *attack { "attack" } else { "defence" },
        ),
        Action::Step { proposal, .. } => (batch_of(proposal), "one-step proof"),
        _ => (0, "other"),
    };
    Posting::Dispute { batch, what }
}
