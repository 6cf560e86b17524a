//! A profile fixes the cryptography of a rollup: the hash of its state trees and commitments, and
//! its signature scheme. The state transition function is written once, over any profile.

use basalt_merkle::{Blake3Hasher, TreeHasher};
use basalt_types::{Decode, Encode};
use std::fmt::Debug;

/// The cryptography of one kind of rollup.
pub trait Profile: Copy + Eq + Debug + Default + Send + Sync + 'static {
    /// The digest of trees, leaves and commitments.
    type Digest: Copy + Eq + Debug + Encode + Decode + Send + Sync;
    /// The tree hasher.
    type Hasher: TreeHasher<Digest = Self::Digest>;
    /// An account's public key.
    type PublicKey: Copy + Eq + Debug + Encode + Decode + Send + Sync;
    /// A transaction signature.
    type Signature: Copy + Eq + Debug + Encode + Decode + Send + Sync;

    /// Short name, for logs and reports.
    const NAME: &'static str;

    /// The digest of a leaf's canonical bytes.
    fn leaf(bytes: &[u8]) -> Self::Digest;

    /// A domain-separated digest of several byte strings (commitments, signing messages).
    fn hash(domain: &str, parts: &[&[u8]]) -> Self::Digest;

    /// Whether `signature` by `key` over `message` is valid.
    fn verify(key: &Self::PublicKey, message: &Self::Digest, signature: &Self::Signature) -> bool;

    /// [`Profile::verify`] of many signatures at once; the answers must equal one-by-one checks.
    fn verify_many(items: &[(Self::PublicKey, Self::Digest, Self::Signature)]) -> Vec<bool> {
        items
            .iter()
            .map(|(k, m, s)| Self::verify(k, m, s))
            .collect()
    }
}

/// The optimistic profile: blake3 trees and commitments, ed25519 signatures under the L1's rule
/// (ZIP-215, [`basalt_types::PublicKey::verify`]: batch and single checks agree on every input).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Optimistic;

impl Profile for Optimistic {
    type Digest = basalt_types::Hash;
    type Hasher = Blake3Hasher;
    type PublicKey = basalt_types::PublicKey;
    type Signature = basalt_types::Signature;

    const NAME: &'static str = "optimistic";

    fn leaf(bytes: &[u8]) -> Self::Digest {
        Blake3Hasher::leaf(bytes)
    }

    fn hash(domain: &str, parts: &[&[u8]]) -> Self::Digest {
        basalt_types::hash_parts(domain, parts)
    }

    fn verify(key: &Self::PublicKey, message: &Self::Digest, signature: &Self::Signature) -> bool {
        key.verify(&message.0, signature).is_ok()
    }

    fn verify_many(items: &[(Self::PublicKey, Self::Digest, Self::Signature)]) -> Vec<bool> {
        let items: Vec<_> = items.iter().map(|(k, m, s)| (*k, m.0, *s)).collect();
        basalt_types::verify_each(&items)
            .into_iter()
            .map(|r| r.is_ok())
            .collect()
    }
}
