//! `basalt`: run a devnet, run validators and rollup nodes as separate processes, and use a wallet
//! against them.

mod bench;
mod bench_crowd;
mod bench_dispute;
mod bench_gas;
mod bench_history;
mod bench_rollup;
mod bench_rollup_rpc;
mod bench_withdraw;
mod bench_zk;
mod config;
mod devnet;
mod devnet_rollups;
mod lab;
mod metrics;
mod node;
mod preflight;
mod rollup;
mod units;
mod up;
mod wallet;
mod wallet_exit;
mod wallet_l2;
mod wallet_rollups;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Basalt: a minimal proof-of-stake settlement L1 (rollups and the lab build on it).
#[derive(Parser)]
#[command(name = "basalt", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// What to log on stderr: a level (error, warn, info, debug, trace) or a tracing filter such as
    /// "info,basalt_node=debug". Without it RUST_LOG is read; without either, info (warn for lab).
    #[arg(long, global = true, value_name = "FILTER")]
    log_level: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a whole devnet in one process: validators talking over real p2p on 127.0.0.1, JSON-RPC, dev accounts, and rollups alpha, beta (optimistic) and gamma (ZK).
    Up(up::UpArgs),
    /// Run one validator as its own process, from a config file written by `basalt devnet init`.
    Node(node::NodeArgs),
    /// Run one rollup node (sequencer or verifier) as its own process, against any L1 JSON-RPC;
    /// `basalt rollup risk NAME` shows a rollup's risks.
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Rollup(rollup::RollupArgs),
    /// Devnet files for multi-process or multi-host setups.
    #[command(subcommand)]
    Devnet(devnet::DevnetCommand),
    /// Keys, balances, transfers and blobs against a node's JSON-RPC.
    #[command(subcommand)]
    Wallet(wallet::WalletCommand),
    /// Experiments: a dispute and a censor step by step on the running devnet, and what scales, measured on an in-process L1 (docs/lab.md).
    #[command(subcommand)]
    Lab(lab::LabCommand),
    /// Measure throughput and latency (release builds: `cargo run --release -- bench l1`).
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Output piped into a reader that closes early (`basalt wallet dev-accounts | head`) ends a
    // command that prints and exits quietly, as other command-line tools do, instead of a panic
    // on the failed write. Never a server: a peer that hangs up while a response is written
    // with `writev` (which, unlike `send`, cannot be told not to raise SIGPIPE) would kill it.
    if matches!(cli.command, Command::Wallet(_) | Command::Devnet(_)) {
        #[cfg(unix)]
        // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    // The lab prints its own account of what happens; its nodes log only warnings and errors.
    let default_filter = match cli.command {
        Command::Lab(_) => "warn",
        _ => "info,commonware=warn,jsonrpsee=warn",
    };
    let filter = match &cli.log_level {
        Some(f) => match tracing_subscriber::EnvFilter::try_new(f) {
            Ok(filter) => filter,
            Err(e) => {
                eprintln!("error: --log-level {f:?}: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter)),
    };
    // arkworks instruments its constraint gadgets with spans that format field elements: enabled,
    // they slow circuit synthesis by orders of magnitude.
    let filter = filter.add_directive("gr1cs=off".parse().expect("a valid directive"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Up(a) => up::run(a),
        Command::Node(a) => node::run(a),
        Command::Rollup(a) => rollup::run(a),
        Command::Devnet(c) => devnet::run(c),
        Command::Wallet(c) => wallet::run(c),
        Command::Lab(c) => lab::run(c),
        Command::Bench(c) => bench::run(c),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
