//! `basalt lab scaling --quick` end to end on the in-process L1: the report's structure, and the
//! relations that hold by construction (never timings).

use basalt_lab::scaling::{run, Options};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quick_scaling_sweep_writes_a_report_whose_relations_hold() {
    let out = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let opts = Options::new(true, 7, out.path().into(), keys.path().into());
    let report = run(&opts).await.unwrap();

    let expected = opts.points();
    assert_eq!(report.points.len(), expected.len());
    for (p, (setup, load)) in report.points.iter().zip(&expected) {
        assert_eq!(p.setup, setup.key());
        assert_eq!(p.offered_tps, *load);
        assert!(
            p.drained,
            "{} at {load}: not everything carried: {p:?}",
            p.label
        );
        assert!(
            p.carried > 0 && p.l1_bytes_per_tx > 0.0 && p.l1_gas_per_tx > 0.0,
            "{p:?}"
        );
        assert!(
            p.validator_cpu_share > 0.0 && p.bandwidth_bytes_per_s > 0.0,
            "{p:?}"
        );
        assert!(p.latency.l1_final_ms.is_some(), "{p:?}");
        if setup.rollups() > 0 {
            assert!(p.blob_bytes_per_tx > 0.0, "{p:?}");
            assert!(p.latency.soft_ms <= p.latency.l1_final_ms, "{p:?}");
            assert!(p.latency.settled_ms.is_some(), "{p:?}");
        } else {
            assert_eq!(p.blob_bytes_per_tx, 0.0);
        }
    }
    let built_in: Vec<_> = report
        .relations
        .iter()
        .filter(|r| r.by_construction)
        .collect();
    // One for each rollup configuration, and the ZK one against the optimistic ones.
    assert_eq!(built_in.len(), 4, "{:?}", report.relations);
    for r in built_in {
        assert!(r.holds, "{}: {}", r.claim, r.detail);
    }
    for f in [
        "report.json",
        "report.md",
        "validator-cpu.svg",
        "validator-cpu.png",
        "l1-bytes.png",
        "fees.svg",
        "latency.png",
        "user-fee.png",
    ] {
        assert!(out.path().join(f).exists(), "{f} missing");
    }
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(json["experiment"], "scaling");
    assert_eq!(json["points"].as_array().unwrap().len(), expected.len());
}
