//! JSON-RPC against a real node core: every bad input gets a clear error and changes nothing.

use basalt_l1::{Action, Params, Transaction, ONE_TOKEN};
use basalt_node::devnet::{dev_account, devnet_genesis, DEVNET_CHAIN_ID};
use basalt_node::mempool::MempoolLimits;
use basalt_node::rpc::{serve, RpcContext, INVALID_PARAMS, NOT_FOUND, TX_REJECTED};
use basalt_node::validator::open_chain;
use basalt_types::{Decode, Encode, Keypair};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

struct Node {
    url: String,
    chain: Arc<Mutex<basalt_node::chain::Chain>>,
    finalized: tokio::sync::broadcast::Sender<basalt_l1::Header>,
    _dir: tempfile::TempDir,
    _server: jsonrpsee::server::ServerHandle,
}

async fn node() -> Node {
    let dir = tempfile::tempdir().unwrap();
    let genesis = devnet_genesis(1, Params::default(), 1_000);
    let chain = open_chain(
        &genesis,
        &dir.path().join("state.redb"),
        MempoolLimits::default(),
    )
    .unwrap()
    .chain;
    let chain = Arc::new(Mutex::new(chain));
    let (finalized, _) = tokio::sync::broadcast::channel(16);
    let (addr, server) = serve(
        "127.0.0.1:0".parse().unwrap(),
        RpcContext::new(chain.clone(), finalized.clone()),
    )
    .await
    .unwrap();
    Node {
        url: format!("http://{addr}"),
        chain,
        finalized,
        _dir: dir,
        _server: server,
    }
}

/// A minimal HTTP POST over a TCP stream, to send bodies a typed client would refuse to build.
mod http {
    use serde_json::Value;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    pub async fn post(url: &str, body: String) -> (u16, Value) {
        let addr = url.trim_start_matches("http://");
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!(
            "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let _ = s.write_all(body.as_bytes()).await;
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out).await;
        let text = String::from_utf8_lossy(&out);
        let status: u16 = text
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let json = text
            .split("\r\n\r\n")
            .nth(1)
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or(Value::Null);
        (status, json)
    }
}

async fn call(n: &Node, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    http::post(&n.url, body).await.1
}

fn error_code(v: &Value) -> i64 {
    v["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("expected an error, got {v}"))
}

fn tx(from: &Keypair, chain_id: u64, nonce: u64, max_fee: u64, amount: u128) -> String {
    let t = Transaction {
        chain_id,
        nonce,
        max_fee_per_gas: max_fee,
        priority_fee_per_gas: 1,
        gas_limit: basalt_l1::TRANSFER_GAS,
        action: Action::Transfer {
            to: dev_account(9).public(),
            amount,
        },
    }
    .sign(from);
    format!("0x{}", hex::encode(t.to_bytes()))
}

fn snapshot(n: &Node) -> (usize, basalt_types::Hash) {
    let c = n.chain.lock().unwrap();
    (c.mempool_len(), c.state().head().state_root)
}

#[tokio::test]
async fn good_requests_answer_and_bad_ones_are_rejected_without_effect() {
    let n = node().await;
    let info = call(&n, "l1_chainInfo", json!([])).await;
    assert_eq!(info["result"]["chainId"], DEVNET_CHAIN_ID);
    let base = info["result"]["nextBaseFeePerGas"].as_u64().unwrap();
    let acc = call(
        &n,
        "l1_getAccount",
        json!([dev_account(0).public().to_hex()]),
    )
    .await;
    assert_eq!(
        acc["result"]["balance"],
        (1_000_000 * ONE_TOKEN).to_string()
    );
    let g = call(&n, "l1_getBlock", json!([0])).await;
    assert_eq!(g["result"]["header"]["height"], 0);
    let v = call(&n, "l1_validators", json!([])).await;
    assert_eq!(v["result"]["committee"].as_array().unwrap().len(), 1);

    let before = snapshot(&n);
    let a = dev_account(0);
    let cases: Vec<(&str, Value, i64, &str)> = vec![
        (
            "l1_sendTransaction",
            json!(["0xzz"]),
            INVALID_PARAMS as i64,
            "hex",
        ),
        (
            "l1_sendTransaction",
            json!(["0x0102"]),
            INVALID_PARAMS as i64,
            "malformed",
        ),
        (
            "l1_sendTransaction",
            json!([tx(&a, 1, 0, base * 2, 1)]),
            TX_REJECTED as i64,
            "wrong chain id",
        ),
        (
            "l1_sendTransaction",
            json!([tx(&a, DEVNET_CHAIN_ID, 0, base - 1, 1)]),
            TX_REJECTED as i64,
            "below the base fee",
        ),
        (
            "l1_sendTransaction",
            json!([tx(&a, DEVNET_CHAIN_ID, 0, base * 2, 2_000_000 * ONE_TOKEN)]),
            TX_REJECTED as i64,
            "insufficient balance",
        ),
        (
            "l1_sendTransaction",
            json!([tx(&a, DEVNET_CHAIN_ID, 1_000_000, base * 2, 1)]),
            TX_REJECTED as i64,
            "ahead of the account nonce",
        ),
        (
            "l1_sendTransaction",
            json!([
                tx(&dev_account(5), DEVNET_CHAIN_ID, 0, base * 2, 1)[..140].to_string()
                    + &"00".repeat(64)
            ]),
            INVALID_PARAMS as i64,
            "malformed",
        ),
        (
            "l1_sendTransaction",
            json!([]),
            INVALID_PARAMS as i64,
            "no more params",
        ),
        (
            "l1_sendTransaction",
            json!([12]),
            INVALID_PARAMS as i64,
            "expected a string",
        ),
        (
            "l1_getAccount",
            json!(["0x1234"]),
            INVALID_PARAMS as i64,
            "32 bytes",
        ),
        (
            "l1_getTransaction",
            json!(["nothex"]),
            INVALID_PARAMS as i64,
            "32 bytes",
        ),
        (
            "l1_getBlock",
            json!([999]),
            NOT_FOUND as i64,
            "no finalized block",
        ),
        (
            "l1_getBlock",
            json!(["earliest"]),
            INVALID_PARAMS as i64,
            "expected a height",
        ),
        (
            "l1_getBlock",
            json!([-1]),
            INVALID_PARAMS as i64,
            "non-negative",
        ),
        (
            "l1_getBlob",
            json!([basalt_types::Hash::ZERO.to_hex()]),
            NOT_FOUND as i64,
            "blob not found",
        ),
        ("l1_noSuchMethod", json!([]), -32601, "not found"),
    ];
    for (method, params, code, needle) in cases {
        let r = call(&n, method, params.clone()).await;
        assert_eq!(error_code(&r), code, "{method} {params}: {r}");
        // A parameter that does not parse says why in `data`.
        let msg = format!("{} {}", r["error"]["message"], r["error"]["data"]).to_lowercase();
        assert!(
            msg.contains(&needle.to_lowercase()),
            "{method}: message {msg:?} should mention {needle:?}"
        );
    }
    assert_eq!(snapshot(&n), before, "a rejected request changed state");
}

#[tokio::test]
async fn a_call_whose_parameters_do_not_parse_is_told_the_documented_signature() {
    let n = node().await;
    for (method, params, usage) in [
        ("l1_sendTransaction", json!([]), "l1_sendTransaction(hex)"),
        (
            "l1_getRollupDeposits",
            json!(["alpha"]),
            "l1_getRollupDeposits(rollup, from, limit?)",
        ),
        ("l1_getAccount", json!([7]), "l1_getAccount(publicKey)"),
    ] {
        let r = call(&n, method, params.clone()).await;
        assert_eq!(
            error_code(&r),
            INVALID_PARAMS as i64,
            "{method} {params}: {r}"
        );
        assert_eq!(r["error"]["message"], "Invalid params");
        let data = r["error"]["data"].as_str().unwrap_or_default();
        assert!(
            data.contains(usage),
            "{method} {params}: {data:?} should give {usage:?}"
        );
    }
    // A parameter that parses but is refused keeps its own message and no signature.
    let r = call(&n, "l1_sendTransaction", json!(["0x0102"])).await;
    assert!(r["error"]["data"].is_null(), "{r}");
}

#[tokio::test]
async fn bad_signatures_replays_and_oversized_requests_are_refused() {
    let n = node().await;
    let base = call(&n, "l1_chainInfo", json!([])).await["result"]["nextBaseFeePerGas"]
        .as_u64()
        .unwrap();
    let a = dev_account(0);
    // Flip a bit inside the signature (the last 64 bytes).
    let good = tx(&a, DEVNET_CHAIN_ID, 0, base * 2, 1);
    let mut bytes = hex::decode(&good[2..]).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let r = call(
        &n,
        "l1_sendTransaction",
        json!([format!("0x{}", hex::encode(&bytes))]),
    )
    .await;
    assert_eq!(error_code(&r), TX_REJECTED as i64);
    assert!(r["error"]["message"]
        .as_str()
        .unwrap()
        .contains("signature"));

    // Accepted once; the identical bytes again are a duplicate, not a second transfer.
    let ok = call(&n, "l1_sendTransaction", json!([good.clone()])).await;
    let hash = ok["result"].as_str().unwrap().to_string();
    let again = call(&n, "l1_sendTransaction", json!([good])).await;
    assert_eq!(error_code(&again), TX_REJECTED as i64);
    assert!(again["error"]["message"]
        .as_str()
        .unwrap()
        .contains("already known"));
    let status = call(&n, "l1_getTransaction", json!([hash])).await;
    assert_eq!(status["result"]["status"], "pending");

    // Finalize it on this single-validator chain, then replay its nonce with a new transaction.
    {
        let mut c = n.chain.lock().unwrap();
        let head = c.state().head().clone();
        let proposer = c.state().committee()[0];
        let block = c
            .propose(head.hash(), head.timestamp_ms + 200, proposer, 100)
            .unwrap();
        assert_eq!(block.txs.len(), 1);
        c.finalize(&block).unwrap();
    }
    let status = call(&n, "l1_getTransaction", json!([hash])).await;
    assert_eq!(status["result"]["status"], "finalized");
    let replay = call(
        &n,
        "l1_sendTransaction",
        json!([tx(&a, DEVNET_CHAIN_ID, 0, base * 2, 7)]),
    )
    .await;
    assert_eq!(error_code(&replay), TX_REJECTED as i64);
    assert!(replay["error"]["message"]
        .as_str()
        .unwrap()
        .contains("stale nonce"));

    // A request body over the limit is refused by the server before any parsing.
    let huge = format!(
        "0x{}",
        "00".repeat(basalt_node::rpc::MAX_REQUEST_BYTES as usize)
    );
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "l1_sendTransaction", "params": [huge]})
        .to_string();
    let (status, _) = http::post(&n.url, body).await;
    assert_eq!(status, 413, "oversized request should get HTTP 413");
}

#[tokio::test]
async fn websocket_subscribers_receive_finalized_headers() {
    use jsonrpsee::core::client::SubscriptionClientT;
    let n = node().await;
    let ws = jsonrpsee::ws_client::WsClientBuilder::default()
        .build(n.url.replace("http://", "ws://"))
        .await
        .unwrap();
    let mut sub = ws
        .subscribe::<Value, _>(
            "l1_subscribeBlocks",
            jsonrpsee::rpc_params![],
            "l1_unsubscribeBlocks",
        )
        .await
        .unwrap();
    let header = {
        let mut c = n.chain.lock().unwrap();
        let head = c.state().head().clone();
        let who = c.state().committee()[0];
        let block = c
            .propose(head.hash(), head.timestamp_ms + 200, who, 100)
            .unwrap();
        c.finalize(&block).unwrap()
    };
    n.finalized.send(header.clone()).unwrap();
    let got = tokio::time::timeout(std::time::Duration::from_secs(10), sub.next())
        .await
        .expect("a notification")
        .expect("subscription open")
        .unwrap();
    assert_eq!(got["height"], 1);
    assert_eq!(got["hash"], json!(header.hash()));
}

fn finalize_next(n: &Node) {
    let mut c = n.chain.lock().unwrap();
    let head = c.state().head().clone();
    let who = c.state().committee()[0];
    let block = c
        .propose(head.hash(), head.timestamp_ms + 200, who, 100)
        .unwrap();
    c.finalize(&block).unwrap();
}

fn signed_action(from: u64, nonce: u64, action: Action) -> String {
    signed_with_gas(from, nonce, action.intrinsic_gas(), action)
}

fn signed_with_gas(from: u64, nonce: u64, gas_limit: u64, action: Action) -> String {
    let t = Transaction {
        chain_id: DEVNET_CHAIN_ID,
        nonce,
        max_fee_per_gas: 10_000_000_000,
        priority_fee_per_gas: 1,
        gas_limit,
        action,
    }
    .sign(&dev_account(from));
    format!("0x{}", hex::encode(t.to_bytes()))
}

#[tokio::test]
async fn rollup_registry_reads_and_refuses_doomed_rollup_actions_with_their_reason() {
    let n = node().await;
    let params = basalt_l1::RollupParams {
        name: "alpha".into(),
        kind: basalt_l1::RollupKind::Optimistic,
        sequencer: dev_account(1).public(),
        challenge_window: 5,
        proposer_bond: ONE_TOKEN,
        min_fee: 1,
        clock_extension: 4,
        dispute_bond: 1,
        slash_reward_percent: 50,
        force_inclusion_blocks: 10,
        escape_blocks: 1_000_000,
        fee_model: basalt_l1::FeeModel::Fixed,
    };
    let r = call(
        &n,
        "l1_sendTransaction",
        json!([signed_action(0, 0, Action::RegisterRollup { params })]),
    )
    .await;
    assert!(r["result"].is_string(), "{r}");
    finalize_next(&n);
    let deposit = Action::Deposit {
        rollup: 0,
        account: None,
        key: dev_account(2).public(),
        amount: 3 * ONE_TOKEN,
    };
    call(
        &n,
        "l1_sendTransaction",
        json!([signed_action(2, 0, deposit)]),
    )
    .await;
    finalize_next(&n);

    let list = call(&n, "l1_rollups", json!([])).await;
    assert_eq!(list["result"][0]["params"]["name"], "alpha");
    let by_name = call(&n, "l1_getRollup", json!(["alpha"])).await;
    let by_id = call(&n, "l1_getRollup", json!([0])).await;
    assert_eq!(by_name["result"], by_id["result"]);
    assert_eq!(by_id["result"]["escrow"], (3 * ONE_TOKEN).to_string());
    let deposits = call(&n, "l1_getRollupDeposits", json!(["alpha", 0])).await;
    assert_eq!(
        deposits["result"][0]["key"],
        dev_account(2).public().to_hex()
    );
    let empty = call(&n, "l1_getRollupDeposits", json!([0, 5, 10])).await;
    assert_eq!(empty["result"], json!([]));
    let claimed = call(&n, "l1_isWithdrawalClaimed", json!([0, 0])).await;
    assert_eq!(claimed["result"], false);
    // A queued deposit starts the escape clock; the rollup is not frozen yet.
    let r = &by_id["result"];
    assert_eq!(r["frozen"], false);
    assert!(r["frozenFrom"].as_u64().unwrap() > r["height"].as_u64().unwrap());
    let risk = call(&n, "l1_getRollupRisk", json!(["alpha"])).await;
    let risk = &risk["result"];
    assert_eq!(risk["stage"], 0);
    assert_eq!(risk["categories"].as_array().unwrap().len(), 5);
    assert_eq!(risk["categories"][3]["id"], "sequencer_failure");
    assert!(risk["nextRequirement"].as_str().is_some());

    for (method, params, code) in [
        ("l1_getRollup", json!(["nope"]), NOT_FOUND),
        ("l1_getRollup", json!([true]), INVALID_PARAMS),
        ("l1_getRollupRisk", json!(["nope"]), NOT_FOUND),
        ("l1_getRollupBatches", json!([0, 0, 0]), INVALID_PARAMS),
        ("l1_getRollupBatches", json!([0, 0, 1001]), INVALID_PARAMS),
        ("l1_getRollupOutputs", json!([9, 0]), NOT_FOUND),
        ("l1_getRollupOutputs", json!([]), INVALID_PARAMS),
    ] {
        let v = call(&n, method, params.clone()).await;
        assert_eq!(error_code(&v), code as i64, "{method} {params}: {v}");
    }

    // A batch from someone other than the sequencer: refused with the reason, no fee, no change.
    let data = vec![1u8, 2, 3];
    let post = Action::PostBatch {
        rollup: 0,
        index: 0,
        data_hash: basalt_l1::blob_hash(&data),
        data,
        deposits_end: 0,
        max_fee_per_blob_byte: 1_000_000,
    };
    let before = snapshot(&n);
    let v = call(&n, "l1_sendTransaction", json!([signed_action(3, 0, post)])).await;
    assert_eq!(error_code(&v), TX_REJECTED as i64);
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(msg.contains("only the sequencer"), "{msg}");
    assert_eq!(snapshot(&n), before);
}

/// A dispute read used to return every game and the whole encoding in one response, and the
/// rollup list every rollup: a large enough dispute or registry broke every client and held the
/// chain lock while rendering. Reads are now pages of bounded size, copied under the lock; a
/// tree's claims are append-only, so pages read across blocks agree with its record's digest.
#[tokio::test]
async fn dispute_and_registry_reads_are_pages_of_bounded_size() {
    let n = node().await;
    let params = basalt_l1::RollupParams {
        name: "alpha".into(),
        kind: basalt_l1::RollupKind::Optimistic,
        sequencer: dev_account(1).public(),
        challenge_window: 40,
        proposer_bond: ONE_TOKEN,
        min_fee: 1,
        clock_extension: 10,
        dispute_bond: ONE_TOKEN,
        slash_reward_percent: 50,
        force_inclusion_blocks: 10,
        escape_blocks: 1_000_000,
        fee_model: basalt_l1::FeeModel::Fixed,
    };
    let send = |tx: String| {
        let n = &n;
        async move {
            let r = call(n, "l1_sendTransaction", json!([tx])).await;
            assert!(r["result"].is_string(), "{r}");
        }
    };
    send(signed_action(0, 0, Action::RegisterRollup { params })).await;
    finalize_next(&n);
    let txs: Vec<basalt_l2::L2Tx<basalt_l2::Optimistic>> =
        vec![basalt_l2::L2Tx::Deposit { index: 0 }; 8];
    let data = basalt_l2::encode_batch(&txs);
    let post = Action::PostBatch {
        rollup: 0,
        index: 0,
        data_hash: basalt_l1::blob_hash(&data),
        data,
        deposits_end: 0,
        max_fee_per_blob_byte: 1_000_000,
    };
    send(signed_action(1, 0, post)).await;
    finalize_next(&n);
    let rollup = call(&n, "l1_getRollup", json!([0])).await["result"].clone();
    assert_eq!(
        rollup["disputeBound"],
        2 * 40 + 16 * 10,
        "the bound is stated from the parameters"
    );
    let genesis_output = rollup["genesisOutput"].as_str().unwrap().to_string();
    let propose = Action::ProposeOutput {
        rollup: 0,
        batch: 0,
        prior: basalt_types::Hash::from_hex(&genesis_output).unwrap(),
        output: basalt_types::Hash([7; 32]),
    };
    let hex_action = format!("0x{}", hex::encode(propose.to_bytes()));
    let key = dev_account(4).public().to_hex();
    let estimate = call(&n, "l1_estimateGas", json!([key, hex_action])).await;
    let gas = estimate["result"].as_u64().expect("an estimate");
    assert!(
        gas > propose.intrinsic_gas(),
        "a proposal pays for its decode"
    );
    let limit = basalt_l1::gas::limit_with_headroom(gas, u64::MAX);
    send(signed_with_gas(4, 0, limit, propose)).await;
    finalize_next(&n);
    for (who, value) in [(2u64, 1u8), (3, 2), (5, 3)] {
        let counter = Action::Counter {
            rollup: 0,
            proposal: 0,
            parent: 0,
            attack: true,
            value: basalt_types::Hash([value; 32]),
        };
        send(signed_action(who, 0, counter)).await;
    }
    finalize_next(&n);

    let d = call(&n, "l1_getDispute", json!([0, 0])).await["result"].clone();
    assert_eq!(
        (d["claims"].clone(), d["depth"].clone()),
        (json!(4), json!(3))
    );
    assert_eq!(d["open"], true);
    let page = call(&n, "l1_getClaims", json!([0, 0, 1, 2])).await["result"].clone();
    assert_eq!(page["total"], 4);
    let claims = page["claims"].as_array().unwrap();
    assert_eq!(claims.len(), 2);
    assert_eq!(claims[0]["index"], 1);
    assert_eq!(claims[0]["parent"], 0);
    let decoded = basalt_l1::Claim::from_bytes(
        &basalt_types::codec::parse_hex(claims[0]["data"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    let expected = n.chain.lock().unwrap().state().rollup(0).unwrap().trees[0].claims()[1];
    assert_eq!(decoded, expected);
    let summaries = call(&n, "l1_listDisputes", json!([0, 0])).await["result"].clone();
    assert_eq!(
        summaries[0]["claims"], 4,
        "a summary counts, it does not list"
    );
    assert!(summaries[0].get("claimList").is_none());
    let open = call(&n, "l1_listUnresolved", json!([0, 0])).await["result"].clone();
    assert_eq!(open, json!([0]));
    let proposals = call(&n, "l1_getProposals", json!([0, 0])).await["result"].clone();
    assert_eq!(proposals[0]["status"], "disputed");

    let one = call(&n, "l1_rollups", json!([0, 1])).await["result"].clone();
    assert_eq!(one.as_array().unwrap().len(), 1);
    for (method, params, code) in [
        ("l1_getClaims", json!([0, 0, 0, 1001]), INVALID_PARAMS),
        ("l1_getClaims", json!([0, 9, 0]), NOT_FOUND),
        ("l1_getDispute", json!([0, 9]), NOT_FOUND),
        ("l1_getDispute", json!([0]), INVALID_PARAMS),
        ("l1_rollups", json!([0, 1001]), INVALID_PARAMS),
        ("l1_estimateGas", json!(["0x00", "0x00"]), INVALID_PARAMS),
    ] {
        let v = call(&n, method, params.clone()).await;
        assert_eq!(error_code(&v), code as i64, "{method} {params}: {v}");
    }
}
