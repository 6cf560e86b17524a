//! The rollup node end to end over JSON-RPC, in one process: an L1 node core serving its RPC and
//! finalizing a block every few milliseconds; a sequencer node and a verifier node that know the L1
//! only through that RPC; users that speak only the L2 RPC and the L1 RPC.
//!
//! Deposit -> L2 transfers -> withdraw -> settle -> claim, with bad input refused at each step;
//! the verifier reaches the sequencer's outputs from L1 data alone; the bridge invariant holds;
//! a sequencer stopped and restarted loses nothing and posts nothing twice.

use basalt_l1::{Action, Claims, RollupKind, RollupParams, ONE_TOKEN};
use basalt_l2::{L2Tx, Optimistic};
use basalt_node::devnet::{dev_account, dev_sequencer};
use basalt_rollup::l1client::L1Error;
use basalt_rollup::{NodeConfig, Role, RollupNode, RollupRef};
use basalt_types::{Amount, Encode, Hash, Keypair, Signature};
use jsonrpsee::core::client::{Subscription, SubscriptionClientT};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use jsonrpsee::ws_client::WsClientBuilder;
use serde_json::{json, Value};
use std::path::Path;

mod net;

use net::*;

type P = Optimistic;
const WINDOW: u64 = 8;
/// An L2 fee above what the sequencer asks even at the test L1's initial 1 gwei base fee (and as
/// much again in tip): a lone transaction pays its batch's post and output, 110,000 gas, 2.2e14.
const FEE: Amount = 1_000_000_000_000_000;
/// The rollup's registered minimum: the floor of its execution price.
const MIN_FEE: Amount = 1_000;

async fn start(l1: &L1, role: Role, dir: &Path) -> (RollupNode, HttpClient) {
    start_with(node_config(l1, role, dir)).await
}

async fn start_with(cfg: NodeConfig) -> (RollupNode, HttpClient) {
    let key = (cfg.role == Role::Sequencer).then(|| dev_sequencer(0));
    start_keyed(cfg, key).await
}

async fn start_keyed(cfg: NodeConfig, key: Option<Keypair>) -> (RollupNode, HttpClient) {
    let node = basalt_rollup::start(cfg, key).await.unwrap();
    let client = HttpClientBuilder::default()
        .build(format!("http://{}", node.rpc_addr))
        .unwrap();
    (node, client)
}

fn hex_tx(tx: &L2Tx<P>) -> String {
    format!("0x{}", hex::encode(tx.to_bytes()))
}

fn transfer(from: u32, to: u32, amount: Amount, nonce: u64, signer: &Keypair) -> L2Tx<P> {
    L2Tx::Transfer {
        from,
        to,
        amount,
        fee: FEE,
        nonce,
        signature: Signature([0; 64]),
    }
    .signed(0, signer)
}

async fn account(c: &HttpClient, key: &Keypair) -> Option<(u32, Amount, u64)> {
    let a = call(c, "l2_getAccount", rpc_params![key.public().to_hex()])
        .await
        .ok()?;
    Some((
        a["index"].as_u64()? as u32,
        a["balance"].as_str()?.parse().ok()?,
        a["nonce"].as_u64()?,
    ))
}

async fn status(c: &HttpClient, hash: &str) -> Value {
    call(c, "l2_getTransaction", rpc_params![hash])
        .await
        .unwrap()
}

/// `who` deposits one token into rollup 0 for its own L2 key.
async fn deposit_one_token(l1: &L1, who: &Keypair) {
    let deposit = Action::Deposit {
        rollup: 0,
        account: None,
        key: who.public(),
        amount: ONE_TOKEN,
    };
    l1.run(who, deposit).await.unwrap();
}

async fn register(l1: &L1) {
    register_with(l1, WINDOW, 4).await
}

async fn register_with(l1: &L1, window: u64, clock_extension: u64) {
    l1.run(
        &dev_sequencer(0),
        Action::RegisterRollup {
            params: RollupParams {
                name: "alpha".into(),
                kind: RollupKind::Optimistic,
                sequencer: dev_sequencer(0).public(),
                challenge_window: window,
                proposer_bond: ONE_TOKEN,
                min_fee: MIN_FEE,
                clock_extension,
                dispute_bond: ONE_TOKEN,
                slash_reward_percent: 50,
                force_inclusion_blocks: 1_000,
                escape_blocks: 1_000_000,
                fee_model: basalt_l1::FeeModel::Fixed,
            },
        },
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verifier_reports_a_proposed_output_that_does_not_match_l1_data() {
    let l1 = l1().await;
    register(&l1).await;
    let alice = dev_account(1);
    deposit_one_token(&l1, &alice).await;
    // A sequencer that posts batches but leaves proposing to others.
    let (seq_dir, ver_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut cfg = node_config(&l1, Role::Sequencer, seq_dir.path());
    cfg.propose = Some(false);
    let (seq_node, _) = start_with(cfg).await;
    let (ver_node, ver) = start(&l1, Role::Verifier, ver_dir.path()).await;
    let r = eventually("the first batch on L1", || async {
        let r = l1.client.rollup(&RollupRef::Id(0)).await.unwrap();
        (r.batches > 0).then_some(r)
    })
    .await;
    // Anyone bonded may propose; this proposer lies about batch 0.
    let lie = Hash([7; 32]);
    let propose = Action::ProposeOutput {
        rollup: 0,
        batch: 0,
        prior: r.genesis_output,
        output: lie,
    };
    l1.run(&dev_account(5), propose).await.unwrap();
    let mismatches = eventually("the verifier to report it", || async {
        let info = call(&ver, "l2_chainInfo", rpc_params![]).await.unwrap();
        info["mismatches"]
            .as_array()
            .filter(|m| !m.is_empty())
            .cloned()
    })
    .await;
    assert_eq!(mismatches.len(), 1);
    assert_eq!(mismatches[0]["batch"], 0);
    assert_eq!(mismatches[0]["proposed"], json!(lie));
    assert_eq!(mismatches[0]["proposer"], json!(dev_account(5).public()));
    assert_ne!(mismatches[0]["derived"], json!(lie));
    // The sequencer node's challenger counters the lie; the liar plays no move and its tree
    // resolves with the lie removed.
    let proposal = mismatches[0]["proposal"].as_u64().unwrap();
    eventually("the lie to be removed", || async {
        let o = l1.client.output(0, proposal).await.ok()?;
        (o.status == "removed").then_some(())
    })
    .await;
    let (_, tree) = l1.client.tree(0, proposal).await.unwrap();
    assert_eq!(tree.claims()[1].claimant, dev_sequencer(0).public());
    assert!(!tree.resolve().upheld);
    eventually("the verifier to drop the removed output", || async {
        let info = call(&ver, "l2_chainInfo", rpc_params![]).await.unwrap();
        (info["mismatches"] == json!([])).then_some(())
    })
    .await;
    seq_node.stop();
    ver_node.stop();
}

#[cfg(feature = "faults")]
/// A sequencer node that mints from nothing in its first batch's output (fault `mint`), with a
/// deposit and `transfers` L2 transfers sent to it so that the batch has several steps.
async fn minting_sequencer_with_traffic(l1: &L1, dir: &Path, transfers: u64) -> RollupNode {
    let alice = dev_account(1);
    deposit_one_token(l1, &alice).await;
    let mut cfg = node_config(l1, Role::Sequencer, dir);
    cfg.fault = Some("mint".into());
    let (node, seq) = start_with(cfg).await;
    let (index, _, _) = eventually("alice's deposit on L2", || account(&seq, &alice)).await;
    for n in 0..transfers {
        let tx = transfer(index, 0, 1_000 + n as Amount, n, &alice);
        call(&seq, "l2_sendTransaction", rpc_params![hex_tx(&tx)])
            .await
            .unwrap();
    }
    node
}

/// The proposal of batch 0 by `who`, once there is one.
async fn proposal_by(l1: &L1, who: &Keypair) -> basalt_rollup::l1client::OutputInfo {
    eventually("a proposal of batch 0", || async {
        let page = l1.client.proposals(0, 0).await.ok()?;
        page.into_iter()
            .find(|o| o.batch == 0 && o.proposer == who.public())
    })
    .await
}

#[cfg(feature = "faults")] // plays a faulty sequencer
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_faulty_sequencer_node_loses_its_dispute_to_an_honest_node_whose_output_settles() {
    let l1 = l1().await;
    // A window long enough for the honest node to start after the lie is proposed.
    register_with(&l1, 100, 50).await;
    let (seq_dir, ver_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let seq_node = minting_sequencer_with_traffic(&l1, seq_dir.path(), 5).await;
    let lie = proposal_by(&l1, &dev_sequencer(0)).await;
    // An honest node with a key starts, derives, proposes the right output beside the lie and
    // counters the lie until it is removed.
    let honest = dev_account(6);
    let mut cfg = node_config(&l1, Role::Verifier, ver_dir.path());
    cfg.propose = Some(true);
    let (ver_node, ver) = start_keyed(cfg, Some(honest.clone())).await;
    let right = proposal_by(&l1, &honest).await;
    assert_ne!(right.output, lie.output);
    eventually("the lie to be removed", || async {
        let o = l1.client.output(0, lie.proposal).await.ok()?;
        (o.status == "removed").then_some(())
    })
    .await;
    let (_, tree) = l1.client.tree(0, lie.proposal).await.unwrap();
    assert_eq!(tree.claims()[1].claimant, honest.public());
    let settled = eventually("batch 0 to settle", || async {
        l1.client.outputs(0, 0).await.ok()?.into_iter().next()
    })
    .await;
    assert_eq!(settled.proposal, right.proposal);
    let derived =
        call(&ver, "l2_chainInfo", rpc_params![]).await.unwrap()["derived"]["output"].clone();
    assert_ne!(json!(lie.output), derived);
    seq_node.stop();
    ver_node.stop();
}

#[cfg(feature = "faults")] // plays a faulty sequencer
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_challenger_restarted_mid_game_recovers_the_game_from_l1_and_wins() {
    let l1 = l1().await;
    // Clocks far longer than a restart takes: the restarted node must win on the merits.
    register_with(&l1, 400, 200).await;
    let (seq_dir, ver_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let seq_node = minting_sequencer_with_traffic(&l1, seq_dir.path(), 12).await;
    let lie = proposal_by(&l1, &dev_sequencer(0)).await;
    // The honest node plays until it has a claim in the lie's tree, then stops mid-game.
    let honest = dev_account(6);
    let cfg = node_config(&l1, Role::Verifier, ver_dir.path());
    let (ver_node, _) = start_keyed(cfg.clone(), Some(honest.clone())).await;
    eventually("the honest node's first counter", || async {
        let (_, tree) = l1.client.tree(0, lie.proposal).await.ok()?;
        tree.claims()
            .iter()
            .any(|c| c.claimant == honest.public())
            .then_some(())
    })
    .await;
    ver_node.stop();
    let o = l1.client.output(0, lie.proposal).await.unwrap();
    assert_eq!(o.status, "disputed", "stopped mid-game");
    // Restarted, it reads the tree from L1, makes every move owed and wins.
    let (ver_node, _) = start_keyed(cfg, Some(honest.clone())).await;
    eventually("the lie to be removed", || async {
        let o = l1.client.output(0, lie.proposal).await.ok()?;
        (o.status == "removed").then_some(())
    })
    .await;
    let (_, tree) = l1.client.tree(0, lie.proposal).await.unwrap();
    let resolution = tree.resolve();
    for (i, c) in tree.claims().iter().enumerate() {
        if c.claimant == honest.public() {
            assert!(!resolution.countered[i], "honest claim {i} stands");
        }
    }
    assert!(
        tree.claims()
            .iter()
            .filter(|c| c.claimant == honest.public())
            .count()
            >= 2,
        "it played on after the restart"
    );
    seq_node.stop();
    ver_node.stop();
}

/// Before, the node sent one L1 transaction and waited for its finality before the next, so 40
/// counters to its output took it some 40 finality rounds to answer, far past a 60-block clock.
/// It now sends every move it owes at consecutive nonces and answers the crowd in a round or two.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_honest_node_answers_a_crowd_of_counters_to_its_output_within_its_clock() {
    let l1 = l1().await;
    register_with(&l1, 60, 10).await;
    let (seq_dir, ver_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut cfg = node_config(&l1, Role::Sequencer, seq_dir.path());
    cfg.propose = Some(true);
    let (seq_node, _) = start_with(cfg).await;
    deposit_one_token(&l1, &dev_account(1)).await;
    let honest = proposal_by(&l1, &dev_sequencer(0)).await;
    // Forty lies against the honest output, from two keys at consecutive nonces, in a few blocks.
    let crowd = 40u8;
    for i in 0..crowd {
        let counter = Action::Counter {
            rollup: 0,
            proposal: honest.proposal,
            parent: 0,
            attack: true,
            value: Hash([i + 1; 32]),
        };
        let who = dev_account(7 + (i % 2) as u64);
        l1.client.submit(&who, counter).await.unwrap();
    }
    eventually("the honest output to settle", || async {
        let o = l1.client.output(0, honest.proposal).await.ok()?;
        (o.status == "settled").then_some(())
    })
    .await;
    let (_, tree) = l1.client.tree(0, honest.proposal).await.unwrap();
    let resolution = tree.resolve();
    assert!(resolution.upheld);
    let lies = tree
        .claims()
        .iter()
        .enumerate()
        .filter(|(_, c)| c.parent == Some(0))
        .filter(|(_, c)| c.claimant != dev_sequencer(0).public())
        .count();
    assert_eq!(lies, crowd as usize, "every lie landed");
    for (i, c) in tree.claims().iter().enumerate() {
        if c.claimant == dev_sequencer(0).public() {
            assert!(!resolution.countered[i], "honest claim {i} stands");
        }
    }
    seq_node.stop();
    drop(ver_dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deposit_transfer_withdraw_settle_claim_over_rpc_with_a_verifier_and_a_restart() {
    let l1 = l1().await;
    let (alice, bob, carol) = (dev_account(1), dev_account(2), dev_account(3));
    register(&l1).await;
    for (who, amount) in [(&alice, 50 * ONE_TOKEN), (&bob, 20 * ONE_TOKEN)] {
        let deposit = Action::Deposit {
            rollup: 0,
            account: None,
            key: who.public(),
            amount,
        };
        l1.run(who, deposit).await.unwrap();
    }

    let seq_dir = tempfile::tempdir().unwrap();
    let ver_dir = tempfile::tempdir().unwrap();
    let (seq_node, seq) = start(&l1, Role::Sequencer, seq_dir.path()).await;
    let (ver_node, ver) = start(&l1, Role::Verifier, ver_dir.path()).await;

    // The sequencer applies both deposits on its own.
    let (a, a_balance, _) = eventually("alice's deposit", || account(&seq, &alice)).await;
    let (b, _, _) = eventually("bob's deposit", || account(&seq, &bob)).await;
    assert_eq!(a_balance, 50 * ONE_TOKEN);

    // A transfer, soft-confirmed in the answer and announced to block subscribers.
    let ws = WsClientBuilder::default()
        .build(format!("ws://{}", seq_node.rpc_addr))
        .await
        .unwrap();
    let mut sub: Subscription<Value> = ws
        .subscribe("l2_subscribeBlocks", rpc_params![], "l2_unsubscribeBlocks")
        .await
        .unwrap();
    let t1 = transfer(a, b, 5 * ONE_TOKEN, 0, &alice);
    let soft = call(&seq, "l2_sendTransaction", rpc_params![hex_tx(&t1), true])
        .await
        .unwrap();
    assert_eq!(soft["status"], "soft");
    assert_eq!(soft["hash"], json!(t1.hash()));
    let announced = loop {
        let b = sub.next().await.unwrap().unwrap();
        if b["number"] == soft["block"] {
            break b;
        }
    };
    assert_eq!(announced["transactions"][0]["hash"], json!(t1.hash()));
    assert_eq!(announced["transactions"][0]["type"], "transfer");

    // Bad input: refused with its reason, and nothing changes.
    let refused = |r: Result<Value, String>, want: &str| {
        let e = r.expect_err("must be refused");
        assert!(e.contains(want), "{e:?} should say {want:?}");
    };
    refused(
        call(&seq, "l2_sendTransaction", rpc_params![hex_tx(&t1), true]).await,
        "already known",
    );
    let replay = transfer(a, b, ONE_TOKEN, 0, &alice);
    refused(
        call(
            &seq,
            "l2_sendTransaction",
            rpc_params![hex_tx(&replay), true],
        )
        .await,
        "replay",
    );
    let forged = transfer(a, b, ONE_TOKEN, 1, &carol);
    refused(
        call(
            &seq,
            "l2_sendTransaction",
            rpc_params![hex_tx(&forged), true],
        )
        .await,
        "bad signature",
    );
    assert_eq!(
        status(&seq, &forged.hash().to_hex()).await["status"],
        "unknown",
        "refused at the door, it never entered the queue"
    );
    let too_much = transfer(a, b, 1_000 * ONE_TOKEN, 1, &alice);
    refused(
        call(
            &seq,
            "l2_sendTransaction",
            rpc_params![hex_tx(&too_much), true],
        )
        .await,
        "insufficient balance",
    );
    refused(
        call(&seq, "l2_sendTransaction", rpc_params!["0x01ff", true]).await,
        "undecodable",
    );
    refused(
        call(
            &seq,
            "l2_sendTransaction",
            rpc_params![format!("0x{}", "00".repeat(600))],
        )
        .await,
        "longer than",
    );
    let deposit = L2Tx::<P>::Deposit { index: 0 };
    refused(
        call(&seq, "l2_sendTransaction", rpc_params![hex_tx(&deposit)]).await,
        "deposits come from the L1",
    );
    refused(
        call(&ver, "l2_sendTransaction", rpc_params![hex_tx(&t1)]).await,
        "verifier",
    );
    refused(
        call(&seq, "l2_getAccount", rpc_params![99]).await,
        "no L2 account 99",
    );
    // A nonce past the next would be refused by its block for free: refused at the door.
    refused(
        call(
            &seq,
            "l2_sendTransaction",
            rpc_params![hex_tx(&transfer(a, b, 1, 2, &alice))],
        )
        .await,
        "ahead",
    );
    let (_, a_now, a_nonce) = account(&seq, &alice).await.unwrap();
    assert_eq!((a_now, a_nonce), (45 * ONE_TOKEN - FEE, 1));
    let a_info = call(&seq, "l2_getAccount", rpc_params![a]).await.unwrap();
    assert_eq!(a_info["pendingNonce"], 1, "nothing of alice's is queued");

    // A withdrawal to carol's L1 account.
    let w = L2Tx::Withdraw {
        from: b,
        recipient: carol.public(),
        amount: 3 * ONE_TOKEN,
        fee: FEE,
        nonce: 0,
        signature: Signature([0; 64]),
    }
    .signed(0, &bob);
    let soft = call(&seq, "l2_sendTransaction", rpc_params![hex_tx(&w), true])
        .await
        .unwrap();
    assert_eq!(soft["withdrawalIndex"], 0);
    let w_hash = w.hash().to_hex();
    let not_yet = call(&seq, "l2_getWithdrawalProof", rpc_params![w_hash.clone()])
        .await
        .unwrap();
    assert_eq!(not_yet["ready"], false);

    // Posted, final on L1, then settled once the window passes; the verifier sees it too.
    eventually("the withdrawal to settle", || async {
        (status(&seq, &w_hash).await["status"] == "settled").then_some(())
    })
    .await;
    // The verifier follows the L1 on its own poll, so it may see the settlement a moment later.
    eventually("the verifier to see the settlement", || async {
        (status(&ver, &w_hash).await["status"] == "settled").then_some(())
    })
    .await;
    assert_eq!(status(&ver, &w_hash).await["withdrawalIndex"], 0);

    // Claim with the proof; a second claim is refused by the L1.
    let proof = call(&seq, "l2_getWithdrawalProof", rpc_params![0])
        .await
        .unwrap();
    assert_eq!(proof["ready"], true);
    let claim = claim_of(&proof["claim"]);
    assert_eq!((claim.index, claim.recipient), (0, carol.public()));
    assert_eq!(claim.amount, 3 * ONE_TOKEN);
    let before = l1.balance(&carol.public()).await;
    // Dev account 4 pays the claim's fee; the withdrawal goes to its recipient whoever submits.
    l1.run(&dev_account(4), Action::FinalizeWithdrawal(claim.clone()))
        .await
        .unwrap();
    assert_eq!(l1.balance(&carol.public()).await, before + 3 * ONE_TOKEN);
    let again = l1
        .client
        .submit(&dev_account(4), Action::FinalizeWithdrawal(claim))
        .await;
    assert!(
        matches!(&again, Err(L1Error::Refused { message, .. }) if message.contains("already claimed")),
        "{again:?}"
    );

    // The verifier derived the same outputs from L1 data alone and found no mismatch.
    let info = eventually("the verifier to catch up", || async {
        let s = call(&seq, "l2_chainInfo", rpc_params![]).await.unwrap();
        let v = call(&ver, "l2_chainInfo", rpc_params![]).await.unwrap();
        (s["derived"] == v["derived"] && v["derived"]["batches"].as_u64() > Some(0)).then_some(v)
    })
    .await;
    assert_eq!(info["mismatches"], json!([]));

    // Bridge invariant: escrow = L2 balances (all deposits applied, the withdrawal paid).
    let r = l1.client.rollup(&RollupRef::Id(0)).await.unwrap();
    let mut total = 0;
    for i in 0..3u32 {
        let a = call(&seq, "l2_getAccount", rpc_params![i]).await.unwrap();
        total += a["balance"].as_str().unwrap().parse::<Amount>().unwrap();
    }
    assert_eq!(r.escrow, total);
    assert_eq!(r.escrow, 70 * ONE_TOKEN - 3 * ONE_TOKEN);

    // Stop the sequencer and start it again on the same log: every confirmed transaction is
    // there, and what it posts next builds on L1 without repeating anything.
    seq_node.stop();
    let (seq_node, seq) = start(&l1, Role::Sequencer, seq_dir.path()).await;
    assert_eq!(status(&seq, &t1.hash().to_hex()).await["status"], "settled");
    assert_eq!(account(&seq, &alice).await.unwrap().1, 45 * ONE_TOKEN - FEE);
    let t2 = transfer(a, b, ONE_TOKEN, 1, &alice);
    call(&seq, "l2_sendTransaction", rpc_params![hex_tx(&t2), true])
        .await
        .unwrap();
    eventually("the new transfer to settle", || async {
        (status(&ver, &t2.hash().to_hex()).await["status"] == "settled").then_some(())
    })
    .await;
    let s = call(&seq, "l2_chainInfo", rpc_params![]).await.unwrap();
    let v = call(&ver, "l2_chainInfo", rpc_params![]).await.unwrap();
    assert_eq!(
        s["derived"]["transactions"], s["soft"]["transactions"],
        "nothing posted twice"
    );
    assert_eq!(s["derived"]["output"], s["soft"]["output"]);
    assert_eq!(v["derived"]["output"], s["soft"]["output"]);
    assert_eq!(v["mismatches"], json!([]));
    seq_node.stop();
    ver_node.stop();
}
