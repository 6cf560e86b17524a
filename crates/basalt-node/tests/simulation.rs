//! Deterministic simulations of a 4-validator L1 on commonware's simulated network: every run is
//! seeded and reproducible. Validators keep their state in redb files in a temporary directory.

use basalt_l1::{Action, Params, Transaction, ONE_TOKEN};
use basalt_node::consensus::application::ProposerFault;
use basalt_node::consensus::engine::{channels, max_message_size, Channels, EngineChannels};
use basalt_node::devnet::{
    consensus_key, dev_account, devnet_genesis, validator_keypair, DEVNET_CHAIN_ID,
};
use basalt_node::mempool::MempoolLimits;
use basalt_node::validator::{launch, Validator, ValidatorConfig};
use basalt_types::{Encode, Hash};
use commonware_cryptography::ed25519::PublicKey;
use commonware_cryptography::Signer as _;
use commonware_p2p::simulated::{self, Link, Network, Oracle};
use commonware_runtime::{deterministic, Clock, Quota, Runner as _, Supervisor as _};
use commonware_utils::{probability, NZUsize, NZU32};
use std::path::PathBuf;
use std::time::Duration;

const N: u64 = 4;

struct Sim {
    oracle: Oracle<PublicKey, deterministic::Context>,
    keys: Vec<PublicKey>,
    dir: tempfile::TempDir,
    genesis: basalt_l1::Genesis,
}

fn params() -> Params {
    Params {
        block_time_ms: 200,
        ..Params::default()
    }
}

impl Sim {
    async fn new(context: &deterministic::Context) -> Sim {
        let keys: Vec<PublicKey> = (0..N)
            .map(|i| consensus_key(&validator_keypair(i)).public_key())
            .collect();
        let (network, oracle) = Network::new_with_peers(
            context.child("network"),
            simulated::Config {
                max_size: max_message_size(N as u32),
                max_peers_per_set: NZUsize!(N as usize),
                disconnect_on_block: true,
                tracked_peer_sets: NZUsize!(1),
            },
            keys.clone(),
        )
        .await;
        network.start();
        let sim = Sim {
            oracle,
            keys,
            dir: tempfile::tempdir().unwrap(),
            genesis: devnet_genesis(N, params(), 1_000),
        };
        for a in 0..N as usize {
            for b in 0..N as usize {
                if a != b {
                    sim.link(a, b).await;
                }
            }
        }
        sim
    }

    async fn link(&self, a: usize, b: usize) {
        let link = Link {
            latency: Duration::from_millis(10),
            jitter: Duration::from_millis(2),
            success_rate: probability!(1.0),
        };
        self.oracle
            .add_link(self.keys[a].clone(), self.keys[b].clone(), link)
            .await
            .unwrap();
    }

    async fn cut(&self, a: usize, b: usize) {
        self.oracle
            .remove_link(self.keys[a].clone(), self.keys[b].clone())
            .await
            .unwrap();
    }

    fn state_path(&self, i: u64) -> PathBuf {
        self.dir.path().join(format!("validator-{i}.redb"))
    }

    async fn start(
        &self,
        context: &deterministic::Context,
        i: u64,
        fault: ProposerFault,
    ) -> Validator {
        let control = self.oracle.control(self.keys[i as usize].clone());
        let q = Quota::per_second(NZU32!(10_000));
        let ch = Channels {
            engine: EngineChannels {
                votes: control.register(channels::VOTES, q).await.unwrap(),
                certificates: control.register(channels::CERTIFICATES, q).await.unwrap(),
                resolver: control.register(channels::RESOLVER, q).await.unwrap(),
                blocks: control.register(channels::BLOCKS, q).await.unwrap(),
                backfill: control.register(channels::BACKFILL, q).await.unwrap(),
            },
            txs: control.register(channels::TXS, q).await.unwrap(),
        };
        let path = self.state_path(i);
        let cfg = ValidatorConfig {
            genesis: &self.genesis,
            key: validator_keypair(i),
            state_path: &path,
            mempool: MempoolLimits::default(),
            fault,
        };
        launch(
            context.child("validator").with_attribute("index", i),
            cfg,
            self.oracle.manager(),
            control,
            ch,
        )
        .await
        .expect("validator starts")
    }
}

fn height(v: &Validator) -> u64 {
    v.chain.lock().unwrap().state().head().height
}

async fn wait_for(context: &deterministic::Context, vs: &[&Validator], target: u64) {
    while vs.iter().any(|v| height(v) < target) {
        context.sleep(Duration::from_millis(50)).await;
    }
}

fn block_hash_at(v: &Validator, h: u64) -> Hash {
    v.chain
        .lock()
        .unwrap()
        .store()
        .block(h)
        .unwrap()
        .expect("finalized block")
        .hash()
}

fn transfer(from: u64, nonce: u64, to: u64) -> Vec<u8> {
    Transaction {
        chain_id: DEVNET_CHAIN_ID,
        nonce,
        max_fee_per_gas: 10_000_000_000,
        priority_fee_per_gas: 1,
        action: Action::Transfer {
            to: dev_account(to).public(),
            amount: ONE_TOKEN,
        },
    }
    .sign(&dev_account(from))
    .to_bytes()
}

#[test]
fn four_validators_finalize_identical_blocks_with_transfers() {
    deterministic::Runner::timed(Duration::from_secs(120)).start(|context| async move {
        let sim = Sim::new(&context).await;
        let mut vs = Vec::new();
        for i in 0..N {
            vs.push(sim.start(&context, i, ProposerFault::None).await);
        }
        for n in 0..20 {
            vs[(n % N) as usize]
                .chain
                .lock()
                .unwrap()
                .submit_local(&transfer(0, n, 1))
                .unwrap();
        }
        let refs: Vec<&Validator> = vs.iter().collect();
        wait_for(&context, &refs, 15).await;
        for h in 1..=15 {
            let expected = block_hash_at(&vs[0], h);
            for v in &vs[1..] {
                assert_eq!(
                    block_hash_at(v, h),
                    expected,
                    "validators disagree at height {h}"
                );
            }
        }
        // Transactions submitted to different validators are gossiped, so any leader can include them.
        let nonce = |v: &Validator| {
            v.chain
                .lock()
                .unwrap()
                .state()
                .account(&dev_account(0).public())
                .unwrap()
                .nonce
        };
        assert_eq!(nonce(&vs[0]), 20);
        for v in &vs {
            assert_eq!(nonce(v), 20);
        }
    });
}
