//! What one transfer's worth of constraints costs to prove and verify: the signature check and two
//! account updates of the ZK trees (10 levels), with a real witness. Heavy: run by hand with
//! `cargo test --release -p basalt-zk --test transfer_cost -- --ignored --nocapture`.

use ark_r1cs_std::{alloc::AllocVar, boolean::Boolean, eq::EqGadget};
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, SynthesisError,
};
use basalt_merkle::{MerkleProof, MerkleTree, PoseidonHasher};
use basalt_types::zk::{BabyKeypair, BabySignature, Felt, Fr};
use basalt_zk::gadgets::{
    alloc_scalar_bits, circuit_siblings, update_roots, verify_eddsa, FrVar, PathLevel, PointVar,
};
use rand::SeedableRng;
use std::time::Instant;

const DEPTH: u8 = 10;

#[derive(Clone)]
struct TransferLoad {
    key: BabyKeypair,
    msg: Felt,
    sig: BabySignature,
    updates: Vec<(Felt, Felt, MerkleProof<Felt>, Felt)>,
}

fn path(
    cs: &ConstraintSystemRef<Fr>,
    proof: &MerkleProof<Felt>,
) -> Result<Vec<PathLevel>, SynthesisError> {
    proof
        .siblings
        .chunks(3)
        .enumerate()
        .map(|(level, s)| {
            let digit = (proof.index >> (2 * level)) & 3;
            let bit = |b: u32| Boolean::new_witness(cs.clone(), || Ok(digit >> b & 1 == 1));
            let w = |f: Felt| FrVar::new_witness(cs.clone(), || Ok(f.0));
            let s = circuit_siblings(digit, s);
            Ok(PathLevel {
                bits: [bit(0)?, bit(1)?],
                siblings: [w(s[0])?, w(s[1])?, w(s[2])?],
            })
        })
        .collect()
}

impl ConstraintSynthesizer<Fr> for TransferLoad {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let key = PointVar::witness(cs.clone(), Some(*self.key.public().point()))?;
        let msg = FrVar::new_witness(cs.clone(), || Ok(self.msg.0))?;
        let r8 = PointVar::witness(cs.clone(), Some(self.sig.r8))?;
        let s = alloc_scalar_bits(cs.clone(), Some(self.sig.s))?;
        verify_eddsa(&Boolean::TRUE, &key, &msg, &r8, &s)?;
        for (old_leaf, new_leaf, proof, old_root) in &self.updates {
            let old = FrVar::new_witness(cs.clone(), || Ok(old_leaf.0))?;
            let new = FrVar::new_witness(cs.clone(), || Ok(new_leaf.0))?;
            let (o, _) = update_roots(&old, &new, &path(&cs, proof)?)?;
            o.enforce_equal(&FrVar::new_input(cs.clone(), || Ok(old_root.0))?)?;
        }
        Ok(())
    }
}

fn load() -> TransferLoad {
    let key = BabyKeypair::dev(b"transfer-cost");
    let msg = Felt::from_u128(77);
    let sig = key.sign(&msg);
    let mut tree = MerkleTree::<PoseidonHasher>::new(DEPTH);
    for i in 0..100u32 {
        tree.set(i, Felt::from_u128(i as u128 + 1));
    }
    tree.commit();
    let updates = [17u32, 93]
        .iter()
        .map(|&i| {
            let (old_root, old_leaf, proof) = (tree.root(), tree.leaf(i), tree.proof(i));
            let new_leaf = Felt::from_u128(1_000 + i as u128);
            tree.set(i, new_leaf);
            tree.commit();
            (old_leaf, new_leaf, proof, old_root)
        })
        .collect();
    TransferLoad {
        key,
        msg,
        sig,
        updates,
    }
}

#[test]
#[ignore = "heavy: proves about 18,000 constraints; run by hand in release"]
fn one_transfer_of_constraints_proves_and_verifies() {
    let circuit = load();
    let cs = ConstraintSystem::<Fr>::new_ref();
    circuit.clone().generate_constraints(cs.clone()).unwrap();
    assert!(cs.is_satisfied().unwrap());
    let constraints = cs.num_constraints();
    let t = Instant::now();
    let keys = basalt_zk::dev_setup(circuit.clone()).unwrap();
    let setup = t.elapsed();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(5);
    let t = Instant::now();
    let proof = basalt_zk::prove(&keys.proving, circuit.clone(), &mut rng).unwrap();
    let prove = t.elapsed();
    let verifier = basalt_zk::Verifier::new(&keys.verifying);
    let inputs: Vec<Fr> = circuit.updates.iter().map(|u| u.3 .0).collect();
    let t = Instant::now();
    let rounds = 20;
    for _ in 0..rounds {
        verifier.verify(&inputs, &proof).unwrap();
    }
    let verify = t.elapsed() / rounds;
    use ark_serialize::CanonicalDeserialize;
    let t = Instant::now();
    for _ in 0..rounds {
        ark_groth16::Proof::<ark_bn254::Bn254>::deserialize_compressed(&proof[..]).unwrap();
    }
    let decode = t.elapsed() / rounds;
    println!(
        "{constraints} constraints: setup {:.2} s, prove {:.2} s ({:.1} us/constraint), verify {:.2} ms (of which decoding and subgroup checks {:.2} ms)",
        setup.as_secs_f64(),
        prove.as_secs_f64(),
        prove.as_secs_f64() * 1e6 / constraints as f64,
        verify.as_secs_f64() * 1e3,
        decode.as_secs_f64() * 1e3
    );
}
