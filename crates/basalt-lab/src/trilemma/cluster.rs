//! A chain of separate `basalt node` processes, written by `basalt devnet init` and started each
//! in its own sandbox (or on 127.0.0.1 without privileges), with what the lab reads off them:
//! their CPU time (`/proc`), their traffic (the sandbox's links), their disk, their finalized
//! height and finality latency (their Prometheus metrics). The processes are stopped when the
//! [`Cluster`] drops, before its sandbox is torn down. DEVNET ONLY keys and accounts.

use super::sandbox::{Caps, Sandbox};
use anyhow::{bail, Context, Result};
use basalt_l1::{Genesis, GenesisAccount, Params};
use basalt_node::devnet::validator_keypair;
use basalt_node::metrics::validator_name;
use basalt_types::{Amount, Keypair};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// First p2p port; validator i uses this plus i.
const P2P_PORT: u16 = 30_300;
/// First JSON-RPC port.
const RPC_PORT: u16 = 30_400;
/// First metrics port.
const METRICS_PORT: u16 = 30_500;

/// What a cluster runs.
#[derive(Clone, Debug)]
pub struct ClusterSpec {
    /// The `basalt` binary.
    pub binary: PathBuf,
    /// The chain's parameters.
    pub params: Params,
    /// Each validator's limits (its length is the validator count).
    pub caps: Vec<Caps>,
    /// Threads each validator verifies a block on.
    pub threads: usize,
    /// Accounts funded at genesis for the load.
    pub users: Vec<Keypair>,
    /// Whether to build sandboxes (else every node runs on 127.0.0.1, uncapped).
    pub sandboxed: bool,
    /// Where to keep the validators' files (configs, data, logs); none: a temporary directory.
    pub keep: Option<PathBuf>,
}

/// One validator process.
struct Node {
    child: Child,
    data: PathBuf,
    log: PathBuf,
}

/// A running chain of validator processes.
pub struct Cluster {
    nodes: Vec<Node>,
    rpc: Vec<String>,
    metrics: Vec<SocketAddr>,
    // Dropped after the nodes are stopped (see `Drop`), then the files.
    sandbox: Option<Sandbox>,
    _dir: Option<tempfile::TempDir>,
}

/// What the lab reads off one validator at one moment.
#[derive(Clone, Debug, Default)]
pub struct Reading {
    /// CPU seconds it has used.
    pub cpu_s: f64,
    /// Bytes received and sent (none without a sandbox).
    pub bytes: Option<(u64, u64)>,
    /// Bytes its data directory holds on disk.
    pub disk: u64,
    /// Its finalized height.
    pub height: u64,
    /// Sum and count of its finality latencies, seconds.
    pub latency: (f64, u64),
    /// Finalization certificates validator 0 learned of, and how many carry this validator's
    /// vote (validator 0 is never a home node: its certificates are the chain's view).
    pub certificates: (u64, u64),
}

impl Cluster {
    /// Writes the chain's files and starts its validators; waits until all finalize.
    pub async fn start(spec: &ClusterSpec) -> Result<Cluster> {
        let n = spec.caps.len();
        anyhow::ensure!((1..=64).contains(&n), "1 to 64 validators");
        let (root, dir) = match &spec.keep {
            Some(k) => {
                std::fs::create_dir_all(k)?;
                (k.clone(), None)
            }
            None => {
                let t = tempfile::tempdir().context("a directory for the lab's validators")?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        let sandbox = match spec.sandboxed {
            true => Some(Sandbox::create(&spec.caps)?),
            false => None,
        };
        let (hosts, base) = match &sandbox {
            Some(sb) => ((0..n).map(|i| sb.ip(i)).collect::<Vec<_>>(), 0),
            None => (vec![IpAddr::V4(Ipv4Addr::LOCALHOST); n], free_base(n)?),
        };
        let out = root.join("devnet");
        init(spec, &out, &hosts, base)?;
        let mut cluster = Cluster {
            nodes: Vec::new(),
            rpc: (0..n)
                .map(|i| format!("http://{}:{}", hosts[i], RPC_PORT + base + i as u16))
                .collect(),
            metrics: (0..n)
                .map(|i| SocketAddr::new(hosts[i], METRICS_PORT + base + i as u16))
                .collect(),
            sandbox,
            _dir: dir,
        };
        for i in 0..n {
            let node = cluster.spawn(spec, &out, i)?;
            cluster.nodes.push(node);
        }
        cluster.wait_finalizing().await?;
        Ok(cluster)
    }

    fn spawn(&self, spec: &ClusterSpec, out: &Path, i: usize) -> Result<Node> {
        let vdir = out.join(format!("validator-{i}"));
        let log = vdir.join("node.log");
        let file = std::fs::File::create(&log)?;
        let mut cmd = match &self.sandbox {
            Some(sb) => sb.command(i, &spec.binary),
            None => std::process::Command::new(&spec.binary),
        };
        // A validator dies with the lab, even one killed with SIGKILL (which no `Drop` sees).
        // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
        unsafe {
            use std::os::unix::process::CommandExt;
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        cmd.arg("node")
            .arg("--config")
            .arg(vdir.join("node.toml"))
            .arg("--metrics")
            .arg(self.metrics[i].to_string())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file);
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}", spec.binary.display()))?;
        let node = Node {
            data: vdir.join("data"),
            log,
            child,
        };
        if let Some(sb) = &self.sandbox {
            sb.limit(i, node.child.id())?;
        }
        Ok(node)
    }

    /// Validator `i`'s JSON-RPC URL.
    pub fn rpc(&self, i: usize) -> &str {
        &self.rpc[i]
    }

    fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether its traffic is measured (it runs in sandboxes).
    pub fn sandboxed(&self) -> bool {
        self.sandbox.is_some()
    }

    async fn wait_finalizing(&mut self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            self.check_alive()?;
            let mut ready = 0;
            for i in 0..self.len() {
                // Connected to every peer, and past the first views (whose leaders may have
                // proposed before their peers were up, and timed out).
                let n = self.len() as u64;
                if scrape(self.metrics[i])
                    .await
                    .is_ok_and(|m| m.height >= 3 && m.peers + 1 >= n)
                {
                    ready += 1;
                }
            }
            if ready == self.len() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the lab's validators did not all finalize within 120 s");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Fails with the log's tail of any validator that exited.
    pub fn check_alive(&mut self) -> Result<()> {
        for (i, node) in self.nodes.iter_mut().enumerate() {
            if let Some(status) = node.child.try_wait()? {
                let log = std::fs::read_to_string(&node.log).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(8).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                bail!(
                    "validator {i} exited ({status}); its log ends:\n{}",
                    tail.join("\n")
                );
            }
        }
        Ok(())
    }

    /// What each validator has used and reached so far.
    pub async fn read(&self) -> Result<Vec<Reading>> {
        let mut out = Vec::with_capacity(self.len());
        let mut observer = None;
        for (i, node) in self.nodes.iter().enumerate() {
            let m = scrape(self.metrics[i]).await.unwrap_or_default();
            let first = observer.get_or_insert_with(|| m.clone());
            // The devnet's validator i holds dev key i (DEVNET ONLY).
            let name = validator_name(&validator_keypair(i as u64).public().0);
            let certified = first.certified.get(&name).copied().unwrap_or(0);
            out.push(Reading {
                cpu_s: cpu_seconds(node.child.id())?,
                bytes: match &self.sandbox {
                    Some(sb) => Some(sb.bytes(i)?),
                    None => None,
                },
                disk: disk_bytes(&node.data),
                height: m.height,
                latency: m.latency,
                certificates: (first.finalizations, certified),
            });
        }
        Ok(out)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            // SAFETY: kill with a pid this process spawned and has not reaped.
            unsafe {
                libc::kill(node.child.id() as libc::pid_t, libc::SIGTERM);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        for node in &mut self.nodes {
            while node.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = node.child.kill();
            let _ = node.child.wait();
        }
    }
}

/// A port offset at which every port of an `n`-validator chain is free on 127.0.0.1: a
/// multiple of 1,000 below 30,000, chosen from the process id so that concurrent labs differ.
fn free_base(n: usize) -> Result<u16> {
    let free = |p: u16| std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, p)).is_ok();
    for attempt in 0..30u32 {
        let base = ((std::process::id() + attempt) % 30) as u16 * 1_000;
        let mut ports =
            (0..n as u16).flat_map(|i| [P2P_PORT, RPC_PORT, METRICS_PORT].map(|p| p + base + i));
        if ports.all(free) {
            return Ok(base);
        }
    }
    bail!("no free ports on 127.0.0.1 for {n} validators")
}

/// `basalt devnet init` for the hosts, then the lab's parameters and funded users in genesis.
fn init(spec: &ClusterSpec, out: &Path, hosts: &[IpAddr], base: u16) -> Result<()> {
    let hosts: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();
    let o = std::process::Command::new(&spec.binary)
        .args(["devnet", "init", "--validators"])
        .arg(hosts.len().to_string())
        .arg("--out")
        .arg(out)
        .arg("--block-time-ms")
        .arg(spec.params.block_time_ms.to_string())
        .arg("--epoch-length")
        .arg(spec.params.epoch_length.to_string())
        .arg("--hosts")
        .arg(hosts.join(","))
        .arg("--p2p-port")
        .arg((P2P_PORT + base).to_string())
        .arg("--rpc-port")
        .arg((RPC_PORT + base).to_string())
        .arg("--execution-threads")
        .arg(spec.threads.to_string())
        .output()
        .with_context(|| format!("running {} devnet init", spec.binary.display()))?;
    if !o.status.success() {
        bail!(
            "`basalt devnet init` failed: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        );
    }
    let path = out.join("genesis.json");
    let mut genesis = Genesis::from_json(&std::fs::read_to_string(&path)?)?;
    genesis.params = Params {
        max_validators: genesis.params.max_validators,
        ..spec.params.clone()
    };
    genesis
        .accounts
        .extend(spec.users.iter().map(|k| GenesisAccount {
            key: k.public(),
            balance: USER_BALANCE,
        }));
    genesis.params.validate().context("the lab's parameters")?;
    std::fs::write(&path, genesis.to_json())?;
    Ok(())
}

/// What each load account holds at genesis (DEVNET ONLY).
pub const USER_BALANCE: Amount = 1_000_000 * basalt_l1::ONE_TOKEN;

/// CPU seconds process `pid` has used (user and system), from `/proc/<pid>/stat`.
fn cpu_seconds(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    // The command name may hold spaces; the fields after its closing parenthesis do not.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |k: usize| -> Result<u64> {
        Ok(fields
            .get(k)
            .ok_or_else(|| anyhow::anyhow!("short /proc/{pid}/stat"))?
            .parse()?)
    };
    // utime and stime are the 14th and 15th fields; `rest` starts at the 3rd.
    let ticks = tick(11)? + tick(12)?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Ok(ticks as f64 / hz)
}

/// Bytes the files under `dir` occupy on disk.
fn disk_bytes(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(m) = e.metadata() else { continue };
            if m.is_dir() {
                todo.push(e.path());
            } else {
                total += m.blocks() * 512;
            }
        }
    }
    total
}

/// What a validator's metrics say.
#[derive(Clone, Debug, Default)]
struct Scraped {
    height: u64,
    peers: u64,
    latency: (f64, u64),
    /// Finalization certificates it learned of.
    finalizations: u64,
    /// Votes in them, by signer (key prefix).
    certified: BTreeMap<String, u64>,
}

/// Reads a validator's Prometheus metrics (`GET /metrics`).
async fn scrape(addr: SocketAddr) -> Result<Scraped> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let io = async {
        let mut s = tokio::net::TcpStream::connect(addr).await?;
        s.write_all(b"GET /metrics HTTP/1.0\r\nHost: lab\r\n\r\n")
            .await?;
        let mut body = Vec::new();
        s.take(4 << 20).read_to_end(&mut body).await?;
        anyhow::Ok(String::from_utf8_lossy(&body).to_string())
    };
    let text = tokio::time::timeout(Duration::from_secs(5), io)
        .await
        .context("metrics timed out")??;
    Ok(parse_metrics(&text))
}

/// The finalized height, the finality latency's sum and count, and the finalization
/// certificates learned and signed, in a Prometheus text page.
fn parse_metrics(text: &str) -> Scraped {
    let value = |name: &str| -> Option<f64> {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .find(|l| l.split(['{', ' ']).next() == Some(name))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    };
    Scraped {
        height: value("basalt_l1_finalized_height").unwrap_or(0.0) as u64,
        peers: value("basalt_l1_peers").unwrap_or(0.0) as u64,
        latency: (
            value("basalt_l1_finality_latency_seconds_sum").unwrap_or(0.0),
            value("basalt_l1_finality_latency_seconds_count").unwrap_or(0.0) as u64,
        ),
        finalizations: value("basalt_l1_finalizations_total").unwrap_or(0.0) as u64,
        certified: text
            .lines()
            .filter_map(|l| l.strip_prefix("basalt_l1_certified_votes_total{"))
            .filter_map(|l| {
                let (labels, v) = l.rsplit_once(' ')?;
                let signer = labels.split("signer=\"").nth(1)?.split('"').next()?;
                Some((signer.to_string(), v.parse::<f64>().ok()? as u64))
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_pages_give_height_and_latency() {
        let page = "# HELP basalt_l1_finalized_height x\n\
            basalt_l1_finalized_height{validator=\"ab\"} 42\n\
            basalt_l1_finality_latency_seconds{validator=\"ab\",quantile=\"0.5\"} 0.3\n\
            basalt_l1_finality_latency_seconds_sum{validator=\"ab\"} 12.5\n\
            basalt_l1_finality_latency_seconds_count{validator=\"ab\"} 40\n\
            basalt_l1_peers{validator=\"ab\"} 3\n\
            basalt_l1_finalizations_total{validator=\"ab\"} 40\n\
            basalt_l1_certified_votes_total{validator=\"ab\",signer=\"cd\"} 31\n\
            basalt_l1_certified_votes_total{signer=\"ef\",validator=\"ab\"} 9\n";
        let m = parse_metrics(page);
        assert_eq!(m.height, 42);
        assert_eq!(m.finalizations, 40);
        assert_eq!(m.certified.get("cd"), Some(&31));
        assert_eq!(m.certified.get("ef"), Some(&9));
        assert_eq!(m.latency, (12.5, 40));
        assert_eq!(m.peers, 3);
        assert_eq!(parse_metrics("").height, 0);
    }

    #[test]
    fn this_process_has_used_cpu() {
        let spin: u64 = (0..20_000_000u64).fold(0, |a, b| a.wrapping_add(b * b));
        assert!(spin > 0);
        assert!(cpu_seconds(std::process::id()).unwrap() > 0.0);
    }
}
