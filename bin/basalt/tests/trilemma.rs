//! `basalt lab trilemma`: the quick sweep writes its report (capped points only with the
//! privileges to build sandboxes), and an interrupted or failed run leaves no network namespace,
//! veth link or cgroup behind.

use basalt_lab::report::Report;
use basalt_lab::trilemma::sandbox::{leftovers, privileges};
use basalt_lab::trilemma::TrilemmaReport;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_basalt");

#[test]
fn the_quick_trilemma_writes_its_report_and_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("trilemma");
    let o = Command::new(BIN)
        .args(["lab", "trilemma", "--quick", "--seconds", "2", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    let r = TrilemmaReport::read(&out).unwrap();
    assert_eq!(r.experiment, "trilemma");
    assert!(r.quick);
    match privileges() {
        Ok(()) => {
            assert!(r.sandboxed && r.no_sandbox_reason.is_none());
            assert!(r.points.iter().any(|p| p.spec.home == 1), "no capped point");
            for p in &r.points {
                // Traffic is measured in a sandbox, on every validator.
                assert!(p.validators.iter().all(|v| v.in_bytes_per_s.is_some()));
            }
        }
        Err(_) => {
            assert!(!r.sandboxed && r.no_sandbox_reason.is_some());
            assert!(stderr.contains("no sandboxes"), "{stderr}");
            assert!(r.points.iter().all(|p| p.spec.home == 0));
        }
    }
    assert!(r.points.len() >= 2);
    for p in &r.points {
        assert_eq!(p.validators.len(), p.spec.validators);
        assert_eq!(p.validators.iter().filter(|v| v.home).count(), p.spec.home);
        assert!(p.validators[0].rpc && !p.validators[0].home);
        assert!(p.validators.iter().all(|v| v.cpu_per_s > 0.0));
        assert!(p.capacity_tps > 0.0 && p.sent_tps > 0.0);
        // Every finalization certificate holds at least a quorum of votes, so the shares of
        // validator 0's certificates that carry each validator's vote add up to a quorum or more.
        let n = p.spec.validators;
        let quorum = (n - (n - 1) / 3) as f64;
        let shares: f64 = p.validators.iter().filter_map(|v| v.votes_certified).sum();
        assert!(
            shares >= quorum - 1e-9,
            "{shares} < {quorum}: {:?}",
            p.validators
        );
    }
    // The two simulated geographic points: every validator on the same blocks, and a global
    // chain's finality later than a one-region chain's.
    assert_eq!(r.geography.len(), 2);
    for g in &r.geography {
        assert!(g.agreed && g.blocks_per_s > 0.0, "{g:?}");
        assert_eq!(g.placement.len(), g.spec.validators);
    }
    for rel in r.relations.iter().filter(|r| r.by_construction) {
        assert!(rel.holds, "{}: {}", rel.claim, rel.detail);
    }
    for stem in [
        "throughput-block-size",
        "finality-block-size",
        "block-time",
        "validator-cost",
        "finality-validators",
        "home-nodes",
        "keep-up",
        "geography",
    ] {
        for ext in ["svg", "png"] {
            let f = out.join(format!("{stem}.{ext}"));
            assert!(std::fs::metadata(&f).unwrap().len() > 0, "{}", f.display());
        }
    }
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("| lever |") && md.contains("## Relations"));
    assert!(md.contains("## Geography") && md.contains("cloudping"));
    assert!(md.contains("## Who keeps up") && md.contains("data-center server"));
    assert_eq!(r.profiles.len(), 4);
    // --replot rewrites the same report from its JSON.
    std::fs::remove_file(out.join("report.md")).unwrap();
    let ok = Command::new(BIN)
        .args(["lab", "trilemma", "--replot", "--out"])
        .arg(&out)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success());
    assert_eq!(std::fs::read_to_string(out.join("report.md")).unwrap(), md);
}

/// The lab process `pid`'s namespaces, links and cgroups, waiting up to `timeout` for `until`.
fn wait_leftovers(pid: u32, timeout: Duration, until: impl Fn(&[String]) -> bool) -> Vec<String> {
    let start = Instant::now();
    loop {
        let l = leftovers(pid);
        if until(&l) || start.elapsed() > timeout {
            return l;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The processes running in the lab `pid`'s namespaces.
fn sandboxed_processes(pid: u32, names: &[String]) -> Vec<u32> {
    names
        .iter()
        .filter_map(|n| n.strip_prefix("netns "))
        .filter(|n| n.contains(&pid.to_string()))
        .flat_map(|ns| {
            let o = Command::new("ip")
                .args(["netns", "pids", ns])
                .output()
                .unwrap();
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

/// Starts a quick lab with long points in `dir`; once its first point's four validators run in
/// their namespaces (the first quick point has a capped home node, so a cgroup too), the lab,
/// its process id and the validators' process ids.
fn lab_with_running_validators(dir: &std::path::Path) -> (std::process::Child, u32, Vec<u32>) {
    let lab = Command::new(BIN)
        .args(["lab", "trilemma", "--quick", "--seconds", "120", "--out"])
        .arg(dir.join("t"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = lab.id();
    let made = wait_leftovers(pid, Duration::from_secs(120), |l| {
        l.iter().any(|m| m.starts_with("cgroup"))
            && l.iter().filter(|m| m.starts_with("netns")).count() == 4
    });
    assert!(made.iter().any(|m| m.starts_with("cgroup")), "{made:?}");
    let mut nodes = Vec::new();
    let start = Instant::now();
    while nodes.len() < 4 && start.elapsed() < Duration::from_secs(60) {
        nodes = sandboxed_processes(pid, &made);
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(nodes.len(), 4, "four validators in their namespaces");
    (lab, pid, nodes)
}

#[test]
fn an_interrupted_trilemma_leaves_no_namespace_veth_or_cgroup_behind() {
    if let Err(why) = privileges() {
        eprintln!("skipped: this machine cannot build sandboxes ({why})");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (mut lab, pid, nodes) = lab_with_running_validators(dir.path());
    // Ctrl-C.
    // SAFETY: signalling a child this test spawned and has not reaped.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGINT);
    }
    let status = lab.wait().unwrap();
    assert!(!status.success(), "an interrupted run reports failure");
    let mut err = String::new();
    std::io::Read::read_to_string(lab.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(err.contains("interrupted"), "{err}");
    assert_eq!(leftovers(pid), Vec::<String>::new());
    for n in nodes {
        assert!(
            !std::path::Path::new(&format!("/proc/{n}")).exists(),
            "validator process {n} outlived the lab"
        );
    }
}

#[test]
fn a_failed_point_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    // A "basalt" that cannot write a devnet: the point fails after its sandboxes are built.
    let mut lab = Command::new(BIN)
        .args([
            "lab",
            "trilemma",
            "--quick",
            "--binary",
            "/bin/false",
            "--out",
        ])
        .arg(dir.path().join("t"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = lab.id();
    let status = lab.wait().unwrap();
    assert!(!status.success());
    let mut err = String::new();
    std::io::Read::read_to_string(lab.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(err.contains("devnet init"), "{err}");
    assert_eq!(leftovers(pid), Vec::<String>::new());
}

#[test]
fn a_lab_killed_outright_takes_its_validators_along_and_the_next_lab_removes_its_sandboxes() {
    if let Err(why) = privileges() {
        eprintln!("skipped: this machine cannot build sandboxes ({why})");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (mut lab, pid, nodes) = lab_with_running_validators(dir.path());
    // SIGKILL: no handler runs, no Drop.
    lab.kill().unwrap();
    lab.wait().unwrap();
    let start = Instant::now();
    while nodes
        .iter()
        .any(|n| std::path::Path::new(&format!("/proc/{n}")).exists())
    {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "validators outlived a killed lab"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // What the next lab does first (a lab test running beside this one may already have).
    basalt_lab::trilemma::sandbox::clean_stale();
    assert_eq!(leftovers(pid), Vec::<String>::new());
}

#[test]
fn home_node_points_without_sandboxes_are_refused_not_run_empty() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(BIN)
        .args([
            "lab",
            "trilemma",
            "--quick",
            "--no-sandbox",
            "--lever",
            "home-validators",
        ])
        .arg("--out")
        .arg(dir.path().join("t"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("need sandboxes") && err.contains("--no-sandbox"),
        "{err}"
    );
    assert!(!dir.path().join("t/report.json").exists());
}
