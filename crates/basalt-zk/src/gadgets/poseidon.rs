//! circomlib's Poseidon as constraints: the permutation of `light-poseidon` over the same
//! constants, each S-box x^5 costing three multiplications and every linear layer free.

use super::FrVar;
use ark_r1cs_std::fields::FieldVar;
use ark_relations::gr1cs::SynthesisError;
use basalt_types::zk::{Fr, POSEIDON_MAX_INPUTS};
use light_poseidon::parameters::bn254_x5::get_poseidon_parameters;
use light_poseidon::PoseidonParameters;
use std::sync::OnceLock;

/// circomlib's parameters for `n` inputs (width n + 1), parsed once.
fn params(n: usize) -> &'static PoseidonParameters<Fr> {
    static PARAMS: [OnceLock<PoseidonParameters<Fr>>; POSEIDON_MAX_INPUTS + 1] =
        [const { OnceLock::new() }; POSEIDON_MAX_INPUTS + 1];
    PARAMS[n].get_or_init(|| {
        get_poseidon_parameters::<Fr>(n as u8 + 1).expect("circomlib defines widths 2 to 16")
    })
}

fn sbox(x: &FrVar) -> Result<FrVar, SynthesisError> {
    let x2 = x.square()?;
    let x4 = x2.square()?;
    Ok(x4 * x)
}

/// `basalt_types::zk::poseidon` of `inputs` (1 to [`POSEIDON_MAX_INPUTS`] elements) in the circuit.
pub fn poseidon_var(inputs: &[FrVar]) -> Result<FrVar, SynthesisError> {
    poseidon_tagged_var(0, inputs)
}

/// `basalt_types::zk::poseidon_tagged` in the circuit.
pub fn poseidon_tagged_var(tag: u64, inputs: &[FrVar]) -> Result<FrVar, SynthesisError> {
    let n = inputs.len();
    assert!(
        (1..=POSEIDON_MAX_INPUTS).contains(&n),
        "poseidon of {n} inputs: Basalt hashes 1 to {POSEIDON_MAX_INPUTS}"
    );
    let p = params(n);
    let t = p.width;
    let mut state: Vec<FrVar> = std::iter::once(FrVar::constant(Fr::from(tag)))
        .chain(inputs.iter().cloned())
        .collect();
    let half = p.full_rounds / 2;
    for round in 0..p.full_rounds + p.partial_rounds {
        for (i, s) in state.iter_mut().enumerate() {
            *s += FrVar::constant(p.ark[round * t + i]);
        }
        if round < half || round >= half + p.partial_rounds {
            for s in state.iter_mut() {
                *s = sbox(s)?;
            }
        } else {
            state[0] = sbox(&state[0])?;
        }
        state = (0..t)
            .map(|i| {
                state
                    .iter()
                    .zip(&p.mds[i])
                    .fold(FrVar::zero(), |acc, (s, m)| acc + s * FrVar::constant(*m))
            })
            .collect();
    }
    Ok(state.swap_remove(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_r1cs_std::{alloc::AllocVar, GR1CSVar};
    use ark_relations::gr1cs::ConstraintSystem;
    use basalt_types::zk::{poseidon, Felt};
    use proptest::prelude::*;

    fn run(inputs: &[Felt]) -> (Felt, usize, bool) {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let vars: Vec<FrVar> = inputs
            .iter()
            .map(|f| FrVar::new_witness(cs.clone(), || Ok(f.0)).unwrap())
            .collect();
        let out = poseidon_var(&vars).unwrap();
        (
            Felt(out.value().unwrap()),
            cs.num_constraints(),
            cs.is_satisfied().unwrap(),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn the_poseidon_gadget_computes_the_native_hash(
            values in proptest::collection::vec(any::<u128>(), 1..=POSEIDON_MAX_INPUTS),
            big in any::<[u8; 31]>(),
        ) {
            let mut inputs: Vec<Felt> = values.iter().map(|v| Felt::from_u128(*v)).collect();
            let mut wide = [0u8; 32];
            wide[1..].copy_from_slice(&big);
            inputs[0] = Felt::from_be_bytes(&wide).unwrap();
            let (out, _, satisfied) = run(&inputs);
            prop_assert!(satisfied);
            prop_assert_eq!(out, poseidon(&inputs));
            let cs = ConstraintSystem::<Fr>::new_ref();
            let vars: Vec<FrVar> = inputs
                .iter()
                .map(|f| FrVar::new_witness(cs.clone(), || Ok(f.0)).unwrap())
                .collect();
            let tagged = poseidon_tagged_var(5, &vars).unwrap().value().unwrap();
            prop_assert_eq!(Felt(tagged), basalt_types::zk::poseidon_tagged(5, &inputs));
        }
    }

    /// circomlib's counts (3 constraints per S-box, 8 full rounds of t and the partial rounds of 1),
    /// less the first S-box of the capacity element, which acts on a constant.
    #[test]
    fn poseidon_costs_what_circomlib_does() {
        let counts: Vec<usize> = (1..=POSEIDON_MAX_INPUTS)
            .map(|n| run(&vec![Felt::from_u128(3); n]).1)
            .collect();
        // t = 2..7: partial rounds 56, 57, 56, 60, 60, 63.
        assert_eq!(counts, vec![213, 240, 261, 297, 321, 354]);
    }
}
