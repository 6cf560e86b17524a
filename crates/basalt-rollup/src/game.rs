//! Playing the dispute game.
//!
//! An honest party and a dishonest one play with the same code: each has a view of a batch's trace
//! (the output after each transaction), and [`dispute_actions`] answers, with that view as the
//! truth, every claim of every open tree that the honest strategy must answer. (A dishonest view,
//! with the feature `faults`, is the true one with one fault injected: see `crate::faults`.)

use crate::derive::Derivation;
use basalt_l1::{honest_moves, Action, ClaimTree, Claims, HonestMove};
use basalt_types::{Encode, Hash};
use std::collections::HashMap;
use std::sync::Arc;

/// A proposal whose claim tree has not resolved, as the L1 holds it.
#[derive(Debug, Clone)]
pub struct OpenTree {
    /// The proposal id.
    pub proposal: u64,
    /// The batch it follows.
    pub batch: u64,
    /// Its tree (shared with the state it was read from).
    pub tree: Arc<ClaimTree>,
}

/// The state at trace position `t` of a batch whose trace (positions `0..=steps`) is `trace`:
/// positions past the batch's transactions repeat its final state.
pub fn trace_at(trace: &[Hash], t: u64) -> Hash {
    trace[(t as usize).min(trace.len() - 1)]
}

/// A view's traces of the batches under open trees, kept between rounds: a trace never changes,
/// and building one re-executes its batch (a state root and a signature check per step), which a
/// node answering many trees every L1 poll must not redo each time.
#[derive(Default)]
pub struct Traces(HashMap<u64, Arc<[Hash]>>);

impl Traces {
    /// The view's trace of `batch`, built once; `None` while the batch is not derived.
    fn get(&mut self, view: &Derivation, batch: u64) -> Option<Arc<[Hash]>> {
        if let Some(t) = self.0.get(&batch) {
            return Some(t.clone());
        }
        let trace: Arc<[Hash]> = view.trace(batch)?.into();
        self.0.insert(batch, trace.clone());
        Some(trace)
    }
}

/// Every dispute move a party whose view of the rollup is `view` owes now, in every open tree
/// whose prior its view agrees with: the honest strategy of [`basalt_l1::honest_moves`], played
/// with the view's trace as the truth. An honest party's moves win; a faulty view's moves are
/// real moves that lose where its fault departs from the L1's re-execution. `traces` keeps the
/// traces built for the next call (those of batches no tree is open over are dropped).
pub fn dispute_actions(
    rollup: u32,
    view: &Derivation,
    trees: &[OpenTree],
    traces: &mut Traces,
) -> Vec<Action> {
    traces.0.retain(|b, _| trees.iter().any(|t| t.batch == *b));
    let mut actions = Vec::new();
    for t in trees {
        if view.prior(t.batch) != Some(t.tree.rules.prior) {
            continue; // built on an output this view disputes: it never settles
        }
        let claims = t.tree.claims();
        if claims.len() == 1 && view.output(t.batch) == Some(claims[0].value) {
            continue; // an undisputed root this view agrees with: nothing is owed
        }
        let moves = {
            let Some(trace) = traces.get(view, t.batch) else {
                continue; // not derived yet
            };
            if trace.len() as u64 != t.tree.rules.steps + 1 {
                continue; // a view of another batch
            }
            honest_moves(&t.tree, |i| trace_at(&trace, i))
        };
        for m in moves {
            match m {
                HonestMove::Counter {
                    parent,
                    attack,
                    value,
                } => actions.push(Action::Counter {
                    rollup,
                    proposal: t.proposal,
                    parent,
                    attack,
                    value,
                }),
                HonestMove::Step { leaf, attack } => {
                    let Ok(check) = t.tree.step_check(leaf, attack) else {
                        continue;
                    };
                    let witness = if check.step > t.tree.rules.steps {
                        Vec::new() // past the batch's transactions: nothing to re-execute
                    } else {
                        match view.witness(t.batch, check.step - 1) {
                            Some(w) => w.to_bytes(),
                            None => continue,
                        }
                    };
                    actions.push(Action::Step {
                        rollup,
                        proposal: t.proposal,
                        leaf,
                        attack,
                        witness,
                    });
                }
            }
        }
    }
    actions
}
