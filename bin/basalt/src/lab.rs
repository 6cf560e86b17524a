//! `basalt lab`: experiments on a running devnet that show a mechanism at work, step by step.
//!
//! `basalt lab dispute` registers a fresh optimistic rollup on the devnet, runs a dishonest
//! sequencer node for it (a real node with one fault injected, `basalt rollup --fault`) and an
//! honest verifier node that challenges, both in this process and both talking to the L1 only
//! through its JSON-RPC, and prints the dispute game as the L1 records it.
//!
//! DEVNET ONLY: the lab keys are derived from a public seed and funded from a dev account.

use crate::devnet_rollups::wait_final;
use crate::units::format_tokens;
use crate::wallet::{call, l1_http};
use anyhow::{bail, Context, Result};
use basalt_l1::{
    midpoint, Action, Dispute, DisputeResult, Game, GameEnd, MoveKind, RollupKind, RollupParams,
    Side, ONE_TOKEN,
};
use basalt_l2::{L2Tx, Optimistic};
use basalt_node::devnet::{dev_account, DEV_ACCOUNTS};
use basalt_rollup::l1client::L1Client;
use basalt_rollup::{BatcherConfig, Fault, NodeConfig, Role, RollupNode, RollupRef};
use basalt_types::{dev_keypair, Encode, Hash, Keypair, PublicKey, Signature};
use clap::{Args, Subcommand};
use jsonrpsee::http_client::HttpClient;
use jsonrpsee::rpc_params;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Lab experiments.
#[derive(Subcommand, Debug)]
pub enum LabCommand {
    /// A dishonest proposer against the honest challenger on the running devnet, move by move.
    Dispute(DisputeArgs),
}

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
    /// Each side's dispute clock, in L1 blocks.
    #[arg(long, default_value_t = 100)]
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

/// Runs a lab experiment.
pub fn run(cmd: LabCommand) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    match cmd {
        LabCommand::Dispute(a) => rt.block_on(dispute(a)),
    }
}

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

/// The first bytes of a hash or key, for reading along.
fn short(h: &impl std::fmt::Display) -> String {
    h.to_string()[..12].to_string()
}

fn side_name(s: Side) -> &'static str {
    match s {
        Side::Challenger => "challenger",
        Side::Defender => "defender",
    }
}

async fn dispute(args: DisputeArgs) -> Result<()> {
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
    let client = L1Client::new(&args.rpc)?;
    let http = l1_http(&args.rpc)?;
    let chain = client.chain_info().await.with_context(|| {
        format!(
            "no L1 at {}: start the devnet with `basalt up` first (or pass --rpc)",
            args.rpc
        )
    })?;
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
        dispute_clock: args.clock,
        dispute_bond: bond,
        slash_reward_percent: SLASH_REWARD_PERCENT,
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
    let mut hashes = Vec::new();
    for to in [&keys.sequencer, &keys.challenger] {
        let action = Action::Transfer {
            to: to.public(),
            amount: 100 * ONE_TOKEN,
        };
        hashes.push(client.submit(&funder, action).await?);
    }
    wait_final(&client, &hashes)
        .await
        .context("funding the lab keys")?;
    let h = client
        .submit(&keys.sequencer, Action::RegisterRollup { params })
        .await
        .context("registering the lab rollup")?;
    wait_final(&client, &[h])
        .await
        .context("registering the lab rollup")?;
    let rollup = client.rollup(&RollupRef::Name(name.clone())).await?;
    let id = rollup.id;
    println!("registered rollup {name} (id {id}); sequencer and proposer: the dishonest node");

    let tmp = tempfile::tempdir()?;
    let data = args.data_dir.clone().unwrap_or_else(|| tmp.path().into());
    let node_cfg = |role: Role, dir: &str, propose: bool| NodeConfig {
        l1_rpc: args.rpc.clone(),
        rollup: name.clone(),
        role,
        data_dir: data.join(dir),
        rpc: SocketAddr::from(([127, 0, 0, 1], 0)),
        key: None,
        propose: Some(propose),
        challenge: Some(true),
        fault: None,
        block_time_ms: 50,
        l1_poll_ms: block_ms,
        batcher: BatcherConfig::default(),
    };
    let mut liar_cfg = node_cfg(Role::Sequencer, "dishonest-sequencer", true);
    liar_cfg.fault = Some(fault.name().into());
    let liar = basalt_rollup::start(liar_cfg, Some(keys.sequencer.clone()))
        .await
        .context("starting the dishonest sequencer node")?;
    // The honest node only challenges and plays: proposing too, it could win the race to propose
    // the faulted batch's output and there would be no lie to catch.
    let honest = basalt_rollup::start(
        node_cfg(Role::Verifier, "honest-verifier", false),
        Some(keys.challenger.clone()),
    )
    .await
    .context("starting the honest verifier node")?;
    println!(
        "started the dishonest sequencer node (L2 JSON-RPC http://{}) and the honest verifier node (http://{})",
        liar.rpc_addr, honest.rpc_addr
    );
    let played = play(&client, &http, &args, &keys, id, min_fee, &liar, &honest).await;
    // Stopped first, so that it cannot challenge the honest output in its turn.
    liar.stop();
    let result = match played {
        Ok((batch, derived, d)) => propose_honest(&client, &keys, id, batch, derived, &d).await,
        Err(e) => Err(e),
    };
    honest.stop();
    match &args.data_dir {
        Some(d) => println!("\nthe lab nodes' data is in {}", d.display()),
        None => drop(tmp),
    }
    result
}

/// Deposits and traffic, then the dispute over the first wrong output, printed as it goes; the
/// disputed batch, the honest output of it and the decided dispute.
#[allow(clippy::too_many_arguments)]
async fn play(
    client: &L1Client,
    http: &HttpClient,
    args: &DisputeArgs,
    keys: &Keys,
    id: u32,
    min_fee: u128,
    liar: &RollupNode,
    honest: &RollupNode,
) -> Result<(u64, Hash, Dispute)> {
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
    send_traffic(&liar_l2, &liar_url, id, keys, args.transfers, min_fee).await?;
    println!(
        "sent {} L2 transfers and a withdrawal through the dishonest sequencer\n",
        args.transfers
    );

    // The honest node reports the first output that differs from its own derivation.
    let honest_url = format!("http://{}", honest.rpc_addr);
    let honest_l2 = l2_client(&honest_url)?;
    let deadline = Instant::now() + blocks(block_ms, args.window + 300);
    let (batch, derived) = loop {
        let info = call(&honest_l2, &honest_url, "l2_chainInfo", rpc_params![]).await?;
        if let Some(m) = info["mismatches"].as_array().and_then(|m| m.first()) {
            let batch = m["batch"].as_u64().context("mismatch without batch")?;
            let derived = parse_hash(&m["derived"])?;
            let proposed = parse_hash(&m["proposed"])?;
            println!(
                "the dishonest node proposed output {} for batch {batch}; the honest node derives {}",
                short(&proposed),
                short(&derived)
            );
            break (batch, derived);
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

    let (d, wall) = follow(client, args, keys, id, batch, block_ms).await?;
    summary(http, &args.rpc, id, keys, &d, wall, block_ms).await?;
    Ok((batch, derived, d))
}

/// Once the lie is removed (it cannot be proposed again), the honest party proposes the output
/// it derived.
async fn propose_honest(
    client: &L1Client,
    keys: &Keys,
    id: u32,
    batch: u64,
    derived: Hash,
    d: &Dispute,
) -> Result<()> {
    if matches!(d.result, Some(DisputeResult::Removed { .. })) {
        let action = Action::ProposeOutput {
            rollup: id,
            batch,
            prior: d.prior,
            output: derived,
        };
        let h = client.submit(&keys.challenger, action).await?;
        wait_final(client, &[h])
            .await
            .context("proposing the honest output")?;
        let r = client.rollup(&RollupRef::Id(id)).await?;
        let o = client.output(id, r.proposals - 1).await?;
        println!(
            "\nL1 block {}: the honest party proposed output {} for batch {batch} (proposal {}, {}); it settles at block {} unless challenged",
            o.height,
            short(&o.output),
            o.proposal,
            o.status,
            o.settles_at
        );
    }
    Ok(())
}

fn l2_client(url: &str) -> Result<HttpClient> {
    jsonrpsee::http_client::HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(10))
        .build(url)
        .with_context(|| format!("L2 client of {url}"))
}

fn parse_hash(v: &Value) -> Result<Hash> {
    let s = v.as_str().context("expected a hash")?;
    Hash::from_hex(s).map_err(|e| anyhow::anyhow!("bad hash {s}: {e}"))
}

fn blocks(block_ms: u64, n: u64) -> Duration {
    Duration::from_millis(block_ms.saturating_mul(n))
}

/// Prints the dispute over `batch` move by move until it is decided; returns it with the wall
/// time from the moment the lab saw it open to the moment it saw the decision.
async fn follow(
    client: &L1Client,
    args: &DisputeArgs,
    keys: &Keys,
    id: u32,
    batch: u64,
    block_ms: u64,
) -> Result<(Dispute, Duration)> {
    let deadline = Instant::now() + blocks(block_ms, 2 * (args.window + 3 * args.clock) + 300);
    let dispute_id = loop {
        let r = client.rollup(&RollupRef::Id(id)).await?;
        let mut found = None;
        for d in &r.open_dispute_ids {
            if client.dispute(id, *d).await?.batch == batch {
                found = Some(*d);
            }
        }
        if let Some(d) = found {
            break d;
        }
        if Instant::now() > deadline {
            bail!("the honest node did not challenge in time");
        }
        tokio::time::sleep(Duration::from_millis(block_ms)).await;
    };
    let seen_open = Instant::now();
    let mut printed_moves: Vec<usize> = Vec::new();
    let mut printed_ends: Vec<bool> = Vec::new();
    let mut parties = (0, 0);
    loop {
        let d = client.dispute(id, dispute_id).await?;
        if parties == (0, 0) {
            println!(
                "L1 block {}: dispute {} opened over batch {} ({} steps, so trace positions 0..={}); joining closes for challengers at block {} and defenders at block {}",
                d.opened, d.id, d.batch, d.steps, d.steps, d.challenge_until, d.defend_until
            );
            if d.steps == 0 {
                println!("  the batch data does not decode, so the batch applies nothing: its output must equal the prior output, which the L1 checks at once");
            } else {
                println!(
                    "  position i is the output after the batch's first i steps: 0 is the agreed prior output, {} the disputed one",
                    d.steps
                );
            }
        }
        for (side, list, seen) in [
            (Side::Challenger, &d.challengers, &mut parties.0),
            (Side::Defender, &d.defenders, &mut parties.1),
        ] {
            for p in &list[*seen..] {
                println!(
                    "  {} joins: {} ({}), bond {} tokens",
                    side_name(side),
                    keys.label(&p.key),
                    short(&p.key),
                    format_tokens(p.bond)
                );
            }
            *seen = list.len();
        }
        printed_moves.resize(d.games.len(), 0);
        printed_ends.resize(d.games.len(), false);
        for (g, game) in d.games.iter().enumerate() {
            for m in &game.moves[printed_moves[g]..] {
                let who = d.party(m.side, game.player(m.side));
                let mover = format!("{} ({})", side_name(m.side), keys.label(&who.key));
                match m.kind {
                    MoveKind::Bisect { a, b, mid, end } => println!(
                        "  block {:>6}  game {g}  {mover}: disputes positions {a}..{b}; claims {} at {} and {} at {b}",
                        m.height,
                        short(&mid),
                        midpoint(a, b),
                        short(&end)
                    ),
                    MoveKind::OneStep { step, result } => {
                        println!(
                            "  block {:>6}  game {g}  {mover}: one-step proof of step {step}: the L1 re-ran transaction {step} against the Merkle witness and got {} at {}",
                            m.height,
                            short(&result),
                            step + 1
                        );
                        if let Some(claim) = opponent_claim(game, m.side, step + 1) {
                            println!(
                                "                        the opponent had claimed {} at {}",
                                short(&claim),
                                step + 1
                            );
                        }
                    }
                }
            }
            printed_moves[g] = game.moves.len();
            if let (Some(end), false) = (game.end_state, printed_ends[g]) {
                printed_ends[g] = true;
                match end {
                    GameEnd::Won {
                        winner,
                        reason,
                        height,
                    } => {
                        let w = d.party(winner, game.player(winner));
                        println!(
                            "  block {height:>6}  game {g}  won by the {} ({}) by {}",
                            side_name(winner),
                            keys.label(&w.key),
                            reason.name()
                        );
                    }
                    GameEnd::Cancelled { height } => {
                        println!("  block {height:>6}  game {g}  cancelled")
                    }
                }
            }
        }
        if let Some(result) = d.result {
            let height = decided_at(&result);
            println!(
                "L1 block {height}: dispute {} decided: output {}",
                d.id,
                result.name()
            );
            let r = client.rollup(&RollupRef::Id(id)).await?;
            for p in 0..r.proposals {
                let o = client.output(id, p).await?;
                if o.status == "removed" && o.batch > batch {
                    println!(
                        "  removed with it: proposal {p} for batch {}, built on it",
                        o.batch
                    );
                }
            }
            return Ok((d, seen_open.elapsed()));
        }
        if Instant::now() > deadline {
            bail!("dispute {dispute_id} not decided in time: is the devnet making blocks?");
        }
        tokio::time::sleep(Duration::from_millis(block_ms)).await;
    }
}

/// The last claim the opponent of `side` made at trace position `pos` in `game`, if any.
fn opponent_claim(game: &Game, side: Side, pos: u64) -> Option<Hash> {
    game.moves.iter().rev().find_map(|m| match m.kind {
        MoveKind::Bisect { a, b, mid, end } if m.side != side => (midpoint(a, b) == pos)
            .then_some(mid)
            .or((b == pos).then_some(end)),
        _ => None,
    })
}

fn decided_at(r: &DisputeResult) -> u64 {
    match *r {
        DisputeResult::Removed { height }
        | DisputeResult::Upheld { height }
        | DisputeResult::Dropped { height } => height,
    }
}

/// Who was slashed, and what the dispute cost on L1, from the blocks that carried it.
async fn summary(
    http: &HttpClient,
    rpc: &str,
    id: u32,
    keys: &Keys,
    d: &Dispute,
    wall: Duration,
    block_ms: u64,
) -> Result<()> {
    let decided = d.result.as_ref().map_or(d.opened, decided_at);
    let reward = |bond: u128| bond * SLASH_REWARD_PERCENT as u128 / 100;
    println!();
    for p in d.challengers.iter().chain(&d.defenders) {
        if p.lost.is_some() {
            println!(
                "slashed: the {} ({}) lost its bond of {} tokens: {} to the winner, {} burned",
                keys.label(&p.key),
                short(&p.key),
                format_tokens(p.bond),
                format_tokens(reward(p.bond)),
                format_tokens(p.bond - reward(p.bond))
            );
        }
    }
    let (mut txs, mut bytes, mut gas) = (0u64, 0u64, 0u64);
    let mut last_move = d.opened;
    for height in d.opened..=decided {
        let b = call(http, rpc, "l1_getBlock", rpc_params![height]).await?;
        for t in b["transactions"].as_array().into_iter().flatten() {
            let a = &t["action"];
            if a["rollup"].as_u64() != Some(id as u64) {
                continue;
            }
            let ours = match a["type"].as_str() {
                Some("challenge" | "defend") => a["batch"].as_u64() == Some(d.batch),
                Some("bisect" | "oneStepProof") => a["dispute"].as_u64() == Some(d.id),
                _ => false,
            };
            if ours {
                txs += 1;
                bytes += t["bytes"].as_u64().unwrap_or(0);
                gas += t["gas"].as_u64().unwrap_or(0);
                last_move = height;
            }
        }
    }
    let moves: usize = d.games.iter().map(|g| g.moves.len()).sum();
    let secs = |n: u64| n as f64 * block_ms as f64 / 1_000.0;
    println!(
        "moves: {moves} over {} trace positions; {txs} dispute transactions on L1: {bytes} bytes, {gas} gas",
        d.steps + 1
    );
    println!(
        "time: the game took {} block(s) (~{:.1} s); decided {} blocks (~{:.1} s) after it opened, because joining stays open until block {}; {:.1} s of wall time as seen by this lab",
        last_move - d.opened + 1,
        secs(last_move - d.opened + 1),
        decided - d.opened,
        secs(decided - d.opened),
        d.defend_until,
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
            match call(l2, url, "l2_getAccount", rpc_params![u.public().to_hex()]).await {
                Ok(v) => {
                    index.push(v["index"].as_u64().context("account without index")? as u32);
                    break;
                }
                Err(_) if started.elapsed() < Duration::from_secs(60) => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Err(e) => return Err(e.context("the sequencer never applied the deposits")),
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
    let hex = format!("0x{}", hex::encode(tx.to_bytes()));
    call(l2, url, "l2_sendTransaction", rpc_params![hex, true]).await?;
    Ok(())
}
