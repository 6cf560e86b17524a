//! The rollup node's actors against an L1 in the same process: the L1 node core's own RPC
//! handlers, called without HTTP through an [`L1Source`], and blocks made only when the test
//! makes them. The test decides what each block holds (the mempool as the node's actors and the
//! seeded sybils filled it), so a whole dispute between a faulty sequencer, an honest challenger
//! and a crowd of sybils runs block by block, with the bridge and bond invariants checked after
//! every block. The actors run on real time between blocks: which block a move lands in may
//! vary from run to run; the outcome may not.

use basalt_l1::{Action, GenesisAccount, Params, RollupKind, RollupParams, ONE_TOKEN};
use basalt_l2::{L2Tx, Optimistic};
use basalt_node::chain::Chain;
use basalt_node::devnet::{dev_account, dev_sequencer, devnet_genesis};
use basalt_node::mempool::MempoolLimits;
use basalt_node::rpc::{module, RpcContext};
use basalt_node::validator::open_chain;
use basalt_rollup::faults::Sybil;
use basalt_rollup::l1client::{L1Client, L1TxStatus, QueueItem};
use basalt_rollup::{BatcherConfig, L1Source, NodeConfig, Role, RollupNode};
use basalt_types::{dev_keypair, Encode, Keypair, Signature};
use jsonrpsee::core::client::{BatchResponse, ClientT, Error as ClientError};
use jsonrpsee::core::params::BatchRequestBuilder;
use jsonrpsee::core::server::MethodsError;
use jsonrpsee::core::traits::ToRpcParams;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use jsonrpsee::RpcModule;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The L1 node core's RPC handlers, called in process.
#[derive(Clone)]
struct InProcess(Arc<RpcModule<RpcContext>>);

impl ClientT for InProcess {
    async fn notification<P: ToRpcParams + Send>(&self, _: &str, _: P) -> Result<(), ClientError> {
        Err(ClientError::Custom(
            "the in-process L1 takes no notifications".into(),
        ))
    }

    async fn request<R, P>(&self, method: &str, params: P) -> Result<R, ClientError>
    where
        R: DeserializeOwned,
        P: ToRpcParams + Send,
    {
        let v: Value = self.0.call(method, params).await.map_err(|e| match e {
            MethodsError::JsonRpc(obj) => ClientError::Call(obj),
            MethodsError::Parse(e) => ClientError::ParseError(e),
            other => ClientError::Custom(other.to_string()),
        })?;
        serde_json::from_value(v).map_err(ClientError::ParseError)
    }

    async fn batch_request<'a, R>(
        &self,
        _: BatchRequestBuilder<'a>,
    ) -> Result<BatchResponse<'a, R>, ClientError>
    where
        R: DeserializeOwned + std::fmt::Debug + 'a,
    {
        Err(ClientError::Custom(
            "the in-process L1 takes no batches".into(),
        ))
    }
}

impl L1Source for InProcess {
    fn url(&self) -> &str {
        "in-process"
    }
}

/// An L1 whose blocks the test makes.
struct Local {
    chain: Arc<Mutex<Chain>>,
    client: L1Client<InProcess>,
    _dir: tempfile::TempDir,
}

fn sybil_key(i: usize) -> Keypair {
    dev_keypair("basalt-actors-sybil", i as u64)
}

impl Local {
    fn new(sybils: usize) -> Local {
        let dir = tempfile::tempdir().unwrap();
        let mut genesis = devnet_genesis(1, Params::default(), 1_000);
        genesis.accounts.extend((0..sybils).map(|i| GenesisAccount {
            key: sybil_key(i).public(),
            balance: 1_000 * ONE_TOKEN,
        }));
        let chain = open_chain(
            &genesis,
            &dir.path().join("l1.redb"),
            MempoolLimits::default(),
        )
        .unwrap()
        .chain;
        let chain = Arc::new(Mutex::new(chain));
        let (finalized, _) = tokio::sync::broadcast::channel(16);
        let rpc = module(RpcContext::new(chain.clone(), finalized));
        Local {
            chain,
            client: L1Client::with_source(InProcess(Arc::new(rpc))),
            _dir: dir,
        }
    }

    /// Makes and finalizes one block of the mempool; checks the bond and supply invariants.
    fn block(&self) {
        let mut c = self.chain.lock().unwrap();
        let head = c.state().head().clone();
        let who = c.state().committee()[0];
        let b = c
            .propose(head.hash(), head.timestamp_ms + 200, who, 10_000)
            .unwrap();
        c.finalize(&b).unwrap();
        let s = c.state();
        if let Some(r) = s.rollup(0) {
            assert_eq!(
                r.header.bonds,
                r.bonds_owed(),
                "bonds held differ from owed"
            );
        }
        assert_eq!(s.circulating() + s.burned(), s.genesis_supply());
    }

    /// Sends `action` and makes blocks until it is final; panics if it failed.
    async fn run(&self, key: &Keypair, action: Action) {
        let hash = self.client.submit(key, action).await.unwrap();
        for _ in 0..20 {
            self.block();
            match self.client.tx_status(&hash).await.unwrap() {
                L1TxStatus::Finalized { error: None, .. } => return,
                L1TxStatus::Finalized { error: Some(e), .. } => panic!("failed: {e}"),
                _ => {}
            }
        }
        panic!("not final after 20 blocks");
    }

    async fn register(&self, window: u64, extension: u64) {
        self.register_with(window, extension, |_| {}).await;
    }

    async fn register_with(
        &self,
        window: u64,
        extension: u64,
        change: impl FnOnce(&mut RollupParams),
    ) {
        let mut params = RollupParams {
            name: "alpha".into(),
            kind: RollupKind::Optimistic,
            sequencer: dev_sequencer(0).public(),
            challenge_window: window,
            proposer_bond: ONE_TOKEN,
            min_fee: 1,
            clock_extension: extension,
            dispute_bond: ONE_TOKEN,
            slash_reward_percent: 50,
            force_inclusion_blocks: 1_000,
            escape_blocks: 1_000_000,
            fee_model: basalt_l1::FeeModel::Fixed,
        };
        change(&mut params);
        self.run(&dev_sequencer(0), Action::RegisterRollup { params })
            .await;
    }

    async fn deposit(&self, to: &Keypair) {
        let deposit = Action::Deposit {
            rollup: 0,
            account: None,
            key: to.public(),
            amount: ONE_TOKEN,
        };
        self.run(&dev_account(2), deposit).await;
    }

    async fn start(
        &self,
        role: Role,
        key: Keypair,
        fault: Option<&str>,
    ) -> (RollupNode, HttpClient) {
        let dir = tempfile::tempdir().unwrap().keep();
        let cfg = NodeConfig {
            l1_rpc: "in-process".into(),
            rollup: "alpha".into(),
            role,
            data_dir: dir,
            rpc: "127.0.0.1:0".parse().unwrap(),
            key: None,
            propose: Some(true),
            challenge: None,
            fault: fault.map(str::to_string),
            censor: None,
            block_time_ms: 20,
            l1_poll_ms: 10,
            zk_keys: None,
            batcher: BatcherConfig {
                max_batch_bytes: 1_024,
                max_delay_ms: 50,
                ..BatcherConfig::default()
            },
        };
        let node = basalt_rollup::start_with(cfg, Some(key), self.client.clone())
            .await
            .unwrap();
        let http = HttpClientBuilder::default()
            .build(format!("http://{}", node.rpc_addr))
            .unwrap();
        (node, http)
    }
}

async fn info(c: &HttpClient) -> Value {
    c.request("l2_chainInfo", rpc_params![]).await.unwrap()
}

/// Sends `count` signed transfers from `user` (L2 account 1) to itself through `http`, once the
/// sequencer has read the deposit that made the account.
async fn send_transfers(http: &HttpClient, user: &Keypair, count: u64) {
    for _ in 0..500 {
        let account: Result<Value, _> = http.request("l2_getAccount", rpc_params![1]).await;
        if account.is_ok_and(|a| !a.is_null()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for nonce in 0..count {
        let tx = L2Tx::<Optimistic>::Transfer {
            from: 1,
            to: 1,
            amount: 1,
            // Above what the sequencer asks even at the test L1's initial 1 gwei base fee: a
            // lone transaction pays its batch's post and output, 2.2e14.
            fee: 1_000_000_000_000_000,
            nonce,
            signature: Signature([0; 64]),
        }
        .signed(0, user);
        let hex = format!("0x{}", hex::encode(tx.to_bytes()));
        let _: Value = http
            .request("l2_sendTransaction", rpc_params![hex])
            .await
            .unwrap();
    }
}

/// The batcher does not wait for one post to be final before the next: with the L1 making no
/// blocks, every batch due goes out at consecutive nonces; then they land in order and the
/// sequencer's soft chain and the chain derived from L1 agree.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_batcher_keeps_many_batches_in_flight_and_they_land_in_order() {
    let l1 = Local::new(0);
    l1.register(20, 5).await;
    let user = dev_keypair("basalt-actors-user", 0);
    l1.deposit(&user).await;
    let (node, http) = l1.start(Role::Sequencer, dev_sequencer(0), None).await;
    // Transfers to self: about ten fill a 1 KiB batch.
    let count = 120u64;
    send_transfers(&http, &user, count).await;
    // No block is made while the batcher posts: what it sends waits in the mempool.
    let sequencer = dev_sequencer(0).public();
    let mut queued = 0;
    for _ in 0..500 {
        let soft = info(&http).await["soft"]["transactions"].as_u64().unwrap();
        // The guard must drop before the client call: the in-process RPC locks the chain too.
        let pending = l1.chain.lock().unwrap().pending_nonce(&sequencer);
        queued = pending - l1.client.account(&sequencer).await.unwrap().nonce;
        if soft > count && queued >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(queued >= 5, "only {queued} batches in flight at once");
    // Then blocks: every transfer reaches L1 finality, in order.
    for _ in 0..300 {
        l1.block();
        let i = info(&http).await;
        if i["derived"]["transactions"] == i["soft"]["transactions"] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let i = info(&http).await;
    assert_eq!(i["derived"]["transactions"], i["soft"]["transactions"]);
    assert_eq!(
        i["derived"]["output"], i["soft"]["output"],
        "the chain derived from L1 is the one the sequencer confirmed"
    );
    let r = l1
        .chain
        .lock()
        .unwrap()
        .state()
        .rollup(0)
        .unwrap()
        .header
        .batch_count;
    assert!(r >= 5, "{r} batches");
    node.stop();
}

/// A faulty sequencer proposes a wrong output (it mints), ten seeded sybils counter every claim
/// of the honest node, and the honest node (its own actors, over the in-process source) removes
/// the lie and settles the right output within the bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_faulty_sequencer_an_honest_challenger_and_sybils_on_an_l1_the_test_drives() {
    const SYBILS: usize = 10;
    let l1 = Local::new(SYBILS);
    l1.register(40, 8).await;
    let user = dev_keypair("basalt-actors-user", 0);
    l1.deposit(&user).await;
    let (faulty, sequencer) = l1
        .start(Role::Sequencer, dev_sequencer(0), Some("mint"))
        .await;
    // Enough transfers that the lie's tree is deep enough for the sybils to defend it.
    send_transfers(&sequencer, &user, 40).await;
    let honest = dev_account(6);
    let (node, _) = l1.start(Role::Verifier, honest.clone(), None).await;
    let mut sybils: Vec<Sybil> = (0..SYBILS).map(|i| Sybil::new(i, i % 2 == 1)).collect();
    let mut lie: Option<(u64, u64)> = None; // (proposal, its bound)
    for _ in 0..2_000 {
        // The sybils' counters for this block, then the block.
        let actions: Vec<(usize, Action)> = {
            let c = l1.chain.lock().unwrap();
            sybils
                .iter_mut()
                .filter_map(|s| s.action(c.state(), 0, &honest.public()).map(|a| (s.who, a)))
                .collect()
        };
        for (who, a) in actions {
            // A counter the L1 refuses before inclusion (a race with the block) costs nothing.
            if let Err(e) = l1.client.submit(&sybil_key(who), a).await {
                eprintln!("sybil {who}: {e}");
            }
        }
        l1.block();
        if lie.is_none() {
            let proposals = l1.client.proposals(0, 0).await.unwrap();
            lie = proposals
                .iter()
                .find(|o| o.proposer == dev_sequencer(0).public())
                .map(|o| (o.proposal, o.bound()));
        }
        if let Some((proposal, bound)) = lie {
            let o = l1.client.output(0, proposal).await.unwrap();
            let settled = l1.client.outputs(0, 0).await.unwrap();
            let right = settled.iter().find(|s| s.batch == o.batch);
            if let (true, Some(right)) = (o.status == "removed", right) {
                let height = l1.chain.lock().unwrap().state().head().height;
                assert!(
                    height <= bound,
                    "decided at {height}, past the bound {bound}"
                );
                assert_ne!(right.output, o.output, "the lie never settles");
                assert_eq!(right.proposer, honest.public(), "the honest output settles");
                let claims = l1.client.tree(0, proposal).await.unwrap().1;
                assert!(
                    claims.claims().iter().any(|c| c.claimant != honest.public()
                        && c.claimant != dev_sequencer(0).public()),
                    "the sybils played"
                );
                faulty.stop();
                node.stop();
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    panic!("no decision after 2,000 blocks");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_exits_a_frozen_rollup_with_a_proof_built_from_l1_data_alone() {
    let l1 = Local::new(0);
    l1.register_with(5, 4, |p| {
        p.force_inclusion_blocks = 2;
        p.escape_blocks = p.settle_bound() + 1;
    })
    .await;
    let user = dev_account(3);
    l1.deposit(&user).await;
    // Batch 0 applies the deposit; its output is proposed and settles. Then the sequencer and
    // every proposer vanish, with a second deposit queued.
    let data = basalt_l2::encode_batch::<Optimistic>(&[L2Tx::Deposit { index: 0 }]);
    let post = Action::PostBatch {
        rollup: 0,
        index: 0,
        data_hash: basalt_l1::blob_hash(&data),
        data,
        deposits_end: 1,
        max_fee_per_blob_byte: 1_000_000,
    };
    l1.run(&dev_sequencer(0), post).await;
    let rollup = l1
        .client
        .rollup(&basalt_rollup::RollupRef::Id(0))
        .await
        .unwrap();
    let settled = basalt_rollup::escape::settled_state(&l1.client, &rollup, |_, _| {})
        .await
        .unwrap();
    assert_eq!(
        settled.account_of(&user.public().0),
        None,
        "nothing settled yet"
    );
    let mut d = basalt_rollup::Derivation::new(
        basalt_l2::Config {
            rollup_id: 0,
            min_fee: 1,
        },
        dev_sequencer(0).public(),
    );
    d.add_deposits(
        l1.client
            .deposits(0, 0)
            .await
            .unwrap()
            .iter()
            .map(|x| x.entry().unwrap()),
    );
    let blob = l1
        .client
        .blob(&rollup_batch_hash(&l1, 0).await)
        .await
        .unwrap();
    let output = d.apply(1, &blob).unwrap().output;
    let propose = Action::ProposeOutput {
        rollup: 0,
        batch: 0,
        prior: rollup.genesis_output,
        output,
    };
    l1.run(&dev_account(4), propose).await;
    while l1
        .client
        .rollup(&basalt_rollup::RollupRef::Id(0))
        .await
        .unwrap()
        .settled
        < 1
    {
        l1.block();
    }
    l1.deposit(&dev_account(5)).await;
    let frozen = loop {
        let r = l1
            .client
            .rollup(&basalt_rollup::RollupRef::Id(0))
            .await
            .unwrap();
        if r.frozen {
            break r;
        }
        l1.block();
    };
    // The wallet's path: the settled state from L1 data alone, an exit signed by the user's key.
    let state = basalt_rollup::escape::settled_state(&l1.client, &frozen, |_, _| {})
        .await
        .unwrap();
    let (index, balance) = state.account_of(&user.public().0).unwrap();
    assert_eq!((index, balance), (1, ONE_TOKEN));
    let to = dev_account(6).public();
    let before = l1_balance(&l1, &to);
    let exit = state.exit(index, to, &user).unwrap();
    l1.run(&dev_account(7), Action::Exit(exit)).await;
    assert_eq!(l1_balance(&l1, &to), before + ONE_TOKEN);
    // The deposit it never applied goes back to its sender.
    let refund = Action::RefundDeposit {
        rollup: 0,
        index: 1,
        state: state.settled_state(),
    };
    let payer = dev_account(2).public();
    let before = l1_balance(&l1, &payer);
    l1.run(&dev_account(7), refund).await;
    assert_eq!(l1_balance(&l1, &payer), before + ONE_TOKEN);
    let r = l1
        .client
        .rollup(&basalt_rollup::RollupRef::Id(0))
        .await
        .unwrap();
    assert_eq!(r.escrow, 0, "the escrow ends at zero");
}

fn l1_balance(l1: &Local, key: &basalt_types::PublicKey) -> u128 {
    l1.chain
        .lock()
        .unwrap()
        .state()
        .account(key)
        .map_or(0, |a| a.balance)
}

async fn rollup_batch_hash(l1: &Local, batch: u64) -> basalt_types::Hash {
    l1.client.batches(0, batch).await.unwrap()[0].data_hash
}
