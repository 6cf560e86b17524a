//! `basalt lab dispute` registers a fresh optimistic rollup on the devnet, runs a dishonest
//! sequencer node for it (a real node with one fault injected, `basalt rollup --fault`) and an
//! honest verifier node that challenges, both in this process and both talking to the L1 only
//! through its JSON-RPC, and prints the dispute game as the L1 records it.
//!
//! DEVNET ONLY: the lab keys are derived from a public seed and funded from a dev account.

use crate::client::{
    connect, fund_and_register, l1_http, l2_client, lab_node, rpc_error, short, wait_final,
};
use anyhow::{bail, Context, Result};
use basalt_l1::{format_tokens, Action, ClaimTree, Claims, RollupKind, RollupParams, ONE_TOKEN};
use basalt_l2::{L2Tx, Optimistic};
use basalt_node::devnet::{dev_account, DEV_ACCOUNTS};
use basalt_rollup::l1client::L1Client;
use basalt_rollup::{Fault, NodeConfig, Role, RollupNode, RollupRef};
use basalt_rpc::l1::ActionInfo;
use basalt_rpc::{AccountRef, BlockId, HexBytes, L1ApiClient, L2ApiClient};
use basalt_types::{dev_keypair, Encode, Keypair, PublicKey, Signature};
use clap::Args;
use jsonrpsee::http_client::HttpClient;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Options of `basalt lab dispute`.
#[derive(Args, Debug)]
pub struct DisputeArgs {
    /// L1 JSON-RPC of the running devnet (`basalt up` in another terminal).
    #[arg(long, default_value = "http://127.0.0.1:8545")]
    pub rpc: String,
    /// How the dishonest sequencer and proposer is wrong: balance, skip-deposit,
    /// reorder-deposits, bad-signature, replay, mint, withdrawals-root or undecodable (see
    /// `basalt rollup --help`).
    #[arg(long, default_value = "mint")]
    pub fault: String,
    /// L2 transfers sent through the dishonest sequencer, so that the disputed batch has steps
    /// to bisect.
    #[arg(long, default_value_t = 24)]
    pub transfers: u32,
    /// Challenge window of the lab rollup, in L1 blocks (DEVNET ONLY: seconds long).
    #[arg(long, default_value_t = 50)]
    pub window: u64,
    /// The clock extension: blocks a side is always left to answer a counter (below --window).
    #[arg(long, default_value_t = 10)]
    pub clock: u64,
    /// Dev account that funds the lab's keys and deposits (DEVNET ONLY keys).
    #[arg(long, default_value_t = DEV_ACCOUNTS - 1)]
    pub funder: u64,
    /// Keep the two lab nodes' data here (default: a temporary directory, removed at the end).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

/// The share of a slashed bond paid to the winner in the lab rollup; the rest is burned.
const SLASH_REWARD_PERCENT: u8 = 50;

/// The lab's parties, each with an L1 key from a seed of this run.
struct Keys {
    sequencer: Keypair,
    challenger: Keypair,
    users: [Keypair; 3],
}

impl Keys {
    fn new(seed: u64) -> Keys {
        let k = |i: u64| dev_keypair("basalt-lab-dispute", seed * 8 + i);
        Keys {
            sequencer: k(0),
            challenger: k(1),
            users: [k(2), k(3), k(4)],
        }
    }

    fn label(&self, key: &PublicKey) -> &'static str {
        if *key == self.sequencer.public() {
            "dishonest proposer"
        } else if *key == self.challenger.public() {
            "honest challenger"
        } else {
            "another party"
        }
    }
}

/// Runs `basalt lab dispute`.
pub async fn dispute(args: DisputeArgs) -> Result<()> {
    let fault = Fault::parse(&args.fault).with_context(|| {
        format!(
            "unknown --fault {:?}; modes: {}",
            args.fault,
            Fault::ALL.map(Fault::name).join(", ")
        )
    })?;
    if args.funder >= DEV_ACCOUNTS {
        bail!("--funder must be a dev account, 0..{DEV_ACCOUNTS}");
    }
    if args.transfers == 0 || args.transfers > 2_000 {
        bail!("--transfers must be in 1..=2000");
    }
    let (client, chain) = connect(&args.rpc).await?;
    let http = l1_http(&args.rpc)?;
    let block_ms = chain.params.block_time_ms;
    let seed = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let keys = Keys::new(seed);
    let name = format!("lab-{}", seed % 1_000_000_000);
    let bond = 10 * ONE_TOKEN;
    let min_fee = ONE_TOKEN / 1_000_000;
    println!(
        "basalt lab dispute: rollup {name} on the devnet at {} ({} ms blocks), fault `{}`",
        args.rpc,
        block_ms,
        fault.name()
    );
    println!(
        "  window {} blocks, dispute clock {} blocks per side, bonds {} tokens (DEVNET ONLY keys and windows)\n",
        args.window,
        args.clock,
        format_tokens(bond)
    );

    let params = RollupParams {
        name: name.clone(),
        kind: RollupKind::Optimistic,
        sequencer: keys.sequencer.public(),
        challenge_window: args.window,
        proposer_bond: bond,
        min_fee,
        clock_extension: args.clock,
        dispute_bond: bond,
        slash_reward_percent: SLASH_REWARD_PERCENT,
        force_inclusion_blocks: 10,
        escape_blocks: 1_000_000,
        fee_model: basalt_l1::FeeModel::Fixed,
    };
    params.validate().context("--window or --clock")?;
    if params.dispute_horizon() >= chain.params.blob_retention_blocks {
        bail!(
            "--window + 3 x --clock must be under the devnet's blob retention of {} blocks",
            chain.params.blob_retention_blocks
        );
    }

    // Fund the lab's two L1 parties, register the rollup.
    let funder = dev_account(args.funder);
    let id = fund_and_register(
        &client,
        &funder,
        &[&keys.sequencer, &keys.challenger],
        &keys.sequencer,
        params,
    )
    .await?;
    println!("registered rollup {name} (id {id}); sequencer and proposer: the dishonest node");

    let tmp = tempfile::tempdir()?;
    let data = args.data_dir.clone().unwrap_or_else(|| tmp.path().into());
    let node_cfg = |role: Role, dir: &str, propose: bool| NodeConfig {
        propose: Some(propose),
        ..lab_node(&args.rpc, &name, data.join(dir), role, block_ms)
    };
    let mut liar_cfg = node_cfg(Role::Sequencer, "dishonest-sequencer", true);
    liar_cfg.fault = Some(fault.name().into());
    let liar = basalt_rollup::start(liar_cfg, Some(keys.sequencer.clone()))
        .await
        .context("starting the dishonest sequencer node")?;
    // The honest node proposes too: its output competes with the lie in its own claim tree.
    let honest = basalt_rollup::start(
        node_cfg(Role::Verifier, "honest-verifier", true),
        Some(keys.challenger.clone()),
    )
    .await
    .context("starting the honest verifier node")?;
    println!(
        "started the dishonest sequencer node (L2 JSON-RPC http://{}) and the honest verifier node (http://{})",
        liar.rpc_addr, honest.rpc_addr
    );
    let played = play(&client, &http, &args, &keys, id, &liar, &honest).await;
    let result = match played {
        Ok(batch) => settled_honestly(&client, id, batch, &args).await,
        Err(e) => Err(e),
    };
    liar.stop();
    honest.stop();
    match &args.data_dir {
        Some(d) => println!("\nthe lab nodes' data is in {}", d.display()),
        None => drop(tmp),
    }
    result
}

/// Deposits and traffic, then the dispute over the first wrong output, printed as it goes;
/// returns the disputed batch.
#[allow(clippy::too_many_arguments)]
async fn play(
    client: &L1Client,
    http: &HttpClient,
    args: &DisputeArgs,
    keys: &Keys,
    id: u32,
    liar: &RollupNode,
    honest: &RollupNode,
) -> Result<u64> {
    let block_ms = client.chain_info().await?.params.block_time_ms;
    let funder = dev_account(args.funder);
    let mut deposits = Vec::new();
    for u in &keys.users {
        let action = Action::Deposit {
            rollup: id,
            account: None,
            key: u.public(),
            amount: 10 * ONE_TOKEN,
        };
        deposits.push(client.submit(&funder, action).await?);
    }
    wait_final(client, &deposits).await.context("depositing")?;
    println!("deposited 10 tokens on L1 for each of three L2 users");
    let liar_url = format!("http://{}", liar.rpc_addr);
    let liar_l2 = l2_client(&liar_url)?;
    // What the sequencer asks of its largest kind, a withdrawal, for every transaction.
    let fee = crate::client::quote_fee(&liar_l2, "withdraw").await?;
    send_traffic(&liar_l2, &liar_url, id, keys, args.transfers, fee).await?;
    println!(
        "sent {} L2 transfers and a withdrawal through the dishonest sequencer\n",
        args.transfers
    );

    // The honest node reports the first output that differs from its own derivation.
    let honest_url = format!("http://{}", honest.rpc_addr);
    let honest_l2 = l2_client(&honest_url)?;
    let deadline = Instant::now() + blocks(block_ms, args.window + 300);
    let (batch, proposal) = loop {
        let info = L2ApiClient::chain_info(&honest_l2)
            .await
            .map_err(|e| rpc_error("l2_chainInfo", &honest_url, e))?;
        if let Some(m) = info.mismatches.as_ref().and_then(|m| m.first()) {
            println!(
                "the dishonest node proposed output {} for batch {}; the honest node derives {}",
                short(&m.proposed),
                m.batch,
                short(&m.derived)
            );
            break (m.batch, m.proposal);
        }
        if Instant::now() > deadline {
            bail!(
                "no wrong output after {} blocks: does fault `{}` fit the traffic? (the dishonest node's log says where it landed)",
                args.window + 300,
                args.fault
            );
        }
        tokio::time::sleep(Duration::from_millis(block_ms)).await;
    };

    let (tree, wall) = follow(client, args, keys, id, proposal, block_ms).await?;
    summary(http, &args.rpc, id, keys, proposal, &tree, wall, block_ms).await?;
    Ok(batch)
}

/// Waits for the honest output of `batch`, proposed by the honest node beside the lie, to settle.
async fn settled_honestly(
    client: &L1Client,
    id: u32,
    batch: u64,
    args: &DisputeArgs,
) -> Result<()> {
    let block_ms = client.chain_info().await?.params.block_time_ms;
    let r = client.rollup(&RollupRef::Id(id)).await?;
    let deadline = Instant::now() + blocks(block_ms, r.dispute_bound + args.window + 100);
    loop {
        let settled = client.outputs(id, batch).await?;
        if let Some(o) = settled.first().filter(|o| o.batch == batch) {
            println!(
                "\nbatch {batch} settled with proposal {} (output {}, by the {}), which nobody could remove",
                o.proposal,
                short(&o.output),
                if o.proposer == r.params.sequencer { "dishonest proposer" } else { "honest node" },
            );
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("batch {batch} did not settle within the dispute bound: is the devnet making blocks?");
        }
        tokio::time::sleep(Duration::from_millis(block_ms)).await;
    }
}

fn blocks(block_ms: u64, n: u64) -> Duration {
    Duration::from_millis(block_ms.saturating_mul(n))
}

/// Prints the claim tree of `proposal` claim by claim until it resolves; returns it with the
/// wall time from the first counter the lab saw to the resolution.
async fn follow(
    client: &L1Client,
    args: &DisputeArgs,
    keys: &Keys,
    id: u32,
    proposal: u64,
    block_ms: u64,
) -> Result<(ClaimTree, Duration)> {
    let r = client.rollup(&RollupRef::Id(id)).await?;
    let deadline = Instant::now() + blocks(block_ms, r.dispute_bound + args.window + 300);
    let mut printed = 0;
    let mut seen_open = None;
    loop {
        let (_, tree) = client.tree(id, proposal).await?;
        let rules = tree.rules;
        if printed == 0 {
            println!(
                "proposal {proposal}'s claim tree: {} steps, so depth {} and trace positions 0..={}; each side has {} blocks along a path, and at least {} to answer; it resolves within {} blocks of the proposal whatever is played",
                rules.steps, rules.depth, 1u64 << rules.depth, rules.max_clock, rules.extension, rules.bound()
            );
            println!(
                "  claim 0 (the proposed output, by the {}): {} at position {}",
                keys.label(&tree.claims()[0].claimant),
                short(&tree.claims()[0].value),
                1u64 << rules.depth
            );
            printed = 1;
        }
        for (i, c) in tree.claims().iter().enumerate().skip(printed) {
            seen_open.get_or_insert_with(Instant::now);
            let parent = c.parent.expect("only the root has no parent");
            let depth = 63 - c.position.leading_zeros();
            let p = tree.claims()[parent as usize];
            let attack = c.position == 2 * p.position;
            let who = keys.label(&c.claimant);
            if depth > rules.depth {
                let at = rules.trace_index(p.position);
                let step = if attack { at } else { at + 1 };
                println!(
                    "  block {:>6}  claim {i}: the {who} counters claim {parent} by a one-step proof: the L1 re-ran step {} against the Merkle witness and got {}",
                    c.created,
                    step,
                    short(&c.value),
                );
            } else {
                println!(
                    "  block {:>6}  claim {i}: the {who} {} claim {parent}: asserts {} at position {}",
                    c.created,
                    if attack { "attacks" } else { "defends against" },
                    short(&c.value),
                    rules.trace_index(c.position),
                );
            }
        }
        printed = tree.claims().len();
        let o = client.output(id, proposal).await?;
        if o.status == "removed" || o.status == "upheld" || o.status == "settled" {
            println!(
                "L1 block {}: the tree resolved: proposal {proposal} {}",
                tree.resolvable_at(),
                o.status
            );
            return Ok((tree, seen_open.map_or(Duration::ZERO, |t| t.elapsed())));
        }
        if Instant::now() > deadline {
            bail!("proposal {proposal} not resolved in time: is the devnet making blocks?");
        }
        tokio::time::sleep(Duration::from_millis(block_ms)).await;
    }
}

/// Where every bond of the tree went, and what the dispute cost on L1, from the blocks that
/// carried it.
#[allow(clippy::too_many_arguments)]
async fn summary(
    http: &HttpClient,
    rpc: &str,
    id: u32,
    keys: &Keys,
    proposal: u64,
    tree: &ClaimTree,
    wall: Duration,
    block_ms: u64,
) -> Result<()> {
    let opened = tree.claims()[0].created;
    let resolved = tree.resolvable_at();
    let reward = |bond: u128| bond * SLASH_REWARD_PERCENT as u128 / 100;
    let resolution = tree.resolve();
    println!();
    for (i, c) in tree.claims().iter().enumerate() {
        if resolution.countered[i] && c.bond > 0 {
            println!(
                "slashed: claim {i} of the {} ({}) lost its bond of {} tokens: {} to whoever countered it, {} burned",
                keys.label(&c.claimant),
                short(&c.claimant),
                format_tokens(c.bond),
                format_tokens(reward(c.bond)),
                format_tokens(c.bond - reward(c.bond))
            );
        }
    }
    let (mut txs, mut bytes, mut gas) = (0u64, 0u64, 0u64);
    for height in opened..=resolved {
        let b = L1ApiClient::get_block(http, BlockId::Height(height))
            .await
            .map_err(|e| rpc_error("l1_getBlock", rpc, e))?;
        for t in &b.transactions {
            let ours = match t.action {
                ActionInfo::Counter {
                    rollup,
                    proposal: p,
                    ..
                }
                | ActionInfo::Step {
                    rollup,
                    proposal: p,
                    ..
                } => rollup == id && p == proposal,
                _ => false,
            };
            if ours {
                txs += 1;
                bytes += t.bytes;
                gas += t.gas_limit;
            }
        }
    }
    let last_move = tree.claims().last().map_or(opened, |c| c.created);
    let secs = |n: u64| n as f64 * block_ms as f64 / 1_000.0;
    println!(
        "moves: {} claims after the root; {txs} dispute transactions on L1 (refused ones included): {bytes} bytes, {gas} gas at most (their limits)",
        tree.claims().len() - 1
    );
    println!(
        "time: the last move came {} block(s) (~{:.1} s) after the proposal; the tree resolved {} blocks (~{:.1} s) after it, when the last clock ran out (bound {}); {:.1} s of wall time as seen by this lab",
        last_move - opened,
        secs(last_move - opened),
        resolved - opened,
        secs(resolved - opened),
        tree.rules.bound(),
        wall.as_secs_f64()
    );
    Ok(())
}

/// Transfers back and forth between the first two users, then a withdrawal to the third user's
/// L1 account, once the sequencer has applied their deposits.
async fn send_traffic(
    l2: &HttpClient,
    url: &str,
    rollup: u32,
    keys: &Keys,
    transfers: u32,
    fee: u128,
) -> Result<()> {
    let mut index = Vec::new();
    for u in &keys.users[..2] {
        let started = Instant::now();
        loop {
            let key = AccountRef::from(u.public());
            match L2ApiClient::get_account(l2, key).await {
                Ok(v) => {
                    index.push(v.index);
                    break;
                }
                Err(_) if started.elapsed() < Duration::from_secs(60) => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Err(e) => {
                    return Err(rpc_error("l2_getAccount", url, e)
                        .context("the sequencer never applied the deposits"))
                }
            }
        }
    }
    let mut nonces = [0u64; 2];
    let sign = |tx: L2Tx<Optimistic>, who: usize| tx.signed(rollup, &keys.users[who]);
    for i in 0..transfers as usize {
        let (from, to) = (i % 2, (i + 1) % 2);
        let tx = sign(
            L2Tx::Transfer {
                from: index[from],
                to: index[to],
                amount: ONE_TOKEN / 100 + i as u128,
                fee,
                nonce: nonces[from],
                signature: Signature([0; 64]),
            },
            from,
        );
        nonces[from] += 1;
        submit_l2(l2, url, &tx).await?;
    }
    let w = sign(
        L2Tx::Withdraw {
            from: index[1],
            recipient: keys.users[2].public(),
            amount: ONE_TOKEN / 10,
            fee,
            nonce: nonces[1],
            signature: Signature([0; 64]),
        },
        1,
    );
    submit_l2(l2, url, &w).await
}

async fn submit_l2(l2: &HttpClient, url: &str, tx: &L2Tx<Optimistic>) -> Result<()> {
    L2ApiClient::send_transaction(l2, HexBytes(tx.to_bytes()), Some(true))
        .await
        .map_err(|e| rpc_error("l2_sendTransaction", url, e))?;
    Ok(())
}
