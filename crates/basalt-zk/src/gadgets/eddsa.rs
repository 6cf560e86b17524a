//! EdDSA-Poseidon verification as constraints: the rule of `BabyPublicKey::verify`, Base8·S =
//! R8 + 8·hm·A with hm = Poseidon(R8, A, msg) and S below the subgroup order.

use super::FrVar;
use super::{poseidon_var, Bit, PointVar};
use ark_ff::{BigInteger, PrimeField};
use ark_r1cs_std::{alloc::AllocVar, boolean::Boolean, convert::ToBitsGadget, eq::EqGadget};
use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};
use basalt_types::zk::{Fr, SubScalar};

/// Bits of a subgroup scalar.
pub const SCALAR_BITS: usize = 251;

/// A witness scalar as [`SCALAR_BITS`] little-endian bits, enforced below the subgroup order.
pub fn alloc_scalar_bits(
    cs: ConstraintSystemRef<Fr>,
    scalar: Option<SubScalar>,
) -> Result<Vec<Bit>, SynthesisError> {
    let value = scalar.map(|s| s.into_bigint().to_bits_le());
    let bits = (0..SCALAR_BITS)
        .map(|i| {
            Boolean::new_witness(cs.clone(), || {
                value
                    .as_ref()
                    .map(|v| v[i])
                    .ok_or(SynthesisError::AssignmentMissing)
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    enforce_below(&bits, SubScalar::MODULUS)?;
    Ok(bits)
}

/// Enforces that little-endian `bits` encode an integer below the constant `bound`: one
/// constraint a bit, walking up from the least significant bit with whether the prefix so far is
/// at most `bound - 1`'s.
pub fn enforce_below<B: BigInteger>(bits: &[Bit], bound: B) -> Result<(), SynthesisError> {
    let mut max = bound;
    assert!(
        !max.sub_with_borrow(&B::from(1u64)),
        "the bound is positive"
    );
    let max = max.to_bits_le();
    let mut at_most = Boolean::TRUE;
    for (i, bit) in bits.iter().enumerate() {
        at_most = if max.get(i).copied().unwrap_or(false) {
            !bit | &at_most
        } else {
            !bit & &at_most
        };
    }
    at_most.enforce_equal(&Boolean::TRUE)
}

/// The unique little-endian bits of a field element (254 bits and the check that they encode an
/// integer below the modulus).
pub fn field_bits(value: &FrVar) -> Result<Vec<Bit>, SynthesisError> {
    let bits = value.to_non_unique_bits_le()?;
    enforce_below(&bits, Fr::MODULUS)?;
    Ok(bits)
}

/// Enforces, when `enabled`, that `(r8, s_bits)` is a valid signature by `key` over `msg`.
///
/// `key` must be a valid key (the circuit takes keys from account leaves, which only hold keys the
/// L1 decoded); `r8` is checked to be on the curve whether or not the check is enabled, so a
/// disabled check still needs a point of the curve (any, such as `Base8`).
pub fn verify_eddsa(
    enabled: &Bit,
    key: &PointVar,
    msg: &FrVar,
    r8: &PointVar,
    s_bits: &[Bit],
) -> Result<(), SynthesisError> {
    r8.enforce_on_curve()?;
    let hm = poseidon_var(&[
        r8.x.clone(),
        r8.y.clone(),
        key.x.clone(),
        key.y.clone(),
        msg.clone(),
    ])?;
    let hm_bits = field_bits(&hm)?;
    let key8 = key.double()?.double()?.double()?;
    let right = r8.add(&key8.mul_bits(&hm_bits)?)?;
    let left = PointVar::base8_mul_bits(s_bits)?;
    left.x.conditional_enforce_equal(&right.x, enabled)?;
    left.y.conditional_enforce_equal(&right.y, enabled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_relations::gr1cs::ConstraintSystem;
    use basalt_types::zk::{BabyKeypair, BabyPoint, BabySignature, Felt};

    fn below(value: u64, width: usize, bound: u64) -> bool {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let bits: Vec<Bit> = (0..width)
            .map(|i| Boolean::new_witness(cs.clone(), || Ok(value >> i & 1 == 1)).unwrap())
            .collect();
        enforce_below(&bits, ark_ff::BigInt::<1>([bound])).unwrap();
        cs.is_satisfied().unwrap()
    }

    proptest::proptest! {
        #[test]
        fn the_comparison_with_a_constant_is_exact(value in 0u64..1 << 20, bound in 1u64..1 << 20) {
            proptest::prop_assert_eq!(below(value, 20, bound), value < bound);
            proptest::prop_assert!(below(bound - 1, 20, bound));
            proptest::prop_assert!(!below(bound, 21, bound));
        }
    }

    /// A field element has a second 254-bit form, itself plus the modulus, whenever that fits:
    /// the bits must be the canonical ones, or a challenge would have two scalars.
    #[test]
    fn only_the_canonical_bits_of_a_field_element_pass() {
        let value = Fr::from(12345u64);
        let cs = ConstraintSystem::<Fr>::new_ref();
        let v = FrVar::new_witness(cs.clone(), || Ok(value)).unwrap();
        let bits = field_bits(&v).unwrap();
        assert!(cs.is_satisfied().unwrap());
        assert_eq!(bits.len(), 254);
        let mut alias = value.into_bigint();
        assert!(!alias.add_with_carry(&Fr::MODULUS));
        let cs = ConstraintSystem::<Fr>::new_ref();
        let bits: Vec<Bit> = alias
            .to_bits_le()
            .into_iter()
            .take(254)
            .map(|b| Boolean::new_witness(cs.clone(), || Ok(b)).unwrap())
            .collect();
        enforce_below(&bits, Fr::MODULUS).unwrap();
        assert!(!cs.is_satisfied().unwrap());
    }

    /// Whether the circuit accepts the signature, and what it cost.
    fn check(key: &BabyPoint, msg: Felt, sig: &BabySignature, enabled: bool) -> (bool, usize) {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let key = PointVar::witness(cs.clone(), Some(*key)).unwrap();
        let msg = FrVar::new_witness(cs.clone(), || Ok(msg.0)).unwrap();
        let r8 = PointVar::witness(cs.clone(), Some(sig.r8)).unwrap();
        let s = alloc_scalar_bits(cs.clone(), Some(sig.s)).unwrap();
        let on = Boolean::new_witness(cs.clone(), || Ok(enabled)).unwrap();
        verify_eddsa(&on, &key, &msg, &r8, &s).unwrap();
        (cs.is_satisfied().unwrap(), cs.num_constraints())
    }

    #[test]
    fn the_circuit_accepts_exactly_the_signatures_the_native_rule_accepts() {
        let alice = BabyKeypair::dev(b"alice");
        let bob = BabyKeypair::dev(b"bob");
        let msg = Felt::from_u128(42);
        let sig = alice.sign(&msg);
        let a = *alice.public().point();
        assert!(check(&a, msg, &sig, true).0);
        let wrong_msg = Felt::from_u128(43);
        assert!(!alice.public().verify(&wrong_msg, &sig));
        assert!(!check(&a, wrong_msg, &sig, true).0);
        assert!(!check(bob.public().point(), msg, &sig, true).0);
        let mut bumped = sig;
        bumped.s += SubScalar::from(1u8);
        assert!(!check(&a, msg, &bumped, true).0);
        // A disabled check accepts anything on the curve.
        assert!(check(&a, wrong_msg, &sig, false).0);
    }

    /// The signature circomlibjs makes in its test "Sign (using Poseidon)".
    #[test]
    fn the_circuit_accepts_the_circomlibjs_signature() {
        let private: [u8; 32] = core::array::from_fn(|i| (i % 10) as u8);
        let keys = BabyKeypair::from_private(&private);
        let msg = Felt::from_decimal("42649378395939397566720").unwrap();
        let sig = keys.sign(&msg);
        let (ok, constraints) = check(keys.public().point(), msg, &sig, true);
        assert!(ok);
        // The budget for a transfer's signature (see BENCHMARKS.md "ZK").
        println!("EdDSA-Poseidon verification: {constraints} constraints");
        assert!(
            constraints <= 6_000,
            "EdDSA costs {constraints} constraints"
        );
    }

    /// S and S + l verify the same equation (l·Base8 is the identity); only S below l may pass, as
    /// natively, or a prover could present a second form of every signature.
    #[test]
    fn a_signature_scalar_above_the_order_is_refused_by_the_circuit() {
        let keys = BabyKeypair::dev(b"malleable");
        let l = SubScalar::MODULUS;
        // A signature whose S + l still fits the 251 bits the circuit allocates.
        let (msg, sig, lifted) = (0u128..)
            .find_map(|m| {
                let msg = Felt::from_u128(m);
                let sig = keys.sign(&msg);
                let mut lifted = sig.s.into_bigint();
                let carry = lifted.add_with_carry(&l);
                (!carry && lifted.num_bits() <= SCALAR_BITS as u32).then_some((msg, sig, lifted))
            })
            .unwrap();
        let cs = ConstraintSystem::<Fr>::new_ref();
        let key = PointVar::witness(cs.clone(), Some(*keys.public().point())).unwrap();
        let m = FrVar::new_witness(cs.clone(), || Ok(msg.0)).unwrap();
        let r8 = PointVar::witness(cs.clone(), Some(sig.r8)).unwrap();
        let bits: Vec<Bit> = lifted
            .to_bits_le()
            .into_iter()
            .take(SCALAR_BITS)
            .map(|b| Boolean::new_witness(cs.clone(), || Ok(b)).unwrap())
            .collect();
        enforce_below(&bits, l).unwrap();
        verify_eddsa(&Boolean::TRUE, &key, &m, &r8, &bits).unwrap();
        assert!(!cs.is_satisfied().unwrap());
        // Without the range check, the lifted scalar would satisfy the equation.
        let cs = ConstraintSystem::<Fr>::new_ref();
        let key = PointVar::witness(cs.clone(), Some(*keys.public().point())).unwrap();
        let m = FrVar::new_witness(cs.clone(), || Ok(msg.0)).unwrap();
        let r8 = PointVar::witness(cs.clone(), Some(sig.r8)).unwrap();
        let bits: Vec<Bit> = lifted
            .to_bits_le()
            .into_iter()
            .take(SCALAR_BITS)
            .map(|b| Boolean::new_witness(cs.clone(), || Ok(b)).unwrap())
            .collect();
        verify_eddsa(&Boolean::TRUE, &key, &m, &r8, &bits).unwrap();
        assert!(cs.is_satisfied().unwrap());
    }
}
