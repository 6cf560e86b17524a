//! Deterministic simulations of a 4-validator L1 on commonware's simulated network: every run is
//! seeded and reproducible. Validators keep their state in redb files in a temporary directory.

use basalt_l1::{Action, Params, Transaction, ONE_TOKEN};
use basalt_node::consensus::application::ProposerFault;
use basalt_node::devnet::{
    dev_account, dev_transfer, devnet_genesis, validator_keypair, DEVNET_CHAIN_ID,
};
use basalt_node::simnet::SimNet;
use basalt_node::validator::Validator;
use basalt_types::{Encode, Hash};
use commonware_p2p::simulated::Link;
use commonware_runtime::{deterministic, Clock, Runner as _};
use commonware_utils::probability;
use std::time::Duration;

const N: u64 = 4;

struct Sim {
    net: SimNet,
    _dir: tempfile::TempDir,
}

fn params() -> Params {
    Params {
        block_time_ms: 200,
        ..Params::default()
    }
}

/// A link of the simulated LAN: 10 ms, 2 ms jitter, nothing lost.
fn lan() -> Link {
    Link {
        latency: Duration::from_millis(10),
        jitter: Duration::from_millis(2),
        success_rate: probability!(1.0),
    }
}

/// Validator `i` verifies peers' blocks on 1 or 2 threads, so that both paths run.
fn threads(i: u64) -> usize {
    1 + i as usize % 2
}

impl Sim {
    async fn new(context: &deterministic::Context) -> Sim {
        Sim::with(context, N, devnet_genesis(N, params(), 1_000)).await
    }

    /// `nodes` nodes (dev validator keys 0..nodes) fully linked, on `genesis`.
    async fn with(
        context: &deterministic::Context,
        nodes: u64,
        genesis: basalt_l1::Genesis,
    ) -> Sim {
        let dir = tempfile::tempdir().unwrap();
        let net = SimNet::new(context, nodes as usize, genesis, dir.path()).await;
        net.link_all(|_, _| lan()).await.unwrap();
        Sim { net, _dir: dir }
    }

    async fn link(&self, a: usize, b: usize) {
        self.net.link(a, b, lan()).await.unwrap();
    }

    async fn cut(&self, a: usize, b: usize) {
        self.net.cut(a, b).await.unwrap();
    }

    async fn start(
        &self,
        context: &deterministic::Context,
        i: u64,
        fault: ProposerFault,
    ) -> Validator {
        let v = self.net.start(context, i as usize, fault, threads(i));
        v.await.expect("validator starts")
    }

    /// Starts validator `i` again once its aborted tasks have released the state database.
    async fn restart(&self, context: &deterministic::Context, i: u64) -> Validator {
        let v = self.net.restart(context, i as usize, threads(i));
        v.await.expect("validator restarts")
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

/// Stops `vs[index]` and waits until the others finalize `blocks` past it; returns its height.
async fn crash_and_wait(
    context: &deterministic::Context,
    vs: &mut Vec<Validator>,
    index: usize,
    blocks: u64,
) -> u64 {
    let crashed = vs.remove(index);
    crashed.abort();
    let at = height(&crashed);
    drop(crashed);
    let live: Vec<&Validator> = vs.iter().collect();
    wait_for(context, &live, at + blocks).await;
    at
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
                .submit_local(&dev_transfer(0, n, 1))
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

async fn start_all(sim: &Sim, context: &deterministic::Context) -> Vec<Validator> {
    let mut vs = Vec::new();
    for i in 0..N {
        vs.push(sim.start(context, i, ProposerFault::None).await);
    }
    vs
}

fn assert_same_chain(vs: &[&Validator], through: u64) {
    for h in 1..=through {
        let expected = block_hash_at(vs[0], h);
        for v in &vs[1..] {
            assert_eq!(
                block_hash_at(v, h),
                expected,
                "validators disagree at height {h}"
            );
        }
    }
}

#[test]
fn a_partition_without_quorum_halts_finality_and_healing_resumes_it() {
    deterministic::Runner::timed(Duration::from_secs(300)).start(|context| async move {
        let sim = Sim::new(&context).await;
        let vs = start_all(&sim, &context).await;
        let refs: Vec<&Validator> = vs.iter().collect();
        wait_for(&context, &refs, 5).await;
        // Split {0,1} from {2,3}: neither side has the 3 votes a quorum needs.
        for (a, b) in [(0, 2), (0, 3), (1, 2), (1, 3)] {
            sim.cut(a, b).await;
            sim.cut(b, a).await;
        }
        context.sleep(Duration::from_secs(1)).await; // let in-flight votes land
        let stalled = refs.iter().map(|v| height(v)).max().unwrap();
        context.sleep(Duration::from_secs(10)).await;
        assert_eq!(
            refs.iter().map(|v| height(v)).max().unwrap(),
            stalled,
            "finality without quorum"
        );
        for (a, b) in [(0, 2), (0, 3), (1, 2), (1, 3)] {
            sim.link(a, b).await;
            sim.link(b, a).await;
        }
        wait_for(&context, &refs, stalled + 10).await;
        assert_same_chain(&refs, stalled + 10);
    });
}

#[test]
fn three_validators_keep_finalizing_while_one_is_down() {
    deterministic::Runner::timed(Duration::from_secs(300)).start(|context| async move {
        let sim = Sim::new(&context).await;
        let vs = start_all(&sim, &context).await;
        let refs: Vec<&Validator> = vs.iter().collect();
        wait_for(&context, &refs, 5).await;
        vs[3].abort();
        let at = height(&vs[0]);
        let live: Vec<&Validator> = vs[..3].iter().collect();
        for n in 0..5 {
            vs[0]
                .chain
                .lock()
                .unwrap()
                .submit_local(&dev_transfer(2, n, 3))
                .unwrap();
        }
        wait_for(&context, &live, at + 15).await;
        assert_same_chain(&live, at + 15);
        let nonce = vs[1]
            .chain
            .lock()
            .unwrap()
            .state()
            .account(&dev_account(2).public())
            .unwrap()
            .nonce;
        assert_eq!(nonce, 5);
    });
}

#[test]
fn a_crashed_validator_restarts_from_disk_and_catches_up_from_peers() {
    deterministic::Runner::timed(Duration::from_secs(300)).start(|context| async move {
        let sim = Sim::new(&context).await;
        let mut vs = start_all(&sim, &context).await;
        {
            let refs: Vec<&Validator> = vs.iter().collect();
            wait_for(&context, &refs, 8).await;
        }
        let crashed_height = crash_and_wait(&context, &mut vs, 3, 20).await;
        let restarted = sim.restart(&context, 3).await;
        assert!(
            height(&restarted) >= crashed_height,
            "state recovered from disk, not from genesis"
        );
        let target = height(&vs[0]) + 5;
        vs.push(restarted);
        let refs: Vec<&Validator> = vs.iter().collect();
        wait_for(&context, &refs, target).await;
        assert_same_chain(&refs, target);
        let roots: Vec<Hash> = refs
            .iter()
            .map(|v| {
                v.chain
                    .lock()
                    .unwrap()
                    .store()
                    .block(target)
                    .unwrap()
                    .unwrap()
                    .header
                    .state_root
            })
            .collect();
        assert!(roots.windows(2).all(|w| w[0] == w[1]));
    });
}

#[test]
fn blocks_from_a_proposer_that_lies_about_state_are_never_finalized() {
    deterministic::Runner::timed(Duration::from_secs(300)).start(|context| async move {
        let sim = Sim::new(&context).await;
        let mut vs = Vec::new();
        for i in 0..N {
            let fault = if i == 3 {
                ProposerFault::CorruptStateRoot
            } else {
                ProposerFault::None
            };
            vs.push(sim.start(&context, i, fault).await);
        }
        let honest: Vec<&Validator> = vs[..3].iter().collect();
        wait_for(&context, &honest, 20).await;
        assert_same_chain(&honest, 20);
        let liar = validator_keypair(3).public();
        for h in 1..=20 {
            let b = vs[0]
                .chain
                .lock()
                .unwrap()
                .store()
                .block(h)
                .unwrap()
                .unwrap();
            assert_ne!(
                b.header.proposer, liar,
                "a corrupt block was finalized at height {h}"
            );
        }
    });
}

fn proposer_at(v: &Validator, h: u64) -> basalt_types::PublicKey {
    v.chain
        .lock()
        .unwrap()
        .store()
        .block(h)
        .unwrap()
        .expect("finalized block")
        .header
        .proposer
}

fn staking(from: u64, nonce: u64, action: Action) -> Vec<u8> {
    Transaction {
        chain_id: DEVNET_CHAIN_ID,
        nonce,
        max_fee_per_gas: 10_000_000_000,
        priority_fee_per_gas: 1,
        gas_limit: action.intrinsic_gas(),
        action,
    }
    .sign(&validator_keypair(from))
    .to_bytes()
}

#[test]
fn the_committee_changes_at_epoch_boundaries_and_a_node_down_for_epochs_catches_up() {
    deterministic::Runner::timed(Duration::from_secs(600)).start(|context| async move {
        // Five nodes, a committee of four chosen every 10 blocks. Node 4 starts outside the committee
        // and stakes; validator 0 unstakes everything. Both pay fees, so both hold a balance.
        let p = Params {
            epoch_length: 10,
            max_validators: 4,
            ..params()
        };
        let min_stake = p.min_stake;
        let mut genesis = devnet_genesis(N, p, 1_000);
        for i in [0, 4] {
            genesis.accounts.push(basalt_l1::GenesisAccount {
                key: validator_keypair(i).public(),
                balance: 100 * min_stake,
            });
        }
        let sim = Sim::with(&context, 5, genesis).await;
        let mut vs = Vec::new();
        for i in 0..5 {
            vs.push(sim.start(&context, i, ProposerFault::None).await);
        }
        {
            let refs: Vec<&Validator> = vs.iter().collect();
            wait_for(&context, &refs, 2).await;
        }
        for tx in [
            staking(
                4,
                0,
                Action::Stake {
                    amount: 20 * min_stake,
                },
            ),
            staking(
                0,
                0,
                Action::Unstake {
                    amount: 10 * min_stake,
                },
            ),
        ] {
            vs[1].chain.lock().unwrap().submit_local(&tx).unwrap();
        }
        {
            let refs: Vec<&Validator> = vs.iter().collect();
            wait_for(&context, &refs, 35).await;
            assert_same_chain(&refs, 35);
        }
        let key = |i: u64| validator_keypair(i).public();
        let mut new_committee: Vec<_> = (1..5).map(key).collect();
        new_committee.sort();
        assert_eq!(
            vs[0].chain.lock().unwrap().state().committee(),
            new_committee.as_slice()
        );
        // The epoch after the one in which both transactions landed is led only by the new
        // committee, and the newcomer proposes some of its blocks.
        let included = |action: Action| {
            (1..=35u64)
                .find(|&h| {
                    let c = vs[0].chain.lock().unwrap();
                    let b = c.store().block(h).unwrap().unwrap();
                    b.txs.iter().any(|t| t.tx.action == action)
                })
                .expect("the staking transactions were included")
        };
        let landed = included(Action::Stake {
            amount: 20 * min_stake,
        })
        .max(included(Action::Unstake {
            amount: 10 * min_stake,
        }));
        let first_new = (landed / 10 + 1) * 10;
        let proposers: Vec<_> = (first_new..=35).map(|h| proposer_at(&vs[0], h)).collect();
        assert!(
            proposers.len() >= 5,
            "the stake landed too late for this test"
        );
        assert!(proposers.iter().all(|p| new_committee.contains(p)));
        assert!(proposers.contains(&key(4)), "the newcomer never proposed");
        assert!(
            !proposers.contains(&key(0)),
            "the validator that left still proposed"
        );

        // Validator 1 goes down for several epochs; three of the four members keep finalizing.
        crash_and_wait(&context, &mut vs, 1, 30).await;
        let restarted = sim.restart(&context, 1).await;
        let target = height(&vs[0]) + 15;
        vs.push(restarted);
        let refs: Vec<&Validator> = vs.iter().collect();
        wait_for(&context, &refs, target).await;
        assert_same_chain(&refs, target);
    });
}

#[test]
fn a_byzantine_leader_including_torsion_signatures_cannot_split_honest_validators() {
    // Under the old pair of rules a signature on a torsion key passed the batch check for some
    // subsets of a block and failed strict checks: a validator that had verified some of the
    // block's transactions at admission batched a different subset from one that had not. With
    // one rule every validator reaches the same verdict, here "valid", and they stay together.
    use basalt_types::testing::TorsionSigner;
    deterministic::Runner::timed(Duration::from_secs(300)).start(|context| async move {
        let signer = TorsionSigner::new(b"byzantine");
        let mut genesis = devnet_genesis(N, params(), 1_000);
        genesis.accounts.push(basalt_l1::GenesisAccount {
            key: signer.public(),
            balance: 1_000 * ONE_TOKEN,
        });
        let crafted: Vec<basalt_l1::SignedTransaction> = (0..4)
            .map(|nonce| {
                let mut t = Transaction {
                    chain_id: DEVNET_CHAIN_ID,
                    nonce,
                    max_fee_per_gas: 10_000_000_000,
                    priority_fee_per_gas: 1,
                    gas_limit: basalt_l1::TRANSFER_GAS,
                    action: Action::Transfer {
                        to: dev_account(5).public(),
                        amount: ONE_TOKEN,
                    },
                }
                .sign(&dev_account(0));
                t.signer = signer.public();
                t.signature = signer.sign(&t.signing_hash().0);
                t
            })
            .collect();
        let sim = Sim::with(&context, N, genesis).await;
        let mut vs = Vec::new();
        for i in 0..N {
            let fault = match i {
                3 => ProposerFault::IncludeFirst(std::sync::Arc::new(crafted.clone())),
                _ => ProposerFault::None,
            };
            vs.push(sim.start(&context, i, fault).await);
        }
        // One honest validator already holds the first crafted transaction in its mempool, so it
        // verifies the leader's block with a different batch than the others.
        vs[0]
            .chain
            .lock()
            .unwrap()
            .admit(crafted[0].clone().verify().unwrap())
            .unwrap();
        let all: Vec<&Validator> = vs.iter().collect();
        wait_for(&context, &all, 20).await;
        assert_same_chain(&all, 20);
        for v in &vs {
            let chain = v.chain.lock().unwrap();
            assert_eq!(
                chain.state().account(&signer.public()).unwrap().nonce,
                4,
                "every crafted transaction was finalized"
            );
        }
    });
}
