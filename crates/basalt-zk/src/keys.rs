//! The batch circuit's keys on disk: the development setup of a slot count is generated once (tens
//! of seconds) and cached in a directory; a rollup registers the verifying key's hash, and a cached
//! key that does not match it is a clear error, never a silent re-setup.
//!
//! A cache file is `BASALTZK`, a version byte, the slot count, the verifying key's hash, the proving
//! key (uncompressed, as arkworks writes it) and a blake3 checksum of everything before it. Files are
//! written to a temporary name and renamed, so a crash leaves no half-written key behind.

use crate::batch::BatchCircuit;
use crate::{dev_setup, verifying_key_hash, Keys};
use ark_bn254::Bn254;
use ark_groth16::ProvingKey;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use basalt_types::Hash;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"BASALTZK";
const VERSION: u8 = 1;
const HEADER: usize = 8 + 1 + 4 + 32;

/// Why cached keys could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading or writing the cache failed.
    #[error("key cache {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// The file is not an intact key of this format.
    #[error("key cache {path} is corrupt ({why}); delete it to set up again")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: &'static str,
    },
    /// The key is not the one the rollup registered.
    #[error("verifying key {have} is not the rollup's registered key {registered}: the rollup was set up with other keys (another slot count or setup)")]
    Mismatch {
        /// Hash of the key at hand.
        have: Hash,
        /// Hash the rollup registered.
        registered: Hash,
    },
    /// The setup itself failed.
    #[error("setup failed: {0}")]
    Setup(#[from] crate::ZkError),
}

/// A directory of cached development keys, one file per slot count.
#[derive(Debug, Clone)]
pub struct KeyCache {
    dir: PathBuf,
}

impl KeyCache {
    /// A cache in `dir` (created when a key is first saved).
    pub fn new(dir: impl Into<PathBuf>) -> KeyCache {
        KeyCache { dir: dir.into() }
    }

    /// The file of the keys for `slots` slots of this revision of the circuit (the keys of an
    /// older one are left alone, never loaded).
    pub fn path(&self, slots: usize) -> PathBuf {
        let revision = crate::batch::CIRCUIT_REVISION;
        self.dir.join(format!("batch-{slots}-dev-r{revision}.keys"))
    }

    /// The cached keys for `slots`, or `None` if none are cached.
    pub fn load(&self, slots: usize) -> Result<Option<Keys>, KeyError> {
        let path = self.path(slots);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(KeyError::Io { path, source }),
        };
        decode(&bytes, slots)
            .map(Some)
            .map_err(|why| KeyError::Corrupt { path, why })
    }

    /// The keys for `slots`: cached, or set up now (telling `progress` first) and saved.
    pub fn load_or_setup(
        &self,
        slots: usize,
        progress: impl FnOnce(&Path),
    ) -> Result<Keys, KeyError> {
        if let Some(keys) = self.load(slots)? {
            return Ok(keys);
        }
        let path = self.path(slots);
        progress(&path);
        let keys = dev_setup(BatchCircuit::blank(slots))?;
        self.save(slots, &keys)?;
        Ok(keys)
    }

    /// Saves `keys` for `slots`, replacing any cached ones atomically.
    pub fn save(&self, slots: usize, keys: &Keys) -> Result<(), KeyError> {
        let path = self.path(slots);
        let io = |source| KeyError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        let tmp = path.with_extension("keys.tmp");
        std::fs::write(&tmp, encode(slots, keys)).map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)
    }
}

/// Checks that `keys` are the ones whose verifying-key hash a rollup registered.
pub fn check_registered(keys: &Keys, registered: &Hash) -> Result<(), KeyError> {
    let have = verifying_key_hash(&keys.verifying);
    if have != *registered {
        return Err(KeyError::Mismatch {
            have,
            registered: *registered,
        });
    }
    Ok(())
}

fn encode(slots: usize, keys: &Keys) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + keys.proving.serialized_size(Compress::No) + 32);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.extend_from_slice(&(slots as u32).to_le_bytes());
    out.extend_from_slice(&verifying_key_hash(&keys.verifying).0);
    keys.proving
        .serialize_uncompressed(&mut out)
        .expect("serializing into a vector");
    let sum = blake3::hash(&out);
    out.extend_from_slice(sum.as_bytes());
    out
}

fn decode(bytes: &[u8], slots: usize) -> Result<Keys, &'static str> {
    if bytes.len() < HEADER + 32 {
        return Err("too short");
    }
    let (body, sum) = bytes.split_at(bytes.len() - 32);
    if blake3::hash(body).as_bytes() != sum {
        return Err("checksum mismatch");
    }
    if &body[..8] != MAGIC || body[8] != VERSION {
        return Err("not a Basalt key file of this version");
    }
    if u32::from_le_bytes(body[9..13].try_into().expect("4 bytes")) as usize != slots {
        return Err("keys of another slot count");
    }
    // The checksum vouches for the bytes this cache wrote: no curve checks on a million points.
    let proving =
        ProvingKey::<Bn254>::deserialize_with_mode(&body[HEADER..], Compress::No, Validate::No)
            .map_err(|_| "proving key does not decode")?;
    let keys = Keys {
        verifying: proving.vk.clone(),
        proving,
    };
    if verifying_key_hash(&keys.verifying).0 != body[13..45] {
        return Err("verifying key hash does not match the header");
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_keys_round_trip_and_a_damaged_or_foreign_file_is_a_clear_error() {
        let dir = std::env::temp_dir().join(format!("basalt-zk-keys-{}", std::process::id()));
        let cache = KeyCache::new(&dir);
        assert!(cache.load(1).unwrap().is_none());
        let mut told = false;
        let keys = cache.load_or_setup(1, |_| told = true).unwrap();
        assert!(told, "a setup is announced");
        let again = cache
            .load_or_setup(1, |_| panic!("cached keys are set up again"))
            .unwrap();
        let hash = verifying_key_hash(&keys.verifying);
        assert_eq!(verifying_key_hash(&again.verifying), hash);
        check_registered(&again, &hash).unwrap();
        assert!(matches!(
            check_registered(&again, &Hash([1; 32])),
            Err(KeyError::Mismatch { .. })
        ));
        // Another slot count under this file's name, and a flipped byte, are refused.
        std::fs::copy(cache.path(1), cache.path(2)).unwrap();
        assert!(matches!(cache.load(2), Err(KeyError::Corrupt { .. })));
        let mut bytes = std::fs::read(cache.path(1)).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 1;
        std::fs::write(cache.path(1), &bytes).unwrap();
        match cache.load(1) {
            Err(e @ KeyError::Corrupt { .. }) => assert!(e.to_string().contains("corrupt")),
            other => panic!("a damaged file loaded: {:?}", other.map(|k| k.is_some())),
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
