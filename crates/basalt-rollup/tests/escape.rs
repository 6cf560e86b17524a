//! The ways through and out with real nodes, in one process over JSON-RPC: a censoring sequencer
//! node holds one user's items as long as the L1 lets it and refuses the user's transactions, and
//! the user's forced withdrawal is paid; a sequencer that vanishes is replaced by a verifier that
//! posts the overdue batch; with nobody posting, the rollup freezes, the nodes post nothing more,
//! and every user exits from the last settled state rebuilt from L1 data alone.

use basalt_l1::{Action, RollupKind, RollupParams, ONE_TOKEN};
use basalt_l2::{L2Tx, Optimistic};
use basalt_node::devnet::{dev_account, dev_sequencer};
use basalt_rollup::escape::settled_state;
use basalt_rollup::l1client::BatchInfo;
use basalt_rollup::{NodeConfig, Role, RollupNode, RollupRef};
use basalt_types::{Amount, Encode, Keypair, Signature};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use std::path::Path;

mod net;

use net::*;

type P = Optimistic;
/// An L2 fee above what the sequencer asks even at the test L1's initial 1 gwei base fee (and as
/// much again in tip): a lone transaction pays its batch's post and output, 110,000 gas, 2.2e14.
const FEE: Amount = 1_000_000_000_000_000;
/// The rollup's registered minimum: the floor of its execution price.
const MIN_FEE: Amount = 1_000;
/// The shortest challenge window and clock: the dispute bound is 74 blocks.
const WINDOW: u64 = 5;
const CLOCK: u64 = 4;

/// A node of the escape tests: a batcher that posts within 20 ms, so that a censor's batch
/// lands well inside its margin.
fn node_config(l1: &L1, role: Role, dir: &Path) -> NodeConfig {
    let mut cfg = net::node_config(l1, role, dir);
    cfg.batcher.max_delay_ms = 20;
    cfg
}

async fn start(cfg: NodeConfig, key: Keypair) -> (RollupNode, HttpClient) {
    let node = basalt_rollup::start(cfg, Some(key)).await.unwrap();
    let client = HttpClientBuilder::default()
        .build(format!("http://{}", node.rpc_addr))
        .unwrap();
    (node, client)
}

async fn register(l1: &L1, force_inclusion_blocks: u64, escape_blocks: u64) {
    register_with(l1, WINDOW, force_inclusion_blocks, escape_blocks).await
}

async fn register_with(l1: &L1, window: u64, force_inclusion_blocks: u64, escape_blocks: u64) {
    let params = RollupParams {
        name: "alpha".into(),
        kind: RollupKind::Optimistic,
        sequencer: dev_sequencer(0).public(),
        challenge_window: window,
        proposer_bond: ONE_TOKEN,
        min_fee: MIN_FEE,
        clock_extension: CLOCK,
        dispute_bond: ONE_TOKEN,
        slash_reward_percent: 50,
        force_inclusion_blocks,
        escape_blocks,
        fee_model: basalt_l1::FeeModel::Fixed,
    };
    let action = Action::RegisterRollup { params };
    l1.run(&dev_sequencer(0), action).await.unwrap();
}

/// `who` deposits `tokens` into rollup 0 for its own L2 key; returns the L1 height it was queued at.
async fn deposit(l1: &L1, who: &Keypair, tokens: u128) -> u64 {
    let index = l1.client.rollup(&RollupRef::Id(0)).await.unwrap().deposits;
    let action = Action::Deposit {
        rollup: 0,
        account: None,
        key: who.public(),
        amount: tokens * ONE_TOKEN,
    };
    l1.run(who, action).await.unwrap();
    queued_at(l1, index).await
}

async fn queued_at(l1: &L1, index: u64) -> u64 {
    let page = l1.client.deposits(0, index).await.unwrap();
    assert_eq!(page[0].index, index);
    page[0].height
}

/// `who`'s withdrawal of `tokens` from its L2 account `from`, to its own L1 account.
fn withdrawal(from: u32, tokens: u128, nonce: u64, who: &Keypair) -> L2Tx<P> {
    L2Tx::Withdraw {
        from,
        recipient: who.public(),
        amount: tokens * ONE_TOKEN,
        fee: FEE,
        nonce,
        signature: Signature([0; 64]),
    }
    .signed(0, who)
}

/// Forces `tx`, signed by `who`, in through the L1; returns the L1 height it was queued at.
async fn force(l1: &L1, who: &Keypair, tx: &L2Tx<P>) -> u64 {
    let index = l1.client.rollup(&RollupRef::Id(0)).await.unwrap().deposits;
    let action = Action::ForceInclude {
        rollup: 0,
        key: who.public(),
        tx: tx.to_bytes(),
    };
    l1.run(who, action).await.unwrap();
    queued_at(l1, index).await
}

/// The first posted batch that consumes queue item `index`.
async fn batch_consuming(l1: &L1, index: u64) -> BatchInfo {
    eventually("a batch consuming the item", || async {
        let r = l1.client.rollup(&RollupRef::Id(0)).await.ok()?;
        let batches = l1.client.all_batches(0, r.batches).await.ok()?;
        batches.into_iter().find(|b| b.deposits_end > index)
    })
    .await
}

/// The L2 account index of `who` on the node behind `c`, once it has one.
async fn account_of(c: &HttpClient, who: &Keypair) -> Option<u32> {
    let a = call(c, "l2_getAccount", rpc_params![who.public().to_hex()])
        .await
        .ok()?;
    a["index"].as_u64().map(|i| i as u32)
}

/// Claims withdrawal `index` with the proof the node behind `c` serves once its batch settled.
async fn claim(l1: &L1, c: &HttpClient, index: u64) {
    let proof = eventually("the withdrawal to settle", || async {
        let p = call(c, "l2_getWithdrawalProof", rpc_params![index])
            .await
            .ok()?;
        (p["ready"] == true).then_some(p)
    })
    .await;
    let claim = claim_of(&proof["claim"]);
    l1.run(&dev_account(4), Action::FinalizeWithdrawal(claim))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_censoring_sequencer_holds_a_users_items_until_their_deadline_and_a_forced_withdrawal_is_paid(
) {
    const F: u64 = 40;
    let l1 = l1().await;
    register(&l1, F, F + 200).await;
    let (user, bystander) = (dev_account(3), dev_account(2));
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = node_config(&l1, Role::Sequencer, dir.path());
    cfg.censor = Some(user.public().to_hex());
    let (seq_node, seq) = start(cfg, dev_sequencer(0)).await;
    let margin = basalt_rollup::censor_margin(F);

    // The bystander's deposit goes in at once; the user's, queued after it, waits.
    deposit(&l1, &bystander, 5).await;
    let queued = deposit(&l1, &user, 5).await;
    eventually("the bystander's deposit", || account_of(&seq, &bystander)).await;
    let held = account_of(&seq, &user).await;
    let height = l1.client.rollup(&RollupRef::Id(0)).await.unwrap().height;
    if height + margin < queued + F {
        assert_eq!(
            held, None,
            "credited at L1 height {height}, before the censor gave in"
        );
    }
    let user_index = eventually("the user's deposit", || account_of(&seq, &user)).await;
    let carried = batch_consuming(&l1, 1).await;
    assert!(
        carried.height >= queued + F - margin,
        "the censor held the deposit queued at {queued} only until {}",
        carried.height
    );

    // The user's withdrawal is refused at the door; forced in through the L1, it is carried at
    // its deadline and paid.
    let w = withdrawal(user_index, 2, 0, &user);
    let hex = format!("0x{}", hex::encode(w.to_bytes()));
    let refused = call(&seq, "l2_sendTransaction", rpc_params![hex])
        .await
        .unwrap_err();
    assert!(refused.contains("censors"), "{refused}");
    let forced_at = force(&l1, &user, &w).await;
    let carried = batch_consuming(&l1, 2).await;
    assert!(carried.height >= forced_at + F - margin, "{carried:?}");
    let before = l1.balance(&user.public()).await;
    claim(&l1, &seq, 0).await;
    assert_eq!(l1.balance(&user.public()).await, before + 2 * ONE_TOKEN);
    seq_node.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vanished_sequencer_is_replaced_by_a_verifier_then_the_frozen_rollup_takes_nothing_and_everyone_exits(
) {
    const F: u64 = 10;
    let l1 = l1().await;
    // The escape delay must exceed F plus the dispute bound (74 blocks) and a block.
    register(&l1, F, F + 100).await;
    let (alice, bob, carol) = (dev_account(1), dev_account(2), dev_account(3));
    let (seq_dir, ver_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (seq_node, seq) = start(
        node_config(&l1, Role::Sequencer, seq_dir.path()),
        dev_sequencer(0),
    )
    .await;
    let mut cfg = node_config(&l1, Role::Verifier, ver_dir.path());
    cfg.propose = Some(true);
    let prover = dev_account(6);
    let (ver_node, ver) = start(cfg.clone(), prover.clone()).await;
    deposit(&l1, &alice, 5).await;
    let alice_index = eventually("alice's account", || account_of(&seq, &alice)).await;
    eventually("the first batch", || async {
        let r = l1.client.rollup(&RollupRef::Id(0)).await.ok()?;
        (r.deposits_end == 1).then_some(())
    })
    .await;

    // The sequencer vanishes. Bob's deposit and Alice's forced withdrawal are overdue after F
    // blocks, and the verifier posts the batch that carries them.
    seq_node.stop();
    drop(seq);
    deposit(&l1, &bob, 4).await;
    let w = withdrawal(alice_index, 2, 0, &alice);
    force(&l1, &alice, &w).await;
    let rescue = batch_consuming(&l1, 2).await;
    assert_eq!(rescue.tx_count, 0, "a rescue batch carries only the queue");
    let before = l1.balance(&alice.public()).await;
    claim(&l1, &ver, 0).await;
    assert_eq!(l1.balance(&alice.public()).await, before + 2 * ONE_TOKEN);

    // Nobody posts any more: Carol's deposit is never consumed, and the rollup freezes.
    ver_node.stop();
    deposit(&l1, &carol, 3).await;
    let frozen = eventually("the rollup to freeze", || async {
        let r = l1.client.rollup(&RollupRef::Id(0)).await.ok()?;
        r.frozen.then_some(r)
    })
    .await;
    // A node started on the frozen rollup makes no block of the items it has not applied (Bob's,
    // Alice's and Carol's), posts nothing and takes no transaction.
    let (seq_node, seq) = start(
        node_config(&l1, Role::Sequencer, seq_dir.path()),
        dev_sequencer(0),
    )
    .await;
    let soft = call(&seq, "l2_chainInfo", rpc_params![]).await.unwrap()["soft"].clone();
    // (The restarted sequencer never saw Alice's forced withdrawal: nonce 0 would be admissible.)
    let t = withdrawal(alice_index, 1, 0, &alice);
    let hex = format!("0x{}", hex::encode(t.to_bytes()));
    let refused = call(&seq, "l2_sendTransaction", rpc_params![hex])
        .await
        .unwrap_err();
    assert!(refused.contains("frozen"), "{refused}");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let after = call(&seq, "l2_chainInfo", rpc_params![]).await.unwrap()["soft"].clone();
    assert_eq!(soft, after, "the sequencer made a block on a frozen rollup");
    let r = l1.client.rollup(&RollupRef::Id(0)).await.unwrap();
    assert_eq!((r.batches, r.proposals), (frozen.batches, frozen.proposals));

    // Every account exits with its settled balance, once; Carol's deposit is refunded.
    let state = settled_state(&l1.client, &r, |_, _| {}).await.unwrap();
    let settled = state.settled_state();
    for who in [&alice, &bob] {
        let (index, balance) = state.account_of(&who.public().0).unwrap();
        let claim = state.exit(index, who.public(), who).unwrap();
        let before = l1.balance(&who.public()).await;
        l1.run(&dev_account(4), Action::Exit(claim.clone()))
            .await
            .unwrap();
        assert_eq!(l1.balance(&who.public()).await, before + balance);
        let again = l1.run(&dev_account(4), Action::Exit(claim)).await;
        assert!(again.is_err(), "a second exit of account {index} was paid");
    }
    let before = l1.balance(&carol.public()).await;
    let refund = Action::RefundDeposit {
        rollup: 0,
        index: 3,
        state: settled,
    };
    l1.run(&dev_account(4), refund).await.unwrap();
    assert_eq!(l1.balance(&carol.public()).await, before + 3 * ONE_TOKEN);
    // The fee account (the sequencer's) exits too, and then nothing is left.
    let fees = state.account_of(&dev_sequencer(0).public().0).unwrap();
    if fees.1 > 0 {
        let claim = state
            .exit(fees.0, dev_sequencer(0).public(), &dev_sequencer(0))
            .unwrap();
        l1.run(&dev_account(4), Action::Exit(claim)).await.unwrap();
    }
    let r2 = l1.client.rollup(&RollupRef::Id(0)).await.unwrap();
    assert_eq!(r2.escrow, 0, "escrow left after every exit and refund");
    seq_node.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_counter_to_an_honest_output_after_the_freeze_is_still_answered() {
    const F: u64 = 10;
    let l1 = l1().await;
    // A window of 40 blocks, so that a proposal made 30 blocks before the freeze is still open at
    // it; the escape delay must exceed F plus the dispute bound (2 x 40 + 16 x 4) and a block.
    register_with(&l1, 40, F, F + 160).await;
    let (seq_dir, ver_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // A sequencer that posts one batch, proposes nothing, and goes.
    let mut cfg = node_config(&l1, Role::Sequencer, seq_dir.path());
    cfg.propose = Some(false);
    cfg.challenge = Some(false);
    let (seq_node, _seq) = start(cfg, dev_sequencer(0)).await;
    deposit(&l1, &dev_account(1), 5).await;
    eventually("batch 0", || async {
        let r = l1.client.rollup(&RollupRef::Id(0)).await.ok()?;
        (r.batches == 1).then_some(())
    })
    .await;
    seq_node.stop();
    // An honest verifier proposes batch 0's output shortly before the rollup freezes.
    let frozen_from = eventually("the freeze height", || async {
        let r = l1.client.rollup(&RollupRef::Id(0)).await.ok()?;
        let at = r.frozen_from?;
        (r.height + 30 >= at).then_some(at)
    })
    .await;
    let mut cfg = node_config(&l1, Role::Verifier, ver_dir.path());
    cfg.propose = Some(true);
    let honest = dev_account(6);
    let (ver_node, _ver) = start(cfg, honest.clone()).await;
    let proposal = eventually("the honest proposal", || async {
        let page = l1.client.proposals(0, 0).await.ok()?;
        page.into_iter().find(|o| o.proposer == honest.public())
    })
    .await;
    assert!(
        proposal.height < frozen_from,
        "{proposal:?} came after the freeze"
    );
    eventually("the freeze", || async {
        let r = l1.client.rollup(&RollupRef::Id(0)).await.ok()?;
        r.frozen.then_some(())
    })
    .await;
    // A lie against it after the freeze: the honest node, frozen or not, answers it, or the lie
    // would win its bond by default.
    let lie = Action::Counter {
        rollup: 0,
        proposal: proposal.proposal,
        parent: 0,
        attack: true,
        value: basalt_types::Hash([7; 32]),
    };
    l1.run(&dev_account(7), lie).await.unwrap();
    eventually("the honest node's answer", || async {
        let (_, tree) = l1.client.tree(0, proposal.proposal).await.ok()?;
        let answered = tree
            .claims()
            .iter()
            .any(|c| c.parent == Some(1) && c.claimant == honest.public());
        answered.then_some(())
    })
    .await;
    ver_node.stop();
}
