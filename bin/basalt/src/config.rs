//! Node configuration files and key files.

use anyhow::{bail, Context, Result};
use basalt_types::{Keypair, PublicKey};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// A validator's configuration (`basalt node --config FILE`). Relative paths are relative to the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// The genesis JSON shared by all validators.
    pub genesis: PathBuf,
    /// This validator's key file.
    pub key: PathBuf,
    /// Where this validator keeps its data.
    pub data_dir: PathBuf,
    /// p2p listen address.
    pub listen: SocketAddr,
    /// JSON-RPC listen address; none to disable RPC.
    pub rpc: Option<SocketAddr>,
    /// Every validator of the chain, this one included.
    pub peers: Vec<PeerConfig>,
    /// Threads a peer's block is verified on, 1 to 64 (default 1: sequential). Any count gives
    /// the same verdict and state; more help only a node with the cores.
    #[serde(default = "one_thread")]
    pub execution_threads: usize,
}

fn one_thread() -> usize {
    1
}

/// One validator's identity and p2p address.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerConfig {
    /// Public key (hex).
    pub key: PublicKey,
    /// p2p address.
    pub address: SocketAddr,
}

impl NodeConfig {
    /// Reads a config file and resolves its relative paths.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config {}", path.display()))?;
        let mut cfg: NodeConfig =
            toml::from_str(&text).with_context(|| format!("parsing config {}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [&mut cfg.genesis, &mut cfg.key, &mut cfg.data_dir] {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        if !(1..=64).contains(&cfg.execution_threads) {
            bail!(
                "config {}: execution_threads must be 1 to 64, not {}",
                path.display(),
                cfg.execution_threads
            );
        }
        if cfg.peers.is_empty() {
            bail!(
                "config {}: peers must list every validator, this one included",
                path.display()
            );
        }
        Ok(cfg)
    }
}

/// A key file: JSON with the public key and the secret, both hex. Unencrypted: protect it like a password.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    public: PublicKey,
    secret: String,
}

/// Writes a key file readable only by its owner.
pub fn write_key(path: &Path, kp: &Keypair) -> Result<()> {
    if path.exists() {
        bail!(
            "{} already exists; refusing to overwrite a key",
            path.display()
        );
    }
    let text = serde_json::to_string_pretty(&KeyFile {
        public: kp.public(),
        secret: format!("0x{}", hex::encode(kp.secret())),
    })?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    use std::io::Write;
    opts.open(path)
        .with_context(|| format!("creating {}", path.display()))?
        .write_all(text.as_bytes())?;
    Ok(())
}

/// Reads a key file and checks that its secret matches its public key.
pub fn read_key(path: &Path) -> Result<Keypair> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading key file {}", path.display()))?;
    let kf: KeyFile = serde_json::from_str(&text)
        .with_context(|| format!("parsing key file {}", path.display()))?;
    let secret = basalt_types::codec::parse_hex_array::<32>(&kf.secret).map_err(|_| {
        anyhow::anyhow!(
            "key file {}: secret must be 32 bytes of hex",
            path.display()
        )
    })?;
    let kp = Keypair::from_secret(secret);
    if kp.public() != kf.public {
        bail!(
            "key file {}: secret does not match public key",
            path.display()
        );
    }
    Ok(kp)
}

/// Reads a genesis file.
pub fn read_genesis(path: &Path) -> Result<basalt_l1::Genesis> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading genesis {}", path.display()))?;
    basalt_l1::Genesis::from_json(&text).with_context(|| format!("genesis {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
genesis = "genesis.json"
key = "key.json"
data_dir = "data"
listen = "127.0.0.1:30300"
rpc = "127.0.0.1:8545"

[[peers]]
key = "0x0101010101010101010101010101010101010101010101010101010101010101"
address = "127.0.0.1:30300"
"#;

    fn load(extra: &str) -> Result<NodeConfig> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("node.toml");
        std::fs::write(&path, format!("execution_threads = {extra}\n{CONFIG}"))?;
        NodeConfig::load(&path)
    }

    #[test]
    fn execution_threads_default_to_one_and_out_of_range_counts_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.toml");
        std::fs::write(&path, CONFIG).unwrap();
        assert_eq!(NodeConfig::load(&path).unwrap().execution_threads, 1);
        assert_eq!(load("4").unwrap().execution_threads, 4);
        for bad in ["0", "65"] {
            let err = format!("{:#}", load(bad).unwrap_err());
            assert!(err.contains("execution_threads must be 1 to 64"), "{err}");
        }
    }
}
