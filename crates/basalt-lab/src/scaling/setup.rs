//! Setting up one configuration of the scaling experiment on a fresh lab L1: its users funded on
//! L1, its rollups registered, their sequencer nodes started and every user deposited into one.
//! DEVNET ONLY: keys from a public seed, funds from dev accounts, windows of seconds.

use crate::client::{dev_keys, l2_key, lab_node, wait_final};
use crate::harness::LabL1;
use anyhow::{bail, Context, Result};
use basalt_l1::{Action, RollupKind, RollupParams, ZkParams, ONE_TOKEN};
use basalt_node::devnet::{dev_account, DEV_ACCOUNTS};
use basalt_rollup::l1client::L1Client;
use basalt_rollup::{Role, RollupNode, RollupRef};
use basalt_rpc::{AccountRef, L2ApiClient};
use basalt_types::zk::BabyKeypair;
use basalt_types::{dev_keypair, Amount, Keypair};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The lab rollups' minimum fee: the floor of their execution price.
pub const LAB_L2_FEE: Amount = 100_000_000;
/// What each user is given on L1.
const USER_FUNDS: Amount = 10 * ONE_TOKEN;
/// What each user deposits into its rollup.
const USER_DEPOSIT: Amount = 5 * ONE_TOKEN;
/// Challenge window of the lab's optimistic rollups, in L1 blocks (DEVNET ONLY: seconds).
pub const LAB_WINDOW: u64 = 20;

/// Which layers carry the workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setup {
    /// Plain L1 transfers.
    L1,
    /// `n` optimistic rollups sharing the L1, the users split among them.
    Optimistic(usize),
    /// One ZK rollup of `slots`-transaction batches.
    Zk(usize),
}

impl Setup {
    /// A short name, for file names and JSON.
    pub fn key(&self) -> String {
        match self {
            Setup::L1 => "l1".into(),
            Setup::Optimistic(n) => format!("optimistic-{n}"),
            Setup::Zk(_) => "zk".into(),
        }
    }

    /// A name for people.
    pub fn label(&self) -> String {
        match self {
            Setup::L1 => "L1 only".into(),
            Setup::Optimistic(1) => "1 optimistic rollup".into(),
            Setup::Optimistic(n) => format!("{n} optimistic rollups"),
            Setup::Zk(slots) => format!("ZK rollup ({slots}-slot proofs)"),
        }
    }

    /// How many rollups it runs.
    pub fn rollups(&self) -> usize {
        match self {
            Setup::L1 => 0,
            Setup::Optimistic(n) => *n,
            Setup::Zk(_) => 1,
        }
    }

    /// Whether its rollups are ZK ones.
    pub fn zk(&self) -> bool {
        matches!(self, Setup::Zk(_))
    }
}

/// One user: an L1 key and, on a rollup setup, its rollup and L2 account.
pub struct User {
    /// Its L1 key (on a ZK rollup its L2 key derives from it).
    pub key: Keypair,
    /// Which of the setup's rollups it uses (0 on the L1 alone).
    pub rollup: usize,
    /// Its L2 account index, once its deposit is applied.
    pub l2_index: u32,
}

/// A rollup of the setup and its sequencer node.
pub struct LabRollup {
    /// Its registry id.
    pub id: u32,
    /// Its sequencer's L1 key (its L1 transactions are the rollup's L1 cost).
    pub sequencer: Keypair,
    /// An L2 JSON-RPC client of its sequencer node.
    pub l2: HttpClient,
    /// The node, stopped when this drops.
    node: Option<RollupNode>,
}

impl Drop for LabRollup {
    fn drop(&mut self) {
        if let Some(node) = self.node.take() {
            node.stop();
        }
    }
}

/// A configuration ready to carry the workload.
pub struct Prepared {
    /// The lab L1.
    pub lab: LabL1,
    /// A client of it.
    pub client: L1Client,
    /// An HTTP client of it, for raw submissions.
    pub l1: HttpClient,
    /// The users.
    pub users: Vec<User>,
    /// The rollups (none on the L1 alone).
    pub rollups: Vec<LabRollup>,
    _nodes_dir: tempfile::TempDir,
}

/// A JSON-RPC HTTP client of `url`.
pub fn http(url: &str) -> Result<HttpClient> {
    HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(30))
        .max_concurrent_requests(1_024)
        .build(url)
        .with_context(|| format!("a client of {url}"))
}

/// Starts a lab L1 with `params` and sets `setup` up on it for `users` users (seeded keys).
pub async fn prepare(
    setup: Setup,
    params: basalt_l1::Params,
    users: usize,
    seed: u64,
    zk_keys: &Path,
) -> Result<Prepared> {
    let lab = LabL1::start(params).await?;
    let client = L1Client::new(&lab.url)?;
    let l1 = http(&lab.url)?;
    let rollups = setup.rollups();
    let key = |role: u64, i: u64| {
        dev_keypair("basalt-lab-scaling", seed * 1_000_000 + role * 100_000 + i)
    };
    let sequencers: Vec<Keypair> = (0..rollups as u64).map(|i| key(0, i)).collect();
    let mut users: Vec<User> = (0..users)
        .map(|j| User {
            key: key(1, j as u64),
            rollup: if rollups == 0 { 0 } else { j % rollups },
            l2_index: 0,
        })
        .collect();
    // Fund everyone from the dev accounts, each sending its share at consecutive nonces.
    let mut funded = Vec::new();
    let payees = sequencers
        .iter()
        .map(|k| (k, 1_000 * ONE_TOKEN))
        .chain(users.iter().map(|u| (&u.key, USER_FUNDS)));
    for (i, (to, amount)) in payees.enumerate() {
        let from = dev_account(i as u64 % DEV_ACCOUNTS);
        let nonce = i as u64 / DEV_ACCOUNTS;
        let action = Action::Transfer {
            to: to.public(),
            amount,
        };
        funded.push(client.submit_at(&from, action, nonce, false).await?);
    }
    wait_final(&client, &funded)
        .await
        .context("funding the lab's keys")?;

    let nodes_dir = tempfile::tempdir()?;
    let mut out = Vec::new();
    for (i, sequencer) in sequencers.into_iter().enumerate() {
        let name = format!("lab-{}-{i}", setup.key());
        out.push(
            start_rollup(
                &lab,
                &client,
                setup,
                &name,
                sequencer,
                nodes_dir.path(),
                zk_keys,
            )
            .await?,
        );
    }
    if !out.is_empty() {
        let mut deposits = Vec::new();
        for u in &users {
            let action = Action::Deposit {
                rollup: out[u.rollup].id,
                account: None,
                key: l2_key(&u.key, setup.zk()),
                amount: USER_DEPOSIT,
            };
            deposits.push(client.submit_at(&u.key, action, 0, false).await?);
        }
        wait_final(&client, &deposits)
            .await
            .context("the users' deposits")?;
        for u in &mut users {
            u.l2_index = l2_account(&out[u.rollup].l2, &u.key, setup.zk()).await?;
        }
    }
    Ok(Prepared {
        lab,
        client,
        l1,
        users,
        rollups: out,
        _nodes_dir: nodes_dir,
    })
}

async fn start_rollup(
    lab: &LabL1,
    client: &L1Client,
    setup: Setup,
    name: &str,
    sequencer: Keypair,
    dir: &Path,
    zk_keys: &Path,
) -> Result<LabRollup> {
    let kind = match setup {
        Setup::Zk(slots) => {
            let keys = dev_keys(zk_keys, slots).await?;
            RollupKind::Zk(ZkParams {
                fee_key: BabyKeypair::of_l1_key(&sequencer).public(),
                slots: slots as u32,
                verifying_key: basalt_zk::verifying_key_bytes(&keys.verifying),
            })
        }
        _ => RollupKind::Optimistic,
    };
    let mut params = RollupParams {
        name: name.into(),
        kind,
        sequencer: sequencer.public(),
        challenge_window: LAB_WINDOW,
        proposer_bond: ONE_TOKEN,
        min_fee: LAB_L2_FEE,
        clock_extension: 4,
        dispute_bond: ONE_TOKEN,
        slash_reward_percent: 50,
        force_inclusion_blocks: 100,
        escape_blocks: 0,
        fee_model: fee_model(setup),
    };
    params.escape_blocks = params.settle_bound() + 10_000;
    let h = client
        .submit_at(&sequencer, Action::RegisterRollup { params }, 0, false)
        .await?;
    wait_final(client, &[h])
        .await
        .context("registering a lab rollup")?;
    let id = client.rollup(&RollupRef::Name(name.into())).await?.id;
    let block_ms = lab.params.block_time_ms;
    let mut cfg = lab_node(&lab.url, name, dir.join(name), Role::Sequencer, block_ms);
    cfg.challenge = None;
    cfg.zk_keys = Some(PathBuf::from(zk_keys));
    let node = basalt_rollup::start(cfg, Some(sequencer.clone()))
        .await
        .with_context(|| format!("starting the sequencer of {name}"))?;
    let l2 = http(&format!("http://{}", node.rpc_addr))?;
    Ok(LabRollup {
        id,
        sequencer,
        l2,
        node: Some(node),
    })
}

/// The lab rollups' fee models: an optimistic rollup's L2 base fee aims at 250 transactions a
/// 100 ms block (2,500 a second, at most twice that), so that it climbs on one rollup carrying
/// the heaviest load; the ZK rollup auctions blocks of its circuit's slots.
fn fee_model(setup: Setup) -> basalt_l1::FeeModel {
    match setup {
        Setup::Zk(slots) => basalt_l1::FeeModel::Auction {
            block_txs: slots as u32,
        },
        _ => basalt_l1::FeeModel::Eip1559 { target_txs: 250 },
    }
}

/// The L2 account index of `key`'s first account, once its deposit is applied.
async fn l2_account(l2: &HttpClient, key: &Keypair, zk: bool) -> Result<u32> {
    let who = AccountRef::from(l2_key(key, zk));
    let started = Instant::now();
    loop {
        if let Ok(a) = l2.get_account(who.clone()).await {
            return Ok(a.index);
        }
        if started.elapsed() > Duration::from_secs(300) {
            bail!("a lab user's deposit was not applied on its rollup within 300 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
