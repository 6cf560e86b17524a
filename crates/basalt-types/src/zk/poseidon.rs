//! Poseidon over BN254 with circomlib's parameters (x^5 S-box, 8 full rounds, the partial rounds and
//! constants of iden3's `poseidon_constants`), through the audited `light-poseidon` crate.

use super::field::{Felt, Fr};
use light_poseidon::{Poseidon, PoseidonHasher};
use std::cell::RefCell;

/// Most inputs of one Poseidon call used by Basalt (circomlib defines up to 16).
pub const POSEIDON_MAX_INPUTS: usize = 6;

thread_local! {
    /// One hasher per (input count, domain tag), built on first use (building one parses its
    /// constants). Basalt uses a handful of tags.
    static HASHERS: RefCell<Vec<(usize, u64, Poseidon<Fr>)>> = const { RefCell::new(Vec::new()) };
}

/// circomlib's `Poseidon(n)` of `inputs` (1 to [`POSEIDON_MAX_INPUTS`] elements).
///
/// Panics on an input count outside that range: every caller hashes a fixed shape.
pub fn poseidon(inputs: &[Felt]) -> Felt {
    poseidon_tagged(0, inputs)
}

/// Poseidon with `tag` as the initial capacity element (circomlib's is zero, [`poseidon`]): a
/// domain separation that costs the circuit nothing.
pub fn poseidon_tagged(tag: u64, inputs: &[Felt]) -> Felt {
    let n = inputs.len();
    assert!(
        (1..=POSEIDON_MAX_INPUTS).contains(&n),
        "poseidon of {n} inputs: Basalt hashes 1 to {POSEIDON_MAX_INPUTS}"
    );
    let elems: [Fr; POSEIDON_MAX_INPUTS] =
        std::array::from_fn(|i| inputs.get(i).map_or(Fr::from(0u8), |f| f.0));
    HASHERS.with(|cell| {
        let mut hashers = cell.borrow_mut();
        let at = match hashers.iter().position(|(m, t, _)| *m == n && *t == tag) {
            Some(at) => at,
            None => {
                let hasher = Poseidon::<Fr>::with_domain_tag_circom(n, Fr::from(tag))
                    .expect("circomlib defines Poseidon of 1 to 16 inputs");
                hashers.push((n, tag, hasher));
                hashers.len() - 1
            }
        };
        Felt(
            hashers[at]
                .2
                .hash(&elems[..n])
                .expect("the input count matches the hasher"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex_felt(s: &str) -> Felt {
        Felt::from_be_bytes(&crate::codec::parse_hex_array(s).unwrap()).unwrap()
    }

    /// iden3/circomlibjs test/poseidon.js.
    #[test]
    fn poseidon_matches_circomlibjs_vectors() {
        let f = |v: &[u128]| v.iter().map(|x| Felt::from_u128(*x)).collect::<Vec<_>>();
        assert_eq!(
            poseidon(&f(&[1, 2])),
            hex_felt("115cc0f5e7d690413df64c6b9662e9cf2a3617f2743245519e19607a4417189a")
        );
        assert_eq!(
            poseidon(&f(&[1, 2, 3, 4])),
            hex_felt("299c867db6c1fdd79dcefa40e4510b9837e60ebb1ce0663dbaa525df65250465")
        );
    }

    #[test]
    fn a_tag_separates_domains_and_tag_zero_is_circomlib() {
        let x = [Felt::from_u128(1), Felt::from_u128(2)];
        assert_eq!(poseidon_tagged(0, &x), poseidon(&x));
        assert_ne!(poseidon_tagged(1, &x), poseidon(&x));
        assert_ne!(poseidon_tagged(1, &x), poseidon_tagged(2, &x));
    }

    #[test]
    fn every_input_count_is_a_different_function() {
        let one = Felt::from_u128(1);
        let outs: Vec<Felt> = (1..=POSEIDON_MAX_INPUTS)
            .map(|n| poseidon(&vec![one; n]))
            .collect();
        for (i, a) in outs.iter().enumerate() {
            for b in &outs[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
