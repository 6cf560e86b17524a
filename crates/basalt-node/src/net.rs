//! Production networking: authenticated, encrypted p2p (commonware `lookup`) between validators whose
//! addresses are known from configuration. Every channel is rate-limited per peer and every message is
//! bounded by [`max_message_size`]; peers outside the validator set cannot connect.

use crate::consensus::application::ProposerFault;
use crate::consensus::engine::{channels, max_message_size, Channels, EngineChannels};
use crate::mempool::MempoolLimits;
use crate::validator::{launch, Validator, ValidatorConfig};
use basalt_l1::Genesis;
use basalt_types::Keypair;
use commonware_cryptography::ed25519::PublicKey;
use commonware_cryptography::ChaCha20Poly1305;
use commonware_p2p::authenticated::lookup;
use commonware_p2p::{Address, AddressableManager as _};
use commonware_runtime::{
    tokio as cw_tokio, Clock as _, Metrics as _, Spawner as _, Supervisor as _,
};
use commonware_stream::cups::{self, Cups};
use commonware_stream::sake::{self, Sake};
use commonware_utils::ordered::Map;
use commonware_utils::NZUsize;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

/// Namespace of p2p handshakes.
pub const P2P_NAMESPACE: &[u8] = b"basalt-l1-p2p";

/// A validator's network identity and address.
#[derive(Debug, Clone)]
pub struct Peer {
    /// Its account (and consensus) key.
    pub key: basalt_types::PublicKey,
    /// Where it listens for p2p.
    pub address: SocketAddr,
}

/// Why a networked validator cannot start.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// A peer's key is not a valid ed25519 key.
    #[error("peer key {0} is not a valid ed25519 key")]
    BadPeerKey(basalt_types::PublicKey),
    /// The peer list names a key twice.
    #[error("duplicate peer key in the peer list")]
    DuplicatePeer,
    /// The validator's store cannot be opened or read.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Starts p2p and a validator on the tokio runtime, verifying peers' blocks on
/// `execution_threads` threads.
pub async fn start_networked_validator(
    context: &cw_tokio::Context,
    genesis: &Genesis,
    key: Keypair,
    state_path: &Path,
    listen: SocketAddr,
    peers: &[Peer],
    execution_threads: usize,
) -> Result<Validator, NetError> {
    let signer = crate::devnet::consensus_key(&key);
    let mut set = Vec::with_capacity(peers.len());
    for p in peers {
        let pk =
            crate::devnet::consensus_public_key(&p.key).map_err(|_| NetError::BadPeerKey(p.key))?;
        set.push((pk, Address::from(p.address)));
    }
    let set: Map<PublicKey, Address> = Map::try_from(set).map_err(|_| NetError::DuplicatePeer)?;
    let handshake = Cups::<_, ChaCha20Poly1305>::new(
        Sake {
            signer,
            synchrony_bound: Duration::from_secs(5),
            max_handshake_age: Duration::from_secs(10),
            version: sake::Version::V1,
        },
        cups::Version::V1,
    );
    let n = peers.len().max(1);
    let cfg = lookup::Config::local(
        handshake,
        P2P_NAMESPACE,
        listen,
        NZUsize!(n),
        max_message_size(n as u32),
        NZUsize!(4096),
    );
    let label = context.child("p2p").with_attribute("listen", listen);
    let (mut network, mut oracle) = lookup::Network::new(label, cfg);
    oracle.track(0, set);
    let mut register = |c| network.register(c, channels::quota(c));
    let ch = Channels {
        engine: EngineChannels {
            votes: register(channels::VOTES),
            certificates: register(channels::CERTIFICATES),
            resolver: register(channels::RESOLVER),
            blocks: register(channels::BLOCKS),
            backfill: register(channels::BACKFILL),
        },
        txs: register(channels::TXS),
    };
    network.start();
    let gauge = metrics::gauge!("basalt_l1_peers", "validator" => crate::metrics::validator_name(&key.public().0));
    context
        .child("peers")
        .spawn(move |ctx| sample_connected_peers(ctx, listen, gauge));
    let cfg = ValidatorConfig {
        genesis,
        key,
        state_path,
        mempool: MempoolLimits::default(),
        fault: ProposerFault::None,
        execution_threads,
    };
    let ctx = context.child("validator").with_attribute("listen", listen);
    Ok(launch(ctx, cfg, oracle.clone(), oracle, ch).await?)
}

/// How often the connected-peer gauge is refreshed.
const PEER_SAMPLE_INTERVAL: Duration = Duration::from_secs(2);

/// Keeps `gauge` at the number of peers the p2p network listening on `listen` is connected to,
/// read from the network's own metrics (it keeps one `connected` series per live connection).
async fn sample_connected_peers(ctx: cw_tokio::Context, listen: SocketAddr, gauge: metrics::Gauge) {
    loop {
        let text = ctx.encode();
        gauge.set(connected_peers(&text, listen) as f64);
        ctx.sleep(PEER_SAMPLE_INTERVAL).await;
    }
}

/// Counts the `connected` series of the p2p network on `listen` in a Prometheus text encoding.
fn connected_peers(encoded: &str, listen: SocketAddr) -> usize {
    let attribute = format!("listen=\"{listen}\"");
    encoded
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            let name = l.split(['{', ' ']).next().unwrap_or_default();
            name.starts_with("p2p") && name.ends_with("_connected") && l.contains(&attribute)
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peer_gauge_counts_live_connections_of_its_own_network_only() {
        // The p2p network's own encoding, as `basalt up` serves it (two of its four networks).
        let encoded = "\
# HELP p2p_tracker_directory_connected Unix timestamp in milliseconds when each connected peer became active.
# TYPE p2p_tracker_directory_connected gauge
p2p_tracker_directory_connected{listen=\"127.0.0.1:30300\",peer=\"359d\"} 1796175761338
p2p_tracker_directory_connected{listen=\"127.0.0.1:30300\",peer=\"6b76\"} 1796175761082
p2p_tracker_directory_connected{listen=\"127.0.0.1:30301\",peer=\"6b76\"} 1796175765589
p2p_tracker_directory_tracked{listen=\"127.0.0.1:30300\"} 3
";
        let at = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
        assert_eq!(connected_peers(encoded, at(30300)), 2);
        assert_eq!(connected_peers(encoded, at(30301)), 1);
        assert_eq!(connected_peers(encoded, at(30302)), 0);
    }
}
