//! `basalt up`: a whole devnet in one process: the L1 validators, its JSON-RPC, and three rollups
//! (two optimistic, one ZK) with their sequencers.

use crate::preflight::{clear_data_dir, ensure_port_free, lock_data_dir};
use crate::units::format_tokens;
use anyhow::{bail, Context, Result};
use basalt_l1::{Genesis, Params};
use basalt_node::devnet::{devnet_genesis, devnet_params, validator_keypair, DEV_BALANCE};
use basalt_node::net::{start_networked_validator, Peer};
use basalt_node::rpc::{serve, RpcContext};
use clap::Args;
use commonware_runtime::{tokio as cw_tokio, Runner as _};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tracing::info;

/// Options of `basalt up`.
#[derive(Args, Debug)]
pub struct UpArgs {
    /// Where chain data lives; running again resumes the chain found there.
    #[arg(long, default_value = "./.basalt")]
    pub data_dir: PathBuf,
    /// JSON-RPC port on 127.0.0.1 (HTTP and WebSocket).
    #[arg(long, default_value_t = 8545)]
    pub rpc_port: u16,
    /// First p2p port on 127.0.0.1; validator i listens on this plus i.
    #[arg(long, default_value_t = 30300)]
    pub p2p_port: u16,
    /// Target milliseconds between blocks (new chains only).
    #[arg(long, default_value_t = 200)]
    pub block_time_ms: u64,
    /// Blocks per epoch: the committee can change only between epochs (new chains only).
    #[arg(long, default_value_t = Params::default().epoch_length)]
    pub epoch_length: u64,
    /// Number of validators, each a full node (new chains only; tolerates (N-1)/3 faults).
    #[arg(long, default_value_t = 4)]
    pub validators: u64,
    /// Delete the data directory first and start a new chain.
    #[arg(long)]
    pub fresh: bool,
    /// Prometheus metrics port on 127.0.0.1 (GET /metrics): every validator and rollup of the
    /// devnet, labelled by validator and rollup.
    #[arg(long, default_value_t = 9545)]
    pub metrics_port: u16,
    /// Run the L1 alone, without the three devnet rollups (whose L2 JSON-RPC ports are
    /// --rpc-port + 100 + rollup id).
    #[arg(long)]
    pub no_rollups: bool,
    /// Threads each validator verifies a peer's block on (1 to 64; the same state on any count).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub execution_threads: u16,
}

/// The devnet genesis in `dir`, created on first run.
fn devnet_genesis_in(dir: &std::path::Path, args: &UpArgs) -> Result<Genesis> {
    let path = dir.join("genesis.json");
    if path.exists() {
        let g = crate::config::read_genesis(&path)?;
        if g.validators.len() as u64 != args.validators {
            bail!(
                "{} holds a {}-validator chain, not {}: use --fresh to start a new one",
                dir.display(),
                g.validators.len(),
                args.validators
            );
        }
        return Ok(g);
    }
    let params = devnet_params(args.validators, args.block_time_ms, args.epoch_length);
    params
        .validate()
        .context("--block-time-ms or --epoch-length")?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as u64;
    let g = devnet_genesis(args.validators, params, now);
    std::fs::write(&path, g.to_json()).with_context(|| format!("writing {}", path.display()))?;
    Ok(g)
}

/// Runs the devnet until Ctrl-C.
pub fn run(args: UpArgs) -> Result<()> {
    if args.validators == 0 || args.validators > 64 {
        bail!("--validators must be between 1 and 64");
    }
    // Before anything is touched: the data directory is ours and every port is free.
    let lock = lock_data_dir(&args.data_dir)?;
    if args.fresh {
        clear_data_dir(&args.data_dir, &lock)?;
    }
    let rpc_addr = SocketAddr::from(([127, 0, 0, 1], args.rpc_port));
    ensure_port_free(rpc_addr, "JSON-RPC", "--rpc-port")?;
    let metrics_addr = SocketAddr::from(([127, 0, 0, 1], args.metrics_port));
    ensure_port_free(metrics_addr, "metrics", "--metrics-port")?;
    for i in 0..args.validators {
        let port = u16::try_from(u64::from(args.p2p_port) + i).map_err(|_| {
            anyhow::anyhow!(
                "--p2p-port {} leaves no room for {} validators",
                args.p2p_port,
                args.validators
            )
        })?;
        ensure_port_free(
            SocketAddr::from(([127, 0, 0, 1], port)),
            "p2p",
            "--p2p-port",
        )?;
    }
    if !args.no_rollups {
        for id in 0..crate::devnet_rollups::DEVNET_ROLLUP_COUNT {
            let port = crate::devnet_rollups::l2_port(args.rpc_port, id).ok_or_else(|| {
                anyhow::anyhow!(
                    "--rpc-port {} leaves no room for the rollup ports",
                    args.rpc_port
                )
            })?;
            ensure_port_free(
                SocketAddr::from(([127, 0, 0, 1], port)),
                "L2 JSON-RPC",
                "--rpc-port (rollups use it plus 100 plus their id) or --no-rollups",
            )?;
        }
    }
    let genesis = devnet_genesis_in(&args.data_dir, &args)?;
    print_banner(&args, &genesis);
    let peers: Vec<Peer> = (0..args.validators)
        .map(|i| Peer {
            key: validator_keypair(i).public(),
            address: SocketAddr::from(([127, 0, 0, 1], args.p2p_port + i as u16)), // checked above
        })
        .collect();
    let cfg = cw_tokio::Config::new()
        .with_worker_threads(2)
        .with_storage_directory(args.data_dir.join("consensus"))
        .with_catch_panics(false);
    cw_tokio::Runner::new(cfg).start(|context| async move {
        crate::metrics::serve(metrics_addr)?;
        let mut validators = Vec::new();
        for (i, peer) in peers.iter().enumerate() {
            let dir = args.data_dir.join(format!("validator-{i}"));
            std::fs::create_dir_all(&dir)?;
            let v = start_networked_validator(
                &context,
                &genesis,
                validator_keypair(i as u64),
                &dir.join("state.redb"),
                peer.address,
                &peers,
                args.execution_threads.into(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("validator {i}: {e}"))?;
            validators.push(v);
        }
        let ctx = RpcContext::new(validators[0].chain.clone(), validators[0].finalized.clone());
        let (bound, server) = serve(rpc_addr, ctx)
            .await
            .with_context(|| format!("starting JSON-RPC on {rpc_addr} (is another node using it? try --rpc-port)"))?;
        let resumed = basalt_node::chain::lock(&validators[0].chain).state().head().height;
        println!("JSON-RPC:  http://{bound}  (WebSocket: ws://{bound})");
        println!("metrics:   http://{metrics_addr}/metrics  (Prometheus)");
        println!("chain resumes at finalized height {resumed}; Ctrl-C stops it, running `basalt up` again resumes it\n");
        let rollups = if args.no_rollups {
            Vec::new()
        } else {
            crate::devnet_rollups::start(&format!("http://{bound}"), &args.data_dir, args.rpc_port)
                .await
                .context("starting the devnet rollups")?
        };
        tokio::spawn(basalt_node::consensus::application::log_finalized(
            validators[0].finalized.subscribe(),
        ));
        let chain = validators[0].chain.clone();
        let status = async move {
            loop {
                tokio::time::sleep(Duration::from_secs(10)).await;
                let c = basalt_node::chain::lock(&chain);
                info!(height = c.state().head().height, mempool = c.mempool_len(), "status");
            }
        };
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("waiting for Ctrl-C")?,
            _ = status => {}
        }
        println!("\nshutting down (state is committed per finalized block)");
        for r in rollups {
            r.stop();
        }
        let _ = server.stop();
        for v in &validators {
            v.abort();
        }
        drop(lock);
        Ok(())
    })
}

fn print_banner(args: &UpArgs, genesis: &Genesis) {
    println!(
        "Basalt devnet: chain id {}, {} validators, {} ms blocks, data in {}",
        genesis.chain_id,
        genesis.validators.len(),
        genesis.params.block_time_ms,
        args.data_dir.display()
    );
    println!("\nDev accounts (DEVNET ONLY: these keys are public; never use them elsewhere), {} tokens each:", format_tokens(DEV_BALANCE));
    crate::wallet::print_dev_accounts("  ");
    println!("\nUse them with `basalt wallet ... --dev N`.\n");
}
