//! What a batch proof costs on a real workload: a rollup of funded accounts, a batch of signed
//! transfers between them, its constraints, setup, proving and verification times, and beside the
//! proving time the time of the multi-scalar multiplications the proof is made of (its ceiling:
//! no Groth16 prover of this circuit on this machine can be much faster than its MSMs).

use crate::batch::{BatchCircuit, BatchWitness};
use crate::{dev_setup, Prover, Verifier, ZkError};
use ark_bn254::{Bn254, G1Projective, G2Projective};
use ark_ec::VariableBaseMSM;
use ark_groth16::ProvingKey;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem};
use ark_snark::SNARK;
use ark_std::UniformRand;
use basalt_l2::{Config, DepositEntry, DepositWindow, L2State, L2Tx, Outcome, Zk};
use basalt_types::zk::{BabyKeypair, Felt, Fr};
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};

/// The rules of the measured rollup.
pub const BENCH_CONFIG: Config = Config {
    rollup_id: 1,
    min_fee: 1,
};

/// A measured batch proof.
#[derive(Debug, Clone)]
pub struct BatchMeasurement {
    /// Transaction slots (all transfers).
    pub slots: usize,
    /// Constraints of the circuit.
    pub constraints: usize,
    /// Key generation.
    pub setup: Duration,
    /// Building the witness natively.
    pub witness: Duration,
    /// Deriving the circuit's constraint matrices, once per key.
    pub matrices: Duration,
    /// Proving from the matrices (the witness, FFTs and MSMs).
    pub prove: Duration,
    /// Proving with arkworks' own prover (synthesis and inlining of the whole circuit each time):
    /// the baseline.
    pub prove_arkworks: Duration,
    /// The MSMs of one proof alone, over bases of the proving key's sizes.
    pub msm: Duration,
    /// One verification, decoding included.
    pub verify: Duration,
    /// Bytes of the proof.
    pub proof_bytes: usize,
}

/// A rollup with `accounts` funded accounts (key i is `BabyKeypair::dev` of i) and a batch of
/// `transfers` signed transfers among them.
pub fn transfer_workload(
    accounts: u32,
    transfers: usize,
    seed: u64,
) -> (L2State<Zk>, Vec<DepositEntry<Zk>>, Vec<L2Tx<Zk>>) {
    let keys: Vec<BabyKeypair> = (0..=accounts)
        .map(|i| BabyKeypair::dev(format!("bench-{i}").as_bytes()))
        .collect();
    let queue: Vec<DepositEntry<Zk>> = keys[1..]
        .iter()
        .map(|k| DepositEntry {
            forced: None,
            account: None,
            key: k.public(),
            amount: 1_000_000,
        })
        .collect();
    let mut state = L2State::<Zk>::genesis(BENCH_CONFIG, keys[0].public());
    let window = DepositWindow {
        first: 0,
        entries: &queue,
    };
    let opens: Vec<L2Tx<Zk>> = (0..queue.len() as u64)
        .map(|index| L2Tx::Deposit { index })
        .collect();
    let outcomes = state.apply_batch(&window, &opens);
    debug_assert!(outcomes.iter().all(|o| *o == Outcome::Applied));
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let mut nonces = vec![0u64; keys.len()];
    let txs = (0..transfers)
        .map(|_| {
            let from = rng.gen_range(1..=accounts);
            let to = rng.gen_range(1..=accounts);
            let nonce = nonces[from as usize];
            nonces[from as usize] += 1;
            L2Tx::Transfer {
                from,
                to,
                amount: rng.gen_range(1..1_000),
                fee: 1,
                nonce,
                signature: keys[0].sign(&Felt::ZERO),
            }
            .signed_zk(BENCH_CONFIG.rollup_id, &keys[from as usize])
        })
        .collect();
    (state, queue, txs)
}

/// The time of the MSMs one proof under `pk` computes, with random scalars.
pub fn msm_ceiling(pk: &ProvingKey<Bn254>, seed: u64) -> Duration {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let mut scalars = |n: usize| (0..n).map(|_| Fr::rand(&mut rng)).collect::<Vec<_>>();
    let (a, b1, b2, h, l) = (
        scalars(pk.a_query.len()),
        scalars(pk.b_g1_query.len()),
        scalars(pk.b_g2_query.len()),
        scalars(pk.h_query.len()),
        scalars(pk.l_query.len()),
    );
    let start = Instant::now();
    let _ = G1Projective::msm(&pk.a_query, &a);
    let _ = G1Projective::msm(&pk.b_g1_query, &b1);
    let _ = G2Projective::msm(&pk.b_g2_query, &b2);
    let _ = G1Projective::msm(&pk.h_query, &h);
    let _ = G1Projective::msm(&pk.l_query, &l);
    start.elapsed()
}

/// Sets up, proves and verifies one batch of `slots` transfers among 1,000 accounts, reporting
/// each stage to `progress` as it starts.
pub fn measure_batch(
    slots: usize,
    mut progress: impl FnMut(&str),
) -> Result<BatchMeasurement, ZkError> {
    progress("building the workload");
    let (state, queue, txs) = transfer_workload(1_000, slots, 7);
    let window = DepositWindow {
        first: 0,
        entries: &queue,
    };
    let start = Instant::now();
    let witness = BatchWitness::build(&state, &window, &txs, slots)
        .map_err(|e| ZkError::Synthesis(e.to_string()))?;
    let witness_time = start.elapsed();
    let circuit = BatchCircuit { witness };
    let cs = ConstraintSystem::<Fr>::new_ref();
    circuit
        .clone()
        .generate_constraints(cs.clone())
        .map_err(|e| ZkError::Synthesis(e.to_string()))?;
    let constraints = cs.num_constraints();
    drop(cs);
    progress("setting up keys");
    let start = Instant::now();
    let keys = dev_setup(circuit.clone())?;
    let setup = start.elapsed();
    progress("deriving the constraint matrices");
    let start = Instant::now();
    let prover = Prover::new(keys.proving.clone(), circuit.clone())?;
    let matrices = start.elapsed();
    progress("proving");
    let inputs = circuit.witness.public_inputs();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(11);
    let start = Instant::now();
    let proof = prover.prove(circuit.clone(), &mut rng)?;
    let prove_time = start.elapsed();
    progress("proving with arkworks' own prover (the baseline)");
    let start = Instant::now();
    ark_groth16::Groth16::<Bn254>::prove(&keys.proving, circuit, &mut rng)
        .map_err(|e| ZkError::Synthesis(e.to_string()))?;
    let prove_arkworks = start.elapsed();
    progress("timing the MSMs alone");
    let msm = msm_ceiling(&keys.proving, 13);
    progress("verifying");
    let verifier = Verifier::new(&keys.verifying);
    let rounds = 10;
    let start = Instant::now();
    for _ in 0..rounds {
        verifier.verify(&inputs, &proof)?;
    }
    let verify = start.elapsed() / rounds;
    Ok(BatchMeasurement {
        slots,
        constraints,
        setup,
        witness: witness_time,
        matrices,
        prove: prove_time,
        prove_arkworks,
        msm,
        verify,
        proof_bytes: proof.len(),
    })
}
