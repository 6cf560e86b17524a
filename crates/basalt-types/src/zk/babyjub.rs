//! BabyJubJub, the twisted Edwards curve over the BN254 scalar field, in circomlib's coordinates
//! (168700·x² + y² = 1 + 168696·x²·y²) and with circomlib's generator `Base8`.
//!
//! Arithmetic runs in `ark-ed-on-bn254`, the same curve rescaled to a = 1: a point (x, y) here is
//! (√168700·x, y) there. Only this file converts between the two.

use super::field::{Felt, Fr};
use crate::codec::{Decode, DecodeError, Decoder, Encode};
use ark_ec::{twisted_edwards::Affine, AffineRepr, CurveGroup};
use ark_ed_on_bn254::{EdwardsAffine, EdwardsConfig, EdwardsProjective};
use ark_ff::{Field, PrimeField};
use std::sync::OnceLock;

/// Scalars of BabyJubJub's prime-order subgroup (circomlib's `subOrder`).
pub type SubScalar = ark_ed_on_bn254::Fr;

/// circomlib's curve coefficient `a`.
pub const COEFF_A: u64 = 168700;
/// circomlib's curve coefficient `d`.
pub const COEFF_D: u64 = 168696;

/// A point of BabyJubJub in circomlib's coordinates.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct BabyPoint {
    /// The x coordinate.
    pub x: Felt,
    /// The y coordinate.
    pub y: Felt,
}

/// √168700 and its inverse: the map to and from the rescaled curve.
fn scale() -> &'static (Fr, Fr) {
    static SCALE: OnceLock<(Fr, Fr)> = OnceLock::new();
    SCALE.get_or_init(|| {
        let root = Fr::from(COEFF_A)
            .sqrt()
            .expect("168700 is a square mod the BN254 order");
        let root = if Felt(root).is_high() { -root } else { root };
        (root, root.inverse().expect("nonzero"))
    })
}

impl BabyPoint {
    /// The neutral element.
    pub const IDENTITY: BabyPoint = BabyPoint {
        x: Felt::ZERO,
        y: Felt(ark_ff::MontFp!("1")),
    };

    /// circomlib's `Base8`: the generator of the prime-order subgroup that keys and signatures use.
    pub fn base8() -> BabyPoint {
        static BASE8: OnceLock<BabyPoint> = OnceLock::new();
        *BASE8.get_or_init(|| BabyPoint {
            x: Felt::from_decimal(
                "5299619240641551281634865583518297030282874472190772894086521144482721001553",
            )
            .expect("constant"),
            y: Felt::from_decimal(
                "16950150798460657717958625567821834550301663161624707787222815936182638968203",
            )
            .expect("constant"),
        })
    }

    /// Whether the coordinates satisfy the curve equation.
    pub fn on_curve(&self) -> bool {
        let (x2, y2) = (self.x.0.square(), self.y.0.square());
        Fr::from(COEFF_A) * x2 + y2 == Fr::from(1u8) + Fr::from(COEFF_D) * x2 * y2
    }

    fn to_ark(self) -> EdwardsAffine {
        Affine::<EdwardsConfig>::new_unchecked(self.x.0 * scale().0, self.y.0)
    }

    fn from_ark(p: EdwardsAffine) -> BabyPoint {
        let (x, y) = p.xy().unwrap_or((Fr::from(0u8), Fr::from(1u8)));
        BabyPoint {
            x: Felt(x * scale().1),
            y: Felt(y),
        }
    }

    /// The sum of two points.
    pub fn add(&self, other: &BabyPoint) -> BabyPoint {
        Self::from_ark((EdwardsProjective::from(self.to_ark()) + other.to_ark()).into_affine())
    }

    /// `scalar` times this point, for a scalar of the prime-order subgroup. On a point outside that
    /// subgroup this is multiplication by the scalar's canonical integer.
    pub fn mul(&self, scalar: &SubScalar) -> BabyPoint {
        self.mul_integer(scalar.into_bigint().as_ref())
    }

    /// This point times an integer given as little-endian 64-bit limbs.
    pub fn mul_integer(&self, limbs: &[u64]) -> BabyPoint {
        Self::from_ark(self.to_ark().mul_bigint(limbs).into_affine())
    }

    /// Eight times this point: its component in the prime-order subgroup, times 8.
    pub fn mul_by_cofactor(&self) -> BabyPoint {
        Self::from_ark(self.to_ark().mul_by_cofactor())
    }

    /// Whether this point (on the curve) lies in the prime-order subgroup.
    pub fn in_subgroup(&self) -> bool {
        self.to_ark().is_in_correct_subgroup_assuming_on_curve()
    }

    /// circomlib's `packPoint`: y little-endian, with the top bit set when x is above (p-1)/2.
    pub fn pack(&self) -> [u8; 32] {
        let mut out = self.y.to_le_bytes();
        if self.x.is_high() {
            out[31] |= 0x80;
        }
        out
    }

    /// circomlib's `unpackPoint`, made canonical: y below the modulus, x nonzero, and the bytes
    /// exactly what [`BabyPoint::pack`] gives for the point.
    pub fn unpack(bytes: &[u8; 32]) -> Option<BabyPoint> {
        let high = bytes[31] & 0x80 != 0;
        let mut y_bytes = *bytes;
        y_bytes[31] &= 0x7f;
        let y = Felt::from_le_bytes(&y_bytes)?;
        let y2 = y.0.square();
        let x2 = (Fr::from(1u8) - y2) * (Fr::from(COEFF_A) - Fr::from(COEFF_D) * y2).inverse()?;
        let root = x2.sqrt()?;
        if root == Fr::from(0u8) {
            return None;
        }
        let root = if Felt(root).is_high() == high {
            root
        } else {
            -root
        };
        let point = BabyPoint { x: Felt(root), y };
        (point.pack() == *bytes).then_some(point)
    }
}

impl Encode for BabyPoint {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.pack());
    }
}

impl Decode for BabyPoint {
    fn decode_from(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        BabyPoint::unpack(&d.array()?).ok_or(DecodeError::Invalid("BabyJubJub point"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base8_is_on_the_curve_and_of_prime_order() {
        let b = BabyPoint::base8();
        assert!(b.on_curve() && b.in_subgroup());
        assert_eq!(b.mul(&SubScalar::from(0u8)), BabyPoint::IDENTITY);
        let order = SubScalar::MODULUS;
        assert_eq!(b.mul_integer(order.as_ref()), BabyPoint::IDENTITY);
        assert_eq!(b.add(&b), b.mul(&SubScalar::from(2u8)));
    }

    /// circomlibjs test/babyjub.js "should add 2 same numbers".
    #[test]
    fn doubling_matches_circomlibjs() {
        let p = BabyPoint {
            x: Felt::from_decimal(
                "17777552123799933955779906779655732241715742912184938656739573121738514868268",
            )
            .unwrap(),
            y: Felt::from_decimal(
                "2626589144620713026669568689430873010625803728049924121243784502389097019475",
            )
            .unwrap(),
        };
        let sum = p.add(&p);
        assert_eq!(
            sum.x.to_decimal(),
            "6890855772600357754907169075114257697580319025794532037257385534741338397365"
        );
        assert_eq!(
            sum.y.to_decimal(),
            "4338620300185947561074059802482547481416142213883829469920100239455078257889"
        );
    }

    #[test]
    fn packing_round_trips_and_rejects_non_canonical_bytes() {
        let b = BabyPoint::base8();
        for k in 1u8..20 {
            let p = b.mul(&SubScalar::from(k));
            assert_eq!(BabyPoint::unpack(&p.pack()), Some(p));
            let neg = BabyPoint {
                x: Felt(-p.x.0),
                y: p.y,
            };
            assert_eq!(BabyPoint::unpack(&neg.pack()), Some(neg));
        }
        // y = 1 has x = 0: no sign to pack, and circomlib refuses to unpack it.
        assert_eq!(BabyPoint::unpack(&BabyPoint::IDENTITY.pack()), None);
        // A y at or above the modulus.
        assert_eq!(BabyPoint::unpack(&[0x7f; 32]), None);
    }
}
