//! The through-RPC rows of `basalt bench rollup`: a one-validator L1 (real consensus and its
//! JSON-RPC), sequencer nodes that know the L1 only through that RPC, and clients that send
//! pre-signed transfers to the nodes' `l2_sendTransaction` in JSON-RPC batch requests.
//!
//! Three runs on one L1, in order:
//! - **capacity**: a poster fills blocks with the largest blobs, sent at consecutive nonces, and
//!   the L1's finalized blob bytes per second are timed;
//! - **one rollup**: transfers to one sequencer node, timed to soft confirmation (durably
//!   logged) and to L1 finality (in a batch the L1 finalized, as the node derives it);
//! - **two rollups**: the same load to two sequencer nodes at once.

use crate::bench_rollup::RollupArgs;
use crate::devnet_rollups::wait_final;
use anyhow::{ensure, Context, Result};
use basalt_l1::{blob_hash, Action, Params, RollupKind, RollupParams, ONE_TOKEN};
use basalt_l2::{L2Tx, Optimistic};
use basalt_node::devnet::{dev_account, dev_sequencer, devnet_genesis, validator_keypair};
use basalt_node::net::{start_networked_validator, Peer};
use basalt_node::rpc::{serve, RpcContext};
use basalt_rollup::l1client::L1Client;
use basalt_rollup::{BatcherConfig, NodeConfig, Role, RollupNode, RollupRef};
use basalt_rpc::l2::{L2ChainInfo, L2TxStatus};
use basalt_rpc::{AccountRef, L2ApiClient};
use basalt_types::{dev_keypair, hash_parts, Amount, Encode, Keypair, Signature};
use commonware_runtime::{tokio as cw_tokio, Runner as _};
use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::params::BatchRequestBuilder;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Blobs the capacity run posts.
const CAPACITY_BLOBS: usize = 90;
/// The blob fee cap of the bench's batchers: high enough never to bind during a run (above its
/// target the L1's blob fee grows by an eighth per block, as EIP-4844's does).
const BENCH_MAX_BLOB_FEE: u64 = 1_000_000_000;

/// What the runs measured.
pub struct RpcRun {
    /// Transfers per rollup in each run.
    pub txs: usize,
    /// One rollup: transfers soft-confirmed per second.
    pub soft: f64,
    /// One rollup: sustained transfers per second reaching L1 finality.
    pub one: f64,
    /// Two rollups at once: sustained transfers per second reaching L1 finality, each.
    pub two: [f64; 2],
    /// Two rollups at once: both together.
    pub two_total: f64,
    /// Two rollups at once: transfers soft-confirmed per second, both together.
    pub two_soft: f64,
    /// The L1's finalized blob bytes per second, with blocks full of the largest blobs.
    pub capacity_bytes: f64,
    /// Blob bytes per transfer the batcher posted in the one-rollup run.
    pub bytes_per_tx: f64,
    /// The blob base fee per byte when the runs ended.
    pub blob_fee_end: u64,
}

fn user(rollup: usize, i: u32) -> Keypair {
    dev_keypair(&format!("basalt-bench-rpc-user-{rollup}"), i as u64)
}

async fn l2_info(c: &HttpClient) -> Result<L2ChainInfo> {
    Ok(L2ApiClient::chain_info(c).await?)
}

fn http(url: &str) -> Result<HttpClient> {
    Ok(HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(60))
        .max_request_size(64 * 1024 * 1024)
        .max_response_size(64 * 1024 * 1024)
        .build(url)?)
}

/// A registered rollup with its sequencer node and its funded users.
struct Bench {
    node: RollupNode,
    client: HttpClient,
    url: String,
    keys: Vec<Keypair>,
    index: Vec<u32>,
    nonces: Vec<u64>,
    /// The fee every pre-signed transfer pays: ten times the sequencer's quote when the users
    /// were funded, so that the L1's fees may rise under the load.
    fee: Amount,
}

impl Bench {
    /// Pre-signed transfers among the users (signing is not what is measured).
    fn sign(&mut self, count: usize, rollup: u32) -> Vec<String> {
        let n = self.keys.len();
        (0..count)
            .map(|k| {
                let s = k % n;
                let to = (s * 7 + 3) % n;
                let nonce = self.nonces[s];
                self.nonces[s] += 1;
                let tx = L2Tx::<Optimistic>::Transfer {
                    from: self.index[s],
                    to: self.index[to],
                    amount: 1_000,
                    fee: self.fee,
                    nonce,
                    signature: Signature([0; 64]),
                }
                .signed(rollup, &self.keys[s]);
                format!("0x{}", hex::encode(tx.to_bytes()))
            })
            .collect()
    }

    /// Soft-confirmed and L1-final (derived) transaction counts.
    async fn counts(&self) -> Result<(u64, u64)> {
        let v = l2_info(&self.client).await?;
        let soft = v.soft.context("the bench's node is no sequencer")?;
        Ok((soft.transactions, v.derived.transactions))
    }
}

/// Registers rollup `name` sequenced by `sequencer`, opens `accounts` users by deposit, and
/// starts its sequencer node.
async fn setup(
    l1: &L1Client,
    l1_url: &str,
    which: usize,
    sequencer: Keypair,
    accounts: u32,
    dir: &std::path::Path,
) -> Result<Bench> {
    let name = format!("bench-{which}");
    let id = register(l1, &sequencer, &name).await?;
    let funder = dev_account(which as u64);
    let mut last = None;
    for i in 0..accounts {
        let deposit = Action::Deposit {
            rollup: id,
            account: None,
            key: user(which, i).public(),
            amount: ONE_TOKEN,
        };
        last = Some(l1.submit(&funder, deposit).await?);
    }
    wait_final(l1, last.as_slice()).await?;
    let node = basalt_rollup::start(
        NodeConfig {
            l1_rpc: l1_url.to_string(),
            rollup: name,
            role: Role::Sequencer,
            data_dir: dir.join(format!("rollup-{which}")),
            rpc: "127.0.0.1:0".parse()?,
            key: None,
            propose: Some(true),
            challenge: None,
            fault: None,
            censor: None,
            block_time_ms: 50,
            l1_poll_ms: 100,
            zk_keys: None,
            batcher: BatcherConfig {
                max_batch_bytes: 131_072,
                max_blob_fee: BENCH_MAX_BLOB_FEE,
                ..BatcherConfig::default()
            },
        },
        Some(sequencer),
    )
    .await?;
    let url = format!("http://{}", node.rpc_addr);
    let client = http(&url)?;
    // The sequencer applies the deposits; then read the index each key got.
    let started = Instant::now();
    while l2_info(&client).await?.soft.map(|s| s.accounts) < Some(accounts as u64 + 1) {
        ensure!(
            started.elapsed() < Duration::from_secs(120),
            "deposits not applied after 120 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let keys: Vec<Keypair> = (0..accounts).map(|i| user(which, i)).collect();
    let mut index = Vec::with_capacity(accounts as usize);
    for k in &keys {
        let key = AccountRef::from(k.public());
        index.push(L2ApiClient::get_account(&client, key).await?.index);
    }
    let fee = basalt_lab::client::quote_fee(&client, "transfer").await? * 10;
    Ok(Bench {
        fee,
        node,
        client,
        url,
        nonces: vec![0; keys.len()],
        keys,
        index,
    })
}

/// Sends `txs` to the node at `url` from `clients` HTTP clients in batch requests of `batch`.
/// Each client takes the senders with `s % clients == k`, so a sender's nonces stay in order.
async fn send(
    url: &str,
    txs: Arc<Vec<String>>,
    senders: usize,
    clients: usize,
    batch: usize,
) -> Result<()> {
    let mut tasks = Vec::new();
    for k in 0..clients {
        let (txs, client) = (txs.clone(), http(url)?);
        tasks.push(tokio::spawn(async move {
            let mine: Vec<&String> = txs
                .iter()
                .enumerate()
                .filter(|(n, _)| (n % senders) % clients == k)
                .map(|(_, t)| t)
                .collect();
            for chunk in mine.chunks(batch) {
                let mut todo: Vec<&String> = chunk.to_vec();
                while !todo.is_empty() {
                    let mut b = BatchRequestBuilder::new();
                    for t in &todo {
                        b.insert("l2_sendTransaction", rpc_params![t])?;
                    }
                    // JSON-RPC batches, which the API's generated client does not make.
                    let answers = client.batch_request::<L2TxStatus>(b).await?;
                    let mut retry = Vec::new();
                    for (t, a) in todo.iter().zip(answers) {
                        if let Err(e) = a {
                            // Only a full queue is retried; anything else is a bench bug.
                            ensure!(
                                e.message().contains("queue is full"),
                                "refused: {}",
                                e.message()
                            );
                            retry.push(*t);
                        }
                    }
                    if !retry.is_empty() {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    todo = retry;
                }
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

/// What a load run saw: when all its transfers were soft, and each rollup's sustained rate to
/// L1 finality (the middle half of its transfers, from a quarter final to three quarters).
struct Load {
    soft_secs: f64,
    each: Vec<f64>,
    total: f64,
}

/// Sends `count` transfers to each of `benches` at once and follows them to L1 finality.
async fn load(benches: &mut [&mut Bench], count: usize, args: &RollupArgs) -> Result<Load> {
    let clients = args.rpc_clients.max(1);
    let mut bases = Vec::new();
    let mut loads = Vec::new();
    for b in benches.iter_mut() {
        bases.push(b.counts().await?);
        let id = b.node.rollup_id;
        loads.push(Arc::new(b.sign(count, id)));
    }
    let start = Instant::now();
    let mut senders: Vec<tokio::task::JoinHandle<Result<()>>> = Vec::new();
    for (b, txs) in benches.iter().zip(&loads) {
        let (url, txs, n) = (b.url.clone(), txs.clone(), b.keys.len());
        let per = clients.div_ceil(benches.len());
        let batch = args.rpc_batch.max(1);
        senders.push(tokio::spawn(
            async move { send(&url, txs, n, per, batch).await },
        ));
    }
    let (q1, q3) = (count as u64 / 4, count as u64 * 3 / 4);
    let mut marks: Vec<(Option<f64>, Option<f64>)> = vec![(None, None); benches.len()];
    let (mut total_q1, mut total_q3) = (None, None);
    let mut soft_secs = None;
    loop {
        let t = start.elapsed().as_secs_f64();
        let (mut all_soft, mut all_final, mut sum) = (true, true, 0);
        for (i, b) in benches.iter().enumerate() {
            let (soft, derived) = b.counts().await?;
            let (soft, done) = (soft - bases[i].0, derived.saturating_sub(bases[i].1));
            all_soft &= soft >= count as u64;
            all_final &= done >= count as u64;
            sum += done;
            let m = &mut marks[i];
            if m.0.is_none() && done >= q1 {
                m.0 = Some(t);
            }
            if m.1.is_none() && done >= q3 {
                m.1 = Some(t);
            }
        }
        let n = benches.len() as u64;
        if total_q1.is_none() && sum >= q1 * n {
            total_q1 = Some(t);
        }
        if total_q3.is_none() && sum >= q3 * n {
            total_q3 = Some(t);
        }
        if all_soft && soft_secs.is_none() {
            soft_secs = Some(t);
        }
        if all_final {
            break;
        }
        ensure!(t < 600.0, "not all transfers final after 600 s");
        // A client that stopped early stopped on an error: report it now.
        let mut i = 0;
        while i < senders.len() {
            if senders[i].is_finished() {
                senders.swap_remove(i).await??;
            } else {
                i += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for s in senders {
        s.await??;
    }
    let half = (q3 - q1) as f64;
    let rate = |m: (Option<f64>, Option<f64>)| match m {
        (Some(a), Some(b)) if b > a => half / (b - a),
        _ => f64::NAN,
    };
    Ok(Load {
        soft_secs: soft_secs.unwrap_or(f64::NAN),
        each: marks.into_iter().map(rate).collect(),
        total: rate((total_q1, total_q3)) * benches.len() as f64,
    })
}

/// Fills blocks with the largest blobs, all sent at once at consecutive nonces, and times the
/// L1's finalized blob bytes per second from the first block that holds one to the last.
/// Registers an optimistic rollup `name` sequenced by `sequencer` (short dev windows, devnet
/// only) and waits for it; its id.
async fn register(l1: &L1Client, sequencer: &Keypair, name: &str) -> Result<u32> {
    let params = RollupParams {
        name: name.to_string(),
        kind: RollupKind::Optimistic,
        sequencer: sequencer.public(),
        challenge_window: 10,
        proposer_bond: ONE_TOKEN,
        min_fee: 1,
        clock_extension: 5,
        dispute_bond: 1,
        slash_reward_percent: 50,
        force_inclusion_blocks: 10,
        escape_blocks: 1_000_000,
        fee_model: basalt_l1::FeeModel::Fixed,
    };
    let register = l1
        .submit(sequencer, Action::RegisterRollup { params })
        .await?;
    wait_final(l1, &[register]).await?;
    Ok(l1.rollup(&RollupRef::Name(name.to_string())).await?.id)
}

async fn capacity(l1: &L1Client, max_blob: usize) -> Result<f64> {
    let poster = dev_account(9);
    let id = register(l1, &poster, "bench-capacity").await?;
    let nonce = l1.account(&poster.public()).await?.pending_nonce;
    // Incompressible noise: what the L1 stores and hashes does not depend on the content.
    let blobs: Vec<Vec<u8>> = (0..CAPACITY_BLOBS)
        .map(|i| {
            let mut data = Vec::with_capacity(max_blob);
            let mut k = 0u64;
            while data.len() < max_blob {
                data.extend_from_slice(
                    &hash_parts("bench-blob", &[&(i as u64).to_le_bytes(), &k.to_le_bytes()]).0,
                );
                k += 1;
            }
            data.truncate(max_blob);
            data
        })
        .collect();
    for (i, data) in blobs.into_iter().enumerate() {
        let post = Action::PostBatch {
            rollup: id,
            index: i as u64,
            data_hash: blob_hash(&data),
            data,
            deposits_end: 0,
            max_fee_per_blob_byte: BENCH_MAX_BLOB_FEE,
        };
        l1.submit_at(&poster, post, nonce + i as u64, false).await?;
    }
    let (mut first, started) = (None, Instant::now());
    loop {
        let batches = l1.rollup(&RollupRef::Id(id)).await?.batches;
        let t = Instant::now();
        if first.is_none() && batches > 0 {
            first = Some((t, batches));
        }
        if batches as usize == CAPACITY_BLOBS {
            let (t0, b0) = first.expect("set above");
            let secs = t.duration_since(t0).as_secs_f64();
            ensure!(secs > 0.0, "every blob final in one block: post more");
            return Ok((CAPACITY_BLOBS as u64 - b0) as f64 * max_blob as f64 / secs);
        }
        ensure!(
            started.elapsed() < Duration::from_secs(120),
            "capacity blobs not final after 120 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Runs the measurements.
pub fn run(args: &RollupArgs, accounts: u32) -> Result<RpcRun> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as u64;
    let genesis = devnet_genesis(1, Params::default(), now);
    let max_blob = genesis.params.max_blob_bytes as usize;
    let dir = tempfile::tempdir()?;
    let peer = Peer {
        key: validator_keypair(0).public(),
        address: SocketAddr::from(([127, 0, 0, 1], args.p2p_port)),
    };
    let cfg = cw_tokio::Config::new()
        .with_worker_threads(2)
        .with_storage_directory(dir.path().join("consensus"));
    let count = args.rpc_txs;
    cw_tokio::Runner::new(cfg).start(|context| async move {
        let v = start_networked_validator(
            &context,
            &genesis,
            validator_keypair(0),
            &dir.path().join("l1.redb"),
            peer.address,
            std::slice::from_ref(&peer),
            1,
        )
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
        let ctx = RpcContext::new(v.chain.clone(), v.finalized.clone());
        let (l1_addr, l1_server) = serve("127.0.0.1:0".parse()?, ctx).await?;
        let l1_url = format!("http://{l1_addr}");
        let l1 = L1Client::new(&l1_url)?;

        eprintln!("  capacity: {CAPACITY_BLOBS} blobs of {max_blob} bytes at once…");
        let capacity_bytes = capacity(&l1, max_blob).await?;

        eprintln!("  one rollup: {count} transfers…");
        let mut a = setup(&l1, &l1_url, 0, dev_sequencer(0), accounts, dir.path()).await?;
        let blob_before = l1.rollup(&RollupRef::Id(a.node.rollup_id)).await?;
        let one = load(&mut [&mut a], count, args).await?;
        let blob_after = l1.rollup(&RollupRef::Id(a.node.rollup_id)).await?;
        let mut bytes = 0u64;
        let mut from = blob_before.batches;
        while from < blob_after.batches {
            let page = l1.batches(a.node.rollup_id, from).await?;
            let Some(last) = page.last() else { break };
            from = last.index + 1;
            for b in &page {
                bytes += l1.blob(&b.data_hash).await?.len() as u64;
            }
        }
        let bytes_per_tx = bytes as f64 / count as f64;

        eprintln!("  two rollups at once: {count} transfers each…");
        let mut b = setup(&l1, &l1_url, 1, dev_sequencer(1), accounts, dir.path()).await?;
        let two = load(&mut [&mut a, &mut b], count, args).await?;
        let blob_fee_end = l1.chain_info().await?.next_blob_base_fee;
        a.node.stop();
        b.node.stop();
        let _ = l1_server.stop();
        v.abort();
        Ok(RpcRun {
            txs: count,
            soft: count as f64 / one.soft_secs,
            one: one.each[0],
            two: [two.each[0], two.each[1]],
            two_total: two.total,
            two_soft: 2.0 * count as f64 / two.soft_secs,
            capacity_bytes,
            bytes_per_tx,
            blob_fee_end,
        })
    })
}
