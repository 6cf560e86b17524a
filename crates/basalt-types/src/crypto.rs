use crate::codec::{Decode, DecodeError, Decoder, Encode};
use crate::hash::hash_parts;
use ed25519_dalek::{Signer as _, SigningKey};
use std::fmt;

/// An ed25519 public key: the identity of an L1 account or validator.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PublicKey(pub [u8; 32]);

/// An ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(pub [u8; 64]);

/// Why a signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The public key bytes are not a valid curve point.
    #[error("public key is not a valid ed25519 point")]
    InvalidPublicKey,
    /// The signature does not verify under the key.
    #[error("invalid signature")]
    InvalidSignature,
}

impl PublicKey {
    /// The key as lowercase hex with a `0x` prefix.
    pub fn to_hex(&self) -> String {
        format!("0x{}", hex::encode(self.0))
    }

    /// Parses 32 bytes of hex, with or without a `0x` prefix.
    pub fn from_hex(s: &str) -> Result<Self, DecodeError> {
        crate::codec::parse_hex_array::<32>(s).map(PublicKey)
    }

    /// Verifies `sig` over `msg` under the ZIP-215 rules (cofactored, canonical `s`, any point
    /// encoding that decodes): the one rule of [`verify_batch`] and [`verify_each`], so no
    /// signature's verdict depends on which other signatures it is checked with.
    pub fn verify(&self, msg: &[u8], sig: &Signature) -> Result<(), SignatureError> {
        let key = ed25519_consensus::VerificationKey::try_from(self.0)
            .map_err(|_| SignatureError::InvalidPublicKey)?;
        key.verify(&ed25519_consensus::Signature::from(sig.0), msg)
            .map_err(|_| SignatureError::InvalidSignature)
    }
}

/// Verifies many `(key, message, signature)` triples at once under the rule of
/// [`PublicKey::verify`]: `Ok` exactly when every one of them verifies alone.
pub fn verify_batch<M: AsRef<[u8]>>(
    items: &[(PublicKey, M, Signature)],
) -> Result<(), SignatureError> {
    use rand_chacha::rand_core::SeedableRng;
    // The random coefficients come from the batch's own contents, so the check is deterministic
    // and a crafted batch cannot choose them. ZIP-215 makes the verdict independent of them anyway.
    let mut seed = blake3::Hasher::new_derive_key("basalt/ed25519/batch-verify");
    let mut batch = ed25519_consensus::batch::Verifier::new();
    for (key, msg, sig) in items {
        let msg = msg.as_ref();
        seed.update(&key.0);
        seed.update(&(msg.len() as u64).to_le_bytes());
        seed.update(msg);
        seed.update(&sig.0);
        batch.queue((
            ed25519_consensus::VerificationKeyBytes::from(key.0),
            ed25519_consensus::Signature::from(sig.0),
            msg,
        ));
    }
    let rng = rand_chacha::ChaCha20Rng::from_seed(*seed.finalize().as_bytes());
    batch
        .verify(rng)
        .map_err(|_| SignatureError::InvalidSignature)
}

/// The verdict of [`PublicKey::verify`] on each triple: one batch check, and one-by-one checks only
/// when the batch holds a bad signature.
pub fn verify_each<M: AsRef<[u8]>>(
    items: &[(PublicKey, M, Signature)],
) -> Vec<Result<(), SignatureError>> {
    if verify_batch(items).is_ok() {
        return vec![Ok(()); items.len()];
    }
    items
        .iter()
        .map(|(key, msg, sig)| key.verify(msg.as_ref(), sig))
        .collect()
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", &self.to_hex()[..14])
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sig:0x{}", hex::encode(&self.0[..6]))
    }
}

impl Encode for PublicKey {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

impl Decode for PublicKey {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(PublicKey(d.array()?))
    }
}

impl Encode for Signature {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

impl Decode for Signature {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Ok(Signature(d.array()?))
    }
}

/// An ed25519 signing key with its public key.
#[derive(Clone)]
pub struct Keypair {
    signing: SigningKey,
    public: PublicKey,
}

impl Keypair {
    /// Builds a keypair from a 32-byte secret seed.
    pub fn from_secret(secret: [u8; 32]) -> Self {
        let signing = SigningKey::from_bytes(&secret);
        let public = PublicKey(signing.verifying_key().to_bytes());
        Keypair { signing, public }
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        self.public
    }

    /// The 32-byte secret seed (for key files).
    pub fn secret(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }

    /// Signs `msg`.
    pub fn sign(&self, msg: &[u8]) -> Signature {
        Signature(self.signing.sign(msg).to_bytes())
    }
}

impl fmt::Debug for Keypair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Keypair({:?})", self.public)
    }
}

/// The deterministic dev keypair number `n` (DEVNET ONLY: anyone can derive these secrets).
pub fn dev_keypair(domain: &str, n: u64) -> Keypair {
    let seed = hash_parts("basalt/dev-key", &[domain.as_bytes(), &n.to_le_bytes()]);
    Keypair::from_secret(seed.0)
}

impl serde::Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for PublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        PublicKey::from_hex(&s).map_err(|e| {
            serde::de::Error::custom(format!(
                "public key must be 32 bytes of hex (0x + 64 hex digits): {e}"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_tampering_fails() {
        let kp = dev_keypair("test", 1);
        let sig = kp.sign(b"hello");
        kp.public().verify(b"hello", &sig).unwrap();
        assert_eq!(
            kp.public().verify(b"hellp", &sig),
            Err(SignatureError::InvalidSignature)
        );
        let other = dev_keypair("test", 2);
        assert!(other.public().verify(b"hello", &sig).is_err());
    }

    #[test]
    fn batch_verification_rejects_one_bad_signature() {
        let kps: Vec<_> = (0..8).map(|i| dev_keypair("batch", i)).collect();
        let msgs: Vec<Vec<u8>> = (0..8u8).map(|i| vec![i; 10]).collect();
        let mut sigs: Vec<_> = kps.iter().zip(&msgs).map(|(k, m)| k.sign(m)).collect();
        let items = |sigs: &[Signature]| -> Vec<(PublicKey, &[u8], Signature)> {
            kps.iter()
                .zip(&msgs)
                .zip(sigs)
                .map(|((k, m), s)| (k.public(), m.as_slice(), *s))
                .collect()
        };
        verify_batch(&items(&sigs)).unwrap();
        sigs[3].0[0] ^= 1;
        assert!(verify_batch(&items(&sigs)).is_err());
        let each = verify_each(&items(&sigs));
        assert_eq!(each.iter().filter(|r| r.is_err()).count(), 1);
        assert!(each[3].is_err());
    }

    #[test]
    fn dev_keys_are_deterministic_and_distinct() {
        assert_eq!(dev_keypair("x", 0).public(), dev_keypair("x", 0).public());
        assert_ne!(dev_keypair("x", 0).public(), dev_keypair("x", 1).public());
        assert_ne!(dev_keypair("x", 0).public(), dev_keypair("y", 0).public());
    }
}
