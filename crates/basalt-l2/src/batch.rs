//! Batches: ordered L2 transactions, compactly encoded and compressed into one L1 blob.
//!
//! Blob layout: a codec byte ([`Codec`]), the payload's decompressed length and its transaction
//! count as varints, then the compressed payload. The payload is a version byte, a varint count, and the transactions in their
//! compact encoding (no per-transaction version; account indices and amounts as varints;
//! signatures as the profile defines them). Decoding is bounded by the declared length, itself at
//! most [`MAX_BATCH_RAW_BYTES`], and the payload must hold exactly the declared count: a small blob
//! cannot expand into a large allocation, and whoever decodes a batch (the L1 in a dispute) knows
//! its work, and so its price, from the header alone, before starting.

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
    /// The declared decompressed length is past the limit.
    #[error("batch declares more than {MAX_BATCH_RAW_BYTES} decompressed bytes")]
    TooLarge,
    /// The payload does not decompress to exactly its declared length.
    #[error("batch declares {declared} decompressed bytes but holds {actual}{}", if *.actual > *.declared { " or more" } else { "" })]
    LengthMismatch {
        /// The declared length.
        declared: u64,
        /// What decompression gave (at most one byte past the declared length is read).
        actual: u64,
    },
    /// The payload's transaction count is not the one its header declares.
    #[error("batch header declares {declared} transactions but the payload holds {actual}")]
    CountMismatch {
        /// The header's count.
        declared: u64,
        /// The payload's.
        actual: u64,
    },
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

/// How hard a batch is compressed (any choice decodes the same: the blob names its codec).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Effort {
    /// zstd-19 and brotli-11, keeping the smaller: the fewest L1 bytes, at tens of milliseconds
    /// per 100 KiB.
    #[default]
    Best,
    /// zstd-3: a few percent more bytes, at a few milliseconds per 100 KiB.
    Fast,
}

/// Compresses a payload with `codec` into a blob, at the codec's highest level.
pub fn compress(payload: &[u8], codec: Codec) -> Vec<u8> {
    compress_at(payload, codec, Effort::Best)
}

/// Compresses a payload with `codec` into a blob, at the level `effort` picks.
fn compress_at(payload: &[u8], codec: Codec, effort: Effort) -> Vec<u8> {
    let mut out = vec![codec as u8];
    put_varint(&mut out, payload.len() as u128);
    // The header repeats the payload's count (0 for a payload whose count does not parse).
    let mut d = Decoder::new(payload);
    let count = d.u8().and_then(|_| d.varint_u64()).unwrap_or(0);
    put_varint(&mut out, count as u128);
    match codec {
        Codec::None => out.extend_from_slice(payload),
        Codec::Zstd => {
            let level = match effort {
                Effort::Best => 19,
                Effort::Fast => 3,
            };
            out.extend(zstd::bulk::compress(payload, level).expect("in-memory zstd compression"))
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
    encode_batch_with(txs, Effort::Best)
}

/// A batch as a blob, compressed as hard as `effort` says.
pub fn encode_batch_with<P: Profile>(txs: &[L2Tx<P>], effort: Effort) -> Vec<u8> {
    compress_with(&encode_payload(txs), effort)
}

/// A payload as a blob, compressed as hard as `effort` says.
pub(crate) fn compress_with(payload: &[u8], effort: Effort) -> Vec<u8> {
    match effort {
        Effort::Best => [Codec::Zstd, Codec::Brotli]
            .into_iter()
            .map(|c| compress_at(payload, c, effort))
            .min_by_key(Vec::len)
            .expect("two candidates"),
        Effort::Fast => compress_at(payload, Codec::Zstd, effort),
    }
}

/// What a blob's header declares: its decompressed length and transaction count, each within its
/// limit. Cheap: it reads a few bytes and decompresses nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    /// Decompressed payload length, at most [`MAX_BATCH_RAW_BYTES`].
    pub raw_len: u64,
    /// Transactions, at most [`MAX_BATCH_TXS`].
    pub tx_count: u64,
}

/// The header a blob declares, if it parses within the limits.
pub fn batch_header(blob: &[u8]) -> Result<BatchHeader, BatchError> {
    Ok(split_header(blob)?.1)
}

/// The codec, header and compressed body of a blob.
fn split_header(blob: &[u8]) -> Result<(u8, BatchHeader, &[u8]), BatchError> {
    let (&codec, rest) = blob.split_first().ok_or(BatchError::Empty)?;
    let mut d = Decoder::new(rest);
    let raw_len = d.varint_u64()?;
    if raw_len > MAX_BATCH_RAW_BYTES as u64 {
        return Err(BatchError::TooLarge);
    }
    let tx_count = d.len("batch", MAX_BATCH_TXS)? as u64;
    let body = &rest[rest.len() - d.remaining()..];
    Ok((codec, BatchHeader { raw_len, tx_count }, body))
}

/// Decompresses a blob to exactly its declared length, reading at most one byte past it.
pub fn decompress(blob: &[u8]) -> Result<Vec<u8>, BatchError> {
    let (codec, header, body) = split_header(blob)?;
    let declared = header.raw_len;
    let limit = declared + 1;
    let mut out = Vec::with_capacity(declared as usize);
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
    if out.len() as u64 != declared {
        return Err(BatchError::LengthMismatch {
            declared,
            actual: out.len() as u64,
        });
    }
    Ok(out)
}

/// The decompressed payload of a blob whose version byte is `version`, its transaction count (the
/// one the header declares), and where the transactions start.
pub(crate) fn open_payload(
    blob: &[u8],
    version: u8,
    what: &'static str,
) -> Result<(Vec<u8>, usize, usize), BatchError> {
    let declared = batch_header(blob)?.tx_count;
    let payload = decompress(blob)?;
    let mut d = Decoder::new(&payload);
    let found = d.u8()?;
    if found != version {
        return Err(DecodeError::UnknownTag {
            what,
            tag: found as u64,
        }
        .into());
    }
    let n = d.len("batch", MAX_BATCH_TXS)?;
    if n as u64 != declared {
        return Err(BatchError::CountMismatch {
            declared,
            actual: n as u64,
        });
    }
    let start = payload.len() - d.remaining();
    Ok((payload, n, start))
}

/// Decodes a batch blob from untrusted L1 data: exactly the transactions its header declares.
pub fn decode_batch<P: Profile>(blob: &[u8]) -> Result<Vec<L2Tx<P>>, BatchError> {
    let (payload, n, start) = open_payload(blob, BATCH_VERSION, "batch version")?;
    let mut d = Decoder::new(&payload[start..]);
    let mut txs = Vec::with_capacity(n.min(d.remaining()));
    for _ in 0..n {
        txs.push(L2Tx::decode_compact(&mut d)?);
    }
    d.finish()?;
    Ok(txs)
}

/// The transactions an optimistic batch applies, in order: its blob's (`blob_txs`, from
/// [`posted_batch_txs`]), then a deposit of every index of its range, from `deposits_from` (the
/// previous batch's range end) to `deposits_end`. A deposit the blob applied already is a no-op
/// the second time, so a batch consumes every deposit below its range end whatever its blob
/// holds: the L1 forces the range past every overdue deposit, and a sequencer cannot skip one.
pub fn batch_trace_txs<P: Profile>(
    mut blob_txs: Vec<L2Tx<P>>,
    deposits_from: u64,
    deposits_end: u64,
) -> Vec<L2Tx<P>> {
    blob_txs.extend((deposits_from..deposits_end).map(|index| L2Tx::Deposit { index }));
    blob_txs
}

/// The transactions a posted batch applies: its decoded contents, or none at all if the blob does
/// not decode. Every posted batch thus has exactly one meaning, whoever posted it.
pub fn posted_batch_txs<P: Profile>(blob: &[u8]) -> (Vec<L2Tx<P>>, Option<BatchError>) {
    match decode_batch(blob) {
        Ok(txs) => (txs, None),
        Err(e) => (Vec::new(), Some(e)),
    }
}
