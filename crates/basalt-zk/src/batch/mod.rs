//! The batch circuit: a fixed number of transaction slots that take a ZK rollup's prior output to
//! its new output by exactly the posted transactions and the deposits they consume, under every rule
//! of the shared STF. Its public inputs are the prior output, the new output and the data hash the
//! L1 computes from the posted blob (`basalt_l2::data_hash`).
//!
//! Each slot is padding, a deposit, a transfer or a withdrawal, and makes two tree updates: A, the
//! sender's account (for a deposit, a read of the account its hint names), and B, the recipient's
//! account, the account a deposit credits or opens, or the next withdrawal leaf. Fees go to account
//! 0 through a register that is written whenever an update credits or debits account 0, and once
//! more at the end of the batch. `docs/zk.md` sets out the design and its costs.

mod circuit;
mod witness;

pub use circuit::BatchCircuit;
pub use witness::{
    BatchWitness, ForcedWitness, Leaf, SlotKind, SlotWitness, UpdateWitness, WitnessError,
};

/// Revision of the batch circuit's constraints: its keys are cached under it, since keys set up
/// for another revision prove nothing this one accepts. 2: forced transactions.
pub const CIRCUIT_REVISION: u32 = 2;

/// Bits of an account or withdrawal index: two per level of the ZK trees.
pub const INDEX_BITS: usize = 2 * <basalt_l2::Zk as basalt_l2::Profile>::TREE_DEPTH as usize;

/// The prover of the `slots`-slot batch circuit with proving key `key`: its constraint matrices,
/// derived now (about one arkworks proof's synthesis), make every later proof cheaper.
pub fn batch_prover(
    key: ark_groth16::ProvingKey<ark_bn254::Bn254>,
    slots: usize,
) -> Result<crate::Prover, crate::ZkError> {
    crate::Prover::new(key, BatchCircuit::blank(slots))
}

/// A Groth16 proof of a batch witness, as [`crate::PROOF_BYTES`] bytes, with fresh randomness, checked
/// against the key's verifier before it is returned: a witness that breaks a rule proves nothing, and
/// is caught here ([`crate::ZkError::Unsatisfied`]) before anyone pays to send its proof.
/// Not generic, so that the prover is compiled here, where arkworks is optimized, whoever calls it.
pub fn prove_batch(
    prover: &crate::Prover,
    witness: BatchWitness,
) -> Result<Vec<u8>, crate::ZkError> {
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha20Rng::from_rng(rand::thread_rng())
        .expect("the thread generator never fails");
    let inputs = witness.public_inputs();
    let proof = prover.prove(BatchCircuit { witness }, &mut rng)?;
    prover
        .verifier()
        .verify(&inputs, &proof)
        .map_err(|_| crate::ZkError::Unsatisfied)?;
    Ok(proof)
}
