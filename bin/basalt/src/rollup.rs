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
    #[command(subcommand)]
    pub command: Option<RollupCommand>,
}

/// Questions about a registered rollup, answered from the L1.
#[derive(clap::Subcommand, Debug)]
pub enum RollupCommand {
    /// A rollup's risks, computed from its registered parameters and the L1's: L2BEAT's five
    /// categories and its stage, with the first requirement it does not meet.
    Risk {
        /// The rollup, by name or id.
        rollup: String,
        /// L1 JSON-RPC URL.
        #[arg(long, default_value = "http://127.0.0.1:8545")]
        rpc: String,
        /// Print the JSON `l1_getRollupRisk` returns, for programs.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `basalt rollup risk`.
fn risk(rollup: &str, rpc: &str, as_json: bool) -> Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let v = rt.block_on(async {
        let client = crate::wallet::l1_http(rpc)?;
        let which = basalt_rpc::RollupRef::parse(rollup);
        basalt_rpc::L1ApiClient::get_rollup_risk(&client, which)
            .await
            .map_err(|e| basalt_lab::client::rpc_error("l1_getRollupRisk", rpc, e))
    })?;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!(
        "{} ({}): stage {}{}",
        v.name,
        v.kind,
        v.stage,
        v.next_requirement
            .map(|r| format!(" (next needs: {r})"))
            .unwrap_or_default()
    );
    for c in &v.categories {
        println!("  {:<18} {:<8} {}", c.id, c.level, c.summary);
    }
    Ok(())
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
    if let Some(RollupCommand::Risk { rollup, rpc, json }) = &args.command {
        return risk(rollup, rpc, *json);
    }
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
