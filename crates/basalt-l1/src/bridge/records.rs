//! The records a rollup's lists hold: deposits, batches, proposed outputs, withdrawal claims.

use basalt_l2::{DepositEntry, L2Tx, Optimistic, Zk};
use basalt_types::codec::{put_list, put_varint};
use basalt_types::{hash_parts, Amount, Decode, DecodeError, Decoder, Encode, Hash, PublicKey};

/// A deposit waiting in a rollup's queue (and, once consumed, its record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepositRecord {
    /// The queue entry the L2 state transition reads.
    pub entry: DepositEntry<Optimistic>,
    /// The L1 account that paid.
    pub sender: PublicKey,
    /// L1 block that queued it.
    pub height: u64,
    /// A ZK rollup's forced transaction (an optimistic one's is `entry.forced`; `entry.key` is
    /// the packed key either way).
    pub zk_forced: Option<L2Tx<Zk>>,
}

impl Encode for DepositRecord {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.entry.encode_to(out);
        self.sender.encode_to(out);
        put_varint(out, self.height as u128);
        match &self.zk_forced {
            None => out.push(0),
            Some(tx) => {
                out.push(1);
                tx.encode_to(out);
            }
        }
    }
}

impl Decode for DepositRecord {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(DepositRecord {
            entry: DepositEntry::decode_from(d)?,
            sender: PublicKey::decode_from(d)?,
            height: d.varint_u64()?,
            zk_forced: match d.u8()? {
                0 => None,
                1 => Some(L2Tx::decode_from(d)?),
                tag => {
                    return Err(DecodeError::UnknownTag {
                        what: "ZK forced transaction",
                        tag: tag as u64,
                    })
                }
            },
        })
    }
}

/// A batch the sequencer posted: its data is the blob with digest `data_hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchRecord {
    /// Digest of the blob holding the batch (see [`crate::blob_hash`]).
    pub data_hash: Hash,
    /// The batch may consume queued deposits with index below this.
    pub deposits_end: u64,
    /// L1 block that posted it.
    pub height: u64,
    /// Decompressed length its blob declares (0 if the blob's header does not parse).
    pub raw_len: u64,
    /// Transactions its blob declares (0 if the header does not parse). With `raw_len`, what a
    /// decode of it costs, known without reading the blob.
    pub tx_count: u64,
    /// The Poseidon data hash a ZK batch's proof must take as its public input, computed by the
    /// L1 when the batch was posted ([`basalt_l2::data_hash`]); zero for an optimistic batch.
    pub proof_input: Hash,
}

impl Encode for BatchRecord {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.data_hash.encode_to(out);
        put_varint(out, self.deposits_end as u128);
        put_varint(out, self.height as u128);
        put_varint(out, self.raw_len as u128);
        put_varint(out, self.tx_count as u128);
        self.proof_input.encode_to(out);
    }
}

impl Decode for BatchRecord {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(BatchRecord {
            data_hash: Hash::decode_from(d)?,
            deposits_end: d.varint_u64()?,
            height: d.varint_u64()?,
            raw_len: d.varint_u64()?,
            tx_count: d.varint_u64()?,
            proof_input: Hash::decode_from(d)?,
        })
    }
}

/// A proposed output: the L2 output after batch `batch`, with the bond that backs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputRecord {
    /// The batch it follows.
    pub batch: u64,
    /// The output it builds on (the previous batch's, or the rollup's genesis output).
    pub prior: Hash,
    /// The claimed output, H(state root, withdrawals root).
    pub output: Hash,
    /// Who proposed it; the bond returns to them.
    pub proposer: PublicKey,
    /// The bond locked.
    pub bond: Amount,
    /// L1 block that proposed it.
    pub height: u64,
}

impl Encode for OutputRecord {
    fn encode_to(&self, out: &mut Vec<u8>) {
        put_varint(out, self.batch as u128);
        self.prior.encode_to(out);
        self.output.encode_to(out);
        self.proposer.encode_to(out);
        put_varint(out, self.bond);
        put_varint(out, self.height as u128);
    }
}

impl Decode for OutputRecord {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(OutputRecord {
            batch: d.varint_u64()?,
            prior: Hash::decode_from(d)?,
            output: Hash::decode_from(d)?,
            proposer: PublicKey::decode_from(d)?,
            bond: d.varint()?,
            height: d.varint_u64()?,
        })
    }
}

/// A claim of an L2 withdrawal on L1, against a Merkle proof into a settled output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithdrawalClaim {
    /// Rollup id.
    pub rollup: u32,
    /// A batch whose output has settled.
    pub batch: u64,
    /// The state root of that output.
    pub state_root: Hash,
    /// The withdrawals tree root of that output.
    pub withdrawals_tree_root: Hash,
    /// Withdrawals that output contains.
    pub withdrawal_count: u64,
    /// Index of the withdrawal in the tree.
    pub index: u64,
    /// The L1 account paid.
    pub recipient: PublicKey,
    /// The amount paid.
    pub amount: Amount,
    /// Sibling digests from the leaf up (exactly the tree depth).
    pub proof: Vec<Hash>,
}

impl Encode for WithdrawalClaim {
    fn encode_to(&self, out: &mut Vec<u8>) {
        put_varint(out, self.rollup as u128);
        put_varint(out, self.batch as u128);
        self.state_root.encode_to(out);
        self.withdrawals_tree_root.encode_to(out);
        put_varint(out, self.withdrawal_count as u128);
        put_varint(out, self.index as u128);
        self.recipient.encode_to(out);
        put_varint(out, self.amount);
        put_list(out, &self.proof);
    }
}

impl Decode for WithdrawalClaim {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(WithdrawalClaim {
            rollup: u32::try_from(d.varint_u64()?).map_err(|_| DecodeError::BadVarint)?,
            batch: d.varint_u64()?,
            state_root: Hash::decode_from(d)?,
            withdrawals_tree_root: Hash::decode_from(d)?,
            withdrawal_count: d.varint_u64()?,
            index: d.varint_u64()?,
            recipient: PublicKey::decode_from(d)?,
            amount: d.varint()?,
            proof: d.list("withdrawal proof", basalt_merkle::DEFAULT_DEPTH as usize)?,
        })
    }
}

/// Running digest of an append-only list: each item folds into the previous digest.
pub fn fold(acc: Hash, domain: &str, item: &[u8]) -> Hash {
    hash_parts(domain, &[&acc.0, item])
}

/// Domain of the deposit queue's running digest.
pub const DEPOSITS_DOMAIN: &str = "basalt/l1/rollup-deposits";
/// Domain of the batches' running digest.
pub const BATCHES_DOMAIN: &str = "basalt/l1/rollup-batches";
/// Domain of the proposals' running digest.
pub const OUTPUTS_DOMAIN: &str = "basalt/l1/rollup-outputs";
/// Domain of the claims' running digest.
pub const CLAIMS_DOMAIN: &str = "basalt/l1/rollup-claims";
