//! Batches: ordered L2 transactions, compactly encoded and compressed into one L1 blob.
//!
//! Blob layout: a codec byte ([`Codec`]) then the compressed payload. The payload is a version byte,
//! a varint count, and the transactions in their compact encoding (no per-transaction version;
//! account indices and amounts as varints; signatures as the profile defines them). Decoding is
//! bounded: the payload may not decompress past [`MAX_BATCH_RAW_BYTES`], so a small blob cannot
//! expand into a large allocation.

use crate::profile::Profile;
use crate::types::L2Tx;
use basalt_types::codec::put_varint;
use basalt_types::{DecodeError, Decoder};
use std::io::Read;

/// Version byte of a batch payload.
pub const BATCH_VERSION: u8 = 1;
/// Largest decompressed batch payload.
pub const MAX_BATCH_RAW_BYTES: usize = 4 * 1024 * 1024;
/// Most transactions one batch may carry.
pub const MAX_BATCH_TXS: usize = 65_536;

/// How a batch payload is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// Not compressed.
    None = 0,
    /// zstd, level 19.
    Zstd = 1,
    /// brotli, quality 11.
    Brotli = 2,
}

/// Why a batch blob was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// The blob is empty.
    #[error("empty batch blob")]
    Empty,
    /// The codec byte is unknown.
    #[error("unknown batch codec {0}")]
    UnknownCodec(u8),
    /// Decompression failed.
    #[error("batch does not decompress: {0}")]
    Decompress(String),
    /// The payload would decompress past the limit.
    #[error("batch decompresses past {MAX_BATCH_RAW_BYTES} bytes")]
    TooLarge,
    /// The payload does not decode.
    #[error("batch payload: {0}")]
    Decode(#[from] DecodeError),
}

/// The uncompressed payload of a batch.
pub fn encode_payload<P: Profile>(txs: &[L2Tx<P>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + txs.len() * 80);
    out.push(BATCH_VERSION);
    put_varint(&mut out, txs.len() as u128);
    for tx in txs {
        tx.encode_compact(&mut out);
    }
    out
}

/// Compresses a payload with `codec` into a blob.
pub fn compress(payload: &[u8], codec: Codec) -> Vec<u8> {
    let mut out = vec![codec as u8];
    match codec {
        Codec::None => out.extend_from_slice(payload),
        Codec::Zstd => {
            out.extend(zstd::bulk::compress(payload, 19).expect("in-memory zstd compression"))
        }
        Codec::Brotli => {
            let params = brotli::enc::BrotliEncoderParams {
                quality: 11,
                lgwin: 22,
                ..Default::default()
            };
            let mut input = payload;
            brotli::BrotliCompress(&mut input, &mut out, &params).expect("in-memory brotli");
        }
    }
    out
}

/// A batch as a blob, compressed with whichever codec gives fewer bytes.
pub fn encode_batch<P: Profile>(txs: &[L2Tx<P>]) -> Vec<u8> {
    let payload = encode_payload(txs);
    [Codec::Zstd, Codec::Brotli]
        .into_iter()
        .map(|c| compress(&payload, c))
        .min_by_key(Vec::len)
        .expect("two candidates")
}

/// Decompresses a blob, refusing to produce more than [`MAX_BATCH_RAW_BYTES`].
pub fn decompress(blob: &[u8]) -> Result<Vec<u8>, BatchError> {
    let (&codec, body) = blob.split_first().ok_or(BatchError::Empty)?;
    let limit = MAX_BATCH_RAW_BYTES as u64 + 1;
    let mut out = Vec::new();
    let read = match codec {
        0 => body.take(limit).read_to_end(&mut out),
        1 => zstd::stream::read::Decoder::new(body)
            .map_err(|e| BatchError::Decompress(e.to_string()))?
            .take(limit)
            .read_to_end(&mut out),
        2 => brotli::Decompressor::new(body, 4096)
            .take(limit)
            .read_to_end(&mut out),
        other => return Err(BatchError::UnknownCodec(other)),
    };
    read.map_err(|e| BatchError::Decompress(e.to_string()))?;
    if out.len() > MAX_BATCH_RAW_BYTES {
        return Err(BatchError::TooLarge);
    }
    Ok(out)
}

/// Decodes a batch blob from untrusted L1 data.
pub fn decode_batch<P: Profile>(blob: &[u8]) -> Result<Vec<L2Tx<P>>, BatchError> {
    let payload = decompress(blob)?;
    let mut d = Decoder::new(&payload);
    let version = d.u8()?;
    if version != BATCH_VERSION {
        return Err(DecodeError::UnknownTag {
            what: "batch version",
            tag: version as u64,
        }
        .into());
    }
    let n = d.len("batch", MAX_BATCH_TXS)?;
    let mut txs = Vec::with_capacity(n.min(d.remaining()));
    for _ in 0..n {
        txs.push(L2Tx::decode_compact(&mut d)?);
    }
    d.finish()?;
    Ok(txs)
}

/// The transactions a posted batch applies: its decoded contents, or none at all if the blob does
/// not decode. Every posted batch thus has exactly one meaning, whoever posted it.
pub fn posted_batch_txs<P: Profile>(blob: &[u8]) -> (Vec<L2Tx<P>>, Option<BatchError>) {
    match decode_batch(blob) {
        Ok(txs) => (txs, None),
        Err(e) => (Vec::new(), Some(e)),
    }
}
