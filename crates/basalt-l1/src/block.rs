//! L1 blocks: header, body and receipts.

use crate::failure::FailureCode;
use crate::params::{MAX_BLOCK_TXS, MAX_TX_BYTES};
use crate::tx::SignedTransaction;
use basalt_types::codec::put_varint;
use basalt_types::{hash_parts, Decode, DecodeError, Decoder, Encode, Hash, PublicKey};

/// Encoding version of headers.
pub const HEADER_VERSION: u8 = 1;
/// Largest encoded block accepted from a peer.
pub const MAX_BLOCK_BYTES: usize = 16 * 1024 * 1024;

/// A block header: everything a light client needs to check state and data against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Chain id.
    pub chain_id: u64,
    /// Height; genesis is 0.
    pub height: u64,
    /// Digest of the parent header ([`Hash::ZERO`] for genesis).
    pub parent: Hash,
    /// Proposer's clock, Unix milliseconds; strictly increasing.
    pub timestamp_ms: u64,
    /// Proposer, who receives the tips.
    pub proposer: PublicKey,
    /// Commitment to the state after this block.
    pub state_root: Hash,
    /// Commitment to the ordered transaction ids.
    pub tx_root: Hash,
    /// Commitment to the ordered blob digests posted in this block.
    pub blob_root: Hash,
    /// Commitment to the ordered receipts.
    pub receipts_root: Hash,
    /// Gas used by all transactions.
    pub gas_used: u64,
    /// Base fee per gas in this block.
    pub base_fee_per_gas: u64,
    /// Blob bytes posted in this block.
    pub blob_bytes: u64,
    /// Blob base fee per byte in this block.
    pub blob_base_fee: u64,
}

impl Header {
    /// The header's digest, which identifies the block.
    pub fn hash(&self) -> Hash {
        hash_parts("basalt/l1/header", &[&self.to_bytes()])
    }
}

impl Encode for Header {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(HEADER_VERSION);
        out.extend_from_slice(&self.chain_id.to_le_bytes());
        out.extend_from_slice(&self.height.to_le_bytes());
        self.parent.encode_to(out);
        out.extend_from_slice(&self.timestamp_ms.to_le_bytes());
        self.proposer.encode_to(out);
        self.state_root.encode_to(out);
        self.tx_root.encode_to(out);
        self.blob_root.encode_to(out);
        self.receipts_root.encode_to(out);
        out.extend_from_slice(&self.gas_used.to_le_bytes());
        out.extend_from_slice(&self.base_fee_per_gas.to_le_bytes());
        out.extend_from_slice(&self.blob_bytes.to_le_bytes());
        out.extend_from_slice(&self.blob_base_fee.to_le_bytes());
    }
}

impl Decode for Header {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let version = d.u8()?;
        if version != HEADER_VERSION {
            return Err(DecodeError::UnknownTag {
                what: "header version",
                tag: version as u64,
            });
        }
        Ok(Header {
            chain_id: d.u64()?,
            height: d.u64()?,
            parent: Hash::decode_from(d)?,
            timestamp_ms: d.u64()?,
            proposer: PublicKey::decode_from(d)?,
            state_root: Hash::decode_from(d)?,
            tx_root: Hash::decode_from(d)?,
            blob_root: Hash::decode_from(d)?,
            receipts_root: Hash::decode_from(d)?,
            gas_used: d.u64()?,
            base_fee_per_gas: d.u64()?,
            blob_bytes: d.u64()?,
            blob_base_fee: d.u64()?,
        })
    }
}

/// A block: header and ordered transactions (blobs travel inside their transactions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The header.
    pub header: Header,
    /// The transactions, in execution order.
    pub txs: Vec<SignedTransaction>,
}

impl Block {
    /// The block id (its header digest).
    pub fn hash(&self) -> Hash {
        self.header.hash()
    }

    /// Decodes a block from untrusted bytes, bounded by [`MAX_BLOCK_BYTES`].
    pub fn decode_untrusted(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_BLOCK_BYTES {
            return Err(DecodeError::TooLong {
                what: "block",
                len: bytes.len() as u64,
                max: MAX_BLOCK_BYTES as u64,
            });
        }
        Self::from_bytes(bytes)
    }
}

impl Encode for Block {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.header.encode_to(out);
        put_varint(out, self.txs.len() as u128);
        for tx in &self.txs {
            // Length-prefixed so a reader can skip or bound each transaction.
            let bytes = tx.to_bytes();
            basalt_types::codec::put_bytes(out, &bytes);
        }
    }
}

impl Decode for Block {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let header = Header::decode_from(d)?;
        let n = d.len("block transactions", MAX_BLOCK_TXS)?;
        let mut txs = Vec::with_capacity(n.min(d.remaining()));
        for _ in 0..n {
            let bytes = d.bytes("transaction", MAX_TX_BYTES)?;
            txs.push(SignedTransaction::from_bytes(bytes)?);
        }
        Ok(Block { header, txs })
    }
}

/// The outcome of one included transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The transaction id.
    pub tx_hash: Hash,
    /// Why the action had no effect, if it had none (fees are charged either way).
    pub failure: Option<FailureCode>,
    /// Gas charged.
    pub gas_used: u64,
    /// Total fee paid: gas and blob fees.
    pub fee_paid: u128,
}

impl Encode for Receipt {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.tx_hash.encode_to(out);
        match self.failure {
            None => out.push(0),
            Some(code) => {
                out.push(1);
                out.extend_from_slice(&code.code().to_le_bytes());
            }
        }
        put_varint(out, self.gas_used as u128);
        put_varint(out, self.fee_paid);
    }
}

impl Decode for Receipt {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let tx_hash = Hash::decode_from(d)?;
        let failure = match d.u8()? {
            0 => None,
            1 => {
                let code = u16::from_le_bytes(d.array()?);
                Some(
                    FailureCode::from_code(code)
                        .ok_or(DecodeError::Invalid("unknown receipt failure code"))?,
                )
            }
            _ => return Err(DecodeError::Invalid("receipt failure flag")),
        };
        Ok(Receipt {
            tx_hash,
            failure,
            gas_used: d.varint_u64()?,
            fee_paid: d.varint()?,
        })
    }
}

impl Receipt {
    /// Whether the action took effect.
    pub fn success(&self) -> bool {
        self.failure.is_none()
    }

    /// Digest committed in the receipts root.
    pub fn hash(&self) -> Hash {
        hash_parts("basalt/l1/receipt", &[&self.to_bytes()])
    }
}
