//! What a batch of transfers costs to prove and verify, beside its MSM ceiling. Heavy: run by
//! hand in release, `BASALT_ZK_SLOTS` slots (default 4):
//! `cargo test --release -p basalt-zk --test batch_cost -- --ignored --nocapture`.

#[test]
#[ignore = "heavy: sets up and proves a batch circuit; run by hand in release"]
fn a_batch_of_transfers_proves_and_verifies() {
    let slots = std::env::var("BASALT_ZK_SLOTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4);
    let m = basalt_zk::measure::measure_batch(slots, |stage| eprintln!("{stage}...")).unwrap();
    let per = |d: std::time::Duration| d.as_secs_f64() / slots as f64;
    println!(
        "{} slots, {} constraints ({} a slot): witness {:.2} s, setup {:.1} s, prove {:.2} s ({:.2} s a transfer; arkworks' prover {:.2} s; MSMs alone {:.2} s, prove/MSM {:.2}), verify {:.2} ms, proof {} bytes",
        m.slots,
        m.constraints,
        m.constraints / slots,
        m.witness.as_secs_f64(),
        m.setup.as_secs_f64(),
        m.prove.as_secs_f64(),
        per(m.prove),
        m.prove_arkworks.as_secs_f64(),
        m.msm.as_secs_f64(),
        m.prove.as_secs_f64() / m.msm.as_secs_f64(),
        m.verify.as_secs_f64() * 1e3,
        m.proof_bytes,
    );
}
