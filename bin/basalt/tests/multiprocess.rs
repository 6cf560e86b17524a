//! Four `basalt node` processes on 127.0.0.1 form one chain: transfers finalize, a SIGKILLed validator
//! does not stop the others, and after a restart it catches up to identical blocks and state roots.

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_basalt");

fn free_port_base() -> u16 {
    // Distinct from the defaults so a running devnet does not collide; offset by pid for parallel runs.
    20_000 + (std::process::id() % 2_000) as u16 * 8
}

fn rpc(port: u16, method: &str, params: Value) -> Option<Value> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let req = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let v: Value = serde_json::from_str(out.split("\r\n\r\n").nth(1)?).ok()?;
    v.get("result").cloned()
}

fn height(port: u16) -> Option<u64> {
    rpc(port, "l1_chainInfo", json!([]))?["finalizedHeight"].as_u64()
}

/// The finalized height of the node on `port`, retrying while its RPC is briefly unavailable (a
/// busy 2-core machine running four nodes can miss a read timeout).
fn height_now(port: u16) -> u64 {
    let mut h = None;
    wait_until("a height read", Duration::from_secs(30), || {
        h = height(port);
        h.is_some()
    });
    h.expect("read above")
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn spawn(dir: &Path, i: usize) -> Child {
    Command::new(BIN)
        .args(["node", "--config"])
        .arg(dir.join(format!("validator-{i}/node.toml")))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start basalt node")
}

/// Whether process `pid` ignores SIGPIPE (bit 12 of its `SigIgn` mask).
fn ignores_sigpipe(pid: u32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let mask = status
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .map(|m| u64::from_str_radix(m.trim(), 16).unwrap())
        .unwrap();
    mask & (1 << (13 - 1)) != 0
}

struct Nodes(Vec<Option<Child>>);

impl Drop for Nodes {
    fn drop(&mut self) {
        for c in self.0.iter_mut().flatten() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[test]
fn four_processes_finalize_survive_a_sigkill_and_resync() {
    let dir = tempfile::tempdir().unwrap();
    let base = free_port_base();
    let (p2p, rpc_base) = (base, base + 4);
    let out = dir.path().join("devnet");
    let status = Command::new(BIN)
        .args([
            "devnet",
            "init",
            "--validators",
            "4",
            "--block-time-ms",
            "100",
            // Short epochs, so the node killed below misses several of them.
            "--epoch-length",
            "10",
            // Blocks verified on two threads: the nodes still agree (see basalt-node's chain tests).
            "--execution-threads",
            "2",
        ])
        .arg("--out")
        .arg(&out)
        .args([
            "--p2p-port",
            &p2p.to_string(),
            "--rpc-port",
            &rpc_base.to_string(),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let mut nodes = Nodes((0..4).map(|i| Some(spawn(&out, i))).collect());
    let rpc_port = |i: usize| rpc_base + i as u16;
    wait_until("four nodes finalizing", Duration::from_secs(60), || {
        (0..4).all(|i| height(rpc_port(i)).unwrap_or(0) >= 3)
    });
    for c in nodes.0.iter().flatten() {
        assert!(
            ignores_sigpipe(c.id()),
            "a node that a peer hanging up mid-write can kill"
        );
    }

    // Transfers through the wallet against node 1.
    let url = format!("http://127.0.0.1:{}", rpc_port(1));
    let to = basalt_node::devnet::dev_account(7).public().to_hex();
    for _ in 0..3 {
        let ok = Command::new(BIN)
            .args([
                "wallet", "transfer", "--dev", "0", "--amount", "2", "--to", &to, "--rpc", &url,
            ])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(ok.success(), "wallet transfer failed");
    }

    // SIGKILL node 3; the other three keep finalizing.
    let mut killed = nodes.0[3].take().unwrap();
    killed.kill().unwrap();
    killed.wait().unwrap();
    let h = height_now(rpc_port(0));
    wait_until(
        "three nodes to keep finalizing",
        Duration::from_secs(60),
        || height(rpc_port(0)).unwrap_or(0) >= h + 20,
    );

    // Restart it: it resumes from disk and catches up with the others.
    nodes.0[3] = Some(spawn(&out, 3));
    let target = height_now(rpc_port(0)) + 5;
    wait_until(
        "the restarted node to catch up",
        Duration::from_secs(90),
        || height(rpc_port(3)).unwrap_or(0) >= target,
    );
    for h in [1, target / 2, target] {
        let roots: Vec<Value> = (0..4)
            .map(|i| {
                rpc(rpc_port(i), "l1_getBlock", json!([h])).unwrap()["header"]["stateRoot"].clone()
            })
            .collect();
        assert!(
            roots.windows(2).all(|w| w[0] == w[1]),
            "state roots differ at height {h}: {roots:?}"
        );
    }
    let acc = rpc(rpc_port(3), "l1_getAccount", json!([to])).unwrap();
    let expected = (1_000_006u128 * basalt_l1::ONE_TOKEN).to_string();
    assert_eq!(acc["balance"], json!(expected));
}
