//! `basalt lab censorship`: what a sequencer can do to a user, and the ways through and out that
//! need nobody's permission, on the running devnet.
//!
//! The lab registers a fresh optimistic rollup and runs two real nodes for it in this process,
//! both reaching the L1 only through its JSON-RPC: a sequencer that censors one user (a node with
//! one fault injected, `censor`: it refuses the user's transactions and holds the user's queue
//! items until just before their deadline) and an honest verifier that proposes. Part 1: the
//! user's withdrawal is refused, forced in through the L1, carried at its deadline, settled and
//! paid. Part 2: the sequencer vanishes, the verifier posts the batch it left overdue; then nobody
//! posts, the rollup freezes, and everyone exits from the last settled state, rebuilt from L1
//! data alone, until the escrow is empty.
//!
//! DEVNET ONLY: the lab keys are derived from a public seed and funded from a dev account; the
//! windows are seconds long.

use crate::client::{
    connect, fund_and_register, l2_client, lab_node, ready_claim, short, wait_final, ForcedItem,
};
use anyhow::{bail, Context, Result};
use basalt_l1::{format_tokens, Action, RollupKind, RollupParams, ONE_TOKEN};
use basalt_l2::{L2Tx, Optimistic};
use basalt_node::devnet::{dev_account, DEV_ACCOUNTS};
use basalt_rollup::escape::settled_state;
use basalt_rollup::l1client::{L1TxStatus, RollupInfo};
use basalt_rollup::{L1Client, Role, RollupNode, RollupRef};
use basalt_rpc::{AccountRef, HexBytes, L2ApiClient, WithdrawalRef};
use basalt_types::{dev_keypair, Amount, Encode, Hash, Keypair, Signature};
use clap::Args;
use jsonrpsee::http_client::HttpClient;
use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Options of `basalt lab censorship`.
#[derive(Args, Debug)]
pub struct CensorshipArgs {
    /// L1 JSON-RPC of the running devnet (`basalt up` in another terminal).
    #[arg(long, default_value = "http://127.0.0.1:8545")]
    pub rpc: String,
    /// Force-inclusion delay of the lab rollup, in L1 blocks: how long the censor may hold an
    /// item (DEVNET ONLY: seconds; OP Stack's sequencing window is 12 hours).
    #[arg(long, default_value_t = 30)]
    pub delay: u64,
    /// Challenge window of the lab rollup, in L1 blocks (DEVNET ONLY: seconds long).
    #[arg(long, default_value_t = 10)]
    pub window: u64,
    /// Escape delay, in L1 blocks: how long the rollup may owe something and settle nothing
    /// before it freezes (default: the shortest the L1 accepts, plus 10).
    #[arg(long)]
    pub escape: Option<u64>,
    /// Dev account that funds the lab's keys (DEVNET ONLY keys).
    #[arg(long, default_value_t = DEV_ACCOUNTS - 1)]
    pub funder: u64,
    /// Keep the two lab nodes' data here (default: a temporary directory, removed at the end).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

/// The clock extension of the lab rollup (the shortest the L1 accepts).
const CLOCK: u64 = 4;
/// The minimum L2 fee of the lab rollup.
const MIN_FEE: Amount = ONE_TOKEN / 1_000_000;

/// The lab's parties, each with an L1 key from a seed of this run.
struct Keys {
    sequencer: Keypair,
    verifier: Keypair,
    user: Keypair,
    bystander: Keypair,
}

/// What every step reads and prints against: the L1, the rollup, and when the lab started.
struct Lab {
    client: L1Client,
    id: u32,
    keys: Keys,
    block_ms: u64,
    started: Instant,
    /// Blocks a step may wait before the lab gives up.
    patience: u64,
}

impl Lab {
    /// The rollup as the L1 finalized it.
    async fn rollup(&self) -> Result<RollupInfo> {
        Ok(self.client.rollup(&RollupRef::Id(self.id)).await?)
    }

    /// Prints `what` at the L1's finalized height and the seconds since the lab started.
    async fn say(&self, what: impl std::fmt::Display) -> Result<u64> {
        let height = self.rollup().await?.height;
        println!(
            "  [L1 block {height:>6} | {:>6.1} s]  {what}",
            self.started.elapsed().as_secs_f64()
        );
        Ok(height)
    }

    /// Polls `f` every block until it gives a value, for at most `patience` blocks.
    async fn until<T, Fut: Future<Output = Result<Option<T>>>>(
        &self,
        what: &str,
        mut f: impl FnMut() -> Fut,
    ) -> Result<T> {
        let deadline = Instant::now() + Duration::from_millis(self.block_ms * self.patience);
        loop {
            if let Some(v) = f().await? {
                return Ok(v);
            }
            if Instant::now() > deadline {
                bail!(
                    "gave up waiting for {what} after {} blocks: is the devnet making blocks?",
                    self.patience
                );
            }
            tokio::time::sleep(Duration::from_millis(self.block_ms)).await;
        }
    }

    /// Submits `action` signed by `who` and waits until it is final and applied.
    async fn run(&self, who: &Keypair, action: Action) -> Result<()> {
        let h = self.client.submit(who, action).await?;
        wait_final(&self.client, &[h]).await
    }

    /// The L2 account index of `who` on the node behind `l2`, once it has one.
    async fn account(&self, l2: &(HttpClient, String), who: &Keypair) -> Result<Option<u32>> {
        let key = AccountRef::from(who.public());
        Ok(l2.0.get_account(key).await.ok().map(|a| a.index))
    }

    /// The queue item holding `hash`, forced in through the L1, waiting for it to be readable.
    async fn item(&self, hash: &Hash) -> Result<ForcedItem> {
        let which = RollupRef::Id(self.id);
        self.until("the forced item in the L1 queue", || async {
            Ok(ForcedItem::find(&self.client, &which, hash)
                .await?
                .map(|(item, _)| item))
        })
        .await
    }

    /// The first posted batch that consumes queue item `index`: its number and L1 height.
    async fn carried(&self, index: u64) -> Result<(u64, u64, u64)> {
        self.until("a batch carrying the item", || async {
            let r = self.rollup().await?;
            if r.deposits_end <= index {
                return Ok(None);
            }
            let batches = self.client.all_batches(self.id, r.batches).await?;
            Ok(batches
                .into_iter()
                .find(|b| b.deposits_end > index)
                .map(|b| (b.index, b.height, b.tx_count)))
        })
        .await
    }

    /// Waits until batch `batch` settles; its settling height.
    async fn settled(&self, batch: u64) -> Result<u64> {
        self.until("the batch to settle", || async {
            let r = self.rollup().await?;
            Ok((r.settled > batch).then_some(r.height))
        })
        .await
    }

    /// Submits `action` from the verifier's key (anyone may send a claim, an exit or a refund)
    /// and gives what `who`'s L1 balance gained by it.
    async fn paid(&self, who: &Keypair, action: Action) -> Result<Amount> {
        let before = self.client.account(&who.public()).await?.balance;
        self.run(&self.keys.verifier, action).await?;
        let after = self.client.account(&who.public()).await?.balance;
        Ok(after.saturating_sub(before))
    }

    /// Claims the withdrawal of L2 transaction `hash` on L1 with the proof the node behind `l2`
    /// serves; the tokens its recipient `who` gained.
    async fn claim(&self, l2: &(HttpClient, String), hash: &Hash, who: &Keypair) -> Result<Amount> {
        let claim = self
            .until("the withdrawal proof", || async {
                ready_claim(&l2.0, WithdrawalRef::Tx(*hash)).await
            })
            .await?;
        self.paid(who, Action::FinalizeWithdrawal(claim)).await
    }
}

/// What the batch `batch`, posted at L1 height `at`, says of the censor's hold on `what`, queued
/// at `queued` with deadline `deadline`.
fn given_in(what: &str, batch: u64, at: u64, queued: u64, deadline: u64) -> String {
    let held = at.saturating_sub(queued);
    match deadline.checked_sub(at) {
        Some(early) if early > 0 => format!(
            "the sequencer gives in: batch {batch}, posted at block {at}, carries {what} {early} blocks before its deadline (held {held} blocks); from block {deadline} the L1 would refuse any batch without it"
        ),
        _ => format!(
            "batch {batch}, posted at block {at}, carries {what}, past its deadline (block {deadline}): the L1 refused every batch without it until then (held {held} blocks)"
        ),
    }
}

/// `n` things, in words: "1 exit", "3 exits".
fn count(n: u64, thing: &str) -> String {
    match n {
        1 => format!("1 {thing}"),
        n => format!("{n} {thing}s"),
    }
}

/// A signed withdrawal of `amount` from account `from` to `who`'s own L1 account, paying `fee`.
fn withdrawal(
    id: u32,
    from: u32,
    amount: Amount,
    fee: Amount,
    nonce: u64,
    who: &Keypair,
) -> L2Tx<Optimistic> {
    L2Tx::Withdraw {
        from,
        recipient: who.public(),
        amount,
        fee,
        nonce,
        signature: Signature([0; 64]),
    }
    .signed(id, who)
}

fn force(id: u32, tx: &L2Tx<Optimistic>, who: &Keypair) -> Action {
    Action::ForceInclude {
        rollup: id,
        key: who.public(),
        tx: tx.to_bytes(),
    }
}

/// Runs `basalt lab censorship`.
pub async fn censorship(args: CensorshipArgs) -> Result<()> {
    if args.funder >= DEV_ACCOUNTS {
        bail!("--funder must be a dev account, 0..{DEV_ACCOUNTS}");
    }
    let (client, chain) = connect(&args.rpc).await?;
    let block_ms = chain.params.block_time_ms;
    let seed = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let k = |i: u64| dev_keypair("basalt-lab-censorship", seed * 8 + i);
    let keys = Keys {
        sequencer: k(0),
        verifier: k(1),
        user: k(2),
        bystander: k(3),
    };
    let name = format!("censor-{}", seed % 1_000_000_000);
    let mut params = RollupParams {
        name: name.clone(),
        kind: RollupKind::Optimistic,
        sequencer: keys.sequencer.public(),
        challenge_window: args.window,
        proposer_bond: ONE_TOKEN,
        min_fee: MIN_FEE,
        clock_extension: CLOCK,
        dispute_bond: ONE_TOKEN,
        slash_reward_percent: 50,
        force_inclusion_blocks: args.delay,
        escape_blocks: 0,
        fee_model: basalt_l1::FeeModel::Fixed,
    };
    params.escape_blocks = args.escape.unwrap_or(params.settle_bound() + 10);
    params.validate().context("--delay, --window or --escape")?;
    if params.escape_blocks >= chain.params.blob_retention_blocks {
        bail!(
            "the escape delay ({} blocks) must be under the devnet's blob retention of {} blocks: exits need the data",
            params.escape_blocks,
            chain.params.blob_retention_blocks
        );
    }
    let secs = |n: u64| n as f64 * block_ms as f64 / 1_000.0;
    println!(
        "basalt lab censorship: rollup {name} on the devnet at {} ({block_ms} ms blocks)",
        args.rpc
    );
    println!(
        "  force-inclusion delay {} blocks (~{:.0} s), challenge window {} blocks, escape delay {} blocks (~{:.0} s) (DEVNET ONLY keys and windows)\n",
        params.force_inclusion_blocks,
        secs(params.force_inclusion_blocks),
        params.challenge_window,
        params.escape_blocks,
        secs(params.escape_blocks),
    );
    let parties = [&keys.sequencer, &keys.verifier, &keys.user, &keys.bystander];
    let funder = dev_account(args.funder);
    let id = fund_and_register(&client, &funder, &parties, &keys.sequencer, params).await?;

    let tmp = tempfile::tempdir()?;
    let data = args.data_dir.clone().unwrap_or_else(|| tmp.path().into());
    let node_cfg = |role: Role, dir: &str| {
        let mut cfg = lab_node(&args.rpc, &name, data.join(dir), role, block_ms);
        cfg.batcher.max_delay_ms = block_ms;
        cfg
    };
    let mut censor_cfg = node_cfg(Role::Sequencer, "censoring-sequencer");
    censor_cfg.censor = Some(keys.user.public().to_hex());
    let censor = basalt_rollup::start(censor_cfg, Some(keys.sequencer.clone()))
        .await
        .context("starting the censoring sequencer node")?;
    let honest = basalt_rollup::start(
        node_cfg(Role::Verifier, "honest-verifier"),
        Some(keys.verifier.clone()),
    )
    .await
    .context("starting the honest verifier node")?;
    println!(
        "registered rollup {name} (id {id}); started its sequencer, which censors the user (L2 JSON-RPC http://{}), and an honest verifier that proposes (http://{})",
        censor.rpc_addr, honest.rpc_addr
    );
    let patience = 3 * chain.params.blob_retention_blocks.min(2_000);
    let lab = Lab {
        client,
        id,
        keys,
        block_ms,
        started: Instant::now(),
        patience,
    };
    let result = run(&lab, censor, honest).await;
    match &args.data_dir {
        Some(d) => println!("\nthe lab nodes' data is in {}", d.display()),
        None => drop(tmp),
    }
    result
}

/// Both parts; stops the nodes as the story goes (and on failure, as they drop).
async fn run(lab: &Lab, censor: RollupNode, honest: RollupNode) -> Result<()> {
    let censor_l2 = node_client(&censor)?;
    let honest_l2 = node_client(&honest)?;
    let outcome = censored(lab, &censor_l2, &honest_l2).await;
    censor.stop();
    let outcome = match outcome {
        Ok(()) => vanished(lab, &honest_l2).await,
        Err(e) => Err(e),
    };
    honest.stop();
    let outcome = match outcome {
        Ok(()) => frozen(lab).await,
        Err(e) => Err(e),
    };
    outcome
}

fn node_client(node: &RollupNode) -> Result<(HttpClient, String)> {
    let url = format!("http://{}", node.rpc_addr);
    Ok((l2_client(&url)?, url))
}

/// Part 1: the censor refuses the user and holds the user's items; the user forces a withdrawal
/// in and is paid.
async fn censored(
    lab: &Lab,
    censor: &(HttpClient, String),
    honest: &(HttpClient, String),
) -> Result<()> {
    let (id, keys) = (lab.id, &lab.keys);
    let delay = lab.rollup().await?.params.force_inclusion_blocks;
    println!("\n1. A sequencer that censors one user");
    let first = lab.rollup().await?.deposits;
    for who in [&keys.bystander, &keys.user] {
        let action = Action::Deposit {
            rollup: id,
            account: None,
            key: who.public(),
            amount: 10 * ONE_TOKEN,
        };
        lab.run(who, action).await?;
    }
    let queued = lab.client.deposits(id, first).await?;
    let user_item = queued.get(1).context("the user's deposit in the queue")?;
    lab.say(format!(
        "the bystander and the user each deposit 10 tokens on L1 (queue items {} and {}); the user's deadline is block {}",
        first,
        user_item.index,
        user_item.height + delay
    ))
    .await?;
    let deadline = user_item.height + delay;
    lab.until("the bystander's deposit on L2", || {
        lab.account(censor, &keys.bystander)
    })
    .await?;
    let early = lab.account(censor, &keys.user).await?;
    let height = lab
        .say("the sequencer credits the bystander's deposit on L2; the user's waits")
        .await?;
    if early.is_some() && height + basalt_rollup::censor_margin(delay) < deadline {
        bail!("the censor credited the user's deposit at once");
    }
    let user_index = lab
        .until("the user's deposit on L2", || {
            lab.account(censor, &keys.user)
        })
        .await?;
    let (batch, at, _) = lab.carried(user_item.index).await?;
    lab.say(given_in(
        "the user's deposit",
        batch,
        at,
        user_item.height,
        deadline,
    ))
    .await?;

    let amount = 4 * ONE_TOKEN;
    // The sequencer's own price, so that a refusal is its censoring and nothing else.
    let fee = crate::client::quote_fee(&censor.0, "withdraw").await?;
    let w = withdrawal(id, user_index, amount, fee, 0, &keys.user);
    let sent = censor
        .0
        .send_transaction(HexBytes(w.to_bytes()), None)
        .await;
    let refusal = match sent {
        Err(jsonrpsee::core::ClientError::Call(o)) => basalt_rpc::error_text(&o),
        Err(e) => bail!("l2_sendTransaction at {}: {e}", censor.1),
        Ok(_) => bail!("the censoring sequencer admitted the user's withdrawal"),
    };
    let refused_at = lab
        .say(format!(
            "the user sends an L2 withdrawal of {} tokens; the sequencer refuses it: \"{refusal}\"",
            format_tokens(amount)
        ))
        .await?;
    let started = Instant::now();
    lab.run(&keys.user, force(id, &w, &keys.user)).await?;
    let item = lab.item(&w.hash()).await?;
    lab.say(format!(
        "the user forces it in through the L1 (ForceInclude, signed with the user's L2 key): queue item {}, queued at block {}, deadline block {}",
        item.index, item.queued_at, item.deadline
    ))
    .await?;
    let (batch, at, _) = lab.carried(item.index).await?;
    lab.say(given_in(
        "the forced withdrawal",
        batch,
        at,
        item.queued_at,
        item.deadline,
    ))
    .await?;
    let settled_at = lab.settled(batch).await?;
    lab.say(format!(
        "batch {batch} settles at block {settled_at}, its challenge window over"
    ))
    .await?;
    let paid = lab.claim(honest, &w.hash(), &keys.user).await?;
    let paid_at = lab
        .say(format!(
            "the user claims the withdrawal on L1 (proof from the honest verifier): {} tokens paid",
            format_tokens(paid)
        ))
        .await?;
    println!(
        "  => refused to paid in {} L1 blocks and {:.1} s, with nobody's permission: the censor could only delay it by the force-inclusion delay ({delay} blocks)",
        paid_at - refused_at,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Part 2: the sequencer is gone; the bystander forces a withdrawal in and the honest verifier
/// posts the batch that carries it.
async fn vanished(lab: &Lab, honest: &(HttpClient, String)) -> Result<()> {
    let (id, keys) = (lab.id, &lab.keys);
    println!("\n2. A sequencer that vanishes");
    lab.say("the sequencer node stops: nobody orders L2 transactions any more")
        .await?;
    let index = lab
        .account(honest, &keys.bystander)
        .await?
        .context("the bystander's account on the verifier")?;
    let amount = 3 * ONE_TOKEN;
    // Forced in through the L1: only the rollup's minimum applies.
    let w = withdrawal(id, index, amount, MIN_FEE, 0, &keys.bystander);
    lab.run(&keys.bystander, force(id, &w, &keys.bystander))
        .await?;
    let item = lab.item(&w.hash()).await?;
    lab.say(format!(
        "the bystander forces a withdrawal of {} tokens in: queue item {}, deadline block {}",
        format_tokens(amount),
        item.index,
        item.deadline
    ))
    .await?;
    let (batch, at, txs) = lab.carried(item.index).await?;
    lab.say(format!(
        "the honest verifier posts batch {batch} at block {at}, {} blocks past the deadline (anyone may post then; the verifier leaves a late sequencer 5 blocks first): {txs} transactions of its own, the queue items up to {} (the rule: the next batch must consume what is overdue)",
        at.saturating_sub(item.deadline),
        item.index
    ))
    .await?;
    let settled_at = lab.settled(batch).await?;
    lab.say(format!(
        "its output, proposed by the verifier, settles at block {settled_at}"
    ))
    .await?;
    let paid = lab.claim(honest, &w.hash(), &keys.bystander).await?;
    lab.say(format!(
        "the bystander claims {} tokens on L1: the rollup stayed live without its sequencer",
        format_tokens(paid)
    ))
    .await?;
    Ok(())
}

/// Part 3: nobody posts; the rollup owes a deposit, settles nothing, and freezes; everyone exits.
async fn frozen(lab: &Lab) -> Result<()> {
    let (id, keys) = (lab.id, &lab.keys);
    println!("\n3. Nobody posts: the rollup freezes, and everyone leaves");
    lab.say("the verifier stops too: nobody posts batches or outputs")
        .await?;
    let late = lab.rollup().await?.deposits;
    let action = Action::Deposit {
        rollup: id,
        account: None,
        key: keys.user.public(),
        amount: 2 * ONE_TOKEN,
    };
    lab.run(&keys.user, action).await?;
    let r = lab.rollup().await?;
    lab.say(format!(
        "the user deposits 2 more tokens (queue item {late}), which no batch will consume: the rollup owes it, and freezes at block {} unless a batch settles",
        r.frozen_from.map_or("?".into(), |h| h.to_string())
    ))
    .await?;
    let r = lab
        .until("the rollup to freeze", || async {
            let r = lab.rollup().await?;
            Ok(r.frozen.then_some(r))
        })
        .await?;
    lab.say(format!(
        "the rollup is frozen: it takes no more batches, outputs or deposits; escrow {} tokens",
        format_tokens(r.escrow)
    ))
    .await?;
    let state = settled_state(&lab.client, &r, |_, _| {})
        .await
        .context("rebuilding the last settled state from L1 data")?;
    lab.say(format!(
        "the last settled state (batch {}) rebuilt from L1 data alone: its deposits, blobs and settled outputs",
        r.settled.saturating_sub(1)
    ))
    .await?;
    let mut user_exit = None;
    for (who, label) in [
        (&keys.user, "the user"),
        (&keys.bystander, "the bystander"),
        (&keys.sequencer, "the fee account (the sequencer's key)"),
    ] {
        let Some((index, balance)) = state.account_of(&who.public().0) else {
            continue;
        };
        if balance == 0 {
            continue;
        }
        let claim = state
            .exit(index, who.public(), who)
            .context("the account is in the state")?;
        let paid = lab.paid(who, Action::Exit(claim.clone())).await?;
        if paid != balance {
            bail!(
                "{label}'s exit paid {} tokens, not its settled balance of {}",
                format_tokens(paid),
                format_tokens(balance)
            );
        }
        lab.say(format!(
            "{label} exits: account {index}'s {} tokens paid on L1, with a Merkle proof and its L2 key's signature",
            format_tokens(balance)
        ))
        .await?;
        if user_exit.is_none() {
            user_exit = Some(claim);
        }
    }
    let settled = state.settled_state();
    for d in lab.client.all_deposits(id, r.deposits).await? {
        if d.index < settled.next_deposit {
            continue;
        }
        let refund = Action::RefundDeposit {
            rollup: id,
            index: d.index,
            state: settled,
        };
        let (who, label) = [(&keys.user, "the user"), (&keys.bystander, "the bystander")]
            .into_iter()
            .find(|(k, _)| k.public() == d.sender)
            .context("a lab deposit paid by someone else")?;
        let paid = lab.paid(who, refund).await?;
        if paid != d.amount {
            bail!(
                "the refund of deposit {} paid {}",
                d.index,
                format_tokens(paid)
            );
        }
        lab.say(format!(
            "deposit {} ({} tokens), never consumed, is refunded to its L1 sender, {label} ({})",
            d.index,
            format_tokens(d.amount),
            short(&d.sender)
        ))
        .await?;
    }
    if let Some(claim) = user_exit {
        let why = match lab.client.submit(&keys.user, Action::Exit(claim)).await {
            Err(e) => e.to_string(),
            Ok(h) => loop {
                match lab.client.tx_status(&h).await? {
                    L1TxStatus::Finalized { error: Some(e), .. } => break e,
                    L1TxStatus::Rejected { error } => break error,
                    L1TxStatus::Finalized { error: None, .. } => {
                        bail!("a second exit of the user's account was paid")
                    }
                    _ => tokio::time::sleep(Duration::from_millis(lab.block_ms)).await,
                }
            },
        };
        lab.say(format!(
            "a second exit of the user's account is refused: {why}"
        ))
        .await?;
    }
    let r = lab.rollup().await?;
    if r.escrow != 0 {
        bail!(
            "{} tokens are left in the escrow after every exit and refund",
            format_tokens(r.escrow)
        );
    }
    lab.say(format!(
        "escrow: 0. Every token the rollup held is back on L1 ({}, {}, {})",
        count(r.exits, "exit"),
        count(r.refunds, "refund"),
        count(r.withdrawals_paid, "withdrawal")
    ))
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use basalt_l1::Params;
    use basalt_node::local::LocalL1;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_censorship_lab_runs_from_the_refusal_to_an_empty_escrow() {
        let dir = tempfile::tempdir().unwrap();
        let params = Params {
            block_time_ms: 50,
            ..Params::default()
        };
        let l1 = LocalL1::start(params, dir.path(), Duration::from_millis(50))
            .await
            .unwrap();
        let args = CensorshipArgs {
            rpc: l1.url.clone(),
            // 40 blocks of 50 ms: the censor gives in 10 blocks (0.5 s) before a deadline.
            delay: 40,
            window: 10,
            escape: None,
            funder: DEV_ACCOUNTS - 1,
            data_dir: None,
        };
        // The lab checks every step itself and fails on the first that does not happen.
        censorship(args).await.unwrap();
    }
}
