//! One point of the trilemma sweep: a chain of validator processes with one setting of the
//! levers, a load of transfers sent to validator 0's JSON-RPC for some seconds, and what the
//! chain delivered and each validator spent meanwhile.

use super::cluster::{Cluster, ClusterSpec, Reading};
use super::sandbox::Caps;
use anyhow::{Context, Result};
use basalt_l1::{Action, Params, Transaction, TRANSFER_GAS};
use basalt_rpc::{BlockId, L1ApiClient};
use basalt_types::{Encode, Keypair};
use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::params::BatchRequestBuilder;
use jsonrpsee::http_client::HttpClientBuilder;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One setting of the levers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    /// The lever this point varies: `block size`, `block time`, `validators`, `threads` or
    /// `home validators`.
    pub lever: String,
    /// Validators, each its own process.
    pub validators: usize,
    /// Transfers a block holds at most (its gas limit over a transfer's gas).
    pub txs_per_block: u64,
    /// Target milliseconds between blocks.
    pub block_time_ms: u64,
    /// Threads each validator verifies a block on.
    pub threads: usize,
    /// How many validators are capped home nodes (the last ones).
    pub home: usize,
    /// Offered load, transfers a second.
    pub load: f64,
}

impl Spec {
    /// Transfers a second the chain can carry at most: a full block every block time.
    pub fn capacity(&self) -> f64 {
        self.txs_per_block as f64 * 1_000.0 / self.block_time_ms as f64
    }

    /// The chain's parameters: blocks of `txs_per_block` transfers whose base fee stays at its
    /// floor (the target is the limit), one epoch for the whole run. DEVNET ONLY parameters.
    pub fn params(&self) -> Params {
        let gas = self.txs_per_block * TRANSFER_GAS;
        Params {
            block_time_ms: self.block_time_ms,
            block_gas_limit: gas,
            block_gas_target: gas,
            initial_base_fee: 1,
            min_base_fee: 1,
            epoch_length: 1_000_000,
            ..Params::default()
        }
    }

    /// A short name, as the report's tables show it.
    pub fn label(&self) -> String {
        format!(
            "{} validators ({} home), {} tx/block, {} ms, {} thread(s), {:.0} tx/s offered",
            self.validators,
            self.home,
            self.txs_per_block,
            self.block_time_ms,
            self.threads,
            self.load
        )
    }
}

/// What one validator spent and reached during a point's load.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ValidatorUse {
    /// Whether it was a capped home node.
    pub home: bool,
    /// Whether it took the load's JSON-RPC calls (validator 0).
    pub rpc: bool,
    /// CPU seconds a second (1.0 is one core busy).
    pub cpu_per_s: f64,
    /// Bytes a second received, when measured (in a sandbox).
    pub in_bytes_per_s: Option<f64>,
    /// Bytes a second sent, when measured.
    pub out_bytes_per_s: Option<f64>,
    /// Bytes a second its data directory grew.
    pub disk_bytes_per_s: f64,
    /// Blocks behind the highest finalized height at the end.
    pub lag_blocks: u64,
    /// The share of the chain's new blocks it finalized during the load.
    pub progress: f64,
    /// Mean seconds from a block's timestamp to its finalization here, if it finalized any.
    pub finality_s: Option<f64>,
    /// The share of the finalization certificates validator 0 learned during the load that
    /// carry this validator's vote, if it learned any: a certificate holds the first quorum of
    /// votes to arrive, so a slow validator's votes are left out.
    #[serde(default)]
    pub votes_certified: Option<f64>,
}

/// What one point measured.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Point {
    /// Its setting.
    pub spec: Spec,
    /// Whether its validators ran in sandboxes (traffic measured, caps applied).
    pub sandboxed: bool,
    /// Seconds of load.
    pub seconds: f64,
    /// Transfers a second the chain can carry at most.
    pub capacity_tps: f64,
    /// Transfers a second the lab sent.
    pub sent_tps: f64,
    /// Transfers a second finalized (in blocks finalized during the load).
    pub tps: f64,
    /// Blocks finalized during the load.
    pub blocks: u64,
    /// The most transfers one of those blocks held.
    pub max_block_txs: u64,
    /// Median over the validators that are not home nodes of their mean finality latency.
    pub finality_s: Option<f64>,
    /// Each validator, in order (home nodes last).
    pub validators: Vec<ValidatorUse>,
}

impl Point {
    /// The validators that are neither home nodes nor validator 0: what a validator spends.
    pub fn peers(&self) -> impl Iterator<Item = &ValidatorUse> {
        self.validators.iter().filter(|v| !v.home && !v.rpc)
    }

    /// The mean of `f` over [`Point::peers`].
    pub fn peer_mean(&self, f: impl Fn(&ValidatorUse) -> Option<f64>) -> Option<f64> {
        mean(self.peers().filter_map(f))
    }

    /// The mean of `f` over the home nodes.
    pub fn home_mean(&self, f: impl Fn(&ValidatorUse) -> Option<f64>) -> Option<f64> {
        mean(self.validators.iter().filter(|v| v.home).filter_map(f))
    }
}

/// The mean of `vals`, if there are any.
fn mean(vals: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = vals.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// What a point runs with.
pub struct Env<'a> {
    /// The `basalt` binary.
    pub binary: &'a PathBuf,
    /// Whether validators get sandboxes.
    pub sandboxed: bool,
    /// A home node's limits.
    pub home: Caps,
    /// Seconds of load.
    pub seconds: f64,
    /// Accounts that send (funded at genesis).
    pub users: &'a [Keypair],
    /// Where to keep this point's validator files, if anywhere.
    pub keep: Option<PathBuf>,
    /// Progress lines.
    pub say: &'a dyn Fn(String),
}

/// Runs one point: starts its chain, loads it, reads what it cost, stops it.
pub async fn measure(spec: &Spec, env: &Env<'_>) -> Result<Point> {
    let caps: Vec<Caps> = (0..spec.validators)
        .map(|i| match i >= spec.validators - spec.home {
            true => env.home,
            false => Caps::default(),
        })
        .collect();
    let cluster_spec = ClusterSpec {
        binary: env.binary.clone(),
        params: spec.params(),
        caps,
        threads: spec.threads,
        users: env.users.to_vec(),
        sandboxed: env.sandboxed,
        keep: env.keep.clone(),
    };
    (env.say)("starting validators".into());
    let mut cluster = Cluster::start(&cluster_spec).await?;
    let txs = sign_load(spec, env).await?;
    (env.say)(format!("sending {} transfers", txs.len()));
    let before = cluster.read().await?;
    let started = Instant::now();
    let sent = send(cluster.rpc(0), txs, spec.load, env.seconds).await?;
    let elapsed = started.elapsed().as_secs_f64();
    cluster.check_alive()?;
    let after = cluster.read().await?;
    let (blocks, txs, max_block_txs) = count_finalized(cluster.rpc(0), &before, &after).await?;
    Ok(summarize(
        spec,
        &cluster,
        (&before, &after),
        elapsed,
        sent,
        (blocks, txs, max_block_txs),
    ))
}

fn summarize(
    spec: &Spec,
    cluster: &Cluster,
    (before, after): (&[Reading], &[Reading]),
    elapsed: f64,
    sent: u64,
    (blocks, txs, max_block_txs): (u64, u64, u64),
) -> Point {
    let top_before = before.iter().map(|r| r.height).max().unwrap_or(0);
    let top = after.iter().map(|r| r.height).max().unwrap_or(0);
    let per_s = |a: u64, b: u64| b.saturating_sub(a) as f64 / elapsed;
    let validators: Vec<ValidatorUse> = before
        .iter()
        .zip(after)
        .enumerate()
        .map(|(i, (b, a))| {
            let bytes = b.bytes.zip(a.bytes);
            let count = a.latency.1.saturating_sub(b.latency.1);
            let learned = a.certificates.0.saturating_sub(b.certificates.0);
            let signed = a.certificates.1.saturating_sub(b.certificates.1);
            ValidatorUse {
                home: i >= spec.validators - spec.home,
                rpc: i == 0,
                cpu_per_s: (a.cpu_s - b.cpu_s).max(0.0) / elapsed,
                in_bytes_per_s: bytes.map(|(b, a)| per_s(b.0, a.0)),
                out_bytes_per_s: bytes.map(|(b, a)| per_s(b.1, a.1)),
                disk_bytes_per_s: (a.disk as f64 - b.disk as f64).max(0.0) / elapsed,
                lag_blocks: top.saturating_sub(a.height),
                progress: match top > top_before {
                    true => a.height.saturating_sub(b.height) as f64 / (top - top_before) as f64,
                    false => 0.0,
                },
                finality_s: (count > 0).then(|| (a.latency.0 - b.latency.0) / count as f64),
                votes_certified: (learned > 0).then(|| signed as f64 / learned as f64),
            }
        })
        .collect();
    let mut lat: Vec<f64> = validators
        .iter()
        .filter(|v| !v.home)
        .filter_map(|v| v.finality_s)
        .collect();
    lat.sort_by(f64::total_cmp);
    Point {
        spec: spec.clone(),
        sandboxed: cluster.sandboxed(),
        seconds: elapsed,
        capacity_tps: spec.capacity(),
        sent_tps: sent as f64 / elapsed,
        tps: txs as f64 / elapsed,
        blocks,
        max_block_txs,
        finality_s: lat.get(lat.len() / 2).copied(),
        validators,
    }
}

/// The point's transfers, signed ahead: user u pays user u+1, round robin over the users.
async fn sign_load(spec: &Spec, env: &Env<'_>) -> Result<Vec<Vec<u8>>> {
    let total = (spec.load * env.seconds).ceil() as u64;
    let users = env.users.to_vec();
    anyhow::ensure!(users.len() >= 2, "at least 2 users");
    tokio::task::spawn_blocking(move || {
        let k = users.len() as u64;
        (0..total)
            .map(|i| {
                let (u, nonce) = (i % k, i / k);
                Transaction {
                    chain_id: basalt_node::devnet::DEVNET_CHAIN_ID,
                    nonce,
                    max_fee_per_gas: 10,
                    priority_fee_per_gas: 0,
                    gas_limit: TRANSFER_GAS,
                    action: Action::Transfer {
                        to: users[((u + 1) % k) as usize].public(),
                        amount: 1,
                    },
                }
                .sign(&users[u as usize])
                .to_bytes()
            })
            .collect()
    })
    .await
    .context("signing the load")
}

/// How often the sender sends what is due.
const TICK: Duration = Duration::from_millis(20);
/// Batches in flight at most; a tick with all of them busy sends nothing (the node is the limit).
const IN_FLIGHT: usize = 8;

/// Sends `txs` to `url` at `rate` a second for `seconds` in JSON-RPC batches; how many it sent.
async fn send(url: &str, txs: Vec<Vec<u8>>, rate: f64, seconds: f64) -> Result<u64> {
    let client = Arc::new(
        HttpClientBuilder::default()
            .max_request_size(64 << 20)
            .max_response_size(64 << 20)
            .request_timeout(Duration::from_secs(30))
            .build(url)?,
    );
    let sent = Arc::new(AtomicU64::new(0));
    let slots = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let started = Instant::now();
    let mut next = 0usize;
    let mut tasks = tokio::task::JoinSet::new();
    while started.elapsed().as_secs_f64() < seconds && next < txs.len() {
        let due = ((started.elapsed().as_secs_f64() * rate) as usize).min(txs.len());
        if due > next {
            if let Ok(permit) = slots.clone().try_acquire_owned() {
                let mut batch = BatchRequestBuilder::new();
                for t in &txs[next..due] {
                    batch.insert("l1_sendTransaction", vec![format!("0x{}", hex::encode(t))])?;
                }
                let n = (due - next) as u64;
                next = due;
                let (client, sent) = (client.clone(), sent.clone());
                tasks.spawn(async move {
                    let r = client.batch_request::<basalt_types::Hash>(batch).await;
                    if r.is_ok() {
                        sent.fetch_add(n, Ordering::Relaxed);
                    }
                    drop(permit);
                });
            }
        }
        tokio::time::sleep(TICK).await;
    }
    while tasks.join_next().await.is_some() {}
    Ok(sent.load(Ordering::Relaxed))
}

/// Blocks and transfers finalized between two readings, read from validator 0, and the most
/// transfers one block held.
async fn count_finalized(
    url: &str,
    before: &[Reading],
    after: &[Reading],
) -> Result<(u64, u64, u64)> {
    let client = HttpClientBuilder::default()
        .max_response_size(64 << 20)
        .build(url)?;
    let (from, to) = (before[0].height, after[0].height);
    let (mut txs, mut most) = (0, 0);
    for h in from + 1..=to {
        let b = L1ApiClient::get_block(&client, BlockId::Height(h))
            .await
            .with_context(|| format!("reading block {h}"))?;
        let n = b.transactions.len() as u64;
        txs += n;
        most = most.max(n);
    }
    Ok((to.saturating_sub(from), txs, most))
}
