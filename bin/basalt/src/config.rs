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
