//! Everything the L1 keeps for one rollup, with the indexes and trees derived from it.

use super::*;
use crate::dispute::tree::{Claim, ClaimTree};
use crate::dispute::{Dispute, DisputeResult};
use basalt_l2::{L2State, Optimistic};
use basalt_merkle::{Blake3Hasher, MerkleTree, DEFAULT_DEPTH};
use basalt_types::{Amount, Encode, Hash};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

/// Everything the L1 keeps for one rollup.
#[derive(Clone)]
pub struct RollupState {
    /// The committed summary.
    pub header: RollupHeader,
    /// The deposit queue, by index.
    pub deposits: Vec<DepositRecord>,
    /// Posted batches, by index.
    pub batches: Vec<BatchRecord>,
    /// Every proposed output, by proposal id.
    pub proposals: Vec<OutputRecord>,
    /// The settled chain: the proposal id of each settled batch's output.
    pub chain: Vec<u64>,
    /// The dispute record of every proposal, by proposal id.
    pub disputes: Vec<Dispute>,
    /// The claim tree of every proposal, by proposal id; shared, so a reader holds one without
    /// copying it.
    pub trees: Vec<Arc<ClaimTree>>,
    /// Withdrawal indices paid, in payment order.
    pub claims: Vec<u64>,
    /// The same indices, for lookup.
    pub claimed: HashSet<u64>,
    /// Unresolved proposals by (resolution height, proposal id).
    pub unresolved: BTreeSet<(u64, u64)>,
    /// The same proposals by id.
    pub open: BTreeSet<u64>,
    /// (batch, prior, output) of every proposal.
    proposed: HashSet<(u64, Hash, Hash)>,
    /// (batch, output) of every proposal: what a later batch's proposal may build on.
    outputs: HashSet<(u64, Hash)>,
    /// Upheld proposals by (batch, prior), lowest id first: what settlement picks from.
    upheld: BTreeMap<(u64, Hash), BTreeSet<u64>>,
    chain_tree: MerkleTree<Blake3Hasher>,
    dispute_tree: MerkleTree<Blake3Hasher>,
}

/// Equal when every list is equal (the trees and indexes are derived from them).
impl PartialEq for RollupState {
    fn eq(&self, other: &Self) -> bool {
        self.header == other.header
            && self.deposits == other.deposits
            && self.batches == other.batches
            && self.proposals == other.proposals
            && self.chain == other.chain
            && self.disputes == other.disputes
            && self.trees == other.trees
            && self.claims == other.claims
    }
}

impl std::fmt::Debug for RollupState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RollupState")
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

impl RollupState {
    /// A rollup with empty lists.
    pub fn new(header: RollupHeader) -> Self {
        RollupState {
            header,
            deposits: Vec::new(),
            batches: Vec::new(),
            proposals: Vec::new(),
            chain: Vec::new(),
            disputes: Vec::new(),
            trees: Vec::new(),
            claims: Vec::new(),
            claimed: HashSet::new(),
            unresolved: BTreeSet::new(),
            open: BTreeSet::new(),
            proposed: HashSet::new(),
            outputs: HashSet::new(),
            upheld: BTreeMap::new(),
            chain_tree: MerkleTree::new(DEFAULT_DEPTH),
            dispute_tree: MerkleTree::new(DEFAULT_DEPTH),
        }
    }

    /// The settled output of `batch`, with its proposal id.
    pub fn settled_output(&self, batch: u64) -> Option<(u64, &OutputRecord)> {
        let id = *self.chain.get(usize::try_from(batch).ok()?)?;
        Some((id, &self.proposals[id as usize]))
    }

    /// Where proposal `id` stands: `settled` (always, for a ZK rollup's), `upheld` (but not
    /// settled: its prior was not),
    /// `removed`, `disputed` (countered, unresolved) or `pending` (not countered yet).
    pub fn proposal_status(&self, id: u64) -> &'static str {
        let p = &self.proposals[id as usize];
        // A ZK rollup's outputs have no disputes: each is recorded as it settles.
        let Some(d) = self.disputes.get(id as usize) else {
            return "settled";
        };
        match d.result {
            _ if self.chain.get(p.batch as usize) == Some(&id) => "settled",
            Some(DisputeResult::Upheld { .. }) => "upheld",
            Some(DisputeResult::Removed { .. }) => "removed",
            None if d.challenged() => "disputed",
            None => "pending",
        }
    }

    /// The lowest batch with an unresolved proposal: what a party that plays must still be able
    /// to re-derive, settled or not.
    pub fn oldest_open_batch(&self) -> Option<u64> {
        self.open
            .iter()
            .map(|p| self.disputes[*p as usize].batch)
            .min()
    }

    /// Whether this very (batch, prior, output) was proposed before.
    pub fn was_proposed(&self, batch: u64, prior: &Hash, output: &Hash) -> bool {
        self.proposed.contains(&(batch, *prior, *output))
    }

    /// Whether some proposal of `batch` claims `output`.
    pub fn output_proposed(&self, batch: u64, output: &Hash) -> bool {
        self.outputs.contains(&(batch, *output))
    }

    /// The upheld proposals of `batch` built on `prior`, lowest id first.
    pub fn upheld_on(&self, batch: u64, prior: &Hash) -> impl Iterator<Item = u64> + '_ {
        self.upheld
            .get(&(batch, *prior))
            .into_iter()
            .flat_map(|s| s.iter().copied())
    }

    /// The escrow the rollup must hold for `l2`, the state after its posted batches: every L2
    /// balance, every withdrawal not yet paid and every queued deposit not yet applied.
    pub fn escrow_owed(&self, l2: &L2State<Optimistic>) -> Amount {
        let queued: Amount = self
            .deposits
            .get(l2.commitment().next_deposit as usize..)
            .unwrap_or_default()
            .iter()
            .map(|d| d.entry.amount)
            .sum();
        let unpaid: Amount = l2
            .withdrawals()
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.claimed.contains(&(*i as u64)))
            .map(|(_, w)| w.amount)
            .sum();
        l2.total_balance() + queued + unpaid
    }

    /// The bonds the rollup must hold, recomputed from its lists: every bond of every claim in a
    /// tree that has not resolved (a resolved tree paid all of its own).
    pub fn bonds_owed(&self) -> Amount {
        self.unresolved
            .iter()
            .flat_map(|(_, p)| self.trees[*p as usize].claims())
            .map(|c| c.bond)
            .sum()
    }

    /// The L1 block from which the rollup is frozen, if it owes something (see
    /// [`super::frozen_from`]).
    pub fn frozen_from(&self) -> Option<u64> {
        let h = &self.header;
        let batch = self.batches.get(h.settled as usize).map(|b| b.height);
        let last = h.settled.checked_sub(1).map(|b| &self.batches[b as usize]);
        let consumed = super::settled_items(h, last);
        let item = self.deposits.get(consumed as usize).map(|d| d.height);
        super::frozen_from(h, batch, item)
    }

    /// Root of the chain tree with `updates` on top.
    pub fn chain_root_with(&self, updates: &BTreeMap<u32, Hash>) -> Hash {
        self.chain_tree.root_with(updates)
    }

    /// Root of the dispute tree with `updates` on top.
    pub fn disputes_root_with(&self, updates: &BTreeMap<u32, Hash>) -> Hash {
        self.dispute_tree.root_with(updates)
    }

    /// Applies one block's changes.
    pub fn apply(&mut self, diff: &RollupDiff) {
        self.header = diff.header.clone();
        self.deposits.extend_from_slice(&diff.deposits);
        self.batches.extend_from_slice(&diff.batches);
        for p in &diff.proposals {
            self.add_proposal(p);
        }
        for id in &diff.chain {
            self.settle(*id);
        }
        for d in diff.disputes.values() {
            self.put_dispute(*d);
        }
        for (id, claims) in &diff.tree_claims {
            self.add_claims(*id, claims);
        }
        self.chain_tree.commit();
        self.dispute_tree.commit();
        self.claims.extend_from_slice(&diff.claims);
        self.claimed.extend(diff.claims.iter().copied());
    }

    fn add_proposal(&mut self, p: &OutputRecord) {
        self.proposed.insert((p.batch, p.prior, p.output));
        self.outputs.insert((p.batch, p.output));
        self.proposals.push(*p);
    }

    fn settle(&mut self, id: u64) {
        self.chain_tree
            .set(self.chain.len() as u32, super::chain_leaf(id));
        self.chain.push(id);
    }

    /// Appends claims to proposal `id`'s tree; a tree's first claims (its root first) open it.
    fn add_claims(&mut self, id: u64, claims: &[Claim]) {
        let Some((root, rest)) = claims.split_first() else {
            return;
        };
        let i = id as usize;
        let rest = if i == self.trees.len() {
            let rules = self.disputes[i].rules;
            self.trees.push(Arc::new(ClaimTree::new(
                rules,
                root.value,
                root.claimant,
                root.bond,
                root.created,
            )));
            rest
        } else {
            claims
        };
        let tree = Arc::make_mut(&mut self.trees[i]);
        for c in rest {
            tree.push(*c);
        }
    }

    fn put_dispute(&mut self, d: Dispute) {
        let i = d.proposal as usize;
        self.dispute_tree.set(d.proposal as u32, d.hash());
        if let Some(old) = self.disputes.get(i) {
            self.unresolved.remove(&(old.resolvable_at, old.proposal));
        }
        self.open.remove(&d.proposal);
        match d.result {
            None => {
                self.unresolved.insert((d.resolvable_at, d.proposal));
                self.open.insert(d.proposal);
            }
            Some(DisputeResult::Upheld { .. }) => {
                self.upheld
                    .entry((d.batch, d.rules.prior))
                    .or_default()
                    .insert(d.proposal);
            }
            Some(DisputeResult::Removed { .. }) => {}
        }
        if i == self.disputes.len() {
            self.disputes.push(d);
        } else {
            self.disputes[i] = d;
        }
    }

    /// Rebuilds the indexes and trees from the stored lists (after a restart), then checks them
    /// against the header. `trees` holds each proposal's claims, by proposal id.
    #[allow(clippy::too_many_arguments)]
    pub fn restore(
        header: RollupHeader,
        deposits: Vec<DepositRecord>,
        batches: Vec<BatchRecord>,
        proposals: Vec<OutputRecord>,
        chain: Vec<u64>,
        disputes: Vec<Dispute>,
        trees: Vec<Vec<Claim>>,
        claims: Vec<u64>,
    ) -> Result<Self, RestoreError> {
        let mut r = RollupState::new(header);
        let id = r.header.id;
        r.deposits = deposits;
        r.batches = batches;
        for p in &proposals {
            r.add_proposal(p);
        }
        for p in chain {
            r.settle(p);
        }
        if disputes.len() != trees.len() {
            return Err(RestoreError::RollupMismatch(id));
        }
        for (i, (d, claims)) in disputes.into_iter().zip(trees).enumerate() {
            if d.proposal != i as u64 {
                return Err(RestoreError::DisputeOutOfPlace {
                    rollup: id,
                    position: i as u64,
                    id: d.proposal,
                });
            }
            if d.claims as usize != claims.len() || Dispute::digest_of(&claims) != d.claims_digest {
                return Err(RestoreError::RollupMismatch(id));
            }
            let tree = ClaimTree::from_claims(d.rules, claims)
                .map_err(|_| RestoreError::RollupMismatch(id))?;
            r.put_dispute(d);
            r.trees.push(Arc::new(tree));
        }
        r.chain_tree.commit();
        r.dispute_tree.commit();
        r.claimed = claims.iter().copied().collect();
        r.claims = claims;
        r.check()?;
        Ok(r)
    }

    /// Checks that the lists match the counts, digests and roots of the header.
    pub fn check(&self) -> Result<(), RestoreError> {
        let h = &self.header;
        let digest = |items: Vec<Vec<u8>>, domain: &str| {
            items
                .iter()
                .fold(Hash::ZERO, |acc, item| fold(acc, domain, item))
        };
        let claim_total: u64 = self.disputes.iter().map(|d| d.claims as u64).sum();
        let ok = self.deposits.len() as u64 == h.deposit_count
            && self.batches.len() as u64 == h.batch_count
            && self.proposals.len() as u64 == h.proposal_count
            && self.chain.len() as u64 == h.settled
            && self.chain.iter().all(|id| *id < h.proposal_count)
            && (self.disputes.len() as u64 == h.proposal_count
                || h.params.kind.zk().is_some() && self.disputes.is_empty())
            && self.trees.len() == self.disputes.len()
            && claim_total == h.claim_total
            && self.claims.len() as u64 == h.claim_count
            && self.claimed.len() == self.claims.len()
            && self.chain_tree.root() == h.chain_root
            && self.dispute_tree.root() == h.disputes_root
            && digest(
                self.deposits.iter().map(|d| d.to_bytes()).collect(),
                DEPOSITS_DOMAIN,
            ) == h.deposits_digest
            && digest(
                self.batches.iter().map(|b| b.to_bytes()).collect(),
                BATCHES_DOMAIN,
            ) == h.batches_digest
            && digest(
                self.proposals.iter().map(|o| o.to_bytes()).collect(),
                OUTPUTS_DOMAIN,
            ) == h.proposals_digest
            && digest(
                self.claims
                    .iter()
                    .map(|c| c.to_le_bytes().to_vec())
                    .collect(),
                CLAIMS_DOMAIN,
            ) == h.claims_digest;
        if ok {
            Ok(())
        } else {
            Err(RestoreError::RollupMismatch(h.id))
        }
    }
}
