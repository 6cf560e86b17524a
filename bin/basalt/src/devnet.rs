//! `basalt devnet init`: files for validators that run as separate processes (or hosts).

use crate::config::{write_key, NodeConfig, PeerConfig};
use anyhow::{bail, Context, Result};
use basalt_l1::Params;
use basalt_node::devnet::{devnet_genesis, devnet_params, validator_keypair};
use clap::{Args, Subcommand};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

/// Devnet subcommands.
#[derive(Subcommand, Debug)]
pub enum DevnetCommand {
    /// Write genesis, validator keys and one config file per validator.
    Init(InitArgs),
}

/// Options of `basalt devnet init`.
#[derive(Args, Debug)]
pub struct InitArgs {
    /// Number of validators.
    #[arg(long, default_value_t = 4)]
    pub validators: u64,
    /// Output directory (must not exist or be empty).
    #[arg(long)]
    pub out: PathBuf,
    /// Target milliseconds between blocks.
    #[arg(long, default_value_t = 200)]
    pub block_time_ms: u64,
    /// Blocks per epoch: the committee can change only between epochs.
    #[arg(long, default_value_t = Params::default().epoch_length)]
    pub epoch_length: u64,
    /// Host address of each validator, in order (default: 127.0.0.1 for all). Give N addresses to spread
    /// validators over hosts.
    #[arg(long, value_delimiter = ',')]
    pub hosts: Vec<IpAddr>,
    /// First p2p port; validator i uses this plus i.
    #[arg(long, default_value_t = 30300)]
    pub p2p_port: u16,
    /// First RPC port; validator i serves JSON-RPC on this plus i.
    #[arg(long, default_value_t = 8545)]
    pub rpc_port: u16,
    /// Use fresh random validator keys instead of the deterministic dev keys.
    #[arg(long)]
    pub random_keys: bool,
    /// Threads each validator verifies a peer's block on (1 to 64), written to its config.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub execution_threads: u16,
}

/// Runs a devnet subcommand.
pub fn run(cmd: DevnetCommand) -> Result<()> {
    match cmd {
        DevnetCommand::Init(a) => init(a),
    }
}

fn init(a: InitArgs) -> Result<()> {
    if a.validators == 0 || a.validators > 64 {
        bail!("--validators must be between 1 and 64");
    }
    if !a.hosts.is_empty() && a.hosts.len() as u64 != a.validators {
        bail!(
            "--hosts lists {} addresses for {} validators",
            a.hosts.len(),
            a.validators
        );
    }
    if a.out.exists() && std::fs::read_dir(&a.out)?.next().is_some() {
        bail!(
            "{} is not empty; choose a new --out directory",
            a.out.display()
        );
    }
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let params = devnet_params(a.validators, a.block_time_ms, a.epoch_length);
    params
        .validate()
        .context("--block-time-ms or --epoch-length")?;
    let keys: Vec<basalt_types::Keypair> = (0..a.validators)
        .map(|i| {
            if a.random_keys {
                basalt_types::Keypair::from_secret(rand::random())
            } else {
                validator_keypair(i)
            }
        })
        .collect();
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as u64;
    let mut genesis = devnet_genesis(a.validators, params, now);
    for (v, k) in genesis.validators.iter_mut().zip(&keys) {
        v.key = k.public();
    }
    std::fs::write(a.out.join("genesis.json"), genesis.to_json())?;
    let host = |i: usize| {
        a.hosts
            .get(i)
            .copied()
            .unwrap_or(IpAddr::from([127, 0, 0, 1]))
    };
    let peers: Vec<PeerConfig> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| PeerConfig {
            key: k.public(),
            address: SocketAddr::new(host(i), a.p2p_port + i as u16),
        })
        .collect();
    for (i, k) in keys.iter().enumerate() {
        let dir = a.out.join(format!("validator-{i}"));
        std::fs::create_dir_all(&dir)?;
        write_key(&dir.join("key.json"), k)?;
        let cfg = NodeConfig {
            genesis: PathBuf::from("../genesis.json"),
            key: PathBuf::from("key.json"),
            data_dir: PathBuf::from("data"),
            listen: SocketAddr::new(host(i), a.p2p_port + i as u16),
            rpc: Some(SocketAddr::new(host(i), a.rpc_port + i as u16)),
            peers: peers.clone(),
            execution_threads: a.execution_threads.into(),
        };
        std::fs::write(dir.join("node.toml"), toml::to_string_pretty(&cfg)?)?;
    }
    println!("wrote {} validators to {}", a.validators, a.out.display());
    println!(
        "run each one with:  basalt node --config {}/validator-<i>/node.toml",
        a.out.display()
    );
    if !a.random_keys {
        println!("(DEVNET ONLY: the validator keys are the public deterministic dev keys; use --random-keys otherwise)");
    }
    Ok(())
}
