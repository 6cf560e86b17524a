//! Everything the L1 keeps for one rollup, with the indexes and trees derived from it.

use super::*;
use crate::dispute::{Dispute, DisputeResult};
use basalt_l2::{L2State, Optimistic};
use basalt_merkle::{Blake3Hasher, MerkleTree, DEFAULT_DEPTH};
use basalt_types::{Amount, Encode, Hash};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
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
    /// The live chain: the proposal id of each batch's output.
    pub chain: Vec<u64>,
    /// Every dispute, by id; shared, so a reader holds one without copying it.
    pub disputes: Vec<Arc<Dispute>>,
    /// Withdrawal indices paid, in payment order.
    pub claims: Vec<u64>,
    /// The same indices, for lookup.
    pub claimed: HashSet<u64>,
    /// Disputes still being played.
    pub open: BTreeSet<u64>,
    /// The dispute over each disputed proposal.
    pub dispute_of: HashMap<u64, u64>,
    /// (batch, prior, output) of every output a dispute removed.
    removed: HashSet<(u64, Hash, Hash)>,
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
            claims: Vec::new(),
            claimed: HashSet::new(),
            open: BTreeSet::new(),
            dispute_of: HashMap::new(),
            removed: HashSet::new(),
            chain_tree: MerkleTree::new(DEFAULT_DEPTH),
            dispute_tree: MerkleTree::new(DEFAULT_DEPTH),
        }
    }

    /// The live output of `batch`, with its proposal id.
    pub fn live_output(&self, batch: u64) -> Option<(u64, &OutputRecord)> {
        let id = *self.chain.get(usize::try_from(batch).ok()?)?;
        Some((id, &self.proposals[id as usize]))
    }

    /// Whether `output` on `prior` for `batch` was proposed and removed by a dispute.
    pub fn proven_wrong(&self, batch: u64, prior: &Hash, output: &Hash) -> bool {
        self.removed.contains(&(batch, *prior, *output))
    }

    /// The dispute over proposal `id`, if it was disputed.
    pub fn dispute_over(&self, id: u64) -> Option<&Dispute> {
        self.dispute_of
            .get(&id)
            .map(|d| &*self.disputes[*d as usize])
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

    /// The bonds the rollup must hold, recomputed from its lists: every unsettled live output's
    /// bond unless a game slashed it, and every bond still in an open dispute.
    pub fn bonds_owed(&self) -> Amount {
        let proposals: Amount = self.chain[self.header.settled as usize..]
            .iter()
            .filter(|p| {
                self.dispute_over(**p)
                    .is_none_or(|d| d.defenders[0].active())
            })
            .map(|p| self.proposals[*p as usize].bond)
            .sum();
        let disputes: Amount = self
            .open
            .iter()
            .map(|d| &self.disputes[*d as usize])
            .flat_map(|d| d.challengers.iter().chain(&d.defenders[1..]))
            .filter(|p| p.active())
            .map(|p| p.bond)
            .sum();
        proposals + disputes
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
        self.proposals.extend_from_slice(&diff.proposals);
        if let Some(update) = &diff.chain {
            self.update_chain(update);
        }
        for d in diff.disputes.values() {
            self.put_dispute(Arc::new(d.clone()));
        }
        self.chain_tree.commit();
        self.dispute_tree.commit();
        self.claims.extend_from_slice(&diff.claims);
        self.claimed.extend(diff.claims.iter().copied());
    }

    fn update_chain(&mut self, update: &ChainUpdate) {
        let mut leaves = BTreeMap::new();
        update.leaves(self.chain.len() as u64, &mut leaves);
        for (pos, leaf) in leaves {
            self.chain_tree.set(pos, leaf);
        }
        self.chain.truncate(update.keep as usize);
        self.chain.extend_from_slice(&update.append);
    }

    fn put_dispute(&mut self, d: Arc<Dispute>) {
        let i = d.id as usize;
        self.dispute_tree.set(d.id as u32, d.hash());
        self.dispute_of.insert(d.proposal, d.id);
        if let Some(DisputeResult::Removed { .. }) = d.result {
            self.removed.insert((d.batch, d.prior, d.output));
        }
        if d.result.is_none() {
            self.open.insert(d.id);
        } else {
            self.open.remove(&d.id);
        }
        if i == self.disputes.len() {
            self.disputes.push(d);
        } else {
            self.disputes[i] = d;
        }
    }

    /// Rebuilds the indexes and trees from the stored lists (after a restart), then checks them
    /// against the header.
    pub fn restore(
        header: RollupHeader,
        deposits: Vec<DepositRecord>,
        batches: Vec<BatchRecord>,
        proposals: Vec<OutputRecord>,
        chain: Vec<u64>,
        disputes: Vec<Dispute>,
        claims: Vec<u64>,
    ) -> Result<Self, RestoreError> {
        let mut r = RollupState::new(header);
        r.deposits = deposits;
        r.batches = batches;
        r.proposals = proposals;
        r.update_chain(&ChainUpdate {
            keep: 0,
            append: chain,
        });
        for (i, d) in disputes.into_iter().enumerate() {
            if d.id != i as u64 {
                return Err(RestoreError::DisputeOutOfPlace {
                    rollup: r.header.id,
                    position: i as u64,
                    id: d.id,
                });
            }
            r.put_dispute(Arc::new(d));
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
        let ok = self.deposits.len() as u64 == h.deposit_count
            && self.batches.len() as u64 == h.batch_count
            && self.proposals.len() as u64 == h.proposal_count
            && self.chain.len() as u64 == h.output_count
            && self.chain.iter().all(|id| *id < h.proposal_count)
            && self.disputes.len() as u64 == h.dispute_count
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
