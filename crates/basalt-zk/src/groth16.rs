//! Groth16 over BN254: the development setup, proving, and the verification the L1 runs.
//!
//! Verification takes untrusted bytes: a proof must be exactly [`PROOF_BYTES`] long, decode to
//! points on the curve and in the right subgroups, and be the canonical encoding of those points;
//! the public inputs must be exactly as many as the key expects (arkworks would silently ignore
//! extra ones or treat missing ones as absent terms). Only then are the pairings computed.

use ark_bn254::Bn254;
use ark_groth16::{Groth16, PreparedVerifyingKey, Proof, ProvingKey, VerifyingKey};
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, OptimizationGoal, SynthesisMode, R1CS_PREDICATE_LABEL,
};
use ark_relations::utils::matrix::Matrix;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use ark_snark::SNARK;
use ark_std::UniformRand;
use basalt_types::zk::Fr;
use rand::{CryptoRng, RngCore, SeedableRng};

/// Bytes of a compressed proof: A and C in G1 (32 each), B in G2 (64).
pub const PROOF_BYTES: usize = 128;

/// The seed of the development setup. Devnet only: anyone who knows it can forge proofs for every
/// circuit set up with it, so a rollup whose key comes from it is secured by nothing.
pub const DEV_SETUP_SEED: [u8; 32] = *b"basalt-devnet-INSECURE-groth16!!";

/// Why a key or proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZkError {
    /// The proof bytes are not a canonical encoding of valid points.
    #[error("proof is not a canonical encoding of valid curve points")]
    BadProofEncoding,
    /// The proof has the wrong length.
    #[error("proof is {0} bytes, a proof is {PROOF_BYTES}")]
    BadProofLength(usize),
    /// The public inputs are not as many as the key expects.
    #[error("{got} public inputs, the verifying key expects {expected}")]
    WrongInputCount {
        /// What the key expects.
        expected: usize,
        /// What was given.
        got: usize,
    },
    /// The proof does not verify for these inputs.
    #[error("proof does not verify for these public inputs")]
    InvalidProof,
    /// The verifying key bytes are not a valid key.
    #[error("verifying key is not a canonical encoding of a valid key")]
    BadKey,
    /// The witness does not satisfy the circuit: its proof would not verify.
    #[error("the witness does not satisfy the circuit: its proof does not verify")]
    Unsatisfied,
    /// The circuit could not be synthesized (for setup or proving).
    #[error("circuit synthesis failed: {0}")]
    Synthesis(String),
}

/// A circuit's keys.
#[derive(Clone)]
pub struct Keys {
    /// What the prover needs.
    pub proving: ProvingKey<Bn254>,
    /// What a verifier needs.
    pub verifying: VerifyingKey<Bn254>,
}

/// The development setup of `circuit`: deterministic from [`DEV_SETUP_SEED`], so every node derives
/// the same keys. Insecure by construction (see the seed).
pub fn dev_setup<C: ConstraintSynthesizer<Fr>>(circuit: C) -> Result<Keys, ZkError> {
    let mut rng = rand_chacha::ChaCha20Rng::from_seed(DEV_SETUP_SEED);
    let (proving, verifying) = Groth16::<Bn254>::circuit_specific_setup(circuit, &mut rng)
        .map_err(|e| ZkError::Synthesis(e.to_string()))?;
    Ok(Keys { proving, verifying })
}

/// A circuit's proving key with the circuit's constraint matrices, derived once from its shape.
/// Each proof then only computes its witness, building no constraint system (as circom's provers
/// do from their `.r1cs` files): arkworks' own prover synthesizes and inlines every linear
/// combination of the circuit again for each proof.
pub struct Prover {
    key: ProvingKey<Bn254>,
    verifier: Verifier,
    matrices: Vec<Matrix<Fr>>,
    instances: usize,
    witnesses: usize,
    constraints: usize,
}

fn synthesis(e: impl std::fmt::Display) -> ZkError {
    ZkError::Synthesis(e.to_string())
}

impl Prover {
    /// The prover of `key`, whose circuit `shape` is (any instance of it: its values are unused).
    /// Refused if the shape is not the key's circuit.
    pub fn new<C: ConstraintSynthesizer<Fr>>(
        key: ProvingKey<Bn254>,
        shape: C,
    ) -> Result<Prover, ZkError> {
        // The generator's settings: the same goal gives the same constraints.
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Setup);
        shape.generate_constraints(cs.clone()).map_err(synthesis)?;
        cs.finalize();
        let (instances, witnesses, constraints) = (
            cs.num_instance_variables(),
            cs.num_witness_variables(),
            cs.num_constraints(),
        );
        let matrices = cs
            .to_matrices()
            .map_err(synthesis)?
            .remove(R1CS_PREDICATE_LABEL)
            .ok_or_else(|| synthesis("the circuit has no R1CS constraints"))?;
        if key.a_query.len() != instances + witnesses || key.vk.gamma_abc_g1.len() != instances {
            return Err(synthesis(
                "the proving key is not this circuit's (its variables differ)",
            ));
        }
        Ok(Prover {
            verifier: Verifier::new(&key.vk),
            key,
            matrices,
            instances,
            witnesses,
            constraints,
        })
    }

    /// The proving key.
    pub fn key(&self) -> &ProvingKey<Bn254> {
        &self.key
    }

    /// The key's verifier, prepared once.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// A proof of `circuit` (holding its witness), as [`PROOF_BYTES`] bytes. A witness that does
    /// not satisfy the circuit gives a proof that does not verify.
    pub fn prove<C: ConstraintSynthesizer<Fr>, R: RngCore + CryptoRng>(
        &self,
        circuit: C,
        rng: &mut R,
    ) -> Result<Vec<u8>, ZkError> {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Prove {
            construct_matrices: false,
            generate_lc_assignments: false,
        });
        circuit
            .generate_constraints(cs.clone())
            .map_err(synthesis)?;
        let mut full = cs.instance_assignment().map_err(synthesis)?;
        if full.len() != self.instances || cs.num_witness_variables() != self.witnesses {
            return Err(synthesis(
                "the witness does not fit the key's circuit (its variables differ)",
            ));
        }
        full.extend(cs.witness_assignment().map_err(synthesis)?);
        let (r, s) = (Fr::rand(rng), Fr::rand(rng));
        let proof = Groth16::<Bn254>::create_proof_with_reduction_and_matrices(
            &self.key,
            r,
            s,
            &self.matrices,
            self.instances,
            self.constraints,
            &full,
        )
        .map_err(synthesis)?;
        let mut out = Vec::with_capacity(PROOF_BYTES);
        proof
            .serialize_compressed(&mut out)
            .expect("serializing into a vector");
        Ok(out)
    }
}

/// The canonical bytes of a verifying key (what a rollup registers).
pub fn verifying_key_bytes(vk: &VerifyingKey<Bn254>) -> Vec<u8> {
    let mut out = Vec::new();
    vk.serialize_compressed(&mut out)
        .expect("serializing into a vector");
    out
}

/// The hash a rollup registers for its verifying key.
pub fn verifying_key_hash(vk: &VerifyingKey<Bn254>) -> basalt_types::Hash {
    key_bytes_hash(&verifying_key_bytes(vk))
}

/// [`verifying_key_hash`] of a key already in its compressed bytes.
pub fn key_bytes_hash(bytes: &[u8]) -> basalt_types::Hash {
    basalt_types::hash_parts("basalt/zk/vk", &[bytes])
}

/// A verifying key ready for verification, decoded from untrusted bytes.
#[derive(Clone)]
pub struct Verifier {
    prepared: PreparedVerifyingKey<Bn254>,
    inputs: usize,
}

impl Verifier {
    /// Decodes and prepares a verifying key; the bytes must be its canonical encoding.
    pub fn from_bytes(bytes: &[u8]) -> Result<Verifier, ZkError> {
        let vk =
            VerifyingKey::<Bn254>::deserialize_compressed(bytes).map_err(|_| ZkError::BadKey)?;
        if verifying_key_bytes(&vk) != bytes || vk.gamma_abc_g1.is_empty() {
            return Err(ZkError::BadKey);
        }
        Ok(Self::new(&vk))
    }

    /// Prepares a verifying key.
    pub fn new(vk: &VerifyingKey<Bn254>) -> Verifier {
        Verifier {
            prepared: ark_groth16::prepare_verifying_key(vk),
            inputs: vk.gamma_abc_g1.len() - 1,
        }
    }

    /// Public inputs the key expects.
    pub fn input_count(&self) -> usize {
        self.inputs
    }

    /// Checks `proof` for `inputs`: cheap checks (length, count, encoding) before the pairings.
    pub fn verify(&self, inputs: &[Fr], proof: &[u8]) -> Result<(), ZkError> {
        if proof.len() != PROOF_BYTES {
            return Err(ZkError::BadProofLength(proof.len()));
        }
        if inputs.len() != self.inputs {
            return Err(ZkError::WrongInputCount {
                expected: self.inputs,
                got: inputs.len(),
            });
        }
        let decoded =
            Proof::<Bn254>::deserialize_compressed(proof).map_err(|_| ZkError::BadProofEncoding)?;
        let mut canonical = Vec::with_capacity(PROOF_BYTES);
        decoded
            .serialize_compressed(&mut canonical)
            .expect("serializing into a vector");
        if canonical != proof {
            return Err(ZkError::BadProofEncoding);
        }
        match Groth16::<Bn254>::verify_proof(&self.prepared, &decoded, inputs) {
            Ok(true) => Ok(()),
            _ => Err(ZkError::InvalidProof),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::Preimage;

    fn instance(x: u64, y: u64) -> (Preimage, [Fr; 2]) {
        Preimage::instance(Fr::from(x), Fr::from(y))
    }

    fn blank() -> Preimage {
        Preimage::blank()
    }

    fn prove(key: &ProvingKey<Bn254>, circuit: Preimage, rng: &mut impl RngCore) -> Vec<u8> {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(rng.next_u64());
        Prover::new(key.clone(), blank())
            .unwrap()
            .prove(circuit, &mut rng)
            .unwrap()
    }

    #[test]
    fn the_prover_from_matrices_makes_the_proof_arkworks_makes() {
        let keys = dev_setup(blank()).unwrap();
        let prover = Prover::new(keys.proving.clone(), blank()).unwrap();
        let (circuit, inputs) = instance(7, 11);
        let ours = prover
            .prove(
                circuit.clone(),
                &mut rand_chacha::ChaCha20Rng::seed_from_u64(9),
            )
            .unwrap();
        let theirs = Groth16::<Bn254>::prove(
            &keys.proving,
            circuit,
            &mut rand_chacha::ChaCha20Rng::seed_from_u64(9),
        )
        .unwrap();
        let mut bytes = Vec::new();
        theirs.serialize_compressed(&mut bytes).unwrap();
        assert_eq!(ours, bytes, "the same randomness gives the same proof");
        assert_eq!(
            Verifier::new(&keys.verifying).verify(&inputs, &ours),
            Ok(())
        );
        // A witness that does not satisfy the circuit gives a proof that does not verify.
        let (_, other) = instance(7, 12);
        let (mut wrong, _) = instance(7, 12);
        wrong.h = Some(inputs[0]);
        let bad = prover
            .prove(wrong, &mut rand_chacha::ChaCha20Rng::seed_from_u64(10))
            .unwrap();
        assert!(Verifier::new(&keys.verifying)
            .verify(&inputs, &bad)
            .is_err());
        assert!(Verifier::new(&keys.verifying).verify(&other, &bad).is_err());
    }

    #[test]
    fn a_proof_verifies_only_for_its_public_inputs() {
        let keys = dev_setup(blank()).unwrap();
        let verifier = Verifier::from_bytes(&verifying_key_bytes(&keys.verifying)).unwrap();
        assert_eq!(verifier.input_count(), 2);
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let (circuit, inputs) = instance(3, 4);
        let proof = prove(&keys.proving, circuit, &mut rng);
        assert_eq!(proof.len(), PROOF_BYTES);
        assert_eq!(verifier.verify(&inputs, &proof), Ok(()));
        let (_, other) = instance(3, 5);
        assert_eq!(verifier.verify(&other, &proof), Err(ZkError::InvalidProof));
        // arkworks alone would verify with the extra input ignored.
        assert_eq!(
            verifier.verify(&[inputs[0], inputs[1], Fr::from(9u8)], &proof),
            Err(ZkError::WrongInputCount {
                expected: 2,
                got: 3
            })
        );
        assert!(verifier.verify(&inputs[..1], &proof).is_err());
        assert_eq!(
            verifier.verify(&inputs, &proof[..100]),
            Err(ZkError::BadProofLength(100))
        );
    }

    #[test]
    fn a_tampered_proof_is_rejected_at_every_byte() {
        let keys = dev_setup(blank()).unwrap();
        let verifier = Verifier::new(&keys.verifying);
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(2);
        let (circuit, inputs) = instance(10, 20);
        let proof = prove(&keys.proving, circuit, &mut rng);
        for i in 0..proof.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut bad = proof.clone();
                bad[i] ^= flip;
                assert!(
                    verifier.verify(&inputs, &bad).is_err(),
                    "byte {i} xor {flip:#x} still verifies"
                );
            }
        }
    }

    #[test]
    fn the_dev_setup_is_deterministic_and_another_setup_rejects_its_proofs() {
        let a = dev_setup(blank()).unwrap();
        let b = dev_setup(blank()).unwrap();
        assert_eq!(
            verifying_key_hash(&a.verifying),
            verifying_key_hash(&b.verifying)
        );
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        let (other_pk, _) = Groth16::<Bn254>::circuit_specific_setup(blank(), &mut rng).unwrap();
        let (circuit, inputs) = instance(1, 2);
        let foreign = prove(&other_pk, circuit, &mut rng);
        assert_eq!(
            Verifier::new(&a.verifying).verify(&inputs, &foreign),
            Err(ZkError::InvalidProof)
        );
        let mut key = verifying_key_bytes(&a.verifying);
        key.push(0);
        assert!(Verifier::from_bytes(&key).is_err());
        assert!(Verifier::from_bytes(&key[..10]).is_err());
    }
}
