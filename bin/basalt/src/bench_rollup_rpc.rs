//! The through-RPC row of `basalt bench rollup`: a one-validator L1 (real consensus and its
//! JSON-RPC), a sequencer node that knows the L1 only through that RPC, and clients that send
//! pre-signed transfers to the node's `l2_sendTransaction` in JSON-RPC batch requests. The clock
//! runs from the first request until the sequencer has soft-confirmed (durably logged) the last.

use crate::bench_rollup::RollupArgs;
use crate::devnet_rollups::wait_final;
use anyhow::{ensure, Context, Result};
use basalt_l1::{Action, Params, RollupKind, RollupParams, ONE_TOKEN};
use basalt_l2::{L2Tx, Optimistic};
use basalt_node::devnet::{dev_account, dev_sequencer, devnet_genesis, validator_keypair};
use basalt_node::net::{start_networked_validator, Peer};
use basalt_node::rpc::{serve, RpcContext};
use basalt_rollup::l1client::L1Client;
use basalt_rollup::{BatcherConfig, NodeConfig, Role};
use basalt_types::{dev_keypair, Encode, Keypair, Signature};
use commonware_runtime::{tokio as cw_tokio, Runner as _};
use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::params::BatchRequestBuilder;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What the run measured.
pub struct RpcRun {
    /// Transfers soft-confirmed.
    pub txs: usize,
    /// Transfers soft-confirmed per second.
    pub per_second: f64,
}

fn user(i: u32) -> Keypair {
    dev_keypair("basalt-bench-rpc-user", i as u64)
}

async fn l2_info(c: &HttpClient) -> Result<Value> {
    Ok(c.request("l2_chainInfo", rpc_params![]).await?)
}

/// Runs the measurement.
pub fn run(args: &RollupArgs, accounts: u32) -> Result<RpcRun> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as u64;
    let genesis = devnet_genesis(1, Params::default(), now);
    let dir = tempfile::tempdir()?;
    let peer = Peer {
        key: validator_keypair(0).public(),
        address: SocketAddr::from(([127, 0, 0, 1], args.p2p_port)),
    };
    let cfg = cw_tokio::Config::new()
        .with_worker_threads(2)
        .with_storage_directory(dir.path().join("consensus"));
    let (count, batch, clients) = (args.rpc_txs, args.rpc_batch.max(1), args.rpc_clients.max(1));
    cw_tokio::Runner::new(cfg).start(|context| async move {
        let v = start_networked_validator(
            &context,
            &genesis,
            validator_keypair(0),
            &dir.path().join("l1.redb"),
            peer.address,
            std::slice::from_ref(&peer),
        )
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
        let ctx = RpcContext::new(v.chain.clone(), v.finalized.clone());
        let (l1_addr, l1_server) = serve("127.0.0.1:0".parse()?, ctx).await?;
        let l1_url = format!("http://{l1_addr}");
        let l1 = L1Client::new(&l1_url)?;

        // Register the rollup, then open the accounts by deposit (dev account 0 pays for all).
        let params = RollupParams {
            name: "bench".into(),
            kind: RollupKind::Optimistic,
            sequencer: dev_sequencer(0).public(),
            challenge_window: 10,
            proposer_bond: ONE_TOKEN,
            min_fee: 1,
            clock_extension: 100,
            dispute_bond: 1,
            slash_reward_percent: 50,
        };
        let register = l1
            .submit(&dev_sequencer(0), Action::RegisterRollup { params })
            .await?;
        wait_final(&l1, &[register]).await?;
        let mut last = register;
        for i in 0..accounts {
            let deposit = Action::Deposit {
                rollup: 0,
                account: None,
                key: user(i).public(),
                amount: ONE_TOKEN,
            };
            last = l1.submit(&dev_account(0), deposit).await?;
        }
        wait_final(&l1, &[last]).await?;

        let node_dir = tempfile::tempdir()?;
        let node = basalt_rollup::start(
            NodeConfig {
                l1_rpc: l1_url,
                rollup: "bench".into(),
                role: Role::Sequencer,
                data_dir: node_dir.path().to_path_buf(),
                rpc: "127.0.0.1:0".parse()?,
                key: None,
                propose: Some(true),
                challenge: None,
                fault: None,
                block_time_ms: 50,
                l1_poll_ms: 200,
                batcher: BatcherConfig::default(),
            },
            Some(dev_sequencer(0)),
        )
        .await?;
        let url = format!("http://{}", node.rpc_addr);
        let http = || {
            HttpClientBuilder::default()
                .request_timeout(Duration::from_secs(60))
                .max_request_size(64 * 1024 * 1024)
                .max_response_size(64 * 1024 * 1024)
                .build(&url)
        };
        let c = http()?;
        // The sequencer applies the deposits; then read the index each key got.
        let started = Instant::now();
        while l2_info(&c).await?["soft"]["accounts"].as_u64() < Some(accounts as u64 + 1) {
            ensure!(
                started.elapsed() < Duration::from_secs(120),
                "deposits not applied after 120 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut index = Vec::with_capacity(accounts as usize);
        for i in 0..accounts {
            let a: Value = c
                .request("l2_getAccount", rpc_params![user(i).public().to_hex()])
                .await?;
            index.push(a["index"].as_u64().context("account index")? as u32);
        }

        // Pre-signed load: signing is not what is measured.
        let keys: Vec<Keypair> = (0..accounts).map(user).collect();
        let mut nonces = vec![0u64; accounts as usize];
        let txs: Vec<String> = (0..count)
            .map(|n| {
                let s = n % accounts as usize;
                let to = (s * 7 + 3) % accounts as usize;
                let nonce = nonces[s];
                nonces[s] += 1;
                let tx = L2Tx::<Optimistic>::Transfer {
                    from: index[s],
                    to: index[to],
                    amount: 1_000,
                    fee: 1,
                    nonce,
                    signature: Signature([0; 64]),
                }
                .signed(0, &keys[s]);
                format!("0x{}", hex::encode(tx.to_bytes()))
            })
            .collect();
        let base = l2_info(&c).await?["soft"]["transactions"]
            .as_u64()
            .context("soft count")?;

        // Each client sends its share in order (a sender's nonces stay in order within a client:
        // client k takes the senders with s % clients == k).
        let txs = Arc::new(txs);
        let start = Instant::now();
        let mut tasks = Vec::new();
        for k in 0..clients {
            let (txs, client) = (txs.clone(), http()?);
            tasks.push(tokio::spawn(async move {
                let mine: Vec<&String> = txs
                    .iter()
                    .enumerate()
                    .filter(|(n, _)| (n % accounts as usize) % clients == k)
                    .map(|(_, t)| t)
                    .collect();
                for chunk in mine.chunks(batch) {
                    let mut todo: Vec<&String> = chunk.to_vec();
                    while !todo.is_empty() {
                        let mut b = BatchRequestBuilder::new();
                        for t in &todo {
                            b.insert("l2_sendTransaction", rpc_params![t])?;
                        }
                        let answers = client.batch_request::<Value>(b).await?;
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
        loop {
            let soft = l2_info(&c).await?["soft"]["transactions"]
                .as_u64()
                .context("soft count")?;
            if soft >= base + count as u64 {
                break;
            }
            ensure!(
                start.elapsed() < Duration::from_secs(600),
                "not all transfers confirmed"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let per_second = count as f64 / start.elapsed().as_secs_f64();
        node.stop();
        let _ = l1_server.stop();
        v.abort();
        Ok(RpcRun {
            txs: count,
            per_second,
        })
    })
}
