//! The claim tree: the dispute game over one proposed output, which no number of adversaries can
//! win or stall, after the OP Stack's fault dispute game. This module is the pure game: its rules
//! are written once, over any store of claims ([`Claims`]), and played by the L1 over its layered
//! state and by [`ClaimTree`] in memory.
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
//! transition from states the tree already holds and is recorded as a claim below the bottom that
//! nothing can counter. At the end, claims resolve bottom-up: a claim is
//! countered when at least one of its counters stands (a one-step proof always stands); its bond
//! goes to whoever countered it (the first standing counter), or back to its claimant. The
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
use std::collections::{HashMap, HashSet};

/// Deepest tree: a batch holds at most 2^16 transactions.
pub const MAX_TREE_DEPTH: u32 = 16;

/// What fixes a tree when its output is proposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// Depth of the bottom claims.
    pub depth: u32,
    /// Transactions in the batch.
    pub steps: u64,
    /// The agreed state at trace position 0.
    pub prior: Hash,
    /// Blocks each side has along every path.
    pub max_clock: u64,
    /// Blocks a side is always left to answer a counter; below `max_clock`.
    pub extension: u64,
}

impl Rules {
    /// The rules of a tree over a batch of `steps` transactions on `prior`.
    pub fn new(steps: u64, prior: Hash, max_clock: u64, extension: u64) -> Rules {
        debug_assert!(extension < max_clock);
        Rules {
            depth: Rules::depth_for(steps),
            steps,
            prior,
            max_clock,
            extension,
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

    /// Blocks from the root's posting by which the tree can always resolve, whatever is played.
    pub fn bound(&self) -> u64 {
        bound(self.max_clock, self.extension, self.depth)
    }
}

/// The resolution bound of a tree of `depth` with these clocks: `2 * max_clock + depth * extension`.
pub fn bound(max_clock: u64, extension: u64, depth: u32) -> u64 {
    max_clock
        .saturating_mul(2)
        .saturating_add(extension.saturating_mul(depth as u64))
}

/// A claim in the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    /// The claim it counters; `None` for the root.
    pub parent: Option<u32>,
    /// Its node, as a generalized index: depth `d` and index `k` is `2^d + k`. A one-step proof
    /// sits one below the bottom.
    pub position: u64,
    /// The state it asserts at its node's trace position (a one-step proof: the state its
    /// re-execution reached).
    pub value: Hash,
    /// Who posted it and gets its bond back if it stands.
    pub claimant: PublicKey,
    /// Its bond (none for a one-step proof, which the L1 checked).
    pub bond: Amount,
    /// The block it was posted in.
    pub created: u64,
    /// Blocks its side had used on its path when it was posted, after any extension.
    pub clock: u64,
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

/// Depth of a generalized index.
pub(super) fn depth_of(position: u64) -> u32 {
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

/// A store of one tree's claims. The game's rules are provided over it, so the L1 (over layers
/// of unfinalized changes) and [`ClaimTree`] (in memory) play by one implementation.
pub trait Claims {
    /// The tree's rules.
    fn rules(&self) -> &Rules;

    /// How many claims the tree holds, the root and one-step proofs included.
    fn count(&self) -> u32;

    /// Claim `index`.
    fn get(&self, index: u32) -> Option<Claim>;

    /// Whether claim `parent` already has the counter at `position` asserting `value`.
    fn has_counter(&self, parent: u32, position: u64, value: &Hash) -> bool;

    /// Whether bottom claim `leaf` was countered by a one-step proof.
    fn stepped(&self, leaf: u32) -> bool;

    /// Claim `index`, or why there is none.
    fn claim(&self, index: u32) -> Result<Claim, TreeError> {
        self.get(index).ok_or(TreeError::UnknownClaim(index))
    }

    /// Blocks its side had used on the path to claim `c` when `c` was posted (the parent's clock).
    fn clock_before(&self, c: &Claim) -> u64 {
        c.parent
            .and_then(|p| self.get(p))
            .map_or(0, |parent| parent.clock)
    }

    /// Blocks the side countering claim `c` has used on its path by `height`.
    fn counter_clock(&self, c: &Claim, height: u64) -> u64 {
        self.clock_before(c) + height.saturating_sub(c.created)
    }

    /// The first block at which claim `c` can no longer be countered; `None` for a one-step proof,
    /// which nothing counters.
    fn deadline(&self, c: &Claim) -> Option<u64> {
        (depth_of(c.position) <= self.rules().depth)
            .then(|| c.created + (self.rules().max_clock - self.clock_before(c)))
    }

    /// The claim that counters claim `parent` with `value` at its left child (`attack`) or at the
    /// left child of its right neighbour, posted at `height`, if the rules allow it.
    fn check_counter(
        &self,
        parent: u32,
        attack: bool,
        value: Hash,
        claimant: PublicKey,
        bond: Amount,
        height: u64,
    ) -> Result<Claim, TreeError> {
        let rules = *self.rules();
        let p = self.claim(parent)?;
        if depth_of(p.position) >= rules.depth {
            // A bottom claim is stepped; a one-step proof below it is never countered.
            return Err(TreeError::AtBottom(parent));
        }
        if !attack && (p.position + 1).is_power_of_two() {
            // The root (and only the root: no move reaches a depth's last node) has no right
            // neighbour.
            return Err(TreeError::DefendRoot);
        }
        let clock = self.counter_clock(&p, height);
        if clock >= rules.max_clock {
            return Err(TreeError::ClockRanOut(parent));
        }
        let position = counter_position(p.position, attack);
        if self.has_counter(parent, position, &value) {
            return Err(TreeError::Duplicate(parent));
        }
        Ok(Claim {
            parent: Some(parent),
            position,
            value,
            claimant,
            bond,
            created: height,
            clock: clock.min(rules.max_clock - rules.extension),
        })
    }

    /// The claim on the path from claim `from` to the root (itself included) that holds trace
    /// position `trace`, or the prior output for position 0.
    fn trace_ancestor(&self, from: u32, trace: u64) -> Result<(Option<u32>, Hash), TreeError> {
        if trace == 0 {
            return Ok((None, self.rules().prior));
        }
        let mut at = Some(from);
        while let Some(i) = at {
            let c = self.claim(i)?;
            if self.rules().trace_index(c.position) == trace {
                return Ok((Some(i), c.value));
            }
            at = c.parent;
        }
        Err(TreeError::NoTraceAncestor(from, trace))
    }

    /// What a one-step proof against bottom claim `leaf` must re-execute: by attack, the step
    /// into the leaf's position; by defence, the step out of it.
    fn step_check(&self, leaf: u32, attack: bool) -> Result<StepCheck, TreeError> {
        let rules = *self.rules();
        let l = self.claim(leaf)?;
        if depth_of(l.position) != rules.depth {
            return Err(TreeError::NotAtBottom(leaf));
        }
        if self.stepped(leaf) {
            return Err(TreeError::AlreadyStepped(leaf));
        }
        let at = rules.trace_index(l.position);
        let step = if attack { at } else { at + 1 };
        if step > 1 << rules.depth {
            return Err(TreeError::NoTraceAncestor(leaf, step));
        }
        let (_, pre) = self.trace_ancestor(leaf, step - 1)?;
        let (holder, post) = self.trace_ancestor(leaf, step)?;
        let holder = holder.expect("step is at least 1");
        let side = |i: u32| self.get(i).map(|c| depth_of(c.position) % 2);
        Ok(StepCheck {
            step,
            pre,
            post,
            post_agrees: side(holder) == side(leaf),
        })
    }

    /// [`Claims::step_check`], if a one-step proof posted at `height` is still in time.
    fn step_in_time(&self, leaf: u32, attack: bool, height: u64) -> Result<StepCheck, TreeError> {
        let check = self.step_check(leaf, attack)?;
        if self.counter_clock(&self.claim(leaf)?, height) >= self.rules().max_clock {
            return Err(TreeError::ClockRanOut(leaf));
        }
        Ok(check)
    }

    /// The record of a one-step proof against bottom claim `leaf` whose re-execution of
    /// [`Claims::step_check`]'s transition gave `result`, if it counters the leaf in time.
    fn check_step(
        &self,
        leaf: u32,
        attack: bool,
        result: Hash,
        stepper: PublicKey,
        height: u64,
    ) -> Result<Claim, TreeError> {
        let check = self.step_in_time(leaf, attack, height)?;
        let l = self.claim(leaf)?;
        let clock = self.counter_clock(&l, height);
        // The leaf's side asserts that the step reaches `post` exactly when it holds `post`.
        if (result == check.post) == check.post_agrees {
            return Err(TreeError::ValidStep(leaf));
        }
        Ok(Claim {
            parent: Some(leaf),
            position: counter_position(l.position, attack),
            value: result,
            claimant: stepper,
            bond: 0,
            created: height,
            clock,
        })
    }

    /// Resolves every claim bottom-up (children are posted after their parents). A one-step
    /// proof always stands and carries no bond.
    fn resolve(&self) -> Resolution {
        let claims: Vec<Claim> = (0..self.count())
            .map(|i| self.get(i).expect("claims below the count exist"))
            .collect();
        let n = claims.len();
        let mut countered = vec![false; n];
        // The first standing counter of each claim, by index.
        let mut first_standing: Vec<Option<u32>> = vec![None; n];
        for i in (0..n).rev() {
            countered[i] = first_standing[i].is_some();
            if let (false, Some(p)) = (countered[i], claims[i].parent) {
                first_standing[p as usize] = Some(i as u32);
            }
        }
        let payouts = claims
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let to = match first_standing[i] {
                    Some(counter) => claims[counter as usize].claimant,
                    None => c.claimant,
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

/// The claim tree over one proposed output, in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimTree {
    /// What fixes the tree.
    pub rules: Rules,
    /// Every claim, in posting order; the root first.
    claims: Vec<Claim>,
    /// (parent, position, value) of every counter.
    counters: HashSet<(u32, u64, Hash)>,
    /// The one-step proof of each stepped bottom claim, by the leaf's index.
    steps: HashMap<u32, u32>,
}

impl Claims for ClaimTree {
    fn rules(&self) -> &Rules {
        &self.rules
    }

    fn count(&self) -> u32 {
        self.claims.len() as u32
    }

    fn get(&self, index: u32) -> Option<Claim> {
        self.claims.get(index as usize).copied()
    }

    fn has_counter(&self, parent: u32, position: u64, value: &Hash) -> bool {
        self.counters.contains(&(parent, position, *value))
    }

    fn stepped(&self, leaf: u32) -> bool {
        self.steps.contains_key(&leaf)
    }
}

impl ClaimTree {
    /// The tree whose root claims `output`, posted by `proposer` with `bond` at `height`.
    pub fn new(
        rules: Rules,
        output: Hash,
        proposer: PublicKey,
        bond: Amount,
        height: u64,
    ) -> ClaimTree {
        ClaimTree {
            rules,
            claims: vec![ClaimTree::root(output, proposer, bond, height)],
            counters: HashSet::new(),
            steps: HashMap::new(),
        }
    }

    /// The root claim of an output.
    pub fn root(output: Hash, proposer: PublicKey, bond: Amount, height: u64) -> Claim {
        Claim {
            parent: None,
            position: 1,
            value: output,
            claimant: proposer,
            bond,
            created: height,
            clock: 0,
        }
    }

    /// A tree of stored claims, checking every invariant a tree built by moves has (the root
    /// first, each claim after its parent at a node its move reaches, one-step proofs only under
    /// bottom claims and one each, clocks within the side's budget).
    pub fn from_claims(rules: Rules, claims: Vec<Claim>) -> Result<ClaimTree, &'static str> {
        if rules.depth != Rules::depth_for(rules.steps) || rules.depth > MAX_TREE_DEPTH {
            return Err("claim tree depth");
        }
        if rules.extension >= rules.max_clock {
            return Err("claim tree clock extension");
        }
        let mut claims = claims.into_iter();
        let root = claims.next().ok_or("claim tree without a root")?;
        if root.parent.is_some() || root.position != 1 || root.clock != 0 {
            return Err("claim tree root");
        }
        let mut tree = ClaimTree::new(rules, root.value, root.claimant, root.bond, root.created);
        for c in claims {
            tree.check_stored(&c)?;
            tree.push(c);
        }
        Ok(tree)
    }

    fn check_stored(&self, c: &Claim) -> Result<(), &'static str> {
        let p = c.parent.ok_or("claim without a parent")?;
        let parent = self.get(p).ok_or("claim parent")?;
        let reachable = c.position == counter_position(parent.position, true)
            || (c.position == counter_position(parent.position, false)
                && !(parent.position + 1).is_power_of_two());
        let depth = depth_of(c.position);
        if !reachable || depth > self.rules.depth + 1 {
            return Err("claim position");
        }
        if depth > self.rules.depth && self.stepped(p) {
            return Err("claim stepped twice");
        }
        let cap = if depth > self.rules.depth {
            self.rules.max_clock
        } else {
            self.rules.max_clock - self.rules.extension
        };
        if c.clock > cap || c.created < parent.created {
            return Err("claim clock");
        }
        Ok(())
    }

    /// Every claim, in posting order.
    pub fn claims(&self) -> &[Claim] {
        &self.claims
    }

    /// Adds a claim its rules allowed ([`Claims::check_counter`] or [`Claims::check_step`]);
    /// returns its index.
    pub fn push(&mut self, c: Claim) -> u32 {
        let index = self.claims.len() as u32;
        let parent = c.parent.expect("only the root has no parent");
        if depth_of(c.position) > self.rules.depth {
            self.steps.insert(parent, index);
        } else {
            self.counters.insert((parent, c.position, c.value));
        }
        self.claims.push(c);
        index
    }

    /// Counters claim `parent` with `value` (see [`Claims::check_counter`]); returns the new
    /// claim's index.
    pub fn counter(
        &mut self,
        parent: u32,
        attack: bool,
        value: Hash,
        claimant: PublicKey,
        bond: Amount,
        height: u64,
    ) -> Result<u32, TreeError> {
        let c = self.check_counter(parent, attack, value, claimant, bond, height)?;
        Ok(self.push(c))
    }

    /// Counters bottom claim `leaf` with a one-step proof whose re-execution gave `result` (see
    /// [`Claims::check_step`]).
    pub fn step(
        &mut self,
        leaf: u32,
        attack: bool,
        result: Hash,
        stepper: PublicKey,
        height: u64,
    ) -> Result<(), TreeError> {
        let c = self.check_step(leaf, attack, result, stepper, height)?;
        self.push(c);
        Ok(())
    }

    /// Whether claim `index` is on the output's side (even depth).
    pub fn on_output_side(&self, index: u32) -> bool {
        depth_of(self.claims[index as usize].position).is_multiple_of(2)
    }

    /// The first block at which no claim can be countered any more: the tree can resolve.
    pub fn resolvable_at(&self) -> u64 {
        self.claims
            .iter()
            .filter_map(|c| self.deadline(c))
            .max()
            .expect("the root is always there")
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
fn honest_answer(rules: &Rules, truth: &impl Fn(u64) -> Hash, c: &Claim) -> (bool, u64, Hash) {
    let attack = c.value != truth(rules.trace_index(c.position));
    let position = counter_position(c.position, attack);
    let value = if depth_of(c.position) < rules.depth {
        truth(rules.trace_index(position))
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
    let rules = &tree.rules;
    let n = tree.claims.len();
    let (mut honest, mut must_answer, mut answered) =
        (vec![false; n], vec![false; n], vec![false; n]);
    for (i, c) in tree.claims.iter().enumerate() {
        if depth_of(c.position) > rules.depth {
            // A one-step proof answers its leaf; it is checked, so always honest.
            answered[c.parent.expect("under a leaf") as usize] = true;
            continue;
        }
        match c.parent {
            None => {
                honest[i] = c.value == truth(rules.trace_index(c.position));
                must_answer[i] = !honest[i];
            }
            Some(p) => {
                let p = p as usize;
                if must_answer[p] {
                    let (_, position, value) = honest_answer(rules, &truth, &tree.claims[p]);
                    honest[i] = c.position == position && c.value == value;
                    answered[p] |= honest[i];
                }
                must_answer[i] = honest[p];
            }
        }
    }
    let mut out = Vec::new();
    for (i, c) in tree.claims.iter().enumerate() {
        if !must_answer[i] || answered[i] {
            continue;
        }
        let (attack, _, value) = honest_answer(rules, &truth, c);
        let index = i as u32;
        out.push(if depth_of(c.position) == rules.depth {
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
