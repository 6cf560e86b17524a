//! The sequencer's durable block log: an append-only file of checksummed records, one per L2
//! block, synced to disk before the block's transactions are confirmed to anyone.
//!
//! On open, records are read until the first incomplete or corrupt one; that tail was never
//! synced (a crash mid-append), so it is cut off and appending resumes there.

use basalt_l2::{L2Tx, Optimistic, Profile, MAX_BATCH_TXS};
use basalt_types::codec::put_varint;
use basalt_types::{hash_parts, Decode, DecodeError, Decoder, Encode, Hash};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Largest record accepted when reading the log back.
const MAX_RECORD_BYTES: usize = 64 * 1024 * 1024;

/// An L2 block: the transactions the sequencer applied in one tick, and the output after them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct L2Block<P: Profile = Optimistic> {
    /// Height; the first block is 1.
    pub number: u64,
    /// Sequencer clock, Unix milliseconds.
    pub timestamp_ms: u64,
    /// Applied transactions, in order (deposits first).
    pub txs: Vec<L2Tx<P>>,
    /// The output after the block.
    pub output: P::Digest,
}

impl<P: Profile> Encode for L2Block<P> {
    fn encode_to(&self, out: &mut Vec<u8>) {
        put_varint(out, self.number as u128);
        put_varint(out, self.timestamp_ms as u128);
        self.output.encode_to(out);
        put_varint(out, self.txs.len() as u128);
        for tx in &self.txs {
            tx.encode_compact(out);
        }
    }
}

impl<P: Profile> Decode for L2Block<P> {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let number = d.varint_u64()?;
        let timestamp_ms = d.varint_u64()?;
        let output = P::Digest::decode_from(d)?;
        let n = d.len("block transactions", MAX_BATCH_TXS * 16)?;
        let mut txs = Vec::with_capacity(n.min(d.remaining()));
        for _ in 0..n {
            txs.push(L2Tx::decode_compact(d)?);
        }
        Ok(L2Block {
            number,
            timestamp_ms,
            txs,
            output,
        })
    }
}

/// Why the log could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The file system failed.
    #[error("block log: {0}")]
    Io(#[from] std::io::Error),
    /// A record fails its checksum but later data follows: not a torn append, so nothing is cut.
    #[error("block log record {index} is damaged and is not the last one: refusing to truncate")]
    Damaged {
        /// Record position.
        index: u64,
    },
    /// A record passed its checksum but does not decode: written by another version, or tampered.
    #[error("block log record {index} does not decode: {err}")]
    Corrupt {
        /// Record position.
        index: u64,
        /// The failure.
        err: DecodeError,
    },
}

/// The open log.
pub struct BlockLog<P: Profile = Optimistic> {
    file: File,
    profile: std::marker::PhantomData<P>,
}

fn checksum(payload: &[u8]) -> Hash {
    hash_parts("basalt/rollup/log", &[payload])
}

impl<P: Profile> BlockLog<P> {
    /// Opens or creates the log at `path`, returning every complete block in it.
    pub fn open(path: &Path) -> Result<(Self, Vec<L2Block<P>>), LogError> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)?;
        let mut bytes = Vec::new();
        file.seek(SeekFrom::Start(0))?;
        file.read_to_end(&mut bytes)?;
        let (mut blocks, mut at) = (Vec::new(), 0usize);
        while let Some((payload, next)) = record(&bytes, at) {
            let block = L2Block::<P>::from_bytes(payload).map_err(|err| LogError::Corrupt {
                index: blocks.len() as u64,
                err,
            })?;
            blocks.push(block);
            at = next;
        }
        if at < bytes.len() {
            if !is_torn_tail(&bytes[at..]) {
                return Err(LogError::Damaged {
                    index: blocks.len() as u64,
                });
            }
            // A torn append: never synced, so never confirmed to anyone.
            file.set_len(at as u64)?;
            file.sync_all()?;
        }
        Ok((
            BlockLog {
                file,
                profile: std::marker::PhantomData,
            },
            blocks,
        ))
    }

    /// Appends a block and syncs it to disk.
    pub fn append(&mut self, block: &L2Block<P>) -> Result<(), LogError> {
        let payload = block.to_bytes();
        let mut rec = Vec::with_capacity(payload.len() + 36);
        rec.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        rec.extend_from_slice(&checksum(&payload).0);
        rec.extend_from_slice(&payload);
        self.file.write_all(&rec)?;
        self.file.sync_data()?;
        Ok(())
    }
}

/// Whether the bytes after the last good record are one unfinished record, as a crash mid-append
/// leaves: shorter than the record they announce (or than a record header).
fn is_torn_tail(rest: &[u8]) -> bool {
    match rest.get(..4) {
        None => true,
        Some(len) => {
            let len = u32::from_le_bytes(len.try_into().expect("4 bytes")) as usize;
            rest.len() <= 36 + len.min(MAX_RECORD_BYTES)
        }
    }
}

/// The record at `at`: its payload and where the next starts, if it is complete and intact.
fn record(bytes: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let len = u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?) as usize;
    if len > MAX_RECORD_BYTES {
        return None;
    }
    let sum = bytes.get(at + 4..at + 36)?;
    let payload = bytes.get(at + 36..at + 36 + len)?;
    (checksum(payload).0 == sum).then_some((payload, at + 36 + len))
}
