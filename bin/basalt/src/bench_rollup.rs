//! `basalt bench rollup`: the sequencer, derivation and L1 bytes per transaction, each beside the
//! signature-verification ceilings measured in the same run. Prints a Markdown report.

use anyhow::{Context, Result};
use basalt_l2::{Config, DepositEntry, L2Tx, Optimistic, Profile};
use basalt_rollup::{plan_batch, Compression, Derivation, Sequencer};
use basalt_types::{dev_keypair, Hash, Keypair, Signature};
use clap::Args;
use std::time::Instant;

type P = Optimistic;

/// Options of `basalt bench rollup`.
#[derive(Args, Debug)]
pub struct RollupArgs {
    /// Signed transfers to sequence.
    #[arg(long, default_value_t = 200_000)]
    pub txs: usize,
    /// Transfers per L2 block (one durable log append each): 3,000 is 50 ms at 60,000/s.
    #[arg(long, default_value_t = 3_000)]
    pub per_block: usize,
    /// L2 accounts sending and receiving.
    #[arg(long, default_value_t = 2_000)]
    pub accounts: u32,
    /// Signed transfers sent through each sequencer node's JSON-RPC, in the one-rollup and the
    /// two-rollup runs to L1 finality (0 skips those runs).
    #[arg(long, default_value_t = 200_000)]
    pub rpc_txs: usize,
    /// Transactions per JSON-RPC batch request.
    #[arg(long, default_value_t = 1_000)]
    pub rpc_batch: usize,
    /// Concurrent JSON-RPC clients.
    #[arg(long, default_value_t = 4)]
    pub rpc_clients: usize,
    /// p2p port of the one-validator L1 the RPC run starts.
    #[arg(long, default_value_t = 30500)]
    pub p2p_port: u16,
}

fn user(i: u32) -> Keypair {
    dev_keypair("basalt-bench-l2-user", i as u64)
}

/// ZIP-215 batch verification of `n` signatures in batches of 1,024 on one thread, as the
/// sequencer checks them.
fn zip215_ceiling(n: usize) -> f64 {
    let keys: Vec<Keypair> = (0..256)
        .map(|i| dev_keypair("basalt-bench-ceiling", i))
        .collect();
    let items: Vec<_> = (0..n)
        .map(|i| {
            let m = basalt_types::hash(&i.to_le_bytes());
            (keys[i % 256].public(), m, keys[i % 256].sign(&m.0))
        })
        .collect();
    let start = Instant::now();
    for chunk in items.chunks(1024) {
        assert!(P::verify_many(chunk).iter().all(|ok| *ok));
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// Runs the rollup benchmark.
pub fn run(args: RollupArgs) -> Result<()> {
    let accounts = args.accounts.max(2);
    let config = Config {
        rollup_id: 0,
        min_fee: 1,
    };
    eprintln!("measuring the signature-verification ceilings…");
    let dalek = crate::bench::batch_ceiling(32_768, 1);
    let zip215 = zip215_ceiling(32_768);

    eprintln!("signing {} transfers…", args.txs);
    let keys: Vec<Keypair> = (0..accounts).map(user).collect();
    let deposits: Vec<DepositEntry<P>> = keys
        .iter()
        .map(|k| DepositEntry {
            forced: None,
            account: None,
            key: k.public(),
            amount: 1_000_000_000_000,
        })
        .collect();
    let mut nonces = vec![0u64; accounts as usize];
    let txs: Vec<L2Tx<P>> = (0..args.txs)
        .map(|n| {
            let from = (n as u64 % accounts as u64) as u32;
            let to = ((from as u64 * 7 + 3) % accounts as u64) as u32;
            let nonce = nonces[from as usize];
            nonces[from as usize] += 1;
            L2Tx::Transfer {
                from: from + 1,
                to: to + 1,
                amount: 1_000 + (n as u128 % 97),
                fee: 1,
                nonce,
                signature: Signature([0; 64]),
            }
            .signed(0, &keys[from as usize])
        })
        .collect();

    let dir = tempfile::tempdir().context("temporary directory")?;
    let sequencer_key = dev_keypair("basalt-bench-sequencer", 0).public();
    let mut seq = Sequencer::open(
        &dir.path().join("blocks.log"),
        config,
        sequencer_key,
        deposits.clone(),
    )?;
    seq.produce(0, &[])?; // the deposits open the accounts
    eprintln!(
        "sequencing in blocks of {} (each logged and synced)…",
        args.per_block
    );
    let start = Instant::now();
    for (i, block) in txs.chunks(args.per_block.max(1)).enumerate() {
        let (_, results) = seq.produce(i as u64 + 1, block)?;
        anyhow::ensure!(
            results.iter().all(|r| r.is_ok()),
            "a bench transfer was refused"
        );
    }
    let sequenced = txs.len() as f64 / start.elapsed().as_secs_f64();

    eprintln!("planning batches (zstd-19 / brotli-11)…");
    let mut plans = Vec::new();
    let (mut from, mut end) = (0u64, 0u64);
    while let Some(p) = plan_batch(&seq, from, end, 128 * 1024, Compression::Best) {
        from = p.to;
        end = p.deposits_end;
        plans.push(p);
    }
    let blob_bytes: usize = plans.iter().map(|p| p.data.len()).sum();
    let per_tx = blob_bytes as f64 / seq.next_sequence() as f64;

    eprintln!("deriving {} batches from their blobs…", plans.len());
    let mut d = Derivation::new(config, sequencer_key);
    d.add_deposits(deposits);
    let start = Instant::now();
    for p in &plans {
        d.apply(p.deposits_end, &p.data)?;
    }
    let derived = seq.next_sequence() as f64 / start.elapsed().as_secs_f64();
    anyhow::ensure!(
        d.output(d.batches() - 1) == Some(seq.state().output()),
        "derivation disagrees with the sequencer"
    );
    let _: Hash = seq.state().output();

    let rpc = if args.rpc_txs > 0 {
        eprintln!(
            "through JSON-RPC: a one-validator L1, a sequencer node, {} transfers in batch requests of {}…",
            args.rpc_txs, args.rpc_batch
        );
        Some(crate::bench_rollup_rpc::run(&args, accounts)?)
    } else {
        None
    };

    println!("## Rollup (`basalt bench rollup`)\n");
    println!(
        "{} signed transfers among {accounts} accounts, {}-transfer L2 blocks.\n",
        args.txs, args.per_block
    );
    println!("| measurement | result | ratio to ZIP-215 ceiling |\n|---|---|---|");
    println!("| ed25519 batch verification (ed25519-dalek, L1 rules), 1 thread, 256 keys | {dalek:.0} /s | {:.2} |", dalek / zip215);
    println!("| ed25519 batch verification (ed25519-consensus, ZIP-215, L2 rules), 1 thread, 256 keys (ceiling) | {zip215:.0} /s | 1.00 |");
    println!("| sequencer: verify + execute + commit + durable log append, soft-confirmed | {sequenced:.0} transfers/s | {:.2} |", sequenced / zip215);
    println!("| derivation: decompress + decode + verify + execute, from blobs | {derived:.0} transfers/s | {:.2} |", derived / zip215);
    if let Some(r) = &rpc {
        println!(
            "| through JSON-RPC: {} transfers, batch requests of {}, {} clients, soft-confirmed (clients, L1 and node share the machine) | {:.0} transfers/s | {:.2} |",
            r.txs, args.rpc_batch, args.rpc_clients, r.soft, r.soft / zip215
        );
    }
    println!(
        "| L1 blob bytes per transfer ({} batches of at most 128 KiB) | {per_tx:.1} B | |",
        plans.len()
    );
    if let Some(r) = rpc {
        let capacity = r.capacity_bytes / r.bytes_per_tx;
        println!("\n### To L1 finality\n");
        println!(
            "The L1's blob capacity, measured first on the same L1: {:.0} blob bytes/s finalized, that is {capacity:.0} transfers/s at the {:.1} blob bytes per transfer the batcher posted in the one-rollup run.\n",
            r.capacity_bytes, r.bytes_per_tx
        );
        println!("| run | sustained transfers/s reaching L1 finality | ratio to blob capacity | soft-confirmed transfers/s in the run |\n|---|---|---|---|");
        println!(
            "| L1 blob capacity (blocks full of the largest blobs) | {capacity:.0} | 1.00 | |"
        );
        println!(
            "| one rollup, {} transfers | {:.0} | {:.2} | {:.0} |",
            r.txs,
            r.one,
            r.one / capacity,
            r.soft
        );
        for (i, each) in r.two.iter().enumerate() {
            println!(
                "| two rollups at once, {} transfers each: rollup {i} | {each:.0} | {:.2} | |",
                r.txs,
                each / capacity
            );
        }
        println!(
            "| two rollups at once: both | {:.0} | {:.2} | {:.0} |",
            r.two_total,
            r.two_total / capacity,
            r.two_soft
        );
        println!(
            "\nBlob base fee when the runs ended: {} per byte.",
            r.blob_fee_end
        );
    }
    Ok(())
}
