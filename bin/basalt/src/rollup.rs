//! `basalt rollup --config FILE`: one rollup node (sequencer or verifier) as its own process,
//! against any L1 JSON-RPC endpoint.

use crate::config::read_key;
use anyhow::{Context, Result};
use basalt_rollup::{NodeConfig, EXAMPLE_CONFIG};
use clap::Args;
use std::path::{Path, PathBuf};

/// Options of `basalt rollup`.
#[derive(Args, Debug)]
pub struct RollupArgs {
    /// The node's TOML config; relative paths in it are relative to the file. `--example` prints
    /// a commented one.
    #[arg(long, required_unless_present = "example")]
    pub config: Option<PathBuf>,
    /// Print an example config and exit.
    #[arg(long)]
    pub example: bool,
    /// Serve Prometheus metrics on this address (GET /metrics), e.g. 127.0.0.1:9645.
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<std::net::SocketAddr>,
    /// FOR TESTS AND DEMOS: run as a dishonest party that derives with this fault injected at
    /// the first step it fits, then proposes, challenges and plays accordingly. Modes: balance
    /// (a transfer lands on the fee account), skip-deposit, reorder-deposits, bad-signature (the
    /// sequencer posts a forged transfer, the proposer applies it), replay (likewise with a used
    /// nonce), mint (a million tokens from nothing), withdrawals-root (a forged million-token
    /// withdrawal), undecodable (the sequencer posts garbage, the proposer claims it applied).
    /// bad-signature, replay and undecodable need role = "sequencer".
    #[arg(long, value_name = "MODE")]
    pub fault: Option<String>,
}

/// Reads a rollup node config and resolves its relative paths against the file's directory.
pub fn load(path: &Path) -> Result<NodeConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading config {}", path.display()))?;
    let mut cfg =
        NodeConfig::from_toml(&text).with_context(|| format!("config {}", path.display()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    if cfg.data_dir.is_relative() {
        cfg.data_dir = base.join(&cfg.data_dir);
    }
    if let Some(k) = cfg.key.as_mut().filter(|k| k.is_relative()) {
        *k = base.join(&*k);
    }
    Ok(cfg)
}

/// Runs a rollup node until Ctrl-C.
pub fn run(args: RollupArgs) -> Result<()> {
    if args.example {
        print!("{EXAMPLE_CONFIG}");
        return Ok(());
    }
    let path = args
        .config
        .expect("clap requires --config without --example");
    let mut cfg = load(&path)?;
    if let Some(f) = args.fault {
        cfg.fault = Some(f);
        cfg.validate()?;
    }
    let key = cfg.key.as_deref().map(read_key).transpose()?;
    let _lock = crate::preflight::lock_data_dir(&cfg.data_dir)?;
    crate::preflight::ensure_port_free(cfg.rpc, "L2 JSON-RPC", "rpc in the config")?;
    if let Some(addr) = args.metrics {
        crate::preflight::ensure_port_free(addr, "metrics", "--metrics")?;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        if let Some(addr) = args.metrics {
            crate::metrics::serve(addr)?;
        }
        let node = basalt_rollup::start(cfg.clone(), key)
            .await
            .context("starting the rollup node")?;
        println!(
            "rollup {} (id {}) {:?} node: L2 JSON-RPC http://{}  (WebSocket: ws://{})",
            node.name, node.rollup_id, cfg.role, node.rpc_addr, node.rpc_addr
        );
        println!(
            "following the L1 at {}; Ctrl-C stops it, running it again resumes it",
            cfg.l1_rpc
        );
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?;
        println!("\nshutting down (every confirmed block is already on disk)");
        node.stop();
        Ok(())
    })
}
