use crate::codec::{Decode, DecodeError, Decoder, Encode};
use crate::hash::hash_parts;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
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

    /// Decompresses the key for verification (costly: cache the result on hot paths).
    pub fn verifying_key(&self) -> Result<VerifyingKey, SignatureError> {
        VerifyingKey::from_bytes(&self.0).map_err(|_| SignatureError::InvalidPublicKey)
    }

    /// Verifies `sig` over `msg` with strict (non-malleable) ed25519 rules.
    pub fn verify(&self, msg: &[u8], sig: &Signature) -> Result<(), SignatureError> {
        let vk = self.verifying_key()?;
        vk.verify_strict(msg, &ed25519_dalek::Signature::from_bytes(&sig.0))
            .map_err(|_| SignatureError::InvalidSignature)
    }
}

/// Verifies many `(key, message, signature)` triples at once; fails if any one is invalid.
pub fn verify_batch(
    keys: &[VerifyingKey],
    msgs: &[&[u8]],
    sigs: &[Signature],
) -> Result<(), SignatureError> {
    let sigs: Vec<ed25519_dalek::Signature> = sigs
        .iter()
        .map(|s| ed25519_dalek::Signature::from_bytes(&s.0))
        .collect();
    ed25519_dalek::verify_batch(msgs, &sigs, keys).map_err(|_| SignatureError::InvalidSignature)
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
        PublicKey::from_hex(&s).map_err(|e| serde::de::Error::custom(format!("public key: {e}")))
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
        let vks: Vec<_> = kps
            .iter()
            .map(|k| k.public().verifying_key().unwrap())
            .collect();
        let refs: Vec<&[u8]> = msgs.iter().map(|m| m.as_slice()).collect();
        verify_batch(&vks, &refs, &sigs).unwrap();
        sigs[3].0[0] ^= 1;
        assert!(verify_batch(&vks, &refs, &sigs).is_err());
    }

    #[test]
    fn dev_keys_are_deterministic_and_distinct() {
        assert_eq!(dev_keypair("x", 0).public(), dev_keypair("x", 0).public());
        assert_ne!(dev_keypair("x", 0).public(), dev_keypair("x", 1).public());
        assert_ne!(dev_keypair("x", 0).public(), dev_keypair("y", 0).public());
    }
}
