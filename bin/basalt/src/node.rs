//! `basalt node --config FILE`: one validator as its own process.

use crate::config::{read_genesis, read_key, NodeConfig};
use anyhow::{bail, Context, Result};
use basalt_node::net::{start_networked_validator, Peer};
use basalt_node::rpc::{serve, RpcContext};
use clap::Args;
use commonware_runtime::{tokio as cw_tokio, Runner as _};
use std::path::PathBuf;

/// Options of `basalt node`.
#[derive(Args, Debug)]
pub struct NodeArgs {
    /// The validator's config file (see `basalt devnet init`).
    #[arg(long)]
    pub config: PathBuf,
    /// Serve Prometheus metrics on this address (GET /metrics), e.g. 127.0.0.1:9545.
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<std::net::SocketAddr>,
}

/// Runs a validator until Ctrl-C or SIGTERM.
pub fn run(args: NodeArgs) -> Result<()> {
    let cfg = NodeConfig::load(&args.config)?;
    let genesis = read_genesis(&cfg.genesis)?;
    let key = read_key(&cfg.key)?;
    if !cfg.peers.iter().any(|p| p.key == key.public()) {
        bail!(
            "config {}: this validator's key {} is not in its peers list",
            args.config.display(),
            key.public()
        );
    }
    let me = key.public();
    let peers: Vec<Peer> = cfg
        .peers
        .iter()
        .map(|p| Peer {
            key: p.key,
            address: p.address,
        })
        .collect();
    let lock = crate::preflight::lock_data_dir(&cfg.data_dir)?;
    crate::preflight::ensure_port_free(cfg.listen, "p2p", "listen in the config")?;
    if let Some(addr) = cfg.rpc {
        crate::preflight::ensure_port_free(addr, "JSON-RPC", "rpc in the config")?;
    }
    if let Some(addr) = args.metrics {
        crate::preflight::ensure_port_free(addr, "metrics", "--metrics")?;
    }
    let runtime = cw_tokio::Config::new()
        .with_worker_threads(2)
        .with_storage_directory(cfg.data_dir.join("consensus"))
        .with_catch_panics(false);
    cw_tokio::Runner::new(runtime).start(|context| async move {
        if let Some(addr) = args.metrics {
            crate::metrics::serve(addr)?;
        }
        let v = start_networked_validator(
            &context,
            &genesis,
            key,
            &cfg.data_dir.join("state.redb"),
            cfg.listen,
            &peers,
            cfg.execution_threads,
        )
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
        let server = match cfg.rpc {
            Some(addr) => {
                let ctx = RpcContext::new(v.chain.clone(), v.finalized.clone());
                let (bound, handle) = serve(addr, ctx)
                    .await
                    .with_context(|| format!("starting JSON-RPC on {addr}"))?;
                println!("JSON-RPC: http://{bound}");
                Some(handle)
            }
            None => None,
        };
        tokio::spawn(basalt_node::consensus::application::log_finalized(
            v.finalized.subscribe(),
        ));
        let height = basalt_node::chain::lock(&v.chain).state().head().height;
        println!("validator {me} running at finalized height {height}");
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r?,
            _ = term.recv() => {}
        }
        if let Some(s) = server {
            let _ = s.stop();
        }
        v.abort();
        drop(lock);
        Ok(())
    })
}
