//! The claim tree: a dispute game over one proposed output that no number of adversaries can win
//! or stall, after the OP Stack's fault dispute game. Not yet played by the L1 (issue 13 wires it
//! in place of the pairwise games of [`super::Dispute`]); this module is the pure game.
//!
//! The trace of a batch of `steps` transactions is padded to `2^D` positions (`D` the least depth
//! with `2^D >= steps`; positions past `steps` repeat the final state). Trace position 0 is the
//! agreed prior output; position `t` is the state after the first `t` transactions. A claim sits at
//! a node of a binary tree of depth `D` and asserts the state at its node's trace position: the
//! root asserts the proposed output at `2^D`; a node at depth `d` and index `k` asserts position
//! `(k + 1) * 2^(D - d)`. Claims at even depths are the output's side, at odd depths the other.
//!
//! Anyone bonded may counter any claim that is not at the bottom: an *attack* puts a claim at its
//! left child (the disagreement is in the left half of its span), a *defence* at the left child of
//! its right neighbour (the claim's state is right, the disagreement lies after it; the root cannot
//! be defended). A claim at the bottom is countered by a one-step proof, which re-executes one
//! transition from states the tree already holds. At the end, claims resolve bottom-up: a claim is
//! countered when a one-step proof countered it or when at least one of its counters stands; its
//! bond goes to whoever countered it (the first standing counter), or back to its claimant. The
//! output is upheld exactly when the root stands.
//!
//! **Clocks.** Each side has `max_clock` blocks along every path of the tree: a counter to claim
//! `C` is taken from the clock of `C`'s opponents, which holds what they used on the path so far
//! plus the blocks since `C` was posted. No counter can be made on a clock that has run out; a
//! counter made with less than `extension` left sets its side's clock back so that it has
//! `extension` blocks to answer the next counter. The tree resolves once no claim can be countered.
//!
//! **Bound.** Along any path (at most `D` claims below the root) each side uses at most `max_clock`
//! blocks, and each of its moves may add at most `extension` by the clock rule, so the tree
//! resolves at most `2 * max_clock + D * extension` blocks after the root was posted, whatever the
//! number of claims or claimants ([`ClaimTree::bound`]).
//!
//! **Why one honest party wins.** An honest claim is the true root, or exactly the honest answer
//! to a claim the honest party must answer (whoever posted it). The honest party answers every
//! claim of the other side that counters an honest claim (and the root, if the root is wrong): a
//! wrong state by attack, a true one by defence, always with the true state, and a bottom claim by
//! the one-step proof that shows it inconsistent. Along such a path every boundary of a span is
//! the prior output or an honest claim, so each one-step proof starts from a true state and
//! succeeds; a claim with a true state posted elsewhere may sit on a wrong boundary and is left
//! alone. So every honest claim stands, and the root resolves as the truth says. (The property
//! test in `tree_tests.rs` plays this strategy against random adversaries.)
//! Each honest move answers one bonded claim of the adversary, which pays for it at resolution:
//! its moves and bonds grow with the adversaries' bonds, and its delay does not grow at all.

use basalt_types::{Amount, Hash, PublicKey};

/// Deepest tree: a batch holds at most 2^16 transactions.
pub const MAX_TREE_DEPTH: u32 = 16;

/// A claim in the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The claim it counters; `None` for the root.
    pub parent: Option<u32>,
    /// Its node, as a generalized index: depth `d` and index `k` is `2^d + k`.
    pub position: u64,
    /// The state it asserts at its node's trace position.
    pub value: Hash,
    /// Who posted it and gets its bond back if it stands.
    pub claimant: PublicKey,
    /// Its bond.
    pub bond: Amount,
    /// The block it was posted in.
    pub created: u64,
    /// Blocks its side had used on its path when it was posted, after any extension.
    pub clock: u64,
    /// Who countered it with a one-step proof.
    pub stepped_by: Option<PublicKey>,
}

/// What a one-step proof against a bottom claim re-executes and compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepCheck {
    /// The trace position reached by the step: it executes the transition `step - 1 -> step`.
    pub step: u64,
    /// The state before the step (the prior output when `step` is 1).
    pub pre: Hash,
    /// The state the tree holds after it.
    pub post: Hash,
    /// Whether the claim holding `post` is on the countered claim's side.
    pub post_agrees: bool,
}

/// Why a move is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// No claim has this index.
    #[error("no claim {0}")]
    UnknownClaim(u32),
    /// A bottom claim is countered by a one-step proof, not by a claim.
    #[error("claim {0} is at the bottom of the tree: send a one-step proof")]
    AtBottom(u32),
    /// A one-step proof counters only a bottom claim.
    #[error("claim {0} is not at the bottom of the tree: counter it with a claim")]
    NotAtBottom(u32),
    /// The root can only be attacked.
    #[error("the root claim can only be attacked")]
    DefendRoot,
    /// The countering side's clock on this claim has run out.
    #[error("the clock to counter claim {0} has run out")]
    ClockRanOut(u32),
    /// The same claim is already there.
    #[error("the same claim already counters claim {0}")]
    Duplicate(u32),
    /// A one-step proof already countered the claim.
    #[error("claim {0} was already countered by a one-step proof")]
    AlreadyStepped(u32),
    /// The step reproduces what the countered claim's side asserts.
    #[error("the step agrees with claim {0}: it does not counter it")]
    ValidStep(u32),
    /// The tree does not hold the state a step needs.
    #[error("no claim on the path of claim {0} holds trace position {1}")]
    NoTraceAncestor(u32, u64),
}

/// How a resolved tree ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// Whether the root stands: the output is upheld.
    pub upheld: bool,
    /// Whether each claim, by index, was countered.
    pub countered: Vec<bool>,
    /// Every bond, to whom it goes, in claim order.
    pub payouts: Vec<(PublicKey, Amount)>,
}

/// The claim tree over one proposed output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimTree {
    /// Depth of the bottom claims.
    pub depth: u32,
    /// Transactions in the batch.
    pub steps: u64,
    /// The agreed state at trace position 0.
    pub prior: Hash,
    /// Blocks each side has along every path.
    pub max_clock: u64,
    /// Blocks a side is always left to answer a counter.
    pub extension: u64,
    /// Every claim, in posting order; the root first.
    pub claims: Vec<Claim>,
}

/// Depth of a generalized index.
fn depth_of(position: u64) -> u32 {
    63 - position.leading_zeros()
}

/// The node a counter to the claim at `position` goes to: its left child by attack, the left
/// child of its right neighbour by defence.
pub(super) fn counter_position(position: u64, attack: bool) -> u64 {
    if attack {
        2 * position
    } else {
        2 * (position + 1)
    }
}

impl ClaimTree {
    /// The tree of an output proposed at `height` over a batch of `steps` transactions.
    /// `extension` must be below `max_clock`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        prior: Hash,
        output: Hash,
        steps: u64,
        proposer: PublicKey,
        bond: Amount,
        height: u64,
        max_clock: u64,
        extension: u64,
    ) -> ClaimTree {
        debug_assert!(extension < max_clock);
        ClaimTree {
            depth: ClaimTree::depth_for(steps),
            steps,
            prior,
            max_clock,
            extension,
            claims: vec![Claim {
                parent: None,
                position: 1,
                value: output,
                claimant: proposer,
                bond,
                created: height,
                clock: 0,
                stepped_by: None,
            }],
        }
    }

    /// Depth of the bottom claims over a batch of `steps` transactions: the least `D >= 1` with
    /// `2^D >= steps`.
    pub fn depth_for(steps: u64) -> u32 {
        steps.max(2).next_power_of_two().trailing_zeros()
    }

    /// The trace position a node asserts.
    pub fn trace_index(&self, position: u64) -> u64 {
        let d = depth_of(position);
        let index = position - (1 << d);
        (index + 1) << (self.depth - d)
    }

    /// Whether claim `index` is on the output's side (even depth).
    pub fn on_output_side(&self, index: u32) -> bool {
        depth_of(self.claims[index as usize].position).is_multiple_of(2)
    }

    fn claim(&self, index: u32) -> Result<&Claim, TreeError> {
        self.claims
            .get(index as usize)
            .ok_or(TreeError::UnknownClaim(index))
    }

    /// Blocks the side countering claim `index` has used on its path by `height`.
    pub fn counter_clock(&self, index: u32, height: u64) -> u64 {
        let c = &self.claims[index as usize];
        let before = c.parent.map_or(0, |p| self.claims[p as usize].clock);
        before + height.saturating_sub(c.created)
    }

    /// The latest block until which the blocks of this tree run: its resolution at the latest,
    /// counted from the root.
    pub fn bound(&self) -> u64 {
        2 * self.max_clock + self.depth as u64 * self.extension
    }

    /// Counters claim `parent` with `value` at its left child (`attack`) or at the left child of
    /// its right neighbour; returns the new claim's index.
    pub fn counter(
        &mut self,
        parent: u32,
        attack: bool,
        value: Hash,
        claimant: PublicKey,
        bond: Amount,
        height: u64,
    ) -> Result<u32, TreeError> {
        let p = self.claim(parent)?;
        if p.stepped_by.is_some() {
            return Err(TreeError::AlreadyStepped(parent));
        }
        if depth_of(p.position) >= self.depth {
            return Err(TreeError::AtBottom(parent));
        }
        if !attack && (p.position + 1).is_power_of_two() {
            // The root (and only the root: no move reaches a depth's last node) has no right
            // neighbour.
            return Err(TreeError::DefendRoot);
        }
        let clock = self.counter_clock(parent, height);
        if clock >= self.max_clock {
            return Err(TreeError::ClockRanOut(parent));
        }
        let position = counter_position(p.position, attack);
        let duplicate = self
            .claims
            .iter()
            .any(|c| c.parent == Some(parent) && c.position == position && c.value == value);
        if duplicate {
            return Err(TreeError::Duplicate(parent));
        }
        self.claims.push(Claim {
            parent: Some(parent),
            position,
            value,
            claimant,
            bond,
            created: height,
            clock: clock.min(self.max_clock - self.extension),
            stepped_by: None,
        });
        Ok((self.claims.len() - 1) as u32)
    }

    /// The claim on the path from claim `from` to the root (itself included) that holds trace
    /// position `trace`, or the prior output for position 0.
    fn trace_ancestor(&self, from: u32, trace: u64) -> Result<(Option<u32>, Hash), TreeError> {
        if trace == 0 {
            return Ok((None, self.prior));
        }
        let mut at = Some(from);
        while let Some(i) = at {
            let c = &self.claims[i as usize];
            if self.trace_index(c.position) == trace {
                return Ok((Some(i), c.value));
            }
            at = c.parent;
        }
        Err(TreeError::NoTraceAncestor(from, trace))
    }

    /// What a one-step proof against bottom claim `leaf` must re-execute: by attack, the step
    /// into the leaf's position; by defence, the step out of it.
    pub fn step_check(&self, leaf: u32, attack: bool) -> Result<StepCheck, TreeError> {
        let l = self.claim(leaf)?;
        if depth_of(l.position) < self.depth {
            return Err(TreeError::NotAtBottom(leaf));
        }
        if l.stepped_by.is_some() {
            return Err(TreeError::AlreadyStepped(leaf));
        }
        let at = self.trace_index(l.position);
        let step = if attack { at } else { at + 1 };
        if step > 1 << self.depth {
            return Err(TreeError::NoTraceAncestor(leaf, step));
        }
        let (_, pre) = self.trace_ancestor(leaf, step - 1)?;
        let (holder, post) = self.trace_ancestor(leaf, step)?;
        let holder = holder.expect("step is at least 1");
        let side = |i: u32| depth_of(self.claims[i as usize].position) % 2;
        Ok(StepCheck {
            step,
            pre,
            post,
            post_agrees: side(holder) == side(leaf),
        })
    }

    /// Counters bottom claim `leaf` with a one-step proof whose re-execution of
    /// [`ClaimTree::step_check`]'s transition gave `result`.
    pub fn step(
        &mut self,
        leaf: u32,
        attack: bool,
        result: Hash,
        stepper: PublicKey,
        height: u64,
    ) -> Result<(), TreeError> {
        let check = self.step_check(leaf, attack)?;
        if self.counter_clock(leaf, height) >= self.max_clock {
            return Err(TreeError::ClockRanOut(leaf));
        }
        // The leaf's side asserts that the step reaches `post` exactly when it holds `post`.
        if (result == check.post) == check.post_agrees {
            return Err(TreeError::ValidStep(leaf));
        }
        self.claims[leaf as usize].stepped_by = Some(stepper);
        Ok(())
    }

    /// The first block at which no claim can be countered any more: the tree can resolve.
    pub fn resolvable_at(&self) -> u64 {
        self.claims
            .iter()
            .map(|c| {
                let before = c.parent.map_or(0, |p| self.claims[p as usize].clock);
                c.created + (self.max_clock - before)
            })
            .max()
            .expect("the root is always there")
    }

    /// Resolves every claim bottom-up (children are posted after their parents).
    pub fn resolve(&self) -> Resolution {
        let n = self.claims.len();
        let mut countered = vec![false; n];
        // The first standing counter of each claim, by index.
        let mut first_standing: Vec<Option<u32>> = vec![None; n];
        for i in (0..n).rev() {
            let c = &self.claims[i];
            countered[i] = c.stepped_by.is_some() || first_standing[i].is_some();
            if let (false, Some(p)) = (countered[i], c.parent) {
                first_standing[p as usize] = Some(i as u32);
            }
        }
        let payouts = self
            .claims
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let to = match (c.stepped_by, first_standing[i]) {
                    (Some(stepper), _) => stepper,
                    (None, Some(counter)) => self.claims[counter as usize].claimant,
                    (None, None) => c.claimant,
                };
                (to, c.bond)
            })
            .collect();
        Resolution {
            upheld: !countered[0],
            countered,
            payouts,
        }
    }
}

/// A move the honest party owes in a claim tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HonestMove {
    /// Counter claim `parent` with the true `value`, by attack or defence.
    Counter {
        /// The claim answered.
        parent: u32,
        /// Attack (its state is wrong) or defence (its state is true).
        attack: bool,
        /// The true state at the new claim's trace position.
        value: Hash,
    },
    /// Counter bottom claim `leaf` with a one-step proof, by attack or defence.
    Step {
        /// The claim answered.
        leaf: u32,
        /// Attack (its state is wrong) or defence (its state is true).
        attack: bool,
    },
}

/// The honest answer to claim `c`: attack a wrong state, defend a true one, with the truth at the
/// new node (`Hash::ZERO` for a bottom claim, answered by a step).
fn honest_answer(tree: &ClaimTree, truth: &impl Fn(u64) -> Hash, c: &Claim) -> (bool, u64, Hash) {
    let attack = c.value != truth(tree.trace_index(c.position));
    let position = counter_position(c.position, attack);
    let value = if depth_of(c.position) < tree.depth {
        truth(tree.trace_index(position))
    } else {
        Hash::ZERO
    };
    (attack, position, value)
}

/// Every move an honest party that knows the true trace (`truth(t)`, the state at trace position
/// `t`) owes in `tree` now: the strategy of the module header. A claim is honest when it is the
/// true root, or exactly the honest answer to a claim that must be answered, whoever posted it;
/// every claim that counters an honest claim (and a wrong root) must be answered, once.
pub fn honest_moves(tree: &ClaimTree, truth: impl Fn(u64) -> Hash) -> Vec<HonestMove> {
    let n = tree.claims.len();
    let (mut honest, mut must_answer, mut answered) =
        (vec![false; n], vec![false; n], vec![false; n]);
    for (i, c) in tree.claims.iter().enumerate() {
        match c.parent {
            None => {
                honest[i] = c.value == truth(tree.trace_index(c.position));
                must_answer[i] = !honest[i];
            }
            Some(p) => {
                let p = p as usize;
                if must_answer[p] {
                    let (_, position, value) = honest_answer(tree, &truth, &tree.claims[p]);
                    honest[i] = c.position == position && c.value == value;
                    answered[p] |= honest[i];
                }
                must_answer[i] = honest[p];
            }
        }
    }
    let mut out = Vec::new();
    for (i, c) in tree.claims.iter().enumerate() {
        if !must_answer[i] || answered[i] || c.stepped_by.is_some() {
            continue;
        }
        let (attack, _, value) = honest_answer(tree, &truth, c);
        let index = i as u32;
        out.push(if depth_of(c.position) == tree.depth {
            HonestMove::Step {
                leaf: index,
                attack,
            }
        } else {
            HonestMove::Counter {
                parent: index,
                attack,
                value,
            }
        });
    }
    out
}

#[cfg(test)]
#[path = "tree_tests.rs"]
mod tests;
