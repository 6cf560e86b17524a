//! The harness of the end-to-end node tests: an L1 node core serving its JSON-RPC and
//! finalizing a block of its mempool every 20 ms, and helpers to call and wait on nodes.

#![allow(dead_code)]

use basalt_l1::{Action, Params, WithdrawalClaim};
use basalt_node::local::LocalL1;
use basalt_rollup::l1client::{L1Client, L1TxStatus};
use basalt_rollup::{BatcherConfig, NodeConfig, Role};
use basalt_types::{Amount, Hash, Keypair, PublicKey};
use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::HttpClient;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

/// An L1 node core and its RPC.
pub struct L1 {
    pub url: String,
    pub client: L1Client,
    _local: LocalL1,
    _dir: tempfile::TempDir,
}

/// An L1 node core with its RPC, finalizing a block of its mempool every 20 ms.
pub async fn l1() -> L1 {
    let dir = tempfile::tempdir().unwrap();
    let local = LocalL1::start(Params::default(), dir.path(), Duration::from_millis(20))
        .await
        .unwrap();
    L1 {
        client: L1Client::new(&local.url).unwrap(),
        url: local.url.clone(),
        _local: local,
        _dir: dir,
    }
}

impl L1 {
    /// Submits and waits until final; returns the action's error, if it failed.
    pub async fn run(&self, key: &Keypair, action: Action) -> Result<(), String> {
        let hash = self
            .client
            .submit(key, action)
            .await
            .map_err(|e| e.to_string())?;
        loop {
            match self.client.tx_status(&hash).await.unwrap() {
                L1TxStatus::Finalized { error, .. } => return error.map_or(Ok(()), Err),
                L1TxStatus::Rejected { error } => return Err(error),
                _ => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }

    pub async fn balance(&self, key: &PublicKey) -> Amount {
        self.client.account(key).await.unwrap().balance
    }
}

pub async fn call(
    c: &HttpClient,
    method: &str,
    params: jsonrpsee::core::params::ArrayParams,
) -> Result<Value, String> {
    c.request(method, params).await.map_err(|e| match e {
        jsonrpsee::core::ClientError::Call(o) => o.message().to_string(),
        other => panic!("{method}: {other}"),
    })
}

/// A node of rollup `alpha` on `l1` with data in `dir`, no key, fast blocks and a fast batcher.
pub fn node_config(l1: &L1, role: Role, dir: &Path) -> NodeConfig {
    NodeConfig {
        l1_rpc: l1.url.clone(),
        rollup: "alpha".into(),
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
        zk_keys: None,
        batcher: BatcherConfig {
            max_delay_ms: 100,
            ..BatcherConfig::default()
        },
    }
}

/// The withdrawal claim in an `l2_getWithdrawalProof` answer.
pub fn claim_of(c: &Value) -> WithdrawalClaim {
    let hash = |v: &Value| Hash::from_hex(v.as_str().unwrap()).unwrap();
    WithdrawalClaim {
        rollup: c["rollup"].as_u64().unwrap() as u32,
        batch: c["batch"].as_u64().unwrap(),
        state_root: hash(&c["stateRoot"]),
        withdrawals_tree_root: hash(&c["withdrawalsTreeRoot"]),
        withdrawal_count: c["withdrawalCount"].as_u64().unwrap(),
        index: c["index"].as_u64().unwrap(),
        recipient: PublicKey::from_hex(c["recipient"].as_str().unwrap()).unwrap(),
        amount: c["amount"].as_str().unwrap().parse().unwrap(),
        proof: c["proof"].as_array().unwrap().iter().map(hash).collect(),
    }
}

/// Polls until `f` gives a value (the loops run on their own clocks).
pub async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    mut f: impl FnMut() -> F,
) -> T {
    for _ in 0..3_000 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}
