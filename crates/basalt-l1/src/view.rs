//! Reading state through layers of unfinalized changes: finalized state with the diffs of the
//! blocks not yet finalized stacked on it ([`StateView`]), and, while a block is built, that
//! block's own changes on top ([`crate::BlockOverlay`]). Every read is written once, in
//! [`StateRead`], over the layers; nothing copies the state.

use crate::block::Header;
use crate::bridge::{BatchRecord, DepositRecord, OutputRecord, RollupDiff, RollupHeader};
use crate::dispute::{Dispute, DisputeResult};
use crate::state::{rollup_leaf, Account, L1State, StateDiff, StoredBlob};
use basalt_merkle::{Blake3Hasher, MerkleTree, DEFAULT_DEPTH};
use basalt_types::{Hash, PublicKey};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

/// One block's changes, as reads see them.
#[derive(Clone, Copy)]
pub struct Layer<'a> {
    /// Accounts written, with their values after the block.
    pub accounts: &'a BTreeMap<PublicKey, Account>,
    /// How many accounts the block created.
    pub new_accounts: usize,
    /// Blobs posted.
    pub blobs: &'a [StoredBlob],
    /// Rollups registered or changed.
    pub rollups: &'a BTreeMap<u32, RollupDiff>,
}

impl<'a> From<&'a StateDiff> for Layer<'a> {
    fn from(d: &'a StateDiff) -> Self {
        Layer {
            accounts: &d.accounts,
            new_accounts: d.new_accounts.len(),
            blobs: &d.blobs,
            rollups: &d.rollups,
        }
    }
}

/// Reads of L1 state through finalized state and layers of changes on it. Implementors give the
/// base and the layers; every read is provided.
pub trait StateRead {
    /// The finalized base.
    fn base(&self) -> &L1State;

    /// The layers of changes on the base, oldest first.
    fn layers(&self) -> impl DoubleEndedIterator<Item = Layer<'_>> + Clone;

    /// An account, newest layer first.
    fn account(&self, key: &PublicKey) -> Option<Account> {
        self.layers()
            .rev()
            .find_map(|l| l.accounts.get(key).copied())
            .or_else(|| self.base().account(key))
    }

    /// The index the next new account gets.
    fn next_index(&self) -> u64 {
        self.base().accounts.len() as u64
            + self.layers().map(|l| l.new_accounts as u64).sum::<u64>()
    }

    /// Every staker with its account.
    fn stakers(&self) -> BTreeMap<PublicKey, Account> {
        let mut out: BTreeMap<PublicKey, Account> = self.base().stakers().collect();
        for layer in self.layers() {
            for (k, a) in layer.accounts {
                if a.is_staker() {
                    out.insert(*k, *a);
                } else {
                    out.remove(k);
                }
            }
        }
        out
    }

    /// The accounts root.
    fn accounts_root(&self) -> Hash {
        let mut leaves = BTreeMap::new();
        for layer in self.layers() {
            for (k, a) in layer.accounts {
                leaves.insert(a.index, a.leaf(k));
            }
        }
        self.base().tree.root_with(&leaves)
    }

    /// A rollup's header.
    fn rollup(&self, id: u32) -> Option<RollupHeader> {
        self.layers()
            .rev()
            .find_map(|l| l.rollups.get(&id).map(|r| r.header.clone()))
            .or_else(|| self.base().rollup(id).map(|r| r.header.clone()))
    }

    /// The rollups changed in the layers, with their newest headers.
    fn changed_rollups(&self) -> BTreeMap<u32, &RollupHeader> {
        let mut changed = BTreeMap::new();
        for layer in self.layers() {
            for (id, r) in layer.rollups {
                changed.insert(*id, &r.header);
            }
        }
        changed
    }

    /// How many rollups are registered.
    fn rollup_count(&self) -> u64 {
        let base = self.base().rollups.len() as u64;
        self.changed_rollups()
            .keys()
            .next_back()
            .map_or(base, |id| base.max(*id as u64 + 1))
    }

    /// Whether a rollup of this name is registered.
    fn rollup_name_taken(&self, name: &str) -> bool {
        self.base().rollup_names.contains_key(name)
            || self
                .changed_rollups()
                .values()
                .any(|h| h.params.name == name)
    }

    /// The registry root: work in proportion to the rollups changed, not to those registered.
    fn rollups_root(&self) -> Hash {
        let updates: BTreeMap<u32, Hash> = self
            .changed_rollups()
            .into_iter()
            .map(|(id, h)| (id, rollup_leaf(h)))
            .collect();
        self.base().rollup_tree.root_with(&updates)
    }

    /// The diffs of rollup `id` in the layers, oldest first.
    fn rollup_diffs(&self, id: u32) -> impl DoubleEndedIterator<Item = &RollupDiff> {
        self.layers().filter_map(move |l| l.rollups.get(&id))
    }

    /// Deposit `index` of rollup `id`'s queue.
    fn deposit(&self, id: u32, index: u64) -> Option<DepositRecord> {
        let base = self.base().rollup(id);
        appended(base.map(|r| &r.deposits[..]), index, || {
            self.rollup_diffs(id).map(|d| &d.deposits[..])
        })
    }

    /// Batch `batch` of rollup `id`.
    fn batch(&self, id: u32, batch: u64) -> Option<BatchRecord> {
        let base = self.base().rollup(id);
        appended(base.map(|r| &r.batches[..]), batch, || {
            self.rollup_diffs(id).map(|d| &d.batches[..])
        })
    }

    /// Proposal `proposal` of rollup `id`.
    fn proposal(&self, id: u32, proposal: u64) -> Option<OutputRecord> {
        let base = self.base().rollup(id);
        appended(base.map(|r| &r.proposals[..]), proposal, || {
            self.rollup_diffs(id).map(|d| &d.proposals[..])
        })
    }

    /// The proposal id of the live output of `batch` of rollup `id`.
    fn chain_entry(&self, id: u32, batch: u64) -> Option<u64> {
        for d in self.rollup_diffs(id).rev() {
            if let Some(update) = &d.chain {
                if batch >= update.keep {
                    return update.append.get((batch - update.keep) as usize).copied();
                }
            }
        }
        self.base().rollup(id)?.chain.get(batch as usize).copied()
    }

    /// The live output of `batch` of rollup `id`, with its proposal id.
    fn output(&self, id: u32, batch: u64) -> Option<(u64, OutputRecord)> {
        let proposal = self.chain_entry(id, batch)?;
        Some((proposal, self.proposal(id, proposal)?))
    }

    /// Dispute `dispute` of rollup `id`, borrowed: sizing a dispute (to price it) copies nothing.
    fn dispute(&self, id: u32, dispute: u64) -> Option<&Dispute> {
        self.rollup_diffs(id)
            .rev()
            .find_map(|d| d.disputes.get(&dispute))
            .or_else(|| Some(&**self.base().rollup(id)?.disputes.get(dispute as usize)?))
    }

    /// The dispute over proposal `proposal` of rollup `id`.
    fn dispute_over(&self, id: u32, proposal: u64) -> Option<&Dispute> {
        self.rollup_diffs(id)
            .rev()
            .find_map(|d| d.disputes.values().find(|x| x.proposal == proposal))
            .or_else(|| self.base().rollup(id)?.dispute_over(proposal))
    }

    /// Whether `output` on `prior` for `batch` of rollup `id` was removed by a dispute.
    fn proven_wrong(&self, id: u32, batch: u64, prior: &Hash, output: &Hash) -> bool {
        self.rollup_diffs(id).any(|d| {
            d.disputes.values().any(|x| {
                matches!(x.result, Some(DisputeResult::Removed { .. }))
                    && (x.batch, x.prior, x.output) == (batch, *prior, *output)
            })
        }) || self
            .base()
            .rollup(id)
            .is_some_and(|r| r.proven_wrong(batch, prior, output))
    }

    /// Ids of the disputes of rollup `id` still being played.
    fn open_disputes(&self, id: u32) -> Vec<u64> {
        let mut open: BTreeSet<u64> = self
            .base()
            .rollup(id)
            .map(|r| r.open.clone())
            .unwrap_or_default();
        for d in self.rollup_diffs(id) {
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

    /// Whether withdrawal `index` of rollup `id` was paid.
    fn claimed(&self, id: u32, index: u64) -> bool {
        self.base()
            .rollup(id)
            .is_some_and(|r| r.claimed.contains(&index))
            || self.rollup_diffs(id).any(|d| d.claims.contains(&index))
    }

    /// The chain and dispute roots of rollup `id`. The newest layer's header holds the chain
    /// length after its changes.
    fn rollup_roots(&self, id: u32) -> (Hash, Hash) {
        let (mut chain, mut disputes) = (BTreeMap::new(), BTreeMap::new());
        let base = self.base().rollup(id);
        let mut len = base.map_or(0, |r| r.chain.len() as u64);
        for d in self.rollup_diffs(id) {
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

    /// The first height at which settlement has work for rollup `id` without a transaction.
    fn wake_height(&self, id: u32) -> Option<u64>
    where
        Self: Sized,
    {
        crate::bridge::wake_height(self, id)
    }

    /// The rollups a block at `height` settles, in id order: only those due then.
    fn due_rollups(&self, height: u64) -> Vec<u32>
    where
        Self: Sized,
    {
        crate::bridge::due_rollups(self, height)
    }

    /// A blob posted at most the retention window before `height`, newest layer first. Older
    /// blobs are gone for every node alike.
    fn blob(&self, hash: &Hash, height: u64) -> Option<Cow<'_, StoredBlob>> {
        let retention = self.base().params.blob_retention_blocks;
        self.layers()
            .rev()
            .flat_map(|l| l.blobs.iter())
            .find(|b| b.hash == *hash)
            .map(Cow::Borrowed)
            .or_else(|| self.base().blob(hash))
            .filter(|b| b.height + retention > height)
    }
}

/// Item `index` of an append-only list kept as `base` then one slice per layer.
fn appended<'a, T: Clone + 'a, I: Iterator<Item = &'a [T]>>(
    base: Option<&'a [T]>,
    index: u64,
    layers: impl FnOnce() -> I,
) -> Option<T> {
    let mut start = base.map_or(0, |b| b.len() as u64);
    if index < start {
        return base?.get(index as usize).cloned();
    }
    for items in layers() {
        let end = start + items.len() as u64;
        if index < end {
            return items.get((index - start) as usize).cloned();
        }
        start = end;
    }
    None
}

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

    /// Header of the newest block in the view.
    pub fn head(&self) -> &Header {
        self.pending.last().map_or(&self.base.head, |d| &d.header)
    }

    /// The committee as of the newest block.
    pub fn committee(&self) -> &[PublicKey] {
        self.pending
            .iter()
            .rev()
            .find_map(|d| d.committee.as_deref())
            .unwrap_or(&self.base.committee)
    }
}

impl StateRead for StateView<'_> {
    fn base(&self) -> &L1State {
        self.base
    }

    fn layers(&self) -> impl DoubleEndedIterator<Item = Layer<'_>> + Clone {
        self.pending.iter().map(|d| Layer::from(*d))
    }
}
