//! BabyJubJub points as constraints, in circomlib's coordinates: addition (circomlib's `BabyAdd`,
//! complete on this curve), the curve check, and multiplication by a scalar given as bits, for a
//! variable point and for `Base8` (a fixed base, by 3-bit windows of precomputed multiples).

use super::{Bit, FrVar};
use ark_r1cs_std::{alloc::AllocVar, eq::EqGadget, fields::FieldVar, select::CondSelectGadget};
use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};
use basalt_types::zk::{BabyPoint, Fr, SubScalar};
use std::sync::OnceLock;

const A: u64 = 168700;
const D: u64 = 168696;

/// A BabyJubJub point in the circuit.
#[derive(Clone, Debug)]
pub struct PointVar {
    /// The x coordinate.
    pub x: FrVar,
    /// The y coordinate.
    pub y: FrVar,
}

impl PointVar {
    /// A point known to the circuit (no variables).
    pub fn constant(p: &BabyPoint) -> PointVar {
        PointVar {
            x: FrVar::constant(p.x.0),
            y: FrVar::constant(p.y.0),
        }
    }

    /// A witness point, not yet checked to be on the curve.
    pub fn witness(
        cs: ConstraintSystemRef<Fr>,
        p: Option<BabyPoint>,
    ) -> Result<PointVar, SynthesisError> {
        let missing = || SynthesisError::AssignmentMissing;
        Ok(PointVar {
            x: FrVar::new_witness(cs.clone(), || p.map(|p| p.x.0).ok_or_else(missing))?,
            y: FrVar::new_witness(cs, || p.map(|p| p.y.0).ok_or_else(missing))?,
        })
    }

    /// Enforces the curve equation: 168700·x² + y² = 1 + 168696·x²·y².
    pub fn enforce_on_curve(&self) -> Result<(), SynthesisError> {
        let x2 = self.x.square()?;
        let y2 = self.y.square()?;
        let x2y2 = &x2 * &y2;
        (x2 * Fr::from(A) + y2).enforce_equal(&(x2y2 * Fr::from(D) + Fr::from(1u8)))
    }

    /// The sum (circomlib's `BabyAdd`: six constraints).
    pub fn add(&self, other: &PointVar) -> Result<PointVar, SynthesisError> {
        let beta = &self.x * &other.y;
        let gamma = &self.y * &other.x;
        let delta = (&self.y - &self.x * Fr::from(A)) * (&other.x + &other.y);
        let tau = &beta * &gamma;
        let d_tau = tau * Fr::from(D);
        let x = (&beta + &gamma).mul_by_inverse_unchecked(&(FrVar::one() + &d_tau))?;
        let y = (delta + beta * Fr::from(A) - gamma)
            .mul_by_inverse_unchecked(&(FrVar::one() - d_tau))?;
        Ok(PointVar { x, y })
    }

    /// Twice this point, by the dedicated doubling formula (five constraints): x' = 2xy / (a·x² + y²),
    /// y' = (y² - a·x²) / (2 - a·x² - y²). Both denominators are nonzero on the curve.
    pub fn double(&self) -> Result<PointVar, SynthesisError> {
        let x2 = self.x.square()?;
        let y2 = self.y.square()?;
        let xy = &self.x * &self.y;
        let ax2 = x2 * Fr::from(A);
        let x = (xy * Fr::from(2u8)).mul_by_inverse_unchecked(&(&ax2 + &y2))?;
        let y =
            (&y2 - &ax2).mul_by_inverse_unchecked(&(FrVar::constant(Fr::from(2u8)) - ax2 - y2))?;
        Ok(PointVar { x, y })
    }

    /// `bit ? a : b`.
    pub fn select(bit: &Bit, a: &PointVar, b: &PointVar) -> Result<PointVar, SynthesisError> {
        Ok(PointVar {
            x: FrVar::conditionally_select(bit, &a.x, &b.x)?,
            y: FrVar::conditionally_select(bit, &a.y, &b.y)?,
        })
    }

    /// This point times the integer of `bits` (little-endian), by 2-bit windows from the top: per
    /// window two doublings, a six-constraint choice among 0, P, 2P, 3P and an addition (11 a bit).
    pub fn mul_bits(&self, bits: &[Bit]) -> Result<PointVar, SynthesisError> {
        let identity = PointVar::constant(&BabyPoint::IDENTITY);
        let twice = self.double()?;
        let thrice = twice.add(self)?;
        let mut acc: Option<PointVar> = None;
        for pair in bits.chunks(2).rev() {
            let entry = match pair {
                [b0, b1] => {
                    let low = PointVar::select(b0, self, &identity)?;
                    let high = PointVar::select(b0, &thrice, &twice)?;
                    PointVar::select(b1, &high, &low)?
                }
                [b0] => PointVar::select(b0, self, &identity)?,
                _ => unreachable!("chunks of two"),
            };
            acc = Some(match acc {
                None => entry,
                Some(a) => a.double()?.double()?.add(&entry)?,
            });
        }
        Ok(acc.unwrap_or(identity))
    }

    /// `Base8` times the integer of `bits` (little-endian), from a table of its multiples: per 3 bits,
    /// four constraints of lookup and six of addition.
    pub fn base8_mul_bits(bits: &[Bit]) -> Result<PointVar, SynthesisError> {
        let table = base8_windows();
        let mut acc: Option<PointVar> = None;
        for (w, chunk) in bits.chunks(3).enumerate() {
            let entry = lookup(&table[w], chunk)?;
            acc = Some(match acc {
                None => entry,
                Some(a) => a.add(&entry)?,
            });
        }
        Ok(acc.unwrap_or_else(|| PointVar::constant(&BabyPoint::IDENTITY)))
    }
}

/// Windows of `Base8`'s multiples: `table[w][k] = k·8^w·Base8`, enough windows for any scalar.
fn base8_windows() -> &'static Vec<[BabyPoint; 8]> {
    static TABLE: OnceLock<Vec<[BabyPoint; 8]>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut base = BabyPoint::base8();
        (0..86)
            .map(|_| {
                let row = std::array::from_fn(|k| base.mul(&SubScalar::from(k as u64)));
                base = base.mul(&SubScalar::from(8u8));
                row
            })
            .collect()
    })
}

/// The entry of a constant 8-point table chosen by up to three bits (little-endian).
fn lookup(table: &[BabyPoint; 8], bits: &[Bit]) -> Result<PointVar, SynthesisError> {
    let zero = Bit::FALSE;
    let b = [
        bits.first().unwrap_or(&zero),
        bits.get(1).unwrap_or(&zero),
        bits.get(2).unwrap_or(&zero),
    ];
    let as_fr = |bit: &Bit| FrVar::from(bit.clone());
    let (b0, b1, b2) = (as_fr(b[0]), as_fr(b[1]), as_fr(b[2]));
    let b01 = &b0 * &b1;
    let b02 = &b0 * &b2;
    let b12 = &b1 * &b2;
    let b012 = &b01 * &b2;
    // Multilinear interpolation: value = Σ_k table[k] · Π (bit or 1 - bit), expanded by monomial.
    let coord = |c: &dyn Fn(&BabyPoint) -> Fr| {
        let t: [Fr; 8] = std::array::from_fn(|k| c(&table[k]));
        let m1 = t[1] - t[0];
        let m2 = t[2] - t[0];
        let m4 = t[4] - t[0];
        let m3 = t[3] - t[2] - t[1] + t[0];
        let m5 = t[5] - t[4] - t[1] + t[0];
        let m6 = t[6] - t[4] - t[2] + t[0];
        let m7 = t[7] - t[6] - t[5] + t[4] - t[3] + t[2] + t[1] - t[0];
        FrVar::constant(t[0])
            + &b0 * m1
            + &b1 * m2
            + &b2 * m4
            + &b01 * m3
            + &b02 * m5
            + &b12 * m6
            + &b012 * m7
    };
    Ok(PointVar {
        x: coord(&|p| p.x.0),
        y: coord(&|p| p.y.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::{BigInteger, PrimeField};
    use ark_r1cs_std::{boolean::Boolean, GR1CSVar};
    use ark_relations::gr1cs::ConstraintSystem;
    use proptest::prelude::*;

    fn value(p: &PointVar) -> BabyPoint {
        BabyPoint {
            x: basalt_types::zk::Felt(p.x.value().unwrap()),
            y: basalt_types::zk::Felt(p.y.value().unwrap()),
        }
    }

    fn bits(cs: &ConstraintSystemRef<Fr>, k: &SubScalar) -> Vec<Bit> {
        k.into_bigint()
            .to_bits_le()
            .into_iter()
            .take(251)
            .map(|b| Boolean::new_witness(cs.clone(), || Ok(b)).unwrap())
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(8))]
        #[test]
        fn point_gadgets_compute_the_native_group_law(k in any::<u64>(), j in any::<u64>()) {
            let base = BabyPoint::base8();
            let (k, j) = (SubScalar::from(k) * SubScalar::from(u64::MAX), SubScalar::from(j));
            let p = base.mul(&j);
            let cs = ConstraintSystem::<Fr>::new_ref();
            let pv = PointVar::witness(cs.clone(), Some(p)).unwrap();
            pv.enforce_on_curve().unwrap();
            let kb = bits(&cs, &k);
            prop_assert_eq!(value(&pv.add(&pv).unwrap()), p.add(&p));
            prop_assert_eq!(value(&pv.double().unwrap()), p.add(&p));
            prop_assert_eq!(value(&pv.mul_bits(&kb).unwrap()), p.mul(&k));
            prop_assert_eq!(value(&PointVar::base8_mul_bits(&kb).unwrap()), base.mul(&k));
            prop_assert!(cs.is_satisfied().unwrap());
        }
    }

    #[test]
    fn a_point_off_the_curve_fails_the_curve_check() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let mut p = BabyPoint::base8();
        p.x = basalt_types::zk::Felt(p.x.0 + Fr::from(1u8));
        PointVar::witness(cs.clone(), Some(p))
            .unwrap()
            .enforce_on_curve()
            .unwrap();
        assert!(!cs.is_satisfied().unwrap());
    }
}
