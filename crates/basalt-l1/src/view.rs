//! Reading state through layers of unfinalized changes: finalized state with the diffs of the
//! blocks not yet finalized stacked on it ([`StateView`]), and, while a block is built, that
//! block's own changes on top ([`crate::BlockOverlay`]). Every read is written once, in
//! [`StateRead`], over the layers; nothing copies the state.

use crate::block::Header;
use crate::bridge::{BatchRecord, DepositRecord, OutputRecord, RollupDiff, RollupHeader};
use crate::dispute::{Dispute, LayeredTree};
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

    /// The proposal id of the settled output of `batch` of rollup `id`.
    fn chain_entry(&self, id: u32, batch: u64) -> Option<u64> {
        let base = self.base().rollup(id);
        appended(base.map(|r| &r.chain[..]), batch, || {
            self.rollup_diffs(id).map(|d| &d.chain[..])
        })
    }

    /// The settled output of `batch` of rollup `id`, with its proposal id.
    fn output(&self, id: u32, batch: u64) -> Option<(u64, OutputRecord)> {
        let proposal = self.chain_entry(id, batch)?;
        Some((proposal, self.proposal(id, proposal)?))
    }

    /// The output a proposal of `batch` of rollup `id` builds on once `batch - 1` has settled:
    /// the genesis output for batch 0.
    fn settled_prior(&self, id: u32, batch: u64) -> Option<Hash> {
        match batch.checked_sub(1) {
            None => self.rollup(id).map(|h| h.genesis_output),
            Some(previous) => self.output(id, previous).map(|(_, o)| o.output),
        }
    }

    /// The dispute record of proposal `proposal` of rollup `id`, newest layer first.
    fn dispute(&self, id: u32, proposal: u64) -> Option<Dispute> {
        self.rollup_diffs(id)
            .rev()
            .find_map(|d| d.disputes.get(&proposal).copied())
            .or_else(|| {
                self.base()
                    .rollup(id)?
                    .disputes
                    .get(proposal as usize)
                    .copied()
            })
    }

    /// The claim tree of proposal `proposal` of rollup `id`, read through the layers.
    fn tree(&self, id: u32, proposal: u64) -> Option<LayeredTree<'_>> {
        let rules = self.dispute(id, proposal)?.rules;
        let base = self
            .base()
            .rollup(id)
            .and_then(|r| r.trees.get(proposal as usize))
            .map(|t| &**t);
        let layers = self
            .rollup_diffs(id)
            .filter_map(|d| d.tree_claims.get(&proposal).map(|c| &c[..]))
            .collect();
        Some(LayeredTree::new(rules, base, layers))
    }

    /// Whether this very (batch, prior, output) was proposed to rollup `id` before.
    fn was_proposed(&self, id: u32, batch: u64, prior: &Hash, output: &Hash) -> bool {
        self.base()
            .rollup(id)
            .is_some_and(|r| r.was_proposed(batch, prior, output))
            || self.rollup_diffs(id).any(|d| {
                d.proposals
                    .iter()
                    .any(|p| (p.batch, p.prior, p.output) == (batch, *prior, *output))
            })
    }

    /// Whether some proposal of `batch` of rollup `id` claims `output`.
    fn output_proposed(&self, id: u32, batch: u64, output: &Hash) -> bool {
        self.base()
            .rollup(id)
            .is_some_and(|r| r.output_proposed(batch, output))
            || self.rollup_diffs(id).any(|d| {
                d.proposals
                    .iter()
                    .any(|p| (p.batch, p.output) == (batch, *output))
            })
    }

    /// The lowest-id upheld proposal of `batch` of rollup `id` built on `prior`.
    fn first_upheld(&self, id: u32, batch: u64, prior: &Hash) -> Option<u64> {
        // A record resolves once; one upheld in a layer was unresolved in the base.
        let base = self
            .base()
            .rollup(id)
            .and_then(|r| r.upheld_on(batch, prior).next());
        let layers = self.rollup_diffs(id).flat_map(|d| {
            d.disputes
                .values()
                .filter(|x| x.upheld() && x.batch == batch && x.rules.prior == *prior)
                .map(|x| x.proposal)
        });
        base.into_iter().chain(layers).min()
    }

    /// The unresolved proposals of rollup `id` whose trees resolve by `height`, in id order.
    fn resolvable(&self, id: u32, height: u64) -> Vec<u64> {
        let changed = self.changed_disputes(id);
        let mut due: BTreeSet<u64> = self
            .base()
            .rollup(id)
            .into_iter()
            .flat_map(|r| r.unresolved.range(..=(height, u64::MAX)))
            .map(|(_, p)| *p)
            .filter(|p| !changed.contains_key(p))
            .collect();
        due.extend(
            changed
                .values()
                .filter(|d| d.result.is_none() && d.resolvable_at <= height)
                .map(|d| d.proposal),
        );
        due.into_iter().collect()
    }

    /// The first height at which an unresolved tree of rollup `id` resolves.
    fn next_resolution(&self, id: u32) -> Option<u64> {
        let changed = self.changed_disputes(id);
        let base = self.base().rollup(id).and_then(|r| {
            r.unresolved
                .iter()
                .find(|(_, p)| !changed.contains_key(p))
                .map(|(at, _)| *at)
        });
        let layers = changed
            .values()
            .filter(|d| d.result.is_none())
            .map(|d| d.resolvable_at);
        base.into_iter().chain(layers).min()
    }

    /// The dispute records of rollup `id` changed in the layers, newest state of each.
    fn changed_disputes(&self, id: u32) -> BTreeMap<u64, Dispute> {
        let mut out = BTreeMap::new();
        for d in self.rollup_diffs(id) {
            out.extend(d.disputes.iter().map(|(k, v)| (*k, *v)));
        }
        out
    }

    /// Whether withdrawal `index` of rollup `id` was paid.
    fn claimed(&self, id: u32, index: u64) -> bool {
        self.base()
            .rollup(id)
            .is_some_and(|r| r.claimed.contains(&index))
            || self.rollup_diffs(id).any(|d| d.claims.contains(&index))
    }

    /// The chain and dispute roots of rollup `id`.
    fn rollup_roots(&self, id: u32) -> (Hash, Hash) {
        let (mut chain, mut disputes) = (BTreeMap::new(), BTreeMap::new());
        let base = self.base().rollup(id);
        let mut len = base.map_or(0, |r| r.chain.len() as u32);
        for d in self.rollup_diffs(id) {
            for p in &d.chain {
                chain.insert(len, crate::bridge::chain_leaf(*p));
                len += 1;
            }
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
