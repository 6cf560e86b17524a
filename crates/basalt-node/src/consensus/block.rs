//! The L1 block as consensus and marshal see it: a `basalt_l1::Block` with its digest and encoding cached.

use basalt_l1::{Block, MAX_BLOCK_BYTES};
use basalt_types::{Encode, Hash};
use bytes::BufMut;
use commonware_codec::{Buf, EncodeSize, Error as CodecError, Read, ReadRangeExt, Write};
use commonware_consensus::types::Height;
use commonware_consensus::{BoundedBlock, Heightable};
use commonware_cryptography::Digestible;
use std::sync::Arc;

/// The consensus digest type: a block's header hash (blake3), carried in a 32-byte digest.
pub type Digest = commonware_cryptography::blake3::Digest;

/// Converts a Basalt hash into a consensus digest.
pub fn to_digest(h: Hash) -> Digest {
    commonware_cryptography::blake3::Digest(h.0)
}

/// Converts a consensus digest into a Basalt hash.
pub fn from_digest(d: &Digest) -> Hash {
    Hash(d.0)
}

/// A block with its id and canonical encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainBlock {
    block: Arc<Block>,
    bytes: Arc<Vec<u8>>,
    hash: Hash,
}

impl ChainBlock {
    /// Wraps a block.
    pub fn new(block: Block) -> Self {
        let bytes = block.to_bytes();
        let hash = block.hash();
        ChainBlock {
            block: Arc::new(block),
            bytes: Arc::new(bytes),
            hash,
        }
    }

    /// The block.
    pub fn block(&self) -> &Block {
        &self.block
    }

    /// Its id.
    pub fn hash(&self) -> Hash {
        self.hash
    }
}

impl Write for ChainBlock {
    fn write(&self, buf: &mut impl BufMut) {
        self.bytes.as_slice().write(buf);
    }
}

impl EncodeSize for ChainBlock {
    fn encode_size(&self) -> usize {
        self.bytes.as_slice().encode_size()
    }
}

impl Read for ChainBlock {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        let bytes = Vec::<u8>::read_range(buf, 0..=MAX_BLOCK_BYTES)?;
        let block = Block::decode_untrusted(&bytes)
            .map_err(|e| CodecError::Wrapped("basalt block", Box::new(e)))?;
        Ok(ChainBlock {
            hash: block.hash(),
            block: Arc::new(block),
            bytes: Arc::new(bytes),
        })
    }
}

impl Digestible for ChainBlock {
    type Digest = Digest;

    fn digest(&self) -> Digest {
        to_digest(self.hash)
    }
}

impl Heightable for ChainBlock {
    fn height(&self) -> Height {
        Height::new(self.block.header.height)
    }
}

impl commonware_consensus::Block for ChainBlock {
    fn parent(&self) -> Digest {
        to_digest(self.block.header.parent)
    }
}

impl BoundedBlock for ChainBlock {
    fn max_encode_size(_: &()) -> usize {
        // Length prefix (at most 5 bytes for a 16 MiB length) plus the block.
        MAX_BLOCK_BYTES + 5
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use commonware_codec::{Decode, Encode as _};

    #[test]
    fn chain_blocks_roundtrip_and_garbage_is_an_error() {
        let g = basalt_l1::Genesis {
            chain_id: 1,
            timestamp_ms: 0,
            params: basalt_l1::Params::default(),
            accounts: vec![],
            validators: vec![basalt_l1::GenesisValidator {
                key: basalt_types::dev_keypair("v", 0).public(),
                stake: basalt_l1::Params::default().min_stake,
            }],
        };
        let (_, genesis) = basalt_l1::L1State::genesis(&g).unwrap();
        let b = ChainBlock::new(genesis);
        let enc = b.encode();
        let back = ChainBlock::decode_cfg(enc, &()).unwrap();
        assert_eq!(back, b);
        assert_eq!(back.digest(), to_digest(b.hash()));
        assert!(ChainBlock::decode_cfg(vec![3u8, 1, 2, 3], &()).is_err());
        assert!(ChainBlock::decode_cfg(vec![0xff, 0xff, 0xff, 0xff, 0x0f], &()).is_err());
    }
}
