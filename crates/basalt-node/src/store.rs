//! Durable L1 state in redb.
//!
//! Each finalized block is committed in one write transaction with [`Durability::Immediate`]: the
//! block's [`StateDiff`] is exactly the write set (accounts, committee, blobs and pruning, rollup
//! headers, the items appended to their lists (settled outputs and tree claims among them), the
//! rewritten dispute records, burned fees, the new head, receipts and the transaction index). A crash leaves either the previous block's state or
//! this one's, never a mix; on open, the stored accounts are checked against the head's state root.
//! Retained blobs stay on disk: the state reads them from here on demand and holds none in memory,
//! whatever the retention window.

use basalt_l1::{
    Account, BatchRecord, BlobSource, Blobs, Block, Claim, DepositRecord, Dispute, Header, L1State,
    OutputRecord, Receipt, RollupHeader, RollupState, StateDiff, StoredBlob,
};
use basalt_types::{Decode, Encode, Hash, PublicKey};
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};
use std::path::Path;
use std::sync::Arc;

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const ACCOUNTS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("accounts");
const BLOBS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("blobs");
/// Key: height (big-endian) then blob hash, so pruning is a range delete.
const BLOBS_BY_HEIGHT: TableDefinition<&[u8; 40], ()> = TableDefinition::new("blobs_by_height");
const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
const BLOCK_HEIGHTS: TableDefinition<&[u8; 32], u64> = TableDefinition::new("block_heights");
/// Key: transaction id; value: height, index in block, encoded receipt.
const TXS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("txs");
/// Rollup id -> encoded [`RollupHeader`].
const ROLLUPS: TableDefinition<u32, &[u8]> = TableDefinition::new("rollups");
/// (rollup id, list, position) -> encoded item of that rollup list (see [`item_key`]).
const ROLLUP_ITEMS: TableDefinition<&[u8; 13], &[u8]> = TableDefinition::new("rollup_items");

/// The rollup lists kept in [`ROLLUP_ITEMS`].
#[derive(Clone, Copy)]
#[repr(u8)]
enum RollupList {
    Deposits = 0,
    Batches = 1,
    Proposals = 2,
    Claims = 3,
    /// Position = batch; value = the proposal id of its settled output.
    Chain = 4,
    /// Position = proposal id; value = its dispute record's latest state.
    Disputes = 5,
    /// Position = proposal id in the high 32 bits, claim index in the low; value = the claim.
    TreeClaims = 6,
}

fn item_key(id: u32, list: RollupList, position: u64) -> [u8; 13] {
    let mut k = [0u8; 13];
    k[..4].copy_from_slice(&id.to_be_bytes());
    k[4] = list as u8;
    k[5..].copy_from_slice(&position.to_be_bytes());
    k
}

/// Storage failures.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// redb failed.
    #[error("database: {0}")]
    Db(String),
    /// Stored bytes did not decode: the database is corrupt or from another version.
    #[error(
        "corrupt store, or one written by another version of basalt (start over with --fresh): {0}"
    )]
    Corrupt(String),
    /// Stored state does not match its own commitments.
    #[error("corrupt store: {0}")]
    Mismatch(#[from] basalt_l1::RestoreError),
    /// The data directory belongs to a different chain.
    #[error("data directory holds chain with genesis {stored}, not {expected}: use another --data-dir or --fresh")]
    WrongGenesis {
        /// Stored genesis hash.
        stored: Hash,
        /// Expected genesis hash.
        expected: Hash,
    },
}

macro_rules! db_err {
    ($($t:ty),*) => {$(impl From<$t> for StoreError {
        fn from(e: $t) -> Self { StoreError::Db(e.to_string()) }
    })*};
}
db_err!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError
);

fn encode_account(a: &Account) -> [u8; 60] {
    let mut out = [0u8; 60];
    out[0..4].copy_from_slice(&a.index.to_le_bytes());
    out[4..20].copy_from_slice(&a.balance.to_le_bytes());
    out[20..28].copy_from_slice(&a.nonce.to_le_bytes());
    out[28..44].copy_from_slice(&a.stake.to_le_bytes());
    out[44..60].copy_from_slice(&a.unbonding.to_le_bytes());
    out
}

fn decode_account(b: &[u8]) -> Result<Account, StoreError> {
    if b.len() != 60 {
        return Err(StoreError::Corrupt("account record length".into()));
    }
    let u128_at = |i: usize| u128::from_le_bytes(b[i..i + 16].try_into().expect("16 bytes"));
    Ok(Account {
        index: u32::from_le_bytes(b[0..4].try_into().expect("4 bytes")),
        balance: u128_at(4),
        nonce: u64::from_le_bytes(b[20..28].try_into().expect("8 bytes")),
        stake: u128_at(28),
        unbonding: u128_at(44),
    })
}

fn encode_blob(b: &StoredBlob) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.data.len() + 48);
    out.extend_from_slice(&b.height.to_le_bytes());
    out.extend_from_slice(&b.sender.0);
    out.extend_from_slice(&b.data);
    out
}

fn decode_blob(hash: Hash, b: &[u8]) -> Result<StoredBlob, StoreError> {
    if b.len() < 40 {
        return Err(StoreError::Corrupt("blob record length".into()));
    }
    Ok(StoredBlob {
        hash,
        height: u64::from_le_bytes(b[0..8].try_into().expect("8 bytes")),
        sender: PublicKey(b[8..40].try_into().expect("32 bytes")),
        data: b[40..].to_vec(),
    })
}

fn blob_height_key(height: u64, hash: &Hash) -> [u8; 40] {
    let mut k = [0u8; 40];
    k[..8].copy_from_slice(&height.to_be_bytes());
    k[8..].copy_from_slice(&hash.0);
    k
}

/// Where a finalized transaction landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxLocation {
    /// Block height.
    pub height: u64,
    /// Position in the block.
    pub index: u32,
    /// Its receipt.
    pub receipt: Receipt,
}

/// The node's durable store.
pub struct Store {
    db: Arc<Database>,
}

/// The store's blobs table as the state's blob source: blobs are read on demand, never all held.
struct StoredBlobs(Arc<Database>);

impl StoredBlobs {
    fn read(&self, hash: &Hash) -> Result<Option<StoredBlob>, StoreError> {
        let r = self.0.begin_read()?;
        let table = r.open_table(BLOBS)?;
        let Some(bytes) = table.get(&hash.0)? else {
            return Ok(None);
        };
        decode_blob(*hash, bytes.value()).map(Some)
    }
}

impl BlobSource for StoredBlobs {
    fn blob(&self, hash: &Hash) -> Option<StoredBlob> {
        match self.read(hash) {
            Ok(found) => found,
            // Answering "no such blob" would make this node judge a block differently from its
            // peers; a node that cannot read its own store stops instead.
            Err(e) => {
                tracing::error!("cannot read blob {hash} from the store: {e}; stopping");
                eprintln!("error: cannot read blob {hash} from the store: {e}; stopping");
                std::process::exit(74);
            }
        }
    }
}

impl Store {
    /// Opens (or creates) the store at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = Database::create(path)?;
        let w = db.begin_write()?;
        w.open_table(META)?;
        w.open_table(ACCOUNTS)?;
        w.open_table(BLOBS)?;
        w.open_table(BLOBS_BY_HEIGHT)?;
        w.open_table(BLOCKS)?;
        w.open_table(BLOCK_HEIGHTS)?;
        w.open_table(TXS)?;
        w.open_table(ROLLUPS)?;
        w.open_table(ROLLUP_ITEMS)?;
        w.commit()?;
        Ok(Store { db: Arc::new(db) })
    }

    /// Loads the finalized state, or initializes the store from the genesis state and block if it is
    /// empty. A store that holds another chain is refused.
    pub fn load_or_init(
        &self,
        genesis_state: L1State,
        genesis_block: &Block,
    ) -> Result<L1State, StoreError> {
        let stored = {
            let r = self.db.begin_read()?;
            let meta = r.open_table(META)?;
            let stored = meta.get("genesis")?.map(|v| v.value().to_vec());
            stored
        };
        match stored {
            None => {
                self.init(&genesis_state, genesis_block)?;
                Ok(genesis_state.with_blob_source(self.blob_source()))
            }
            Some(bytes) => {
                let stored =
                    Hash::from_bytes(&bytes).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                if stored != genesis_block.hash() {
                    return Err(StoreError::WrongGenesis {
                        stored,
                        expected: genesis_block.hash(),
                    });
                }
                self.load(&genesis_state)
            }
        }
    }

    /// The store's blobs as a source for the state, which then holds none in memory.
    fn blob_source(&self) -> Arc<dyn BlobSource> {
        Arc::new(StoredBlobs(self.db.clone()))
    }

    fn init(&self, state: &L1State, genesis_block: &Block) -> Result<(), StoreError> {
        let mut w = self.db.begin_write()?;
        w.set_durability(Durability::Immediate)?;
        {
            let mut meta = w.open_table(META)?;
            meta.insert("genesis", genesis_block.hash().to_bytes().as_slice())?;
            meta.insert("head", state.head().to_bytes().as_slice())?;
            meta.insert("committee", encode_keys(state.committee()).as_slice())?;
            meta.insert("burned", 0u128.to_le_bytes().as_slice())?;
            let mut accounts = w.open_table(ACCOUNTS)?;
            for (key, acc) in state.all_accounts() {
                accounts.insert(&key.0, encode_account(&acc).as_slice())?;
            }
            w.open_table(BLOCKS)?
                .insert(0, genesis_block.to_bytes().as_slice())?;
            w.open_table(BLOCK_HEIGHTS)?
                .insert(&genesis_block.hash().0, 0)?;
        }
        w.commit()?;
        Ok(())
    }

    fn load(&self, genesis_state: &L1State) -> Result<L1State, StoreError> {
        let r = self.db.begin_read()?;
        let meta = r.open_table(META)?;
        let get = |k: &str| -> Result<Vec<u8>, StoreError> {
            meta.get(k)?
                .map(|v| v.value().to_vec())
                .ok_or_else(|| StoreError::Corrupt(format!("missing meta {k}")))
        };
        let corrupt = |e: basalt_types::DecodeError| StoreError::Corrupt(e.to_string());
        let head = Header::from_bytes(&get("head")?).map_err(corrupt)?;
        let committee = decode_keys(&get("committee")?)?;
        let burned = u128::from_le_bytes(
            get("burned")?
                .try_into()
                .map_err(|_| StoreError::Corrupt("burned".into()))?,
        );
        let mut accounts = Vec::new();
        for item in r.open_table(ACCOUNTS)?.iter()? {
            let (k, v) = item?;
            accounts.push((PublicKey(*k.value()), decode_account(v.value())?));
        }
        let mut headers = Vec::new();
        for item in r.open_table(ROLLUPS)?.iter()? {
            let (_, v) = item?;
            headers.push(RollupHeader::from_bytes(v.value()).map_err(corrupt)?);
        }
        #[derive(Default)]
        struct Lists {
            deposits: Vec<DepositRecord>,
            batches: Vec<BatchRecord>,
            proposals: Vec<OutputRecord>,
            claims: Vec<u64>,
            chain: Vec<u64>,
            disputes: Vec<Dispute>,
            trees: Vec<Vec<Claim>>,
        }
        let mut lists: Vec<Lists> = headers.iter().map(|_| Lists::default()).collect();
        let u64_item = |v: &[u8], what: &str| {
            v.try_into()
                .map(u64::from_le_bytes)
                .map_err(|_| StoreError::Corrupt(what.into()))
        };
        for item in r.open_table(ROLLUP_ITEMS)?.iter()? {
            let (k, v) = item?;
            let (k, v) = (k.value(), v.value());
            let id = u32::from_be_bytes(k[..4].try_into().expect("4 bytes"));
            let l = lists
                .get_mut(id as usize)
                .ok_or_else(|| StoreError::Corrupt(format!("items of unknown rollup {id}")))?;
            // Keys sort by position within each list, so pushing keeps the order.
            match k[4] {
                0 => l
                    .deposits
                    .push(DepositRecord::from_bytes(v).map_err(corrupt)?),
                1 => l.batches.push(BatchRecord::from_bytes(v).map_err(corrupt)?),
                2 => l
                    .proposals
                    .push(OutputRecord::from_bytes(v).map_err(corrupt)?),
                3 => l.claims.push(u64_item(v, "claim")?),
                4 => l.chain.push(u64_item(v, "chain entry")?),
                5 => l.disputes.push(Dispute::from_bytes(v).map_err(corrupt)?),
                6 => {
                    let position = u64::from_be_bytes(k[5..].try_into().expect("8 bytes"));
                    let (proposal, index) = ((position >> 32) as usize, position as u32);
                    // Keys sort by proposal then index: each tree's claims come in order.
                    if proposal == l.trees.len() {
                        l.trees.push(Vec::new());
                    }
                    if proposal + 1 != l.trees.len() {
                        return Err(StoreError::Corrupt(format!(
                            "claims of proposal {proposal} out of order"
                        )));
                    }
                    let tree = &mut l.trees[proposal];
                    if tree.len() != index as usize {
                        return Err(StoreError::Corrupt(format!(
                            "claim {index} of proposal {proposal} out of order"
                        )));
                    }
                    tree.push(Claim::from_bytes(v).map_err(corrupt)?);
                }
                list => return Err(StoreError::Corrupt(format!("rollup list {list}"))),
            }
        }
        let mut rollups = Vec::with_capacity(headers.len());
        for (h, l) in headers.into_iter().zip(lists) {
            rollups.push(RollupState::restore(
                h,
                l.deposits,
                l.batches,
                l.proposals,
                l.chain,
                l.disputes,
                l.trees,
                l.claims,
            )?);
        }
        L1State::restore(
            genesis_state.chain_id(),
            genesis_state.params().clone(),
            head,
            accounts,
            committee,
            Blobs::Source(self.blob_source()),
            rollups,
            burned,
            genesis_state.genesis_supply(),
        )
        .map_err(StoreError::from)
    }

    /// Bytes of the keys and values stored, with the trees' own metadata but not free pages:
    /// what the state and its history take.
    pub fn stored_bytes(&self) -> Result<u64, StoreError> {
        let w = self.db.begin_write()?;
        let stats = w.stats()?;
        w.abort()?;
        Ok(stats.stored_bytes() + stats.metadata_bytes())
    }

    /// Commits a finalized block and its diff durably, in one transaction.
    pub fn commit_block(&self, block: &Block, diff: &StateDiff) -> Result<(), StoreError> {
        let mut w = self.db.begin_write()?;
        w.set_durability(Durability::Immediate)?;
        {
            let mut meta = w.open_table(META)?;
            meta.insert("head", diff.header.to_bytes().as_slice())?;
            if let Some(c) = &diff.committee {
                meta.insert("committee", encode_keys(c).as_slice())?;
            }
            let burned = meta
                .get("burned")?
                .map(|v| v.value().to_vec())
                .ok_or_else(|| StoreError::Corrupt("missing meta burned".into()))?;
            let burned = u128::from_le_bytes(
                burned
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("burned".into()))?,
            ) + diff.burned;
            meta.insert("burned", burned.to_le_bytes().as_slice())?;
            let mut accounts = w.open_table(ACCOUNTS)?;
            for (k, a) in &diff.accounts {
                accounts.insert(&k.0, encode_account(a).as_slice())?;
            }
            let mut blobs = w.open_table(BLOBS)?;
            let mut by_height = w.open_table(BLOBS_BY_HEIGHT)?;
            for b in &diff.blobs {
                blobs.insert(&b.hash.0, encode_blob(b).as_slice())?;
                by_height.insert(&blob_height_key(b.height, &b.hash), ())?;
            }
            if let Some(through) = diff.prune_blobs_through {
                let end = blob_height_key(through + 1, &Hash::ZERO);
                let expired: Vec<[u8; 40]> = by_height
                    .range::<&[u8; 40]>(..&end)?
                    .map(|e| e.map(|(k, _)| *k.value()))
                    .collect::<Result<_, _>>()?;
                for k in expired {
                    by_height.remove(&k)?;
                    let hash = <[u8; 32]>::try_from(&k[8..]).expect("32 bytes");
                    // The same data posted again later stays until its own window passes.
                    let stored = blobs.get(&hash)?.map(|v| v.value().to_vec());
                    if let Some(bytes) = stored {
                        if decode_blob(Hash(hash), &bytes)?.height <= through {
                            blobs.remove(&hash)?;
                        }
                    }
                }
            }
            let mut rollups = w.open_table(ROLLUPS)?;
            let mut items = w.open_table(ROLLUP_ITEMS)?;
            for (id, d) in &diff.rollups {
                let h = &d.header;
                rollups.insert(*id, h.to_bytes().as_slice())?;
                let lists: [(RollupList, u64, Vec<Vec<u8>>); 3] = [
                    (
                        RollupList::Deposits,
                        h.deposit_count,
                        d.deposits.iter().map(|x| x.to_bytes()).collect(),
                    ),
                    (
                        RollupList::Batches,
                        h.batch_count,
                        d.batches.iter().map(|x| x.to_bytes()).collect(),
                    ),
                    (
                        RollupList::Claims,
                        h.claim_count,
                        d.claims.iter().map(|x| x.to_le_bytes().to_vec()).collect(),
                    ),
                ];
                for (list, count, new) in lists {
                    let first = count - new.len() as u64;
                    for (i, bytes) in new.iter().enumerate() {
                        items.insert(&item_key(*id, list, first + i as u64), bytes.as_slice())?;
                    }
                }
                let first = h.proposal_count - d.proposals.len() as u64;
                for (i, p) in d.proposals.iter().enumerate() {
                    let key = item_key(*id, RollupList::Proposals, first + i as u64);
                    items.insert(&key, p.to_bytes().as_slice())?;
                }
                let first = h.settled - d.chain.len() as u64;
                for (i, p) in d.chain.iter().enumerate() {
                    let key = item_key(*id, RollupList::Chain, first + i as u64);
                    items.insert(&key, p.to_le_bytes().as_slice())?;
                }
                for (proposal, claims) in &d.tree_claims {
                    let count = d.disputes.get(proposal).map_or(0, |x| x.claims);
                    let first = count - claims.len() as u32;
                    for (i, c) in claims.iter().enumerate() {
                        let position = proposal << 32 | (first + i as u32) as u64;
                        let key = item_key(*id, RollupList::TreeClaims, position);
                        items.insert(&key, c.to_bytes().as_slice())?;
                    }
                }
                for (i, x) in &d.disputes {
                    let key = item_key(*id, RollupList::Disputes, *i);
                    items.insert(&key, x.to_bytes().as_slice())?;
                }
            }
            let height = diff.header.height;
            w.open_table(BLOCKS)?
                .insert(height, block.to_bytes().as_slice())?;
            w.open_table(BLOCK_HEIGHTS)?
                .insert(&block.hash().0, height)?;
            let mut txs = w.open_table(TXS)?;
            for (i, r) in diff.receipts.iter().enumerate() {
                let mut v = Vec::with_capacity(64);
                v.extend_from_slice(&height.to_le_bytes());
                v.extend_from_slice(&(i as u32).to_le_bytes());
                r.encode_to(&mut v);
                txs.insert(&r.tx_hash.0, v.as_slice())?;
            }
        }
        w.commit()?;
        Ok(())
    }

    /// A finalized block by height.
    pub fn block(&self, height: u64) -> Result<Option<Block>, StoreError> {
        let r = self.db.begin_read()?;
        let t = r.open_table(BLOCKS)?;
        match t.get(height)? {
            None => Ok(None),
            Some(v) => Block::from_bytes(v.value())
                .map(Some)
                .map_err(|e| StoreError::Corrupt(e.to_string())),
        }
    }

    /// The height of a finalized block by hash.
    pub fn block_height(&self, hash: &Hash) -> Result<Option<u64>, StoreError> {
        let r = self.db.begin_read()?;
        Ok(r.open_table(BLOCK_HEIGHTS)?
            .get(&hash.0)?
            .map(|v| v.value()))
    }

    /// Where a finalized transaction is.
    pub fn tx(&self, hash: &Hash) -> Result<Option<TxLocation>, StoreError> {
        let r = self.db.begin_read()?;
        let t = r.open_table(TXS)?;
        let Some(v) = t.get(&hash.0)? else {
            return Ok(None);
        };
        let v = v.value();
        if v.len() < 12 {
            return Err(StoreError::Corrupt("tx record length".into()));
        }
        let receipt =
            Receipt::from_bytes(&v[12..]).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Some(TxLocation {
            height: u64::from_le_bytes(v[0..8].try_into().expect("8 bytes")),
            index: u32::from_le_bytes(v[8..12].try_into().expect("4 bytes")),
            receipt,
        }))
    }
}

fn encode_keys(keys: &[PublicKey]) -> Vec<u8> {
    keys.iter().flat_map(|k| k.0).collect()
}

fn decode_keys(b: &[u8]) -> Result<Vec<PublicKey>, StoreError> {
    if !b.len().is_multiple_of(32) {
        return Err(StoreError::Corrupt("committee length".into()));
    }
    Ok(b.chunks(32)
        .map(|c| PublicKey(c.try_into().expect("32 bytes")))
        .collect())
}
