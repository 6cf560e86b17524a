//! The rollup node's configuration file, its roles and the errors it stops with.

use super::*;
#[cfg(feature = "faults")]
use crate::Fault;

/// What the node does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Orders transactions, posts batches (needs the registered sequencer key).
    Sequencer,
    /// Derives the state from L1 data alone and checks every output.
    Verifier,
}

/// When and how the batcher posts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BatcherConfig {
    /// Post once the unposted transactions would fill this many blob bytes (capped by the L1's
    /// largest blob).
    pub max_batch_bytes: u64,
    /// Post once the oldest unposted transaction is this old, however few are waiting.
    pub max_delay_ms: u64,
    /// Highest blob base fee (per byte) the batcher pays; above it, it waits for the fee to fall.
    pub max_blob_fee: u64,
    /// `adaptive` (the default: hardest while the batcher keeps up, fast under a backlog),
    /// `best` or `fast`.
    pub compression: crate::batcher::Compression,
}

impl Default for BatcherConfig {
    fn default() -> Self {
        BatcherConfig {
            max_batch_bytes: 120_000,
            max_delay_ms: 1_000,
            max_blob_fee: 1_000_000,
            compression: crate::batcher::Compression::default(),
        }
    }
}

/// A rollup node's configuration (the TOML file of `basalt rollup --config`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// The L1 node's JSON-RPC URL.
    pub l1_rpc: String,
    /// The rollup, by registered name or id.
    pub rollup: String,
    /// `sequencer` or `verifier`.
    pub role: Role,
    /// Where the node keeps its data (the sequencer's block log).
    pub data_dir: PathBuf,
    /// Address the L2 JSON-RPC server listens on.
    pub rpc: SocketAddr,
    /// L1 key file: the sequencer's key (required for the sequencer role), or a proposer's.
    #[serde(default)]
    pub key: Option<PathBuf>,
    /// Propose outputs with the key's bond (default: yes for a sequencer, no for a verifier).
    #[serde(default)]
    pub propose: Option<bool>,
    /// Challenge wrong outputs, defend right ones and play every game to the end, bonding the
    /// key (default: yes whenever the node has a key).
    #[serde(default)]
    pub challenge: Option<bool>,
    /// FOR TESTS AND DEMOS: derive with this fault injected (see `Fault`; cargo feature `faults`), so the node
    /// proposes, challenges and plays as a dishonest party would.
    #[serde(default)]
    pub fault: Option<String>,
    /// FOR TESTS AND DEMOS: a censoring sequencer (cargo feature `faults`; optimistic rollups):
    /// it refuses every transaction of accounts holding this L2 key (hex) and holds the L1 queue
    /// at the key's first item until the item is almost overdue, when the L1 would refuse its
    /// batches.
    #[serde(default)]
    pub censor: Option<String>,
    /// Milliseconds between L2 blocks.
    #[serde(default = "default_block_time_ms")]
    pub block_time_ms: u64,
    /// Milliseconds between reads of the L1.
    #[serde(default = "default_l1_poll_ms")]
    pub l1_poll_ms: u64,
    /// Batch posting thresholds.
    #[serde(default)]
    pub batcher: BatcherConfig,
    /// A ZK rollup's sequencer: the directory of its cached development proving keys (default:
    /// `zk-keys` in `data_dir`). Made there, deterministically, if absent: insecure, devnet only.
    #[serde(default)]
    pub zk_keys: Option<PathBuf>,
}

fn default_block_time_ms() -> u64 {
    50
}

fn default_l1_poll_ms() -> u64 {
    200
}

impl NodeConfig {
    /// Reads a config from TOML text, checking every value.
    pub fn from_toml(text: &str) -> Result<Self, NodeError> {
        let cfg: NodeConfig = toml::from_str(text).map_err(|e| NodeError::Config(e.to_string()))?;
        cfg.validate()?;
        let bad = |s: &str| Err(NodeError::Config(s.to_string()));
        if cfg.role == Role::Sequencer && cfg.key.is_none() {
            return bad("a sequencer needs `key`: the L1 key file of the registered sequencer");
        }
        if cfg.propose == Some(true) && cfg.key.is_none() {
            return bad("propose = true needs `key`: the L1 key that locks the bond");
        }
        if cfg.challenge == Some(true) && cfg.key.is_none() {
            return bad("challenge = true needs `key`: the L1 key that locks dispute bonds");
        }
        Ok(cfg)
    }

    /// Checks the values (but not the key file, which the caller reads), naming the first bad one.
    pub fn validate(&self) -> Result<(), NodeError> {
        let bad = |s: &str| Err(NodeError::Config(s.to_string()));
        if !(10..=10_000).contains(&self.block_time_ms) {
            return bad("block_time_ms must be 10 to 10000");
        }
        if !(10..=60_000).contains(&self.l1_poll_ms) {
            return bad("l1_poll_ms must be 10 to 60000");
        }
        if self.batcher.max_batch_bytes < 1_024 {
            return bad("batcher.max_batch_bytes must be at least 1024");
        }
        #[cfg(not(feature = "faults"))]
        if let Some(f) = &self.fault {
            return Err(NodeError::Config(format!(
                "fault {f:?}: this build has no fault injection (it is for tests and demos: build \
                 basalt-rollup with the cargo feature `faults`, as the `basalt` binary does)"
            )));
        }
        #[cfg(feature = "faults")]
        if let Some(f) = &self.fault {
            let Some(fault) = Fault::parse(f) else {
                let names: Vec<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
                return Err(NodeError::Config(format!(
                    "unknown fault {f:?}: one of {}",
                    names.join(", ")
                )));
            };
            if fault.needs_sequencer() && self.role != Role::Sequencer {
                return Err(NodeError::Config(format!(
                    "fault {f} needs role = \"sequencer\": only the sequencer posts the data it misreads"
                )));
            }
        }
        #[cfg(not(feature = "faults"))]
        if self.censor.is_some() {
            return bad(
                "censor: this build has no fault injection (it is for tests and demos: build \
                 basalt-rollup with the cargo feature `faults`, as the `basalt` binary does)",
            );
        }
        #[cfg(feature = "faults")]
        if let Some(c) = &self.censor {
            if basalt_types::PublicKey::from_hex(c).is_err() {
                return bad("censor must be an L2 key: 32 bytes of hex");
            }
            if self.role != Role::Sequencer {
                return bad(
                    "censor needs role = \"sequencer\": only the sequencer can refuse transactions",
                );
            }
        }
        Ok(())
    }

    /// The fault this node injects, if any (checked by [`NodeConfig::validate`]).
    #[cfg(feature = "faults")]
    pub fn fault(&self) -> Option<Fault> {
        self.fault.as_deref().and_then(Fault::parse)
    }

    /// The L2 key this node censors, if any (checked by [`NodeConfig::validate`]).
    #[cfg(feature = "faults")]
    pub fn censor(&self) -> Option<basalt_types::PublicKey> {
        self.censor
            .as_deref()
            .and_then(|c| basalt_types::PublicKey::from_hex(c).ok())
    }

    /// Whether this node proposes outputs.
    pub fn proposes(&self) -> bool {
        self.propose.unwrap_or(self.role == Role::Sequencer)
    }
}

/// Why the node cannot start or go on.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// A bad configuration value.
    #[error("config: {0}")]
    Config(String),
    /// The L1 failed or refused.
    #[error(transparent)]
    L1(#[from] L1Error),
    /// The sequencer's log failed.
    #[error(transparent)]
    Sequencer(#[from] SequencerError),
    /// Derivation cannot go on.
    #[error(transparent)]
    Derive(#[from] DeriveError),
    /// A ZK rollup's L1 record disagrees with its data, or derivation waits.
    #[error(transparent)]
    ZkDerive(#[from] crate::ZkDeriveError),
    /// The prover failed.
    #[error("prover: {0}")]
    Prover(String),
    /// The L2 RPC server did not start.
    #[error("L2 JSON-RPC on {addr}: {source} (is another node using it?)")]
    Rpc {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The L1 holds more posted transactions than the sequencer's log.
    #[error("the L1 holds {posted} posted transactions of this rollup but the sequencer log in {dir} only {logged}: wrong data_dir, or the log was lost")]
    LogBehindL1 {
        /// Posted on L1.
        posted: u64,
        /// In the log.
        logged: u64,
        /// The data directory.
        dir: String,
    },
}

/// A commented example of [`NodeConfig`], as `basalt rollup --example` prints it.
pub const EXAMPLE_CONFIG: &str = r#"# A Basalt rollup node (`basalt rollup --config THIS_FILE`).
# Relative paths are relative to this file.

# The L1 node's JSON-RPC endpoint (`basalt up` serves one on 127.0.0.1:8545).
l1_rpc = "http://127.0.0.1:8545"
# The rollup, by its registered name or id (`basalt wallet rollups` lists them). An optimistic or a
# ZK rollup (`gamma` under `basalt up`): the node runs whichever the L1 registered.
rollup = "alpha"
# "sequencer": orders transactions into L2 blocks and posts batches (needs the sequencer's key);
# on a ZK rollup it also proves each batch, in the background, and settles it with its proof.
# "verifier": rebuilds the state from L1 data alone and checks every proposed output (on a ZK
# rollup, every proof's public inputs: each batch's data hash and each proven output).
role = "verifier"
# Where the node keeps its data (the sequencer's block log).
data_dir = "./rollup-data"
# The L2 JSON-RPC server (HTTP and WebSocket).
rpc = "127.0.0.1:8650"
# L1 key file (`basalt wallet new --out FILE`): required for a sequencer, which must be the key the
# rollup registered; optional for a verifier that proposes.
# key = "./sequencer.key"
# Propose outputs, locking the rollup's bond each time (default: true for a sequencer).
# propose = false
# Challenge any proposed output that differs from the derived one, defend disputed outputs that
# match it, and play every game to the end, locking the rollup's dispute bond each time
# (default: true whenever the node has a key).
# challenge = true
# FOR TESTS AND DEMOS ONLY (builds with the cargo feature `faults`, as the devnet binary `basalt`):
# behave as a dishonest party with this fault injected (see `basalt rollup --help`): balance,
# skip-deposit, reorder-deposits, bad-signature, replay, mint, withdrawals-root, undecodable.
# fault = "mint"
# FOR TESTS AND DEMOS ONLY (same feature; a sequencer of an optimistic rollup): censor the accounts of
# this L2 key (hex), refusing their transactions and holding the L1 queue at the key's first item
# until just before its force-inclusion deadline (`basalt lab censorship` shows it).
# censor = "00...00"
# A ZK rollup's sequencer: the directory of its cached proving keys (default: zk-keys in data_dir).
# Without keys there, the DEVELOPMENT setup makes them (seconds to minutes; insecure, devnet only:
# its randomness is public); keys that are not the ones the rollup registered stop the node.
# zk_keys = "./zk-keys"
# Milliseconds between L2 blocks, and between reads of the L1.
block_time_ms = 50
l1_poll_ms = 200

[batcher]
# Post a batch once the waiting transactions fill this many bytes, or once the oldest waited
# max_delay_ms, whichever comes first.
max_batch_bytes = 120000
max_delay_ms = 1000
# Highest blob base fee paid per byte; above it the batcher waits.
max_blob_fee = 1000000
# "adaptive" (hardest compression while the batcher keeps up, zstd-3 under a backlog), "best" or
# "fast".
compression = "adaptive"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_parses_and_bad_values_are_named() {
        let cfg = NodeConfig::from_toml(EXAMPLE_CONFIG).unwrap();
        assert_eq!(cfg.role, Role::Verifier);
        assert!(!cfg.proposes());
        let seq = EXAMPLE_CONFIG.replace("role = \"verifier\"", "role = \"sequencer\"");
        let e = NodeConfig::from_toml(&seq).unwrap_err().to_string();
        assert!(e.contains("a sequencer needs `key`"), "{e}");
        let slow = EXAMPLE_CONFIG.replace("block_time_ms = 50", "block_time_ms = 0");
        let e = NodeConfig::from_toml(&slow).unwrap_err().to_string();
        assert!(e.contains("block_time_ms"), "{e}");
        let typo = format!("{EXAMPLE_CONFIG}\nblok_time_ms = 5\n");
        let e = NodeConfig::from_toml(&typo).unwrap_err().to_string();
        assert!(e.contains("unknown field"), "{e}");
        assert_eq!(cfg.batcher.compression, crate::Compression::Adaptive);
        let fast = EXAMPLE_CONFIG.replace("compression = \"adaptive\"", "compression = \"fast\"");
        let cfg = NodeConfig::from_toml(&fast).unwrap();
        assert_eq!(cfg.batcher.compression, crate::Compression::Fast);
        let zip = EXAMPLE_CONFIG.replace("compression = \"adaptive\"", "compression = \"zip\"");
        let e = NodeConfig::from_toml(&zip).unwrap_err().to_string();
        assert!(e.contains("zip") && e.contains("adaptive"), "{e}");
    }
}
