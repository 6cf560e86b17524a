//! Elements of the BN254 scalar field: the values ZK rollup state, hashes and keys are made of.

use crate::codec::{Decode, DecodeError, Decoder, Encode};
use ark_ff::{BigInteger, PrimeField};

/// The BN254 scalar field, in which the batch circuit computes.
pub type Fr = ark_bn254::Fr;

/// One field element, encoded as 32 big-endian bytes; decoding rejects values at or above the
/// modulus, so every element has exactly one encoding.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Felt(pub Fr);

impl Felt {
    /// Zero.
    pub const ZERO: Felt = Felt(ark_ff::MontFp!("0"));

    /// The element equal to an integer.
    pub fn from_u128(v: u128) -> Felt {
        Felt(Fr::from(v))
    }

    /// The canonical big-endian bytes.
    pub fn to_be_bytes(&self) -> [u8; 32] {
        let bytes = self.0.into_bigint().to_bytes_be();
        bytes.try_into().expect("a BN254 element is 32 bytes")
    }

    /// The element whose canonical big-endian bytes these are, or `None` at or above the modulus.
    pub fn from_be_bytes(bytes: &[u8; 32]) -> Option<Felt> {
        let mut le = *bytes;
        le.reverse();
        Self::from_le_bytes(&le)
    }

    /// The element whose canonical little-endian bytes these are, or `None` at or above the modulus.
    pub fn from_le_bytes(bytes: &[u8; 32]) -> Option<Felt> {
        let mut limbs = [0u64; 4];
        for (i, limb) in limbs.iter_mut().enumerate() {
            *limb = u64::from_le_bytes(bytes[8 * i..8 * i + 8].try_into().expect("8 bytes"));
        }
        Fr::from_bigint(ark_ff::BigInt(limbs)).map(Felt)
    }

    /// The canonical little-endian bytes (the order circomlib packs in).
    pub fn to_le_bytes(&self) -> [u8; 32] {
        let mut b = self.to_be_bytes();
        b.reverse();
        b
    }

    /// Whether the integer value is above (p - 1) / 2: the sign circomlib packs with a point.
    pub fn is_high(&self) -> bool {
        let mut half = Fr::MODULUS;
        half.div2();
        self.0.into_bigint() > half
    }

    /// The value as a decimal integer (how circomlib writes elements).
    pub fn to_decimal(&self) -> String {
        self.0.into_bigint().to_string()
    }

    /// The element of a decimal integer below the modulus.
    pub fn from_decimal(s: &str) -> Option<Felt> {
        if s.is_empty() || s.len() > 78 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut acc = ark_ff::BigInt::<4>::zero();
        for b in s.bytes() {
            let mut next = [0u64; 4];
            let mut carry: u128 = (b - b'0') as u128;
            for (i, limb) in acc.0.iter().enumerate() {
                let v = (*limb as u128) * 10 + carry;
                next[i] = v as u64;
                carry = v >> 64;
            }
            if carry != 0 {
                return None;
            }
            acc = ark_ff::BigInt(next);
        }
        Fr::from_bigint(acc).map(Felt)
    }
}

impl std::fmt::Debug for Felt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "0x{}", hex::encode(self.to_be_bytes()))
    }
}

impl std::fmt::Display for Felt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "0x{}", hex::encode(self.to_be_bytes()))
    }
}

impl Encode for Felt {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_be_bytes());
    }
}

impl Decode for Felt {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        Felt::from_be_bytes(&d.array()?).ok_or(DecodeError::Invalid(
            "field element (not below the modulus)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_element_at_or_above_the_modulus_has_no_encoding() {
        let p = Fr::MODULUS.to_bytes_be();
        let p: [u8; 32] = p.try_into().unwrap();
        assert_eq!(Felt::from_be_bytes(&p), None);
        assert!(Felt::from_bytes(&[0xff; 32]).is_err());
        let mut below = p;
        below[31] -= 1;
        let max = Felt::from_be_bytes(&below).unwrap();
        assert_eq!(Felt::from_bytes(&max.to_bytes()).unwrap(), max);
        assert_eq!(max.0 + Fr::from(1u8), Fr::from(0u8));
    }

    #[test]
    fn decimal_and_bytes_round_trip() {
        let v = Felt::from_u128(u128::MAX);
        assert_eq!(Felt::from_decimal(&v.to_decimal()), Some(v));
        assert_eq!(Felt::from_le_bytes(&v.to_le_bytes()), Some(v));
        assert_eq!(Felt::from_decimal("12a"), None);
        assert_eq!(Felt::from_decimal(&"9".repeat(78)), None);
        assert!(!Felt::ZERO.is_high() && (Felt(-Fr::from(1u8))).is_high());
    }
}
