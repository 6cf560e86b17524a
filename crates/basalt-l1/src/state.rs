//! Finalized L1 state, the diff one block makes, and views that stack unfinalized diffs on top.

use crate::blobs::{BlobSource, Blobs};
use crate::block::{Block, Header, Receipt};
use crate::bridge::{wake_height, RestoreError, RollupDiff, RollupHeader, RollupState};
use crate::params::{Genesis, GenesisError, Params};
use crate::view::{Layer, StateRead};
use basalt_merkle::{Blake3Hasher, MerkleTree, DEFAULT_DEPTH};
use basalt_types::codec::put_varint;
use basalt_types::{hash_parts, Amount, Encode, Hash, PublicKey};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

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

    pub(crate) fn is_staker(&self) -> bool {
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
    pub(crate) chain_id: u64,
    pub(crate) params: Params,
    pub(crate) head: Header,
    pub(crate) accounts: HashMap<PublicKey, Account>,
    pub(crate) tree: MerkleTree<Blake3Hasher>,
    pub(crate) stakers: BTreeSet<PublicKey>,
    pub(crate) committee: Vec<PublicKey>,
    pub(crate) blobs: Blobs,
    pub(crate) rollups: Vec<RollupState>,
    /// Header digests of the rollups by id: the registry's root, updated per changed rollup.
    pub(crate) rollup_tree: MerkleTree<Blake3Hasher>,
    /// `(wake height, rollup)` for every rollup settlement will have work for: a block visits
    /// only those due at its height.
    pub(crate) wakes: BTreeSet<(u64, u32)>,
    /// Each scheduled rollup's wake height.
    pub(crate) wake_of: HashMap<u32, u64>,
    pub(crate) rollup_names: HashMap<String, u32>,
    pub(crate) burned: Amount,
    pub(crate) genesis_supply: Amount,
}

/// The registry tree's leaf of a rollup header.
pub(crate) fn rollup_leaf(header: &RollupHeader) -> Hash {
    Blake3Hasher::leaf(&header.hash().0)
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
            blobs: Blobs::default(),
            rollups: Vec::new(),
            rollup_tree: MerkleTree::new(DEFAULT_DEPTH),
            wakes: BTreeSet::new(),
            wake_of: HashMap::new(),
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

    /// A retained blob by digest (read from the blob source, if the state has one).
    pub fn blob(&self, hash: &Hash) -> Option<Cow<'_, StoredBlob>> {
        self.blobs.get(hash)
    }

    /// Retained blobs held in memory: none when the state reads them from a source.
    pub fn blobs_in_memory(&self) -> usize {
        self.blobs.in_memory()
    }

    /// This state, reading its retained blobs from `source` from now on. The source must hold
    /// every retained blob of this state and of each diff applied to it, pruned as they are.
    pub fn with_blob_source(mut self, source: Arc<dyn BlobSource>) -> Self {
        self.blobs = Blobs::Source(source);
        self
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
            self.rollup_tree
                .set(*id, rollup_leaf(&self.rollups[i].header));
        }
        self.rollup_tree.commit();
        // The block visited every rollup due at its height: each changed one, or did nothing
        // (never expected, but then it must not stay due forever unseen).
        let visited: Vec<u32> = self
            .wakes
            .range(..=(diff.header.height, u32::MAX))
            .map(|(_, id)| *id)
            .collect();
        for id in diff.rollups.keys().copied().chain(visited) {
            self.reschedule(id);
        }
        self.blobs.insert(&diff.blobs);
        if let Some(through) = diff.prune_blobs_through {
            self.blobs.prune(through);
        }
        self.burned += diff.burned;
        self.head = diff.header.clone();
        debug_assert_eq!(
            state_root(self.tree.root(), &self.committee, self.rollup_tree.root()),
            self.head.state_root
        );
    }

    /// Puts rollup `id` at its wake height in the settlement schedule, or takes it out.
    fn reschedule(&mut self, id: u32) {
        if let Some(old) = self.wake_of.remove(&id) {
            self.wakes.remove(&(old, id));
        }
        if let Some(at) = wake_height(self, id) {
            self.wakes.insert((at, id));
            self.wake_of.insert(id, at);
        }
    }

    /// How many rollups the settlement schedule holds: those waiting on a window or a dispute.
    pub fn scheduled_rollups(&self) -> usize {
        self.wakes.len()
    }

    /// Rebuilds state from its parts, as a store recovers it after a restart.
    #[allow(clippy::too_many_arguments)]
    pub fn restore(
        chain_id: u64,
        params: Params,
        head: Header,
        accounts: Vec<(PublicKey, Account)>,
        committee: Vec<PublicKey>,
        blobs: Blobs,
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
        let mut rollup_names = HashMap::with_capacity(rollups.len());
        for r in &rollups {
            rollup_tree.set(r.header.id, rollup_leaf(&r.header));
            rollup_names.insert(r.header.params.name.clone(), r.header.id);
        }
        rollup_tree.commit();
        if state_root(tree.root(), &committee, rollup_tree.root()) != head.state_root {
            return Err(RestoreError::StateRootMismatch);
        }
        let mut state = L1State {
            chain_id,
            params,
            head,
            accounts: map,
            tree,
            stakers,
            committee,
            blobs,
            rollups,
            rollup_tree,
            wakes: BTreeSet::new(),
            wake_of: HashMap::new(),
            rollup_names,
            burned,
            genesis_supply,
        };
        for id in 0..state.rollups.len() as u32 {
            state.reschedule(id);
        }
        Ok(state)
    }
}

/// Finalized state read with no layer on it.
impl StateRead for L1State {
    fn base(&self) -> &L1State {
        self
    }

    fn layers(&self) -> impl DoubleEndedIterator<Item = Layer<'_>> + Clone {
        std::iter::empty()
    }
}
