//! A rollup's fee model end to end: the sequencer quotes a transaction's fee over
//! `l2_estimateFee`, refuses one that pays less than it asks, admits one that pays the quote,
//! and under EIP-1559 fills blocks up to twice the target and raises its base fee after full ones.

mod net;

use basalt_l1::{Action, FeeModel, RollupKind, RollupParams, ONE_TOKEN};
use basalt_l2::{L2Tx, Optimistic};
use basalt_node::devnet::{dev_account, dev_sequencer};
use basalt_rollup::Role;
use basalt_types::{Amount, Encode, Keypair, Signature};
use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::params::BatchRequestBuilder;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use net::{call, eventually, l1, node_config, L1};
use serde_json::{json, Value};

/// The rollup's minimum fee: its execution price's floor.
const MIN_FEE: Amount = 1_000;

async fn register(l1: &L1, fee_model: FeeModel) {
    let params = RollupParams {
        name: "alpha".into(),
        kind: RollupKind::Optimistic,
        sequencer: dev_sequencer(0).public(),
        challenge_window: 8,
        proposer_bond: ONE_TOKEN,
        min_fee: MIN_FEE,
        clock_extension: 4,
        dispute_bond: ONE_TOKEN,
        slash_reward_percent: 50,
        force_inclusion_blocks: 1_000,
        escape_blocks: 1_000_000,
        fee_model,
    };
    l1.run(&dev_sequencer(0), Action::RegisterRollup { params })
        .await
        .unwrap();
}

fn transfer(from: u32, fee: Amount, nonce: u64, who: &Keypair) -> L2Tx<Optimistic> {
    L2Tx::Transfer {
        from,
        to: from,
        amount: 1,
        fee,
        nonce,
        signature: Signature([0; 64]),
    }
    .signed(0, who)
}

fn hex_tx(tx: &L2Tx<Optimistic>) -> String {
    format!("0x{}", hex::encode(tx.to_bytes()))
}

fn amount(v: &Value) -> Amount {
    v.as_str().unwrap().parse().unwrap()
}

/// A sequencer of a rollup with `fee_model`, and alice's funded L2 account on it.
async fn rollup_with_alice(
    fee_model: FeeModel,
) -> (
    L1,
    basalt_rollup::RollupNode,
    HttpClient,
    u32,
    tempfile::TempDir,
) {
    let l1 = l1().await;
    register(&l1, fee_model).await;
    let alice = dev_account(1);
    let deposit = Action::Deposit {
        rollup: 0,
        account: None,
        key: alice.public(),
        amount: ONE_TOKEN,
    };
    l1.run(&alice, deposit).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let node = basalt_rollup::start(
        node_config(&l1, Role::Sequencer, dir.path()),
        Some(dev_sequencer(0)),
    )
    .await
    .unwrap();
    let c = HttpClientBuilder::default()
        .build(format!("http://{}", node.rpc_addr))
        .unwrap();
    let index = eventually("alice's deposit", || async {
        let a = call(&c, "l2_getAccount", rpc_params![alice.public().to_hex()])
            .await
            .ok()?;
        a["index"].as_u64().map(|i| i as u32)
    })
    .await;
    (l1, node, c, index, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fee_of_only_the_minimum_is_refused_and_the_quote_is_admitted() {
    let (_l1, _node, c, from, _dir) = rollup_with_alice(FeeModel::Fixed).await;
    let alice = dev_account(1);
    let query = json!({"kind": "transfer", "from": from, "to": from, "amount": "1", "nonce": 0});
    let q = call(&c, "l2_estimateFee", rpc_params![query])
        .await
        .unwrap();
    let (fee, least) = (amount(&q["fee"]), amount(&q["least"]));
    assert_eq!(q["model"], json!({"kind": "fixed"}));
    assert_eq!(amount(&q["execution"]), MIN_FEE);
    assert!(amount(&q["l1Data"]) > 0, "the L1 data part is owed: {q}");
    assert!(fee >= least && least > MIN_FEE, "{q}");
    assert_eq!(fee, amount(&q["execution"]) + amount(&q["l1Data"]));
    let cheap = transfer(from, MIN_FEE, 0, &alice);
    let refused = call(&c, "l2_sendTransaction", rpc_params![hex_tx(&cheap)])
        .await
        .unwrap_err();
    assert!(refused.contains("below the"), "{refused}");
    let paid = transfer(from, fee, 0, &alice);
    let soft = call(&c, "l2_sendTransaction", rpc_params![hex_tx(&paid), true])
        .await
        .unwrap();
    assert_eq!(soft["status"], "soft", "{soft}");
    // A bad query is refused with what it should be.
    let bad = call(
        &c,
        "l2_estimateFee",
        rpc_params![json!({"kind": "deposit"})],
    )
    .await
    .unwrap_err();
    assert!(bad.contains("transfer or withdraw"), "{bad}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_eip1559_rollup_fills_blocks_to_twice_the_target_and_its_base_fee_rises() {
    let (_l1, _node, c, from, _dir) = rollup_with_alice(FeeModel::Eip1559 { target_txs: 1 }).await;
    let alice = dev_account(1);
    let q = call(
        &c,
        "l2_estimateFee",
        rpc_params![json!({"kind": "transfer"})],
    )
    .await
    .unwrap();
    // Room for the base fee to rise while these wait: twice the quote each.
    let fee = 2 * amount(&q["fee"]);
    let mut batch = BatchRequestBuilder::new();
    for nonce in 0..6 {
        batch
            .insert(
                "l2_sendTransaction",
                rpc_params![hex_tx(&transfer(from, fee, nonce, &alice))],
            )
            .unwrap();
    }
    let answers = c.batch_request::<Value>(batch).await.unwrap();
    assert_eq!(answers.num_successful_calls(), 6, "{answers:?}");
    let info = eventually("the six applied", || async {
        let info = call(&c, "l2_chainInfo", rpc_params![]).await.ok()?;
        (info["soft"]["transactions"].as_u64()? >= 7).then_some(info)
    })
    .await;
    let blocks = info["soft"]["blocks"].as_u64().unwrap();
    for n in 1..=blocks {
        let b = call(&c, "l2_getBlock", rpc_params![n]).await.unwrap();
        let users = b["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["type"] != "deposit")
            .count();
        assert!(users <= 2, "block {n} holds {users} user transactions: {b}");
    }
    let base = amount(&info["fees"]["l2BaseFee"]);
    assert!(
        base > MIN_FEE,
        "full blocks raise the base fee: {}",
        info["fees"]
    );
}
