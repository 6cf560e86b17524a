//! The dispute game of every proposed output: a claim tree ([`tree`]) that anyone bonded may
//! counter at any claim, resolved bottom-up once its clocks have run out.
//!
//! Each proposal opens its own tree, whose root is the proposed output backed by the proposer's
//! bond; any number of proposals may compete for one batch. A tree nobody counters resolves after
//! the challenge window (the root's clock); one that is played resolves at most
//! [`tree::Rules::bound`] blocks after its proposal, whatever the number of claims or claimants
//! (the argument is in [`tree`]'s header). A resolved tree pays every bond to whoever countered its
//! claim, or back to its claimant, and its output is upheld exactly when the root stands.
//! Settlement then takes, for each batch in order, the first upheld proposal that builds on the
//! settled output before it ([`crate::bridge`]).
//!
//! The L1 keeps, per proposal, this module's [`Dispute`] (the tree's rules and a summary of its
//! claims, committed by the rollup's dispute root) and the tree's claims as an append-only list,
//! read through the unfinalized blocks by [`LayeredTree`], so a move costs the same however many
//! claims the tree already holds.

use basalt_types::{hash_parts, Encode, Hash};

mod codec;
mod exec;
mod layered;
pub mod tree;
mod tree_codec;

pub use layered::LayeredTree;
use tree::{Claim, Rules};

/// Largest encoded one-step witness a transaction may carry.
pub const MAX_WITNESS_BYTES: usize = 16 * 1024;

/// Domain of a tree's running claims digest.
pub const CLAIMS_DIGEST_DOMAIN: &str = "basalt/l1/tree-claims";

/// How a proposal's tree resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisputeResult {
    /// The root stands: the output may settle once its batch's prior has.
    Upheld {
        /// L1 block of the resolution.
        height: u64,
    },
    /// The root was countered: the output can never settle.
    Removed {
        /// L1 block of the resolution.
        height: u64,
    },
}

impl DisputeResult {
    /// Lowercase name.
    pub fn name(&self) -> &'static str {
        match self {
            DisputeResult::Removed { .. } => "removed",
            DisputeResult::Upheld { .. } => "upheld",
        }
    }

    /// The block of the resolution.
    pub fn height(&self) -> u64 {
        match self {
            DisputeResult::Removed { height } | DisputeResult::Upheld { height } => *height,
        }
    }
}

/// The game over one proposal, as the L1 commits to it; its claims are kept in their own list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dispute {
    /// The proposal (its index among all proposals of the rollup); also the dispute's id.
    pub proposal: u64,
    /// The batch the proposal follows.
    pub batch: u64,
    /// What fixes the tree.
    pub rules: Rules,
    /// Claims in the tree, the root and one-step proofs included.
    pub claims: u32,
    /// Running digest of the claims, in posting order.
    pub claims_digest: Hash,
    /// The first block at which no claim can be countered: the tree resolves then.
    pub resolvable_at: u64,
    /// How it resolved, once it has.
    pub result: Option<DisputeResult>,
}

impl Dispute {
    /// The game of a proposal with root claim `root`, over a tree with `rules`.
    pub fn open(proposal: u64, batch: u64, rules: Rules, root: &Claim) -> Dispute {
        let mut d = Dispute {
            proposal,
            batch,
            rules,
            claims: 0,
            claims_digest: Hash::ZERO,
            resolvable_at: 0,
            result: None,
        };
        d.record(root, root.created + rules.max_clock);
        d
    }

    /// Counts a claim just posted whose deadline (for a claim that can be countered) is `deadline`.
    pub fn record(&mut self, claim: &Claim, deadline: u64) {
        self.claims += 1;
        self.claims_digest = fold_claim(self.claims_digest, claim);
        self.resolvable_at = self.resolvable_at.max(deadline);
    }

    /// Whether anyone countered the root.
    pub fn challenged(&self) -> bool {
        self.claims > 1
    }

    /// Whether its output was upheld.
    pub fn upheld(&self) -> bool {
        matches!(self.result, Some(DisputeResult::Upheld { .. }))
    }

    /// Its digest, as the rollup's dispute tree commits to it.
    pub fn hash(&self) -> Hash {
        hash_parts("basalt/l1/dispute", &[&self.to_bytes()])
    }

    /// The running digest of `claims` as [`Dispute::record`] folds them.
    pub fn digest_of(claims: &[Claim]) -> Hash {
        claims.iter().fold(Hash::ZERO, fold_claim)
    }
}

/// One step of a tree's running claims digest.
fn fold_claim(acc: Hash, claim: &Claim) -> Hash {
    hash_parts(CLAIMS_DIGEST_DOMAIN, &[&acc.0, &claim.to_bytes()])
}
