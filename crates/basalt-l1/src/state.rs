//! Finalized L1 state, the diff one block makes, and views that stack unfinalized diffs on top.

use crate::block::{Block, Header, Receipt};
use crate::dispute::Dispute;
use crate::params::{Genesis, GenesisError, Params};
use crate::rollup::{
    BatchRecord, DepositRecord, OutputRecord, RestoreError, RollupDiff, RollupHeader, RollupState,
};
use basalt_merkle::{Blake3Hasher, MerkleTree, DEFAULT_DEPTH};
use basalt_types::codec::put_varint;
use basalt_types::{hash_parts, Amount, Encode, Hash, PublicKey};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// An L1 account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Account {
    /// Position of the account's leaf in the state tree, assigned at first credit.
    pub index: u32,
    /// Spendable balance.
    pub balance: Amount,
    /// Number of transactions sent.
    pub nonce: u64,
    /// Bonded stake.
    pub stake: Amount,
    /// Stake waiting for the next epoch boundary to return to the balance.
    pub unbonding: Amount,
}

impl Account {
    /// The account's leaf digest in the state tree.
    pub fn leaf(&self, key: &PublicKey) -> Hash {
        let mut bytes = Vec::with_capacity(96);
        key.encode_to(&mut bytes);
        put_varint(&mut bytes, self.balance);
        put_varint(&mut bytes, self.nonce as u128);
        put_varint(&mut bytes, self.stake);
        put_varint(&mut bytes, self.unbonding);
        Blake3Hasher::leaf(&bytes)
    }

    fn is_staker(&self) -> bool {
        self.stake > 0 || self.unbonding > 0
    }
}

/// A blob kept for data availability until its retention window passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    /// Digest of the data, as committed in the block's blob root.
    pub hash: Hash,
    /// Block that posted it.
    pub height: u64,
    /// Account that posted it.
    pub sender: PublicKey,
    /// The data.
    pub data: Vec<u8>,
}

/// Digest of blob data.
pub fn blob_hash(data: &[u8]) -> Hash {
    hash_parts("basalt/l1/blob", &[data])
}

/// Everything one block changed: applied to finalized state on finalization, and also the durable write set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateDiff {
    /// The block's header (the new head).
    pub header: Header,
    /// Every account the block wrote, with its final value.
    pub accounts: BTreeMap<PublicKey, Account>,
    /// Accounts created by the block, in index order.
    pub new_accounts: Vec<PublicKey>,
    /// The new committee, if the block closed an epoch.
    pub committee: Option<Vec<PublicKey>>,
    /// Blobs the block posted.
    pub blobs: Vec<StoredBlob>,
    /// Blobs from this height and below are pruned.
    pub prune_blobs_through: Option<u64>,
    /// Rollups the block registered or changed, by id.
    pub rollups: BTreeMap<u32, RollupDiff>,
    /// Fees burned by the block.
    pub burned: Amount,
    /// Receipts, in transaction order.
    pub receipts: Vec<Receipt>,
}

/// Finalized L1 state.
#[derive(Clone)]
pub struct L1State {
    chain_id: u64,
    params: Params,
    head: Header,
    accounts: HashMap<PublicKey, Account>,
    tree: MerkleTree<Blake3Hasher>,
    stakers: BTreeSet<PublicKey>,
    committee: Vec<PublicKey>,
    blobs: HashMap<Hash, StoredBlob>,
    blobs_by_height: BTreeMap<u64, Vec<Hash>>,
    rollups: Vec<RollupState>,
    /// Header digests of the rollups by id: the registry's root, updated per changed rollup.
    rollup_tree: MerkleTree<Blake3Hasher>,
    /// Rollups with an unsettled output or an open dispute: the only ones a block must visit.
    active_rollups: BTreeSet<u32>,
    rollup_names: HashMap<String, u32>,
    burned: Amount,
    genesis_supply: Amount,
}

/// The registry tree's leaf of a rollup header.
fn rollup_leaf(header: &RollupHeader) -> Hash {
    Blake3Hasher::leaf(&header.hash().0)
}

/// Whether a block's settlement step has anything to do for this rollup.
fn is_active(header: &RollupHeader, open_disputes: bool) -> bool {
    header.settled < header.output_count || open_disputes
}

/// Digest of a committee.
pub fn committee_hash(committee: &[PublicKey]) -> Hash {
    let parts: Vec<&[u8]> = committee.iter().map(|k| k.0.as_slice()).collect();
    hash_parts("basalt/l1/committee", &parts)
}

/// The state root a header commits to: accounts, committee and the rollup registry's root.
pub fn state_root(accounts_root: Hash, committee: &[PublicKey], rollups_root: Hash) -> Hash {
    hash_parts(
        "basalt/l1/state",
        &[
            &accounts_root.0,
            &committee_hash(committee).0,
            &rollups_root.0,
        ],
    )
}

/// The committee: top `max` stakers with at least `min_stake`, by stake then key; equal votes.
pub fn select_committee(
    stakes: impl Iterator<Item = (PublicKey, Amount)>,
    min_stake: Amount,
    max: u32,
) -> Vec<PublicKey> {
    let mut eligible: Vec<(PublicKey, Amount)> = stakes.filter(|(_, s)| *s >= min_stake).collect();
    eligible.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut committee: Vec<PublicKey> = eligible
        .into_iter()
        .take(max as usize)
        .map(|(k, _)| k)
        .collect();
    committee.sort();
    committee
}

impl L1State {
    /// Builds the genesis state and block.
    pub fn genesis(g: &Genesis) -> Result<(Self, Block), GenesisError> {
        g.params.validate()?;
        let mut accounts: BTreeMap<PublicKey, Account> = BTreeMap::new();
        let mut order = Vec::new();
        let mut supply: Amount = 0;
        for a in &g.accounts {
            if accounts.contains_key(&a.key) {
                return Err(GenesisError::Duplicate(a.key));
            }
            order.push(a.key);
            accounts.insert(
                a.key,
                Account {
                    balance: a.balance,
                    ..Default::default()
                },
            );
            supply = supply
                .checked_add(a.balance)
                .ok_or(GenesisError::SupplyOverflow)?;
        }
        let mut seen = BTreeSet::new();
        for v in &g.validators {
            if !seen.insert(v.key) {
                return Err(GenesisError::Duplicate(v.key));
            }
            let acc = accounts.entry(v.key).or_insert_with(|| {
                order.push(v.key);
                Account::default()
            });
            acc.stake = v.stake;
            supply = supply
                .checked_add(v.stake)
                .ok_or(GenesisError::SupplyOverflow)?;
        }
        let committee = select_committee(
            g.validators.iter().map(|v| (v.key, v.stake)),
            g.params.min_stake,
            g.params.max_validators,
        );
        if committee.is_empty() {
            return Err(GenesisError::NoValidators);
        }
        let mut tree = MerkleTree::new(DEFAULT_DEPTH);
        let mut by_key = HashMap::with_capacity(order.len());
        for (i, key) in order.iter().enumerate() {
            let mut acc = accounts[key];
            acc.index = i as u32;
            tree.set(acc.index, acc.leaf(key));
            by_key.insert(*key, acc);
        }
        tree.commit();
        let stakers = by_key
            .iter()
            .filter(|(_, a)| a.is_staker())
            .map(|(k, _)| *k)
            .collect();
        let header = Header {
            chain_id: g.chain_id,
            height: 0,
            parent: Hash::ZERO,
            timestamp_ms: g.timestamp_ms,
            proposer: PublicKey::default(),
            state_root: state_root(
                tree.root(),
                &committee,
                MerkleTree::<Blake3Hasher>::new(DEFAULT_DEPTH).root(),
            ),
            tx_root: Hash::ZERO,
            blob_root: Hash::ZERO,
            receipts_root: Hash::ZERO,
            gas_used: 0,
            base_fee_per_gas: g.params.initial_base_fee,
            blob_bytes: 0,
            blob_base_fee: g.params.initial_blob_base_fee,
        };
        let state = L1State {
            chain_id: g.chain_id,
            params: g.params.clone(),
            head: header.clone(),
            accounts: by_key,
            tree,
            stakers,
            committee,
            blobs: HashMap::new(),
            blobs_by_height: BTreeMap::new(),
            rollups: Vec::new(),
            rollup_tree: MerkleTree::new(DEFAULT_DEPTH),
            active_rollups: BTreeSet::new(),
            rollup_names: HashMap::new(),
            burned: 0,
            genesis_supply: supply,
        };
        Ok((
            state,
            Block {
                header,
                txs: Vec::new(),
            },
        ))
    }

    /// Chain id.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// Consensus parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Header of the last finalized block.
    pub fn head(&self) -> &Header {
        &self.head
    }

    /// An account, if it exists.
    pub fn account(&self, key: &PublicKey) -> Option<Account> {
        self.accounts.get(key).copied()
    }

    /// Every account, in no particular order.
    pub fn all_accounts(&self) -> impl Iterator<Item = (PublicKey, Account)> + '_ {
        self.accounts.iter().map(|(k, a)| (*k, *a))
    }

    /// Number of accounts.
    pub fn account_count(&self) -> usize {
        self.accounts.len()
    }

    /// The current committee, sorted by key.
    pub fn committee(&self) -> &[PublicKey] {
        &self.committee
    }

    /// Every account with stake or unbonding stake.
    pub fn stakers(&self) -> impl Iterator<Item = (PublicKey, Account)> + '_ {
        self.stakers.iter().map(|k| (*k, self.accounts[k]))
    }

    /// A retained blob by digest.
    pub fn blob(&self, hash: &Hash) -> Option<&StoredBlob> {
        self.blobs.get(hash)
    }

    /// Number of retained blobs.
    pub fn blob_count(&self) -> usize {
        self.blobs.len()
    }

    /// Total fees burned since genesis.
    pub fn burned(&self) -> Amount {
        self.burned
    }

    /// Supply created at genesis; balances, stake and burns always add up to it.
    pub fn genesis_supply(&self) -> Amount {
        self.genesis_supply
    }

    /// Sum of balances, stake and unbonding stake over all accounts, plus what rollups escrow and
    /// the proposer bonds they hold.
    pub fn circulating(&self) -> Amount {
        let accounts: Amount = self
            .accounts
            .values()
            .map(|a| a.balance + a.stake + a.unbonding)
            .sum();
        let rollups: Amount = self
            .rollups
            .iter()
            .map(|r| r.header.escrow + r.header.bonds)
            .sum();
        accounts + rollups
    }

    /// Every registered rollup, by id.
    pub fn rollups(&self) -> &[RollupState] {
        &self.rollups
    }

    /// A rollup by id.
    pub fn rollup(&self, id: u32) -> Option<&RollupState> {
        self.rollups.get(id as usize)
    }

    /// A rollup by name.
    pub fn rollup_by_name(&self, name: &str) -> Option<&RollupState> {
        self.rollups.get(*self.rollup_names.get(name)? as usize)
    }

    /// Root of the rollup registry: the tree of rollup header digests by id.
    pub fn rollups_root(&self) -> Hash {
        self.rollup_tree.root()
    }

    /// Root of the accounts tree.
    pub fn accounts_root(&self) -> Hash {
        self.tree.root()
    }

    /// A Merkle proof of an account's leaf against the accounts root.
    pub fn account_proof(&self, key: &PublicKey) -> Option<basalt_merkle::MerkleProof<Hash>> {
        self.accounts.get(key).map(|a| self.tree.proof(a.index))
    }

    /// Applies the diff of the next block. Panics if the diff does not build on the head: the caller
    /// only applies diffs it executed against this state.
    pub fn apply(&mut self, diff: &StateDiff) {
        assert_eq!(
            diff.header.parent,
            self.head.hash(),
            "diff does not extend the head"
        );
        for key in &diff.new_accounts {
            debug_assert!(!self.accounts.contains_key(key));
        }
        for (key, acc) in &diff.accounts {
            self.accounts.insert(*key, *acc);
            self.tree.set(acc.index, acc.leaf(key));
            if acc.is_staker() {
                self.stakers.insert(*key);
            } else {
                self.stakers.remove(key);
            }
        }
        self.tree.commit();
        if let Some(c) = &diff.committee {
            self.committee = c.clone();
        }
        for (id, r) in &diff.rollups {
            let i = *id as usize;
            if i == self.rollups.len() {
                self.rollups.push(RollupState::new(r.header.clone()));
                self.rollup_names.insert(r.header.params.name.clone(), *id);
            }
            self.rollups[i].apply(r);
            let rollup = &self.rollups[i];
            self.rollup_tree.set(*id, rollup_leaf(&rollup.header));
            if is_active(&rollup.header, !rollup.open.is_empty()) {
                self.active_rollups.insert(*id);
            } else {
                self.active_rollups.remove(id);
            }
        }
        self.rollup_tree.commit();
        for b in &diff.blobs {
            self.blobs_by_height
                .entry(b.height)
                .or_default()
                .push(b.hash);
            self.blobs.insert(b.hash, b.clone());
        }
        if let Some(through) = diff.prune_blobs_through {
            let keep = self.blobs_by_height.split_off(&(through + 1));
            for hashes in std::mem::replace(&mut self.blobs_by_height, keep).into_values() {
                for h in hashes {
                    // The same data posted again later is kept until its own window passes.
                    if self.blobs.get(&h).is_some_and(|b| b.height <= through) {
                        self.blobs.remove(&h);
                    }
                }
            }
        }
        self.burned += diff.burned;
        self.head = diff.header.clone();
        debug_assert_eq!(
            state_root(self.tree.root(), &self.committee, self.rollup_tree.root()),
            self.head.state_root
        );
    }

    /// Rebuilds state from its parts, as a store recovers it after a restart.
    #[allow(clippy::too_many_arguments)]
    pub fn restore(
        chain_id: u64,
        params: Params,
        head: Header,
        accounts: Vec<(PublicKey, Account)>,
        committee: Vec<PublicKey>,
        blobs: Vec<StoredBlob>,
        rollups: Vec<RollupState>,
        burned: Amount,
        genesis_supply: Amount,
    ) -> Result<Self, RestoreError> {
        for (i, r) in rollups.iter().enumerate() {
            if r.header.id as usize != i {
                return Err(RestoreError::RollupOutOfPlace {
                    position: i as u64,
                    id: r.header.id,
                });
            }
            r.check()?;
        }
        let mut tree = MerkleTree::new(DEFAULT_DEPTH);
        let mut map = HashMap::with_capacity(accounts.len());
        let mut stakers = BTreeSet::new();
        for (key, acc) in accounts {
            tree.set(acc.index, acc.leaf(&key));
            if acc.is_staker() {
                stakers.insert(key);
            }
            map.insert(key, acc);
        }
        tree.commit();
        let mut rollup_tree = MerkleTree::new(DEFAULT_DEPTH);
        let mut active_rollups = BTreeSet::new();
        let mut rollup_names = HashMap::with_capacity(rollups.len());
        for r in &rollups {
            rollup_tree.set(r.header.id, rollup_leaf(&r.header));
            rollup_names.insert(r.header.params.name.clone(), r.header.id);
            if is_active(&r.header, !r.open.is_empty()) {
                active_rollups.insert(r.header.id);
            }
        }
        rollup_tree.commit();
        if state_root(tree.root(), &committee, rollup_tree.root()) != head.state_root {
            return Err(RestoreError::StateRootMismatch);
        }
        let mut blobs_by_height: BTreeMap<u64, Vec<Hash>> = BTreeMap::new();
        let mut by_hash = HashMap::new();
        for b in blobs {
            blobs_by_height.entry(b.height).or_default().push(b.hash);
            by_hash.insert(b.hash, b);
        }
        Ok(L1State {
            chain_id,
            params,
            head,
            accounts: map,
            tree,
            stakers,
            committee,
            blobs: by_hash,
            blobs_by_height,
            rollups,
            rollup_tree,
            active_rollups,
            rollup_names,
            burned,
            genesis_supply,
        })
    }
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
        for d in self.rollup_diffs(extra, id).rev() {
            if let Some(found) = d.disputes.get(&dispute) {
                return Some(found.clone());
            }
        }
        self.base
            .rollup(id)?
            .disputes
            .get(dispute as usize)
            .cloned()
    }

    /// The dispute over proposal `proposal` of rollup `id`, with `extra` changes on top.
    pub fn dispute_over_with(
        &self,
        extra: &BTreeMap<u32, RollupDiff>,
        id: u32,
        proposal: u64,
    ) -> Option<Dispute> {
        for d in self.rollup_diffs(extra, id).rev() {
            if let Some(found) = d.disputes.values().find(|x| x.proposal == proposal) {
                return Some(found.clone());
            }
        }
        self.base.rollup(id)?.dispute_over(proposal).cloned()
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
    ) -> Option<&'b StoredBlob> {
        let retention = self.base.params.blob_retention_blocks;
        extra
            .iter()
            .chain(self.pending.iter().rev().flat_map(|d| d.blobs.iter()))
            .find(|b| b.hash == *hash)
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
