//! EdDSA-Poseidon over BabyJubJub, as circomlibjs signs (`signPoseidon`) and verifies
//! (`verifyPoseidon`): A = Base8·(s>>3), R8 = Base8·r, hm = Poseidon(R8, A, msg), S = r + hm·s,
//! valid when Base8·S = R8 + 8·hm·A.

use super::babyjub::{BabyPoint, SubScalar};
use super::field::Felt;
use super::poseidon::poseidon;
use crate::codec::{Decode, DecodeError, Decoder, Encode};
use ark_ff::PrimeField;
use blake_hash::{Blake512, Digest};

/// A BabyJubJub public key: a point of prime order (never the identity or a torsion point).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct BabyPublicKey(BabyPoint);

impl BabyPublicKey {
    /// The key at `point`, if it is a valid key.
    pub fn from_point(point: BabyPoint) -> Option<BabyPublicKey> {
        (point.on_curve() && point != BabyPoint::IDENTITY && point.in_subgroup())
            .then_some(BabyPublicKey(point))
    }

    /// The point.
    pub fn point(&self) -> &BabyPoint {
        &self.0
    }

    /// Whether `signature` over `msg` is valid under this key (circomlibjs `verifyPoseidon`).
    pub fn verify(&self, msg: &Felt, signature: &BabySignature) -> bool {
        if !signature.r8.on_curve() {
            return false;
        }
        let a = &self.0;
        let hm = poseidon(&[signature.r8.x, signature.r8.y, a.x, a.y, *msg]);
        let hm = SubScalar::from_le_bytes_mod_order(&hm.to_le_bytes());
        let left = BabyPoint::base8().mul(&signature.s);
        let right = signature.r8.add(&a.mul_by_cofactor().mul(&hm));
        left == right
    }
}

impl std::fmt::Debug for BabyPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BabyPublicKey({})", hex::encode(self.0.pack()))
    }
}

impl Encode for BabyPublicKey {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.0.encode_to(out);
    }
}

impl Decode for BabyPublicKey {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        BabyPublicKey::from_point(BabyPoint::decode_from(d)?)
            .ok_or(DecodeError::Invalid("BabyJubJub key (not of prime order)"))
    }
}

/// An EdDSA-Poseidon signature: the point R8 and the scalar S (below the subgroup order).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct BabySignature {
    /// The commitment point.
    pub r8: BabyPoint,
    /// The response scalar.
    pub s: SubScalar,
}

impl Encode for BabySignature {
    /// circomlibjs `packSignature`: packed R8, then S as 32 little-endian bytes.
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.r8.encode_to(out);
        let mut s = [0u8; 32];
        for (i, limb) in self.s.into_bigint().0.iter().enumerate() {
            s[8 * i..8 * i + 8].copy_from_slice(&limb.to_le_bytes());
        }
        out.extend_from_slice(&s);
    }
}

impl Decode for BabySignature {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let r8 = BabyPoint::decode_from(d)?;
        let bytes: [u8; 32] = d.array()?;
        let mut limbs = [0u64; 4];
        for (i, limb) in limbs.iter_mut().enumerate() {
            *limb = u64::from_le_bytes(bytes[8 * i..8 * i + 8].try_into().expect("8 bytes"));
        }
        let s = SubScalar::from_bigint(ark_ff::BigInt(limbs)).ok_or(DecodeError::Invalid(
            "signature scalar (not below the subgroup order)",
        ))?;
        Ok(BabySignature { r8, s })
    }
}

/// A BabyJubJub key pair derived from a 32-byte private key as circomlibjs derives it.
#[derive(Clone)]
pub struct BabyKeypair {
    /// The pruned first half of BLAKE-512(private key): the secret scalar s.
    scalar: [u8; 32],
    /// The second half: the nonce key.
    nonce_key: [u8; 32],
    public: BabyPublicKey,
}

impl BabyKeypair {
    /// The key pair of a private key (circomlibjs `prv2pub`).
    pub fn from_private(private: &[u8; 32]) -> BabyKeypair {
        let h = Blake512::digest(private);
        let mut scalar: [u8; 32] = h[..32].try_into().expect("64-byte digest");
        scalar[0] &= 0xf8;
        scalar[31] &= 0x7f;
        scalar[31] |= 0x40;
        let nonce_key: [u8; 32] = h[32..].try_into().expect("64-byte digest");
        // A = Base8·(s >> 3).
        let mut shifted = [0u64; 4];
        let limbs: Vec<u64> = scalar
            .chunks(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect();
        for i in 0..4 {
            shifted[i] = (limbs[i] >> 3) | limbs.get(i + 1).map_or(0, |next| next << 61);
        }
        let point = BabyPoint::base8().mul_integer(&shifted);
        let public = BabyPublicKey::from_point(point).expect("a multiple of Base8 has prime order");
        BabyKeypair {
            scalar,
            nonce_key,
            public,
        }
    }

    /// A development key pair from a seed. Devnet only: the seed is the key.
    pub fn dev(seed: &[u8]) -> BabyKeypair {
        Self::from_private(&crate::hash_parts("basalt/dev/babyjub", &[seed]).0)
    }

    /// The ZK rollup key the wallet uses for the holder of L1 key `l1`: derived from its secret,
    /// so one key file (or dev account) signs on both layers.
    pub fn of_l1_key(l1: &crate::Keypair) -> BabyKeypair {
        Self::from_private(&crate::hash_parts("basalt/zk-key-of-l1-key", &[&l1.secret()]).0)
    }

    /// The public key.
    pub fn public(&self) -> BabyPublicKey {
        self.public
    }

    /// Signs `msg` (circomlibjs `signPoseidon`): deterministic, the nonce derived from the key and
    /// the message.
    pub fn sign(&self, msg: &Felt) -> BabySignature {
        let mut nonce_input = [0u8; 64];
        nonce_input[..32].copy_from_slice(&self.nonce_key);
        nonce_input[32..].copy_from_slice(&msg.to_le_bytes());
        let r = SubScalar::from_le_bytes_mod_order(&Blake512::digest(&nonce_input));
        let r8 = BabyPoint::base8().mul(&r);
        let a = self.public.point();
        let hm = poseidon(&[r8.x, r8.y, a.x, a.y, *msg]);
        let hm = SubScalar::from_le_bytes_mod_order(&hm.to_le_bytes());
        let s = SubScalar::from_le_bytes_mod_order(&self.scalar);
        BabySignature { r8, s: r + hm * s }
    }
}

impl std::fmt::Debug for BabyKeypair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BabyKeypair({:?})", self.public)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Felt {
        Felt::from_decimal(s).unwrap()
    }

    /// iden3/circomlibjs test/eddsa.js "Sign (using Poseidon) a single 10 bytes from 0 to 9".
    #[test]
    fn eddsa_poseidon_matches_the_circomlibjs_vector() {
        let private: [u8; 32] =
            hex::decode("0001020304050607080900010203040506070809000102030405060708090001")
                .unwrap()
                .try_into()
                .unwrap();
        let msg = dec("42649378395939397566720"); // 0x090807060504030201000 read little-endian
        let keys = BabyKeypair::from_private(&private);
        let public = keys.public();
        let a = public.point();
        assert_eq!(
            a.x,
            dec("13277427435165878497778222415993513565335242147425444199013288855685581939618")
        );
        assert_eq!(
            a.y,
            dec("13622229784656158136036771217484571176836296686641868549125388198837476602820")
        );
        let sig = keys.sign(&msg);
        assert_eq!(
            sig.r8.x,
            dec("11384336176656855268977457483345535180380036354188103142384839473266348197733")
        );
        assert_eq!(
            sig.r8.y,
            dec("15383486972088797283337779941324724402501462225528836549661220478783371668959")
        );
        assert_eq!(
            sig.s.into_bigint().to_string(),
            "1672775540645840396591609181675628451599263765380031905495115170613215233181"
        );
        assert!(keys.public().verify(&msg, &sig));
        let round = BabySignature::from_bytes(&sig.to_bytes()).unwrap();
        assert_eq!(round, sig);
    }

    #[test]
    fn a_signature_verifies_only_for_its_key_and_message() {
        let (alice, bob) = (BabyKeypair::dev(b"alice"), BabyKeypair::dev(b"bob"));
        let msg = Felt::from_u128(7);
        let sig = alice.sign(&msg);
        assert!(alice.public().verify(&msg, &sig));
        assert!(!alice.public().verify(&Felt::from_u128(8), &sig));
        assert!(!bob.public().verify(&msg, &sig));
        let mut bumped = sig;
        bumped.s += SubScalar::from(1u8);
        assert!(!alice.public().verify(&msg, &bumped));
    }

    #[test]
    fn keys_of_small_order_and_out_of_range_scalars_do_not_decode() {
        assert_eq!(BabyPublicKey::from_point(BabyPoint::IDENTITY), None);
        // (0, -1) has order 2.
        let two = BabyPoint {
            x: Felt::ZERO,
            y: Felt(-ark_bn254::Fr::from(1u8)),
        };
        assert!(two.on_curve());
        assert_eq!(BabyPublicKey::from_point(two), None);
        // A generic point of the full group (order 8·l) is not a key.
        let base = BabyPoint::base8();
        let mixed = base.add(&two);
        assert!(mixed.on_curve() && !mixed.in_subgroup());
        assert!(BabyPublicKey::from_bytes(&mixed.pack()).is_err());
        let sig = BabyKeypair::dev(b"k").sign(&Felt::ZERO);
        let mut bytes = sig.to_bytes();
        bytes[32..].copy_from_slice(&[0xff; 32]);
        assert!(BabySignature::from_bytes(&bytes).is_err());
    }
}
