//! `basalt bench zk`: what a ZK rollup's validity proofs cost on this machine. For each batch size,
//! a batch of signed transfers among 1,000 accounts is set up (development keys), proven and
//! verified; proving time is reported beside the time of the proof's multi-scalar multiplications
//! alone, measured in the same run (the ceiling of any Groth16 prover of the circuit here), and
//! beside arkworks' own prover, which synthesizes the whole constraint system for each proof (the
//! baseline of Basalt's prover from precomputed matrices). Also the
//! L1 bytes a posted transfer costs. Prints a Markdown table.

use anyhow::{ensure, Result};
use basalt_l2::{encode_zk_batch, Effort, PostedTx};
use basalt_zk::measure::{measure_batch, transfer_workload};
use clap::Args;

/// Options of `basalt bench zk`.
#[derive(Args, Debug)]
pub struct ZkArgs {
    /// Batch sizes (transaction slots) to measure, comma-separated. Each needs a setup; 16 slots
    /// take about a minute and 2 GB on 2 cores, and time and memory grow linearly.
    #[arg(long, value_delimiter = ',', default_value = "4,16")]
    pub slots: Vec<usize>,
    /// Transfers posted to measure L1 bytes per transfer.
    #[arg(long, default_value_t = 4_096)]
    pub posted: usize,
}

/// The process's peak resident memory so far, in bytes (Linux).
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Runs the benchmark.
pub fn run(args: ZkArgs) -> Result<()> {
    ensure!(!args.slots.is_empty(), "--slots names no batch size");
    ensure!(
        args.slots.iter().all(|s| (1..=1_024).contains(s)),
        "--slots must each be 1 to 1,024"
    );
    ensure!(args.posted > 0, "--posted must be positive");
    let mut slots = args.slots.clone();
    slots.sort_unstable();
    slots.dedup();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("## ZK rollup proofs ({cores} cores)\n");
    println!("| slots | constraints | a slot | setup | matrices | prove | a transfer | arkworks' prover | its / ours | MSMs alone | prove / MSMs | verify | proof | peak memory |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for n in slots {
        let m = measure_batch(n, |stage| eprintln!("{n} slots: {stage}..."))?;
        let peak = peak_memory().map_or("n/a".to_string(), |b| format!("{:.2} GB", b as f64 / 1e9));
        println!(
            "| {} | {} | {} | {:.1} s | {:.2} s | {:.2} s | {:.3} s | {:.2} s | {:.2} | {:.2} s | {:.2} | {:.2} ms | {} B | {} |",
            n,
            m.constraints,
            m.constraints / n,
            m.setup.as_secs_f64(),
            m.matrices.as_secs_f64(),
            m.prove.as_secs_f64(),
            m.prove.as_secs_f64() / n as f64,
            m.prove_arkworks.as_secs_f64(),
            m.prove_arkworks.as_secs_f64() / m.prove.as_secs_f64(),
            m.msm.as_secs_f64(),
            m.prove.as_secs_f64() / m.msm.as_secs_f64(),
            m.verify.as_secs_f64() * 1e3,
            m.proof_bytes,
            peak,
        );
    }
    eprintln!("posting {} transfers...", args.posted);
    let (_, _, txs) = transfer_workload(1_000, args.posted, 5);
    let posted: Vec<PostedTx> = txs.iter().map(PostedTx::from).collect();
    let blob = encode_zk_batch(&posted, Effort::Best);
    println!(
        "\nPosted batch of {} transfers among 1,000 accounts: {} bytes, {:.2} L1 bytes a transfer (no signatures, no nonces).",
        posted.len(),
        blob.len(),
        blob.len() as f64 / posted.len() as f64
    );
    println!(
        "\nPeak memory is the process's high-water mark after each row (rows run smallest first)."
    );
    let (zk, ed) = signature_checks(1_000);
    println!(
        "\nOne signature check, what a sequencer spends admitting an L2 transaction (mean of 1,000): EdDSA-Poseidon (ZK rollups) {:.0} µs, ed25519 (optimistic ones) {:.0} µs.",
        zk.as_secs_f64() * 1e6,
        ed.as_secs_f64() * 1e6
    );
    Ok(())
}

/// The mean time of one EdDSA-Poseidon and of one ed25519 verification, over `n` signatures each.
fn signature_checks(n: u32) -> (std::time::Duration, std::time::Duration) {
    use basalt_types::zk::{BabyKeypair, Felt};
    let baby = BabyKeypair::dev(b"bench-zk/signatures");
    let signed: Vec<_> = (0..n)
        .map(|i| {
            let msg = Felt::from_u128(i as u128);
            (msg, baby.sign(&msg))
        })
        .collect();
    let start = std::time::Instant::now();
    let valid = signed
        .iter()
        .filter(|(m, s)| baby.public().verify(m, s))
        .count();
    let zk = start.elapsed() / n;
    assert_eq!(valid, n as usize, "every signature verifies");
    let ed = basalt_types::dev_keypair("bench-zk/signatures", 0);
    let signed: Vec<_> = (0..n)
        .map(|i| (i.to_le_bytes(), ed.sign(&i.to_le_bytes())))
        .collect();
    let start = std::time::Instant::now();
    let valid = signed
        .iter()
        .filter(|(m, s)| ed.public().verify(m, s).is_ok())
        .count();
    let ed_time = start.elapsed() / n;
    assert_eq!(valid, n as usize, "every signature verifies");
    (zk, ed_time)
}
