//! `basalt bench l1`: L1 throughput and latency, each beside the ed25519 batch-verification ceiling
//! measured in the same run. Prints a Markdown report.

use anyhow::{Context, Result};
use basalt_l1::{
    verify_block_threads, Action, Block, BlockBuilder, Genesis, GenesisAccount, L1State, Params,
    SignedTransaction, StateView, Transaction, ONE_TOKEN,
};
use basalt_node::devnet::{devnet_genesis, validator_keypair};
use basalt_node::net::{start_networked_validator, Peer};
use basalt_types::{dev_keypair, Encode, Hash, Keypair};
use clap::{Args, Subcommand};
use commonware_runtime::{tokio as cw_tokio, Runner as _};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Benchmarks.
#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// L1: state machine alone, finalized end to end with 1 and 4 validators, submit-to-finalized latency.
    L1(L1Args),
    /// Rollup: sequencer throughput (durable), derivation speed and L1 bytes per transfer.
    Rollup(crate::bench_rollup::RollupArgs),
    /// Dispute: moves, L1 bytes, gas and time to remove a wrong output, beside the cost of posting its batch.
    Dispute(crate::bench_dispute::DisputeArgs),
    /// History: an empty block's verification time with one rollup registered and with many idle ones.
    History(crate::bench_history::HistoryArgs),
    /// Gas: block verification time per gas of every action kind's most adversarial input, against a transfer's.
    Gas(crate::bench_gas::GasArgs),
    /// ZK: batch-proof constraints, setup, proving beside its MSM ceiling, verification, proof and L1 bytes.
    Zk(crate::bench_zk::ZkArgs),
    /// Withdrawals: L2 withdrawal to funds on L1, on each rollup of a running `basalt up`.
    Withdrawals(crate::bench_withdraw::WithdrawArgs),
}

/// Options of `basalt bench l1`.
#[derive(Args, Debug)]
pub struct L1Args {
    /// Signed transfers for the state-machine measurement.
    #[arg(long, default_value_t = 40_000)]
    pub txs: usize,
    /// Seconds of saturating load per end-to-end run.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Block time of the end-to-end runs, in milliseconds.
    #[arg(long, default_value_t = 200)]
    pub block_time_ms: u64,
    /// First p2p port for the end-to-end runs.
    #[arg(long, default_value_t = 31400)]
    pub p2p_port: u16,
    /// Skip the end-to-end runs.
    #[arg(long)]
    pub no_e2e: bool,
}

/// Runs a benchmark.
pub fn run(cmd: BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::L1(a) => l1(a),
        BenchCommand::Rollup(a) => crate::bench_rollup::run(a),
        BenchCommand::Dispute(a) => crate::bench_dispute::run(a),
        BenchCommand::History(a) => crate::bench_history::run(a),
        BenchCommand::Gas(a) => crate::bench_gas::run(a),
        BenchCommand::Zk(a) => crate::bench_zk::run(a),
        BenchCommand::Withdrawals(a) => crate::bench_withdraw::run(a),
    }
}

const SENDERS: u64 = 2_000;

fn sender(i: u64) -> Keypair {
    dev_keypair("basalt-bench-sender", i)
}

/// A genesis with the bench senders funded.
fn bench_genesis(validators: u64, params: Params) -> Genesis {
    let mut g = devnet_genesis(validators, params, now_ms());
    g.accounts.extend((0..SENDERS).map(|i| GenesisAccount {
        key: sender(i).public(),
        balance: 1_000 * ONE_TOKEN,
    }));
    g
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Who pays whom in a bench load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mix {
    /// Each sender pays sender `7s + 3` (mod the senders): the load the L1 rows have always used.
    Spread,
    /// Senders in pairs paying each other: a thousand groups of disjoint accounts.
    Disjoint,
    /// Half the transfers pay one hot account, the rest as `Disjoint`: one group holds half the
    /// block.
    Contended,
}

/// `count` signed transfers spread over the senders, nonces in order, paying as `mix` says.
fn signed_transfers(chain_id: u64, count: usize, max_fee: u64, mix: Mix) -> Vec<SignedTransaction> {
    let keys: Vec<Keypair> = (0..SENDERS).map(sender).collect();
    (0..count)
        .map(|n| {
            let s = n as u64 % SENDERS;
            let to = match mix {
                Mix::Spread => (s * 7 + 3) % SENDERS,
                Mix::Disjoint => s ^ 1,
                Mix::Contended if n % 2 == 0 => SENDERS - 1,
                Mix::Contended => s ^ 1,
            };
            let to = keys[to as usize].public();
            Transaction {
                chain_id,
                nonce: n as u64 / SENDERS,
                max_fee_per_gas: max_fee,
                priority_fee_per_gas: 1,
                gas_limit: basalt_l1::TRANSFER_GAS,
                action: Action::Transfer { to, amount: 1 },
            }
            .sign(&keys[s as usize])
        })
        .collect()
}

/// `n` signed 32-byte messages over 256 keys: the input of the verification ceilings.
fn ceiling_items(n: usize) -> Vec<(basalt_types::PublicKey, [u8; 32], basalt_types::Signature)> {
    let keys: Vec<Keypair> = (0..256)
        .map(|i| dev_keypair("basalt-bench-ceiling", i))
        .collect();
    (0..n)
        .map(|i| {
            let m = basalt_types::hash(&i.to_le_bytes()).0;
            (keys[i % 256].public(), m, keys[i % 256].sign(&m))
        })
        .collect()
}

/// ZIP-215 ed25519 batch verification (the L1's rule) of `n` signatures, on `threads` threads.
pub fn batch_ceiling(n: usize, threads: usize) -> f64 {
    let items = ceiling_items(n);
    let start = Instant::now();
    let chunk = n.div_ceil(threads);
    std::thread::scope(|s| {
        for t in 0..threads {
            let (lo, hi) = (t * chunk, ((t + 1) * chunk).min(n));
            let items = &items[lo..hi];
            s.spawn(move || {
                for chunk in items.chunks(1024) {
                    basalt_types::verify_batch(chunk).expect("valid batch");
                }
            });
        }
    });
    n as f64 / start.elapsed().as_secs_f64()
}

/// Transfers in each block of the state-machine runs.
const PER_BLOCK: usize = 4_000;

/// Blocks of `txs` transfers paying as `mix` says, built on the bench genesis.
fn bench_blocks(txs: usize, mix: Mix) -> Result<(Genesis, Vec<Block>)> {
    let params = Params::default();
    let genesis = bench_genesis(1, params.clone());
    let (mut builder_state, _) = L1State::genesis(&genesis)?;
    let signed = signed_transfers(genesis.chain_id, txs, 10 * params.initial_base_fee, mix);
    let mut blocks: Vec<Block> = Vec::new();
    for chunk in signed.chunks(PER_BLOCK) {
        let view = StateView::new(&builder_state, vec![]);
        let mut b = BlockBuilder::new(&view);
        for t in chunk {
            b.apply(&t.clone().verify().expect("signed"))
                .context("bench transfer rejected")?;
        }
        let ts = view.head().timestamp_ms + params.block_time_ms;
        let exec = b.finish(ts, view.committee()[0])?;
        drop(view);
        builder_state.apply(&exec.diff);
        blocks.push(exec.block);
    }
    Ok((genesis, blocks))
}

/// Verifying and applying `blocks` from `genesis`, as a validator does, on `threads` threads:
/// transfers per second.
fn verify_rate(genesis: &Genesis, blocks: &[Block], threads: usize) -> Result<f64> {
    let (mut state, _) = L1State::genesis(genesis)?;
    let start = Instant::now();
    for block in blocks {
        let view = StateView::new(&state, vec![]);
        let exec = verify_block_threads(&view, block, threads)
            .context("bench block failed verification")?;
        drop(view);
        state.apply(&exec.diff);
    }
    let txs: usize = blocks.iter().map(|b| b.txs.len()).sum();
    Ok(txs as f64 / start.elapsed().as_secs_f64())
}

/// The state machine on 1 and 2 threads over the same blocks of `mix`: the median rate of
/// `rounds` runs each, alternating so that a slow spell of the machine weighs on both.
fn thread_speedup(txs: usize, mix: Mix, rounds: usize) -> Result<(f64, f64)> {
    let (genesis, blocks) = bench_blocks(txs, mix)?;
    let (mut one, mut two) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        one.push(verify_rate(&genesis, &blocks, 1)?);
        two.push(verify_rate(&genesis, &blocks, 2)?);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    Ok((median(&mut one), median(&mut two)))
}

/// Result of an end-to-end run.
struct E2e {
    finalized_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    light_p50_ms: f64,
    light_p99_ms: f64,
    blocks: u64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Validators in one process over real p2p on loopback; load is submitted to validator 0.
fn end_to_end(validators: u64, args: &L1Args, port: u16) -> Result<E2e> {
    let params = Params {
        block_time_ms: args.block_time_ms,
        ..Params::default()
    };
    let genesis = bench_genesis(validators, params.clone());
    // Enough pre-signed load for the run at up to 40k/s, plus a light-load probe.
    let heavy = signed_transfers(
        genesis.chain_id,
        (args.seconds as usize * 40_000).max(SENDERS as usize),
        50 * params.initial_base_fee,
        Mix::Spread,
    );
    let dir = tempfile::tempdir()?;
    let peers: Vec<Peer> = (0..validators)
        .map(|i| Peer {
            key: validator_keypair(i).public(),
            address: SocketAddr::from(([127, 0, 0, 1], port + i as u16)),
        })
        .collect();
    let cfg = cw_tokio::Config::new()
        .with_worker_threads(2)
        .with_storage_directory(dir.path().join("consensus"));
    let seconds = args.seconds;
    cw_tokio::Runner::new(cfg).start(|context| async move {
        let mut vs = Vec::new();
        for (i, p) in peers.iter().enumerate() {
            let path = dir.path().join(format!("v{i}.redb"));
            vs.push(
                start_networked_validator(
                    &context,
                    &genesis,
                    validator_keypair(i as u64),
                    &path,
                    p.address,
                    &peers,
                    1,
                )
                .await
                .map_err(|e| anyhow::anyhow!(e))?,
            );
        }
        let chain = vs[0].chain.clone();
        let mut finalized = vs[0].finalized.subscribe();
        let lock = || basalt_node::chain::lock(&chain);
        // Wait for the chain to run.
        while lock().state().head().height < 3 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        // Light load: one transfer every 100 ms from a dev account of its own, latency only.
        let probe = basalt_node::devnet::dev_account(0);
        let mut light = Vec::new();
        for nonce in 0..20 {
            let t = Transaction {
                chain_id: genesis.chain_id,
                nonce,
                max_fee_per_gas: 50 * params.initial_base_fee,
                priority_fee_per_gas: 1,
                gas_limit: basalt_l1::TRANSFER_GAS,
                action: Action::Transfer {
                    to: sender(0).public(),
                    amount: 1,
                },
            }
            .sign(&probe);
            let sent = Instant::now();
            let hash = lock()
                .submit_local(&t.to_bytes())
                .map_err(|e| anyhow::anyhow!("probe tx: {e}"))?;
            while !matches!(
                lock().tx_status(&hash)?,
                basalt_node::chain::TxStatus::Finalized { .. }
            ) {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            light.push(sent.elapsed().as_secs_f64() * 1e3);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let heavy: Vec<(Hash, Vec<u8>)> = heavy.iter().map(|t| (t.hash(), t.to_bytes())).collect();

        // Saturating load for `seconds`, counting what finalizes in the window.
        let start_height = lock().state().head().height;
        let mut submitted: HashMap<Hash, Instant> = HashMap::with_capacity(heavy.len());
        let mut latencies = Vec::new();
        let mut finalized_txs = 0u64;
        let started = Instant::now();
        let mut next = 0usize;
        while started.elapsed() < Duration::from_secs(seconds) {
            // Keep the pool fed: submit up to 2,000 every 10 ms.
            {
                let mut c = lock();
                for (hash, bytes) in heavy[next..].iter().take(2_000) {
                    if c.submit_local(bytes).is_ok() {
                        submitted.insert(*hash, Instant::now());
                    }
                }
            }
            next = (next + 2_000).min(heavy.len());
            while let Ok(h) = finalized.try_recv() {
                let block = lock().store().block(h.height)?.context("finalized block")?;
                for t in &block.txs {
                    if let Some(at) = submitted.remove(&t.hash()) {
                        latencies.push(at.elapsed().as_secs_f64() * 1e3);
                        finalized_txs += 1;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let elapsed = started.elapsed().as_secs_f64();
        let blocks = lock().state().head().height - start_height;
        for v in &vs {
            v.abort();
        }
        latencies.sort_by(f64::total_cmp);
        light.sort_by(f64::total_cmp);
        Ok(E2e {
            finalized_per_s: finalized_txs as f64 / elapsed,
            p50_ms: percentile(&latencies, 0.5),
            p99_ms: percentile(&latencies, 0.99),
            light_p50_ms: percentile(&light, 0.5),
            light_p99_ms: percentile(&light, 0.99),
            blocks,
        })
    })
}

/// dalek's cofactorless batch verification, one thread: a reference for what the one rule costs
/// (the L1 no longer uses it: its verdict on crafted signatures depends on the batch).
fn dalek_batch_rate(n: usize) -> f64 {
    let items = ceiling_items(n);
    let msgs: Vec<[u8; 32]> = items.iter().map(|(_, m, _)| *m).collect();
    let sigs: Vec<ed25519_dalek::Signature> = items
        .iter()
        .map(|(_, _, s)| ed25519_dalek::Signature::from_bytes(&s.0))
        .collect();
    let vks: Vec<ed25519_dalek::VerifyingKey> = items
        .iter()
        .map(|(k, _, _)| ed25519_dalek::VerifyingKey::from_bytes(&k.0).expect("valid key"))
        .collect();
    let start = Instant::now();
    for ((m, s), k) in msgs
        .chunks(1024)
        .zip(sigs.chunks(1024))
        .zip(vks.chunks(1024))
    {
        let refs: Vec<&[u8]> = m.iter().map(|x| x.as_slice()).collect();
        ed25519_dalek::verify_batch(&refs, s, k).expect("valid batch");
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn l1(args: L1Args) -> Result<()> {
    eprintln!("measuring the ed25519 batch-verification ceiling (ZIP-215, the L1's rule)…");
    let ceiling1 = batch_ceiling(32_768, 1);
    let ceiling2 = batch_ceiling(32_768, 2);
    let dalek = dalek_batch_rate(32_768);
    eprintln!(
        "measuring the state machine alone ({} transfers)…",
        args.txs
    );
    let (genesis, blocks) = bench_blocks(args.txs, Mix::Spread)?;
    let stf = verify_rate(&genesis, &blocks, 1)?;
    let per_block = PER_BLOCK;
    eprintln!("measuring parallel execution (1 and 2 threads, disjoint and contended transfers, the median of 5 runs each)…");
    let mut parallel_rows = Vec::new();
    for (mix, what) in [
        (
            Mix::Disjoint,
            "disjoint: senders in pairs paying each other",
        ),
        (
            Mix::Contended,
            "contended: half the transfers pay one account",
        ),
    ] {
        let (one, two) = thread_speedup(args.txs, mix, 5)?;
        parallel_rows.push(format!(
            "| {what} | {one:.0} transfers/s | {two:.0} transfers/s | {:.2} |",
            two / one
        ));
    }
    let mut rows = vec![
        format!("| ed25519 batch verification, 1 thread (ceiling) | {ceiling1:.0} /s | 1.00 |"),
        format!("| ed25519 batch verification, 2 threads | {ceiling2:.0} /s | {:.2} |", ceiling2 / ceiling1),
        format!("| reference, not the L1's rule: dalek cofactorless batch verification, 1 thread | {dalek:.0} /s | {:.2} |", dalek / ceiling1),
        format!(
            "| state machine alone: verify + execute + apply, {per_block}-transfer blocks, 1 thread | {stf:.0} transfers/s | {:.2} |",
            stf / ceiling1
        ),
    ];
    let mut latency_rows = Vec::new();
    if !args.no_e2e {
        for (n, port) in [(1u64, args.p2p_port), (4, args.p2p_port + 10)] {
            eprintln!(
                "running {n} validator(s) end to end for {} s at {} ms blocks…",
                args.seconds, args.block_time_ms
            );
            let r = end_to_end(n, &args, port)?;
            rows.push(format!(
                "| finalized end to end, {n} validator(s) in one process, saturating load | {:.0} transfers/s | {:.2} |",
                r.finalized_per_s,
                r.finalized_per_s / ceiling1
            ));
            latency_rows.push(format!(
                "| {n} | {} ms | {:.0} / {:.0} ms | {:.0} / {:.0} ms | {} |",
                args.block_time_ms, r.light_p50_ms, r.light_p99_ms, r.p50_ms, r.p99_ms, r.blocks
            ));
        }
    }
    println!("## L1 (`basalt bench l1`)\n");
    println!("| measurement | result | ratio to 1-thread ceiling |\n|---|---|---|");
    for r in rows {
        println!("{r}");
    }
    println!("\nParallel execution: the state machine (verify + execute + apply, {per_block}-transfer blocks) on 1 and 2 threads, the same blocks and state roots (the 2-thread ceiling above is {:.2} times the 1-thread one on this machine):\n", ceiling2 / ceiling1);
    println!("| transfers | 1 thread | 2 threads | speedup |\n|---|---|---|---|");
    for r in parallel_rows {
        println!("{r}");
    }
    if !latency_rows.is_empty() {
        println!("\nSubmit-to-finalized latency (submitted to validator 0, finality seen by validator 0):\n");
        println!("| validators | block time | light load p50 / p99 | saturating load p50 / p99 | blocks in window |\n|---|---|---|---|---|");
        for r in latency_rows {
            println!("{r}");
        }
    }
    Ok(())
}
