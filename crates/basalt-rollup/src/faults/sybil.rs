//! A sybil crowd's dispute strategy, for tests, benchmarks and labs: it leaves the honest path of
//! the node untouched (the node plays only [`crate::dispute_actions`]).
//!
//! A [`Sybil`] is one of a crowd of bonded keys that counters every claim of one honest party with
//! a lie of its own, one counter per block, each claim at most once. A crowd of them defends a
//! wrong output (countering the honest party's attacks) and challenges a right one (countering the
//! honest root and every honest answer) at once. A late sybil waits for the last block the claim's
//! clock allows, to squeeze the honest party's time.

use basalt_l1::{Action, Claims, L1State};
use basalt_types::{hash_parts, PublicKey};
use std::collections::HashSet;

/// A sybil counterer: its signer index, whether it waits for the last block of a clock, and the
/// claims it has countered.
pub struct Sybil {
    /// Its signer index on the local L1.
    pub who: usize,
    /// Whether it counters only in the last block a claim's clock allows.
    pub late: bool,
    done: HashSet<(u64, u32)>,
}

impl Sybil {
    /// A sybil signing as `who`.
    pub fn new(who: usize, late: bool) -> Sybil {
        Sybil {
            who,
            late,
            done: HashSet::new(),
        }
    }

    /// Its counter for the next block to `honest`'s claims in the open trees of `rollup`, if it
    /// has one to make: the first honest claim (oldest tree first) it has not countered yet that
    /// is not at the bottom and whose clock allows it.
    pub fn action(&mut self, l1: &L1State, rollup: u32, honest: &PublicKey) -> Option<Action> {
        let r = l1.rollup(rollup)?;
        let height = l1.head().height + 1;
        for p in &r.open {
            let tree = &r.trees[*p as usize];
            for (i, c) in tree.claims().iter().enumerate() {
                let i = i as u32;
                let at_bottom = 63 - c.position.leading_zeros() >= tree.rules.depth;
                if c.claimant != *honest || at_bottom || self.done.contains(&(*p, i)) {
                    continue;
                }
                let used = tree.counter_clock(c, height);
                let in_time = if self.late {
                    used + 1 == tree.rules.max_clock
                } else {
                    used < tree.rules.max_clock
                };
                if !in_time {
                    continue;
                }
                self.done.insert((*p, i));
                let lie = hash_parts(
                    "basalt/sybil/lie",
                    &[
                        &(self.who as u64).to_le_bytes(),
                        &p.to_le_bytes(),
                        &i.to_le_bytes(),
                    ],
                );
                return Some(Action::Counter {
                    rollup,
                    proposal: *p,
                    parent: i,
                    attack: true,
                    value: lie,
                });
            }
        }
        None
    }
}
