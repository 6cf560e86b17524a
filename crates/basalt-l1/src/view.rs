//! A read view of finalized state with unfinalized blocks' diffs stacked on it: what a block
//! builder and a verifier read, without copying the state.

use crate::block::Header;
use crate::dispute::Dispute;
use crate::rollup::{
    BatchRecord, DepositRecord, OutputRecord, RollupDiff, RollupHeader, RollupState,
};
use crate::state::{is_active, rollup_leaf, Account, L1State, StateDiff, StoredBlob};
use basalt_merkle::{Blake3Hasher, MerkleTree, DEFAULT_DEPTH};
use basalt_types::{Hash, PublicKey};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

/// Finalized state with zero or more unfinalized diffs stacked on it, oldest first.
pub struct StateView<'a> {
    base: &'a L1State,
    pending: Vec<&'a StateDiff>,
}

impl<'a> StateView<'a> {
    /// A view of `base` followed by `pending` (each diff must extend the one before).
    pub fn new(base: &'a L1State, pending: Vec<&'a StateDiff>) -> Self {
        let mut parent = base.head.hash();
        for d in &pending {
            assert_eq!(d.header.parent, parent, "pending diffs must form a chain");
            parent = d.header.hash();
        }
        StateView { base, pending }
    }

    /// The finalized base.
    pub fn base(&self) -> &L1State {
        self.base
    }

    /// Header of the newest block in the view.
    pub fn head(&self) -> &Header {
        self.pending.last().map_or(&self.base.head, |d| &d.header)
    }

    /// An account as of the newest block.
    pub fn account(&self, key: &PublicKey) -> Option<Account> {
        for d in self.pending.iter().rev() {
            if let Some(a) = d.accounts.get(key) {
                return Some(*a);
            }
        }
        self.base.account(key)
    }

    /// The index the next new account gets.
    pub fn next_index(&self) -> u64 {
        self.base.accounts.len() as u64
            + self
                .pending
                .iter()
                .map(|d| d.new_accounts.len() as u64)
                .sum::<u64>()
    }

    /// The committee as of the newest block.
    pub fn committee(&self) -> &[PublicKey] {
        self.pending
            .iter()
            .rev()
            .find_map(|d| d.committee.as_deref())
            .unwrap_or(&self.base.committee)
    }

    /// Stakers as of the newest block, with `extra` writes on top.
    pub fn stakers_with(
        &self,
        extra: &BTreeMap<PublicKey, Account>,
    ) -> BTreeMap<PublicKey, Account> {
        let mut out: BTreeMap<PublicKey, Account> = self.base.stakers().collect();
        let writes = self
            .pending
            .iter()
            .map(|d| &d.accounts)
            .chain(std::iter::once(extra));
        for map in writes {
            for (k, a) in map {
                if a.is_staker() {
                    out.insert(*k, *a);
                } else {
                    out.remove(k);
                }
            }
        }
        out
    }

    /// A rollup's header as of the newest block, with `extra` changes on top.
    pub fn rollup_with(&self, extra: &BTreeMap<u32, RollupDiff>, id: u32) -> Option<RollupHeader> {
        if let Some(d) = extra.get(&id) {
            return Some(d.header.clone());
        }
        for d in self.pending.iter().rev() {
            if let Some(r) = d.rollups.get(&id) {
                return Some(r.header.clone());
            }
        }
        self.base.rollup(id).map(|r| r.header.clone())
    }

    /// The rollups changed in the unfinalized blocks or in `extra`, with their newest headers.
    fn changed_rollups<'b>(
        &'b self,
        extra: &'b BTreeMap<u32, RollupDiff>,
    ) -> BTreeMap<u32, &'b RollupHeader> {
        let mut changed = BTreeMap::new();
        let writes = self
            .pending
            .iter()
            .map(|d| &d.rollups)
            .chain(std::iter::once(extra));
        for map in writes {
            for (id, r) in map {
                changed.insert(*id, &r.header);
            }
        }
        changed
    }

    /// Rollups registered as of the newest block with `extra` changes on top.
    pub fn rollup_count_with(&self, extra: &BTreeMap<u32, RollupDiff>) -> u64 {
        let changed = self.changed_rollups(extra);
        let base = self.base.rollups.len() as u64;
        changed
            .keys()
            .next_back()
            .map_or(base, |id| base.max(*id as u64 + 1))
    }

    /// Whether a rollup of this name is registered, `extra` included.
    pub fn rollup_name_taken_with(&self, extra: &BTreeMap<u32, RollupDiff>, name: &str) -> bool {
        self.base.rollup_names.contains_key(name)
            || self
                .changed_rollups(extra)
                .values()
                .any(|h| h.params.name == name)
    }

    /// The rollups a block's settlement step must visit: those with an unsettled output or an open
    /// dispute, `extra` included. Idle rollups cost a block nothing, however many are registered.
    pub fn active_rollups_with(&self, extra: &BTreeMap<u32, RollupDiff>) -> Vec<u32> {
        let changed = self.changed_rollups(extra);
        let mut active: BTreeSet<u32> = self
            .base
            .active_rollups
            .iter()
            .filter(|id| !changed.contains_key(id))
            .copied()
            .collect();
        for (id, header) in changed {
            if is_active(header, !self.open_disputes_with(extra, id).is_empty()) {
                active.insert(id);
            }
        }
        active.into_iter().collect()
    }

    /// The registry root with the unfinalized blocks' and `extra`'s rollup changes on top: work in
    /// proportion to the rollups changed, not to those registered.
    pub fn rollups_root_with(&self, extra: &BTreeMap<u32, RollupDiff>) -> Hash {
        let updates: BTreeMap<u32, Hash> = self
            .changed_rollups(extra)
            .into_iter()
            .map(|(id, h)| (id, rollup_leaf(h)))
            .collect();
        self.base.rollup_tree.root_with(&updates)
    }

    /// The diffs of rollup `id` in the view, oldest first, then `extra`'s.
    fn rollup_diffs<'b>(
        &'b self,
        extra: &'b BTreeMap<u32, RollupDiff>,
        id: u32,
    ) -> impl DoubleEndedIterator<Item = &'b RollupDiff> + 'b {
        self.pending
            .iter()
            .filter_map(move |d| d.rollups.get(&id))
            .chain(extra.get(&id))
    }

    /// Item `index` of an append-only rollup list, looked up in the base then in each diff.
    fn appended<T: Clone>(
        &self,
        extra: &BTreeMap<u32, RollupDiff>,
        id: u32,
        index: u64,
        base: impl Fn(&RollupState) -> &[T],
        diff: impl Fn(&RollupDiff) -> &[T],
    ) -> Option<T> {
        let mut start = self.base.rollup(id).map_or(0, |r| base(r).len() as u64);
        if index < start {
            return base(self.base.rollup(id)?).get(index as usize).cloned();
        }
        for d in self.rollup_diffs(extra, id) {
            let items = diff(d);
            let end = start + items.len() as u64;
            if index < end {
                return items.get((index - start) as usize).cloned();
            }
            start = end;
        }
        None
    }

    /// Deposit `index` of rollup `id`'s queue, with `extra` changes on top.
    pub fn deposit_with(
        &self,
        extra: &BTreeMap<u32, RollupDiff>,
        id: u32,
        index: u64,
    ) -> Option<DepositRecord> {
        self.appended(extra, id, index, |r| &r.deposits, |d| &d.deposits)
    }

    /// Batch `batch` of rollup `id`, with `extra` changes on top.
    pub fn batch_with(
        &self,
        extra: &BTreeMap<u32, RollupDiff>,
        id: u32,
        batch: u64,
    ) -> Option<BatchRecord> {
        self.appended(extra, id, batch, |r| &r.batches, |d| &d.batches)
    }

    /// Proposal `proposal` of rollup `id`, with `extra` changes on top.
    pub fn proposal_with(
        &self,
        extra: &BTreeMap<u32, RollupDiff>,
        id: u32,
        proposal: u64,
    ) -> Option<OutputRecord> {
        self.appended(extra, id, proposal, |r| &r.proposals, |d| &d.proposals)
    }

    /// The proposal id of the live output of `batch`, with `extra` changes on top.
    pub fn chain_entry_with(
        &self,
        extra: &BTreeMap<u32, RollupDiff>,
        id: u32,
        batch: u64,
    ) -> Option<u64> {
        for d in self.rollup_diffs(extra, id).rev() {
            if let Some(update) = &d.chain {
                if batch >= update.keep {
                    return update.append.get((batch - update.keep) as usize).copied();
                }
            }
        }
        self.base.rollup(id)?.chain.get(batch as usize).copied()
    }

    /// The live output of `batch` of rollup `id` with its proposal id, with `extra` changes on top.
    pub fn output_with(
        &self,
        extra: &BTreeMap<u32, RollupDiff>,
        id: u32,
        batch: u64,
    ) -> Option<(u64, OutputRecord)> {
        let proposal = self.chain_entry_with(extra, id, batch)?;
        Some((proposal, self.proposal_with(extra, id, proposal)?))
    }

    /// Dispute `dispute` of rollup `id` as of the newest block, with `extra` changes on top.
    pub fn dispute_with(
        &self,
        extra: &BTreeMap<u32, RollupDiff>,
        id: u32,
        dispute: u64,
    ) -> Option<Dispute> {
        self.dispute_ref_with(extra, id, dispute).cloned()
    }

    /// As [`StateView::dispute_with`], borrowed: sizing a dispute (to price it) copies nothing.
    pub fn dispute_ref_with<'s>(
        &'s self,
        extra: &'s BTreeMap<u32, RollupDiff>,
        id: u32,
        dispute: u64,
    ) -> Option<&'s Dispute> {
        for d in self.rollup_diffs(extra, id).rev() {
            if let Some(found) = d.disputes.get(&dispute) {
                return Some(found);
            }
        }
        self.base.rollup(id)?.disputes.get(dispute as usize)
    }

    /// The dispute over proposal `proposal` of rollup `id`, with `extra` changes on top.
    pub fn dispute_over_with(
        &self,
        extra: &BTreeMap<u32, RollupDiff>,
        id: u32,
        proposal: u64,
    ) -> Option<Dispute> {
        self.dispute_over_ref_with(extra, id, proposal).cloned()
    }

    /// As [`StateView::dispute_over_with`], borrowed.
    pub fn dispute_over_ref_with<'s>(
        &'s self,
        extra: &'s BTreeMap<u32, RollupDiff>,
        id: u32,
        proposal: u64,
    ) -> Option<&'s Dispute> {
        for d in self.rollup_diffs(extra, id).rev() {
            if let Some(found) = d.disputes.values().find(|x| x.proposal == proposal) {
                return Some(found);
            }
        }
        self.base.rollup(id)?.dispute_over(proposal)
    }

    /// Whether `output` on `prior` for `batch` of rollup `id` was removed by a dispute, with
    /// `extra` changes on top.
    pub fn proven_wrong_with(
        &self,
        extra: &BTreeMap<u32, RollupDiff>,
        id: u32,
        batch: u64,
        prior: &Hash,
        output: &Hash,
    ) -> bool {
        self.rollup_diffs(extra, id).any(|d| {
            d.disputes.values().any(|x| {
                matches!(x.result, Some(crate::DisputeResult::Removed { .. }))
                    && (x.batch, x.prior, x.output) == (batch, *prior, *output)
            })
        }) || self
            .base
            .rollup(id)
            .is_some_and(|r| r.proven_wrong(batch, prior, output))
    }

    /// Ids of the disputes of rollup `id` still being played, with `extra` changes on top.
    pub fn open_disputes_with(&self, extra: &BTreeMap<u32, RollupDiff>, id: u32) -> Vec<u64> {
        let mut open: BTreeSet<u64> = self
            .base
            .rollup(id)
            .map(|r| r.open.clone())
            .unwrap_or_default();
        for d in self.rollup_diffs(extra, id) {
            for (i, x) in &d.disputes {
                if x.result.is_none() {
                    open.insert(*i);
                } else {
                    open.remove(i);
                }
            }
        }
        open.into_iter().collect()
    }

    /// The chain and dispute roots of rollup `id` with `extra` changes on top. `extra`'s header
    /// holds the chain length after its changes.
    pub fn rollup_roots_with(&self, extra: &BTreeMap<u32, RollupDiff>, id: u32) -> (Hash, Hash) {
        let (mut chain, mut disputes) = (BTreeMap::new(), BTreeMap::new());
        let base = self.base.rollup(id);
        let mut len = base.map_or(0, |r| r.chain.len() as u64);
        for d in self.rollup_diffs(extra, id) {
            if let Some(update) = &d.chain {
                update.leaves(len, &mut chain);
            }
            len = d.header.output_count;
            for (i, x) in &d.disputes {
                disputes.insert(*i as u32, x.hash());
            }
        }
        match base {
            Some(r) => (r.chain_root_with(&chain), r.disputes_root_with(&disputes)),
            None => {
                let empty = MerkleTree::<Blake3Hasher>::new(DEFAULT_DEPTH);
                (empty.root_with(&chain), empty.root_with(&disputes))
            }
        }
    }

    /// A blob posted at most `retention` blocks before `height`, looked up in `extra` (the block
    /// being built), the pending diffs and the base. Older blobs are gone for every node alike.
    pub fn blob_with<'b>(
        &'b self,
        extra: &'b [StoredBlob],
        hash: &Hash,
        height: u64,
    ) -> Option<Cow<'b, StoredBlob>> {
        let retention = self.base.params.blob_retention_blocks;
        extra
            .iter()
            .chain(self.pending.iter().rev().flat_map(|d| d.blobs.iter()))
            .find(|b| b.hash == *hash)
            .map(Cow::Borrowed)
            .or_else(|| self.base.blob(hash))
            .filter(|b| b.height + retention > height)
    }

    /// Whether withdrawal `index` of rollup `id` was paid, with `extra` changes on top.
    pub fn claimed_with(&self, extra: &BTreeMap<u32, RollupDiff>, id: u32, index: u64) -> bool {
        self.base
            .rollup(id)
            .is_some_and(|r| r.claimed.contains(&index))
            || self
                .rollup_diffs(extra, id)
                .any(|d| d.claims.contains(&index))
    }

    /// The accounts root with `extra` writes on top of the view.
    pub fn accounts_root_with(&self, extra: &BTreeMap<PublicKey, Account>) -> Hash {
        let mut leaves = BTreeMap::new();
        let writes = self
            .pending
            .iter()
            .map(|d| &d.accounts)
            .chain(std::iter::once(extra));
        for map in writes {
            for (k, a) in map {
                leaves.insert(a.index, a.leaf(k));
            }
        }
        self.base.tree.root_with(&leaves)
    }
}
