//! A ZK rollup's node end to end over JSON-RPC, in one process: an L1 node core finalizing a block
//! every 20 ms; a ZK sequencer node that sequences, posts batches without signatures, proves each
//! one with a real Groth16 proof and settles it; a verifier node that rebuilds the state from L1
//! data alone. Deposit -> L2 transfer and withdrawal -> proven -> claim on L1, with no window.
//! The keys are the insecure development setup of a 2-slot circuit (devnet and tests only).

mod net;

use basalt_l1::{Action, RollupKind, RollupParams, ZkParams, ONE_TOKEN};
use basalt_l2::{unchecked_signature, L2Tx, Zk};
use basalt_node::devnet::{dev_account, dev_sequencer};
use basalt_rollup::{BatcherConfig, NodeConfig, Role, RollupNode};
use basalt_types::zk::BabyKeypair;
use basalt_types::{Amount, Encode, Hash, PublicKey};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use net::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

const SLOTS: usize = 2;
/// An L2 fee above what the sequencer asks even at the test L1's initial 1 gwei base fee (and as
/// much again in tip): a lone transaction pays its batch's post and proof, about 5.2e6 gas, 1e16.
const FEE: Amount = 50_000_000_000_000_000;
/// The rollup's registered minimum: the floor of its execution price.
const MIN_FEE: Amount = 1_000;

fn alice() -> BabyKeypair {
    BabyKeypair::dev(b"zknode-test/alice")
}

fn fee_key() -> BabyKeypair {
    BabyKeypair::dev(b"zknode-test/fees")
}

/// Where the tests' development keys are cached (shared with the L1's ZK tests).
fn key_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

/// Registers `gamma`, a ZK rollup with the 2-slot circuit's development verifying key.
async fn register(l1: &L1) {
    let keys = basalt_zk::keys::KeyCache::new(key_dir())
        .load_or_setup(SLOTS, |_| {})
        .expect("setup");
    let params = RollupParams {
        name: "gamma".into(),
        kind: RollupKind::Zk(ZkParams {
            fee_key: fee_key().public(),
            slots: SLOTS as u32,
            verifying_key: basalt_zk::verifying_key_bytes(&keys.verifying),
        }),
        sequencer: dev_sequencer(0).public(),
        challenge_window: 8,
        proposer_bond: ONE_TOKEN,
        min_fee: MIN_FEE,
        clock_extension: 4,
        dispute_bond: ONE_TOKEN,
        slash_reward_percent: 50,
        force_inclusion_blocks: 1_000,
        escape_blocks: 1_000_000,
        fee_model: basalt_l1::FeeModel::Fixed,
    };
    l1.run(&dev_sequencer(0), Action::RegisterRollup { params })
        .await
        .unwrap();
}

fn node_config(l1: &L1, role: Role, dir: &Path) -> NodeConfig {
    NodeConfig {
        l1_rpc: l1.url.clone(),
        rollup: "gamma".into(),
        role,
        data_dir: dir.to_path_buf(),
        rpc: "127.0.0.1:0".parse().unwrap(),
        key: None,
        propose: None,
        challenge: None,
        fault: None,
        censor: None,
        block_time_ms: 20,
        l1_poll_ms: 20,
        zk_keys: Some(key_dir()),
        batcher: BatcherConfig {
            max_delay_ms: 100,
            ..BatcherConfig::default()
        },
    }
}

async fn start(cfg: NodeConfig) -> Result<(RollupNode, HttpClient), String> {
    let key = (cfg.role == Role::Sequencer).then(|| dev_sequencer(0));
    let node = basalt_rollup::start(cfg, key)
        .await
        .map_err(|e| e.to_string())?;
    let client = HttpClientBuilder::default()
        .build(format!("http://{}", node.rpc_addr))
        .unwrap();
    Ok((node, client))
}

fn hex_tx(tx: &L2Tx<Zk>) -> String {
    format!("0x{}", hex::encode(tx.to_bytes()))
}

/// Alice's L2 account as `(index, balance, nonce)`, once it exists.
async fn account(c: &HttpClient) -> Option<(u32, Amount, u64)> {
    let key = format!("0x{}", hex::encode(alice().public().to_bytes()));
    let a = call(c, "l2_getAccount", rpc_params![key]).await.ok()?;
    Some((
        a["index"].as_u64()? as u32,
        a["balance"].as_str()?.parse().ok()?,
        a["nonce"].as_u64()?,
    ))
}

async fn info(c: &HttpClient) -> Value {
    call(c, "l2_chainInfo", rpc_params![]).await.unwrap()
}

/// Sends `tx` and returns its hash.
async fn send(c: &HttpClient, tx: &L2Tx<Zk>) -> String {
    let r = call(c, "l2_sendTransaction", rpc_params![hex_tx(tx)])
        .await
        .unwrap();
    r["hash"].as_str().unwrap().to_string()
}

/// Waits until transaction `hash` has status `status`; returns what the node says of it.
async fn reaches(c: &HttpClient, hash: &str, status: &str) -> Value {
    eventually(status, || async {
        let s = call(c, "l2_getTransaction", rpc_params![hash]).await.ok()?;
        (s["status"] == status).then_some(s)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zk_rollup_is_proven_batch_by_batch_and_pays_withdrawals_at_the_proof() {
    let l1 = l1().await;
    register(&l1).await;
    let bob = dev_account(1);
    let deposit = Action::Deposit {
        rollup: 0,
        account: None,
        key: PublicKey(alice().public().to_bytes().try_into().unwrap()),
        amount: ONE_TOKEN,
    };
    l1.run(&bob, deposit).await.unwrap();
    let (seq_dir, ver_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (seq_node, seq) = start(node_config(&l1, Role::Sequencer, seq_dir.path()))
        .await
        .unwrap();
    let (ver_node, ver) = start(node_config(&l1, Role::Verifier, ver_dir.path()))
        .await
        .unwrap();
    let (index, balance, _) = eventually("alice's deposit on L2", || account(&seq)).await;
    assert_eq!((index, balance), (1, ONE_TOKEN));
    // A transfer to the fee account and a withdrawal to Bob's L1 account.
    let transfer = L2Tx::Transfer {
        from: 1,
        to: 0,
        amount: 5_000,
        fee: FEE,
        nonce: 0,
        signature: unchecked_signature(),
    }
    .signed_zk(0, &alice());
    let withdraw = L2Tx::Withdraw {
        from: 1,
        recipient: bob.public(),
        amount: ONE_TOKEN / 2,
        fee: FEE,
        nonce: 1,
        signature: unchecked_signature(),
    }
    .signed_zk(0, &alice());
    let t = send(&seq, &transfer).await;
    let w = send(&seq, &withdraw).await;
    // A transaction signed by someone else is refused at the door.
    let forged = L2Tx::Transfer {
        from: 1,
        to: 0,
        amount: 1,
        fee: FEE,
        nonce: 2,
        signature: unchecked_signature(),
    }
    .signed_zk(0, &fee_key());
    let e = call(&seq, "l2_sendTransaction", rpc_params![hex_tx(&forged)])
        .await
        .expect_err("a forged signature is refused");
    assert!(e.contains("bad signature"), "{e}");
    let f = forged.hash().to_hex();
    assert_eq!(
        call(&seq, "l2_getTransaction", rpc_params![f])
            .await
            .unwrap()["status"],
        "unknown",
        "it never entered the queue"
    );
    let t = reaches(&seq, &t, "proven").await;
    assert!(t["provenAt"].as_u64().is_some());
    let w = reaches(&seq, &w, "proven").await;
    let windex = w["withdrawalIndex"].as_u64().unwrap();
    // The verifier reaches the same state from L1 data alone and serves the claim.
    let proof = eventually("the claim at the verifier", || async {
        let p = call(&ver, "l2_getWithdrawalProof", rpc_params![windex])
            .await
            .ok()?;
        (p["ready"] == true).then_some(p)
    })
    .await;
    let before = l1.balance(&bob.public()).await;
    let claim = claim_of(&proof["claim"]);
    assert_eq!(claim.recipient, bob.public());
    assert_eq!(claim.amount, ONE_TOKEN / 2);
    l1.run(&bob, Action::FinalizeWithdrawal(claim.clone()))
        .await
        .unwrap();
    assert!(
        l1.balance(&bob.public()).await > before,
        "paid at the proof"
    );
    assert!(
        l1.run(&bob, Action::FinalizeWithdrawal(claim))
            .await
            .is_err(),
        "a claim is paid once"
    );
    let (s, v) = (info(&seq).await, info(&ver).await);
    assert_eq!(s["kind"], "zk");
    assert_eq!(s["derived"]["output"], v["derived"]["output"]);
    assert_eq!(v["derived"]["stuck"], Value::Null);
    assert!(s["prover"]["proven"].as_u64().unwrap() >= 1);
    assert_eq!(s["prover"]["error"], Value::Null);
    assert_eq!(v["prover"], Value::Null, "a verifier proves nothing");
    // The sequencer stopped and restarted resumes where the L1 stands, and goes on proving.
    seq_node.stop();
    let (seq_node, seq) = start(node_config(&l1, Role::Sequencer, seq_dir.path()))
        .await
        .unwrap();
    let again = L2Tx::Transfer {
        from: 1,
        to: 0,
        amount: 7,
        fee: FEE,
        nonce: 2,
        signature: unchecked_signature(),
    }
    .signed_zk(0, &alice());
    let a = send(&seq, &again).await;
    reaches(&seq, &a, "proven").await;
    // A transfer forced in through the L1 (as a censored user would) is sequenced, proven and
    // derived like any other; the L1 checked alice's signature before it queued it.
    let forced = L2Tx::Transfer {
        from: 1,
        to: 0,
        amount: 11,
        fee: FEE,
        nonce: 3,
        signature: unchecked_signature(),
    }
    .signed_zk(0, &alice());
    let force = Action::ForceInclude {
        rollup: 0,
        key: PublicKey(alice().public().to_bytes().try_into().unwrap()),
        tx: forced.to_bytes(),
    };
    l1.run(&bob, force).await.unwrap();
    // The L1's counts and the derivation meet once a read completes: nothing is left unproven.
    eventually("every posted batch proven", || async {
        let s = info(&seq).await;
        (s["prover"]["lagBatches"] == 0 && s["l1"]["batches"] == s["l1"]["proven"]).then_some(())
    })
    .await;
    // Four transactions applied (one forced), each with its fee; the forged one cost nothing.
    let expected = ONE_TOKEN - 5_000 - ONE_TOKEN / 2 - 7 - 11 - 4 * FEE;
    let balance = eventually("the verifier at alice's last transaction", || async {
        let (_, balance, nonce) = account(&ver).await?;
        (nonce == 4).then_some(balance)
    })
    .await;
    assert_eq!(balance, expected);
    seq_node.stop();
    ver_node.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zk_sequencer_with_a_corrupt_key_cache_stops_with_a_clear_error() {
    let l1 = l1().await;
    register(&l1).await;
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let file = basalt_zk::keys::KeyCache::new(&keys).path(SLOTS);
    std::fs::write(file, b"not a key").unwrap();
    let mut cfg = node_config(&l1, Role::Sequencer, dir.path());
    cfg.zk_keys = Some(keys);
    let e = start(cfg).await.err().expect("refused");
    assert!(e.contains("corrupt"), "{e}");
}

/// The state after batch 0 when it applies alice's deposit alone (what a sequencer posts first
/// when no L2 transaction comes), and the witness of that batch.
fn first_batch() -> (Hash, basalt_zk::batch::BatchWitness) {
    let config = basalt_l2::Config {
        rollup_id: 0,
        min_fee: MIN_FEE,
    };
    let genesis = basalt_l2::L2State::<Zk>::genesis(config, fee_key().public());
    let entries = [basalt_l2::DepositEntry {
        forced: None,
        account: None,
        key: alice().public(),
        amount: ONE_TOKEN,
    }];
    let window = basalt_l2::DepositWindow {
        first: 0,
        entries: &entries,
    };
    let txs = [L2Tx::Deposit { index: 0 }];
    let w = basalt_zk::batch::BatchWitness::build(&genesis, &window, &txs, SLOTS).unwrap();
    (basalt_l1::felt_hash(w.new_output), w)
}

/// Deposits for alice and starts a sequencer whose proofs directory holds `saved` for batch 0
/// (the output it proves, then the proof bytes); returns once batch 0 is proven on L1.
async fn sequencer_with_saved_proof(saved: Vec<u8>) -> (L1, tempfile::TempDir, RollupNode, Value) {
    let l1 = l1().await;
    register(&l1).await;
    let deposit = Action::Deposit {
        rollup: 0,
        account: None,
        key: PublicKey(alice().public().to_bytes().try_into().unwrap()),
        amount: ONE_TOKEN,
    };
    l1.run(&dev_account(1), deposit).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let proofs = dir.path().join("proofs");
    std::fs::create_dir_all(&proofs).unwrap();
    std::fs::write(proofs.join("batch-0.proof"), saved).unwrap();
    let (node, seq) = start(node_config(&l1, Role::Sequencer, dir.path()))
        .await
        .unwrap();
    let s = eventually("batch 0 proven", || async {
        let s = info(&seq).await;
        (s["l1"]["proven"] == 1).then_some(s)
    })
    .await;
    // The prover removes it on its next round after the proof settles.
    eventually("the settled batch's saved proof removed", || async {
        (!proofs.join("batch-0.proof").exists()).then_some(())
    })
    .await;
    (l1, dir, node, s)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proof_saved_before_a_restart_is_sent_not_made_again() {
    let (output, witness) = first_batch();
    let keys = basalt_zk::keys::KeyCache::new(key_dir())
        .load_or_setup(SLOTS, |_| {})
        .unwrap();
    let prover = basalt_zk::batch::batch_prover(keys.proving, SLOTS).unwrap();
    let proof = basalt_zk::batch::prove_batch(&prover, witness).unwrap();
    let (_l1, _dir, node, s) = sequencer_with_saved_proof([&output.0[..], &proof].concat()).await;
    assert_eq!(s["prover"]["reused"], 1);
    assert_eq!(s["prover"]["proven"], 0, "nothing was proven again");
    node.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_proof_the_l1_refuses_is_made_again() {
    let (output, _) = first_batch();
    let garbage = [&output.0[..], &[7u8; basalt_zk::PROOF_BYTES]].concat();
    let (_l1, _dir, node, s) = sequencer_with_saved_proof(garbage).await;
    assert_eq!(s["prover"]["reused"], 1, "the saved proof was tried");
    assert_eq!(s["prover"]["proven"], 1, "then made again");
    node.stop();
}
