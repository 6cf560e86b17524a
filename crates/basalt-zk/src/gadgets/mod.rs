//! Circuit gadgets, each the in-circuit form of one native rule of `basalt_types::zk`.

mod babyjub;
mod eddsa;
mod merkle;
mod poseidon;

pub use babyjub::PointVar;
pub use eddsa::{alloc_scalar_bits, enforce_below, field_bits, verify_eddsa};
pub use merkle::{circuit_siblings, root_from_path, update_roots, PathLevel};
pub use poseidon::{poseidon_tagged_var, poseidon_var};

/// A field element in the circuit.
pub type FrVar = ark_r1cs_std::fields::fp::FpVar<basalt_types::zk::Fr>;
/// A bit in the circuit.
pub type Bit = ark_r1cs_std::boolean::Boolean<basalt_types::zk::Fr>;
