//! A small circuit for tests, fuzzing and benchmarks of the proof system itself: knowledge of x and
//! y with Poseidon(x, y) = h and x + y = s, for public h and s.

use crate::gadgets::{poseidon_var, FrVar};
use ark_r1cs_std::{alloc::AllocVar, eq::EqGadget};
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use basalt_types::zk::{poseidon, Felt, Fr};

/// The demo circuit, with or without its witness.
#[derive(Clone, Debug)]
pub struct Preimage {
    x: Option<Fr>,
    y: Option<Fr>,
    pub(crate) h: Option<Fr>,
}

impl Preimage {
    /// The circuit without a witness (for setup).
    pub fn blank() -> Preimage {
        Preimage {
            x: None,
            y: None,
            h: None,
        }
    }

    /// The circuit for x and y, with its public inputs [h, s].
    pub fn instance(x: Fr, y: Fr) -> (Preimage, [Fr; 2]) {
        let h = poseidon(&[Felt(x), Felt(y)]).0;
        (
            Preimage {
                x: Some(x),
                y: Some(y),
                h: Some(h),
            },
            [h, x + y],
        )
    }
}

impl ConstraintSynthesizer<Fr> for Preimage {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let missing = || SynthesisError::AssignmentMissing;
        let h = FrVar::new_input(cs.clone(), || self.h.ok_or_else(missing))?;
        let s = FrVar::new_input(cs.clone(), || {
            Ok(self.x.ok_or_else(missing)? + self.y.ok_or_else(missing)?)
        })?;
        let x = FrVar::new_witness(cs.clone(), || self.x.ok_or_else(missing))?;
        let y = FrVar::new_witness(cs, || self.y.ok_or_else(missing))?;
        poseidon_var(&[x.clone(), y.clone()])?.enforce_equal(&h)?;
        (x + y).enforce_equal(&s)
    }
}
