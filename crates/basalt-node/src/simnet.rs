//! Dev validators on commonware's deterministic runtime and simulated network: the same
//! [`launch`] as `basalt node`, with every link's latency and jitter chosen, links cut and
//! restored, validators crashed and restarted. Every run is seeded and reproducible; validators
//! keep their state in redb files under a directory the caller owns (DEVNET ONLY keys).

use crate::consensus::application::ProposerFault;
use crate::consensus::engine::{channels, max_message_size, Channels, EngineChannels};
use crate::devnet::{consensus_key, validator_keypair};
use crate::mempool::MempoolLimits;
use crate::store::{Store, StoreError};
use crate::validator::{launch, Validator, ValidatorConfig};
use basalt_l1::Genesis;
use commonware_cryptography::ed25519::PublicKey;
use commonware_cryptography::Signer as _;
use commonware_p2p::simulated::{self, Error, Link, Network, Oracle};
use commonware_runtime::{deterministic, Clock, Supervisor as _};
use commonware_utils::NZUsize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A simulated network of dev validators `0..n` on one genesis.
pub struct SimNet {
    oracle: Oracle<PublicKey, deterministic::Context>,
    keys: Vec<PublicKey>,
    dir: PathBuf,
    genesis: Genesis,
}

impl SimNet {
    /// `nodes` dev validators (keys `0..nodes`) on `genesis`, with no links yet; their state
    /// files go in `dir`.
    pub async fn new(
        context: &deterministic::Context,
        nodes: usize,
        genesis: Genesis,
        dir: &Path,
    ) -> SimNet {
        let keys: Vec<PublicKey> = (0..nodes as u64)
            .map(|i| consensus_key(&validator_keypair(i)).public_key())
            .collect();
        let (network, oracle) = Network::new_with_peers(
            context.child("network"),
            simulated::Config {
                max_size: max_message_size(nodes as u32),
                max_peers_per_set: NZUsize!(nodes.max(1)),
                disconnect_on_block: true,
                tracked_peer_sets: NZUsize!(1),
            },
            keys.clone(),
        )
        .await;
        network.start();
        SimNet {
            oracle,
            keys,
            dir: dir.to_path_buf(),
            genesis,
        }
    }

    /// How many validators the network has.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether it has none.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Links every ordered pair `(a, b)`, `a != b`, with `link(a, b)`.
    pub async fn link_all(&self, link: impl Fn(usize, usize) -> Link) -> Result<(), Error> {
        for a in 0..self.len() {
            for b in 0..self.len() {
                if a != b {
                    self.link(a, b, link(a, b)).await?;
                }
            }
        }
        Ok(())
    }

    /// Links `a` to `b` (one direction); an error if they are linked already.
    pub async fn link(&self, a: usize, b: usize, link: Link) -> Result<(), Error> {
        self.oracle
            .add_link(self.keys[a].clone(), self.keys[b].clone(), link)
            .await
    }

    /// Cuts the link from `a` to `b` (one direction); an error if there is none.
    pub async fn cut(&self, a: usize, b: usize) -> Result<(), Error> {
        self.oracle
            .remove_link(self.keys[a].clone(), self.keys[b].clone())
            .await
    }

    /// Where validator `i` keeps its state.
    pub fn state_path(&self, i: usize) -> PathBuf {
        self.dir.join(format!("validator-{i}.redb"))
    }

    /// Starts validator `i` with `fault`, verifying peers' blocks on `threads` threads.
    pub async fn start(
        &self,
        context: &deterministic::Context,
        i: usize,
        fault: ProposerFault,
        threads: usize,
    ) -> Result<Validator, StoreError> {
        let control = self.oracle.control(self.keys[i].clone());
        let register = |c| control.register(c, channels::quota(c));
        let taken = "each channel is registered once a start";
        let ch = Channels {
            engine: EngineChannels {
                votes: register(channels::VOTES).await.expect(taken),
                certificates: register(channels::CERTIFICATES).await.expect(taken),
                resolver: register(channels::RESOLVER).await.expect(taken),
                blocks: register(channels::BLOCKS).await.expect(taken),
                backfill: register(channels::BACKFILL).await.expect(taken),
            },
            txs: register(channels::TXS).await.expect(taken),
        };
        let path = self.state_path(i);
        let cfg = ValidatorConfig {
            genesis: &self.genesis,
            key: validator_keypair(i as u64),
            state_path: &path,
            mempool: MempoolLimits::default(),
            fault,
            execution_threads: threads,
        };
        launch(
            context.child("validator").with_attribute("index", i),
            cfg,
            self.oracle.manager(),
            control,
            ch,
        )
        .await
    }

    /// Starts validator `i` again, honest, once its aborted tasks have released its state file.
    pub async fn restart(
        &self,
        context: &deterministic::Context,
        i: usize,
        threads: usize,
    ) -> Result<Validator, StoreError> {
        loop {
            if let Ok(store) = Store::open(&self.state_path(i)) {
                drop(store);
                return self.start(context, i, ProposerFault::None, threads).await;
            }
            context.sleep(Duration::from_millis(100)).await;
        }
    }
}
