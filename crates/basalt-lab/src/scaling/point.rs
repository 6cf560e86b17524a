//! One measured point of the scaling experiment: a configuration carrying the workload at one
//! offered load, and what that cost the L1's validator and gave its users.

use super::setup::{prepare, Prepared, Setup};
use super::track::{track_samples, track_withdrawal, Level, Sent, Ticket, Tickets};
use crate::harness::BlockCost;
use crate::workload::{Intent, Workload};
use anyhow::{Context, Result};
use basalt_l1::{Action, Params, Transaction, ONE_TOKEN};
use basalt_l2::{L2Tx, Optimistic};
use basalt_rollup::RollupRef;
use basalt_rpc::{HexBytes, L1ApiClient, L2ApiClient};
use basalt_types::{Amount, Encode, Hash, PublicKey, Signature};
use jsonrpsee::http_client::HttpClient;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a configuration may take to carry what it accepted, or to settle it.
const PATIENCE: Duration = Duration::from_secs(180);
/// How long carrying may make no progress before the rest counts as not carried (an L1 whose
/// base fee has risen past what the waiting transactions offer never includes them).
const STALL: Duration = Duration::from_secs(10);
/// Sampled transactions whose finality is followed, a point.
const SAMPLES: usize = 30;
/// Withdrawals followed to their funds on L1, a point.
const WITHDRAWAL_SAMPLES: usize = 3;

/// Median latencies to each finality level, in milliseconds from sending; `None` where no
/// sampled transaction reached it (or the layer has no such level).
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize)]
pub struct Latency {
    /// In a sequencer's block.
    pub soft_ms: Option<f64>,
    /// In an L1 block.
    pub posted_ms: Option<f64>,
    /// In a finalized L1 block (on the lab L1, a block is final when made).
    pub l1_final_ms: Option<f64>,
    /// Settled: its batch's output past the challenge window, or proven.
    pub settled_ms: Option<f64>,
}

/// What one configuration did at one offered load.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct Point {
    /// The configuration's short name (`l1`, `optimistic-2`, `zk`).
    pub setup: String,
    /// Its name for people.
    pub label: String,
    /// Rollups sharing the L1.
    pub rollups: usize,
    /// Offered load, transactions a second.
    pub offered_tps: f64,
    /// Transactions sent.
    pub sent: usize,
    /// Transactions the node took.
    pub accepted: usize,
    /// Transactions carried to L1 finality.
    pub carried: u64,
    /// The first refusal, if any.
    pub refused: Option<String>,
    /// Transactions a second reaching L1 finality.
    pub tps: f64,
    /// L1 bytes a transaction: the configuration's L1 transactions (blobs included) over the
    /// transactions they carried.
    pub l1_bytes_per_tx: f64,
    /// Of which blob data.
    pub blob_bytes_per_tx: f64,
    /// L1 gas a transaction.
    pub l1_gas_per_tx: f64,
    /// The validator's CPU a transaction, microseconds, over what an empty block costs it.
    pub validator_cpu_us_per_tx: f64,
    /// The validator's CPU while carrying the load, core-seconds a second.
    pub validator_cpu_share: f64,
    /// What an empty block costs the validator, microseconds (subtracted from the CPU a
    /// transaction).
    pub idle_block_cpu_us: f64,
    /// Block bytes a second each validator receives (transactions and blobs).
    pub bandwidth_bytes_per_s: f64,
    /// The validator's store growth a second.
    pub storage_bytes_per_s: f64,
    /// The fee a user paid a transaction, in tokens: on a rollup its sequencer's quote at the
    /// time, on the L1 alone its fee paid.
    pub user_fee: f64,
    /// Of which, a transfer's (the L1 alone carries only transfers).
    #[serde(default)]
    pub transfer_fee: f64,
    /// What the configuration paid the L1 a transaction (on the L1 alone, the user's fee), in
    /// tokens.
    pub l1_cost_per_tx: f64,
    /// Mean L1 base fee per gas while carrying.
    pub base_fee: f64,
    /// Mean L1 blob base fee per byte while carrying.
    pub blob_base_fee: f64,
    /// Median latency to each finality level.
    pub latency: Latency,
    /// 99th-percentile latency to L1 finality, milliseconds.
    pub l1_final_p99_ms: Option<f64>,
    /// Median time from a withdrawal's sending to its funds on L1, seconds.
    pub withdrawal_s: Option<f64>,
    /// Whether it carried everything it accepted within the patience.
    pub drained: bool,
}

/// One of a user's transactions, in nonce order: signed ahead on the L1 alone (its fee is a
/// cap per gas), signed when sent on a rollup (at the fee its sequencer quotes then).
struct Signed {
    at: Duration,
    tx: Planned,
    withdraw: bool,
}

/// A transaction as planned for sending.
enum Planned {
    /// An L1 transaction, signed.
    Ready { bytes: Vec<u8>, hash: Hash },
    /// An L2 transaction to sign at the quoted fee.
    Later(L2Tx<Optimistic>),
}

/// How often each rollup's quote is read while the load runs.
const QUOTE_EVERY: Duration = Duration::from_millis(100);

/// The most a lab user pays for one transaction on any layer: an L1 transfer's gas at the cap
/// the L1 users sign ([`L1_FEE_CAP`] times the floor base fee). A quote above it is not sent: the
/// user is priced out, as on the L1.
fn max_user_fee(params: &Params) -> Amount {
    basalt_l1::TRANSFER_GAS as Amount * params.initial_base_fee as Amount * L1_FEE_CAP as Amount
}

/// The L1 users' fee cap per gas, in multiples of the initial base fee.
const L1_FEE_CAP: u64 = 10_000;

/// Sets `setup` up on a fresh lab L1 and runs `w` through it.
pub async fn measure(
    setup: Setup,
    w: &Workload,
    params: Params,
    zk_keys: &Path,
    say: &(dyn Fn(String) + Sync),
) -> Result<Point> {
    say(format!("setting up {} users", w.users));
    let max_fee = max_user_fee(&params);
    let p = prepare(setup, params, w.users, w.seed, zk_keys).await?;
    let signed = sign(&p, setup, w).await?;
    say(format!(
        "sending {} transactions over {:.0} s",
        w.count(),
        w.seconds
    ));

    let sent: Sent = Arc::new(Mutex::new(HashMap::new()));
    let tickets: Tickets = Arc::new(Mutex::new(HashMap::new()));
    for (u, txs) in signed.iter().enumerate() {
        for (k, t) in txs.iter().enumerate() {
            if let Planned::Ready { hash, .. } = t.tx {
                lock(&tickets).insert((u, k), hash);
            }
        }
    }
    let sending = Arc::new(AtomicBool::new(true));
    let mut order: Vec<(Duration, usize, usize)> = signed
        .iter()
        .enumerate()
        .flat_map(|(u, txs)| txs.iter().enumerate().map(move |(k, t)| (t.at, u, k)))
        .collect();
    order.sort();
    let stride = (order.len() / SAMPLES).max(1);
    let mut samples: Vec<(usize, Ticket)> = order
        .iter()
        .step_by(stride)
        .map(|&(_, u, k)| (p.users[u].rollup, (u, k)))
        .collect();
    if let Some(&(_, u, k)) = order.last() {
        samples.push((p.users[u].rollup, (u, k)));
    }
    let withdrawals: Vec<Ticket> = order
        .iter()
        .filter(|&&(_, u, k)| signed[u][k].withdraw)
        .take(WITHDRAWAL_SAMPLES)
        .map(|&(_, u, k)| (u, k))
        .collect();
    // Each rollup's quotes for a transfer and a withdrawal, read while the load runs.
    let quotes: Arc<Vec<Mutex<(Amount, Amount)>>> = Arc::new(
        p.rollups
            .iter()
            .map(|_| Mutex::new((Amount::MAX, Amount::MAX)))
            .collect(),
    );
    let rollup_l2: Vec<HttpClient> = p.rollups.iter().map(|r| r.l2.clone()).collect();
    for (i, l2) in rollup_l2.iter().enumerate() {
        *lock(&quotes[i]) = read_quotes(l2).await?;
    }
    let quoting = tokio::spawn(follow_quotes(
        rollup_l2.clone(),
        quotes.clone(),
        sending.clone(),
    ));
    let paid: Arc<Mutex<Vec<(bool, Amount)>>> = Arc::new(Mutex::new(Vec::new()));

    let h0 = p.lab.height()?;
    let store0 = p.lab.store_bytes()?;
    let soft0 = soft_counts(&p).await?;
    let t0 = Instant::now();
    let mut senders = Vec::new();
    let zk = setup.zk();
    for (u, txs) in signed.into_iter().enumerate() {
        let user = p.users[u].rollup;
        let (client, on_l2, id) = match p.rollups.get(user) {
            Some(r) => (r.l2.clone(), true, r.id),
            None => (p.l1.clone(), false, 0),
        };
        let (sent, tickets, quotes, paid) =
            (sent.clone(), tickets.clone(), quotes.clone(), paid.clone());
        let key = p.users[u].key.clone();
        senders.push(tokio::spawn(async move {
            let mut refused = None;
            // A user priced out of one transaction sends its next at the same nonce.
            let mut nonce = 0;
            for (k, t) in txs.into_iter().enumerate() {
                tokio::time::sleep_until((t0 + t.at).into()).await;
                let (bytes, hash, fee) = match t.tx {
                    Planned::Ready { bytes, hash } => (bytes, hash, None),
                    Planned::Later(tx) => {
                        let (transfer, withdraw) = *lock(&quotes[user]);
                        let fee = if t.withdraw { withdraw } else { transfer };
                        if fee > max_fee {
                            refused.get_or_insert(format!(
                                "priced out: the quote {fee} is above the {max_fee} a user pays"
                            ));
                            continue;
                        }
                        let tx = tx.with_fee(fee).with_nonce(nonce);
                        let (bytes, hash) = crate::client::signed(zk, id, &tx, &key);
                        lock(&tickets).insert((u, k), hash);
                        (bytes, hash, Some(fee))
                    }
                };
                let at = Instant::now();
                let r = match on_l2 {
                    true => L2ApiClient::send_transaction(&client, HexBytes(bytes), None)
                        .await
                        .map(|_| ()),
                    false => L1ApiClient::send_transaction(&client, HexBytes(bytes))
                        .await
                        .map(|_| ()),
                };
                match r {
                    Ok(_) => {
                        lock(&sent).insert(hash, at);
                        nonce += 1;
                        if let Some(fee) = fee {
                            lock(&paid).push((t.withdraw, fee));
                        }
                    }
                    Err(e) => {
                        refused.get_or_insert(e.to_string());
                    }
                }
            }
            refused
        }));
    }
    let tracker = match p.rollups.is_empty() {
        true => None,
        false => Some(tokio::spawn(track_samples(
            rollup_l2.clone(),
            samples,
            tickets.clone(),
            sent.clone(),
            sending.clone(),
            PATIENCE + Duration::from_secs_f64(w.seconds),
        ))),
    };
    let claims: Vec<_> = withdrawals
        .into_iter()
        .map(|(u, k)| {
            let l2 = rollup_l2[p.users[u].rollup].clone();
            let key = p.users[u].key.clone();
            let client = p.client.clone();
            let (tickets, sent) = (tickets.clone(), sent.clone());
            tokio::spawn(track_withdrawal(l2, client, key, (u, k), tickets, sent))
        })
        .collect();
    let mut refused = None;
    for s in senders {
        if let Some(e) = s.await? {
            refused.get_or_insert(e);
        }
    }
    sending.store(false, Ordering::Relaxed);
    quoting.await?;
    let accepted = lock(&sent).len();
    say(format!("{accepted} accepted; waiting for L1 finality"));

    let user_keys: HashSet<PublicKey> = p.users.iter().map(|u| u.key.public()).collect();
    let (carried, drained) = drain(&p, &user_keys, h0, accepted, &soft0).await?;
    let t_drained = Instant::now();
    let h_drained = p.lab.height()?;
    let store1 = p.lab.store_bytes()?;
    let h_settled = match p.rollups.is_empty() {
        true => h_drained,
        false => {
            say("waiting for settlement".into());
            settle(&p).await?;
            p.lab.height()?
        }
    };
    let levels = match tracker {
        Some(t) => t.await?,
        None => l1_latencies(&p.lab.costs(h0 + 1, h_drained), &sent),
    };
    let mut withdrawn = Vec::new();
    for c in claims {
        // A withdrawal that failed or took too long is left out of the median.
        if let Ok(Ok(Ok(s))) = tokio::time::timeout(PATIENCE, c).await {
            withdrawn.push(s);
        }
    }

    // What an empty block costs, once everything has settled and nothing is sent.
    let idle_cpu = idle_cpu_per_block(&p).await?;
    let carriers: HashSet<PublicKey> = match p.rollups.is_empty() {
        true => user_keys,
        false => p.rollups.iter().map(|r| r.sequencer.public()).collect(),
    };
    let all = p.lab.costs(h0 + 1, h_settled);
    let mut carrying = p.lab.costs(h0 + 1, h_drained);
    // On the L1 alone, up to the block that carried the last one (a stalled drain waits past it).
    let mut last_carried = None;
    if p.rollups.is_empty() {
        let last = carrying
            .iter()
            .rposition(|b| b.txs.iter().any(|t| carriers.contains(&t.signer)));
        carrying.truncate(last.map_or(0, |i| i + 1));
        last_carried = carrying.last().map(|b| b.at);
    }
    let theirs = || {
        all.iter()
            .flat_map(|b| &b.txs)
            .filter(|t| carriers.contains(&t.signer))
    };
    let per = |v: f64| {
        if carried == 0 {
            0.0
        } else {
            v / carried as f64
        }
    };
    let cpu_ns: u64 = all.iter().map(|b| b.cpu_ns).sum();
    let extra_cpu = (cpu_ns as f64 - idle_cpu * all.len() as f64).max(0.0);
    let span = match (carrying.first(), carrying.last()) {
        (Some(a), Some(b)) if b.at > a.at => (b.at - a.at).as_secs_f64(),
        _ => f64::NAN,
    };
    let sum = |f: fn(&BlockCost) -> f64| carrying.iter().map(f).sum::<f64>();
    let mean = |f: fn(&BlockCost) -> f64| sum(f) / carrying.len().max(1) as f64;
    let tokens = |units: f64| units / ONE_TOKEN as f64;
    let l1_fees = theirs().map(|t| t.fee as f64).sum::<f64>();
    let paid = lock(&paid).clone();
    let mean_fee = |which: Option<bool>| {
        let fees: Vec<f64> = paid
            .iter()
            .filter(|(w, _)| which.is_none_or(|x| x == *w))
            .map(|&(_, f)| f as f64)
            .collect();
        fees.iter().sum::<f64>() / fees.len().max(1) as f64
    };
    let (user_fee, transfer_fee) = match p.rollups.is_empty() {
        true => (per(l1_fees), per(l1_fees)),
        false => (mean_fee(None), mean_fee(Some(false))),
    };
    Ok(Point {
        setup: setup.key(),
        label: setup.label(),
        rollups: setup.rollups(),
        offered_tps: w.rate,
        sent: w.count(),
        accepted,
        carried,
        refused,
        tps: carried as f64 / (last_carried.unwrap_or(t_drained) - t0).as_secs_f64(),
        l1_bytes_per_tx: per(theirs().map(|t| t.bytes as f64).sum()),
        blob_bytes_per_tx: match p.rollups.is_empty() {
            true => 0.0,
            false => per(all.iter().map(|b| b.blob_bytes as f64).sum()),
        },
        l1_gas_per_tx: per(theirs().map(|t| t.gas as f64).sum()),
        validator_cpu_us_per_tx: per(extra_cpu / 1_000.0),
        validator_cpu_share: sum(|b| b.cpu_ns as f64) / 1e9 / span,
        idle_block_cpu_us: idle_cpu / 1_000.0,
        bandwidth_bytes_per_s: sum(|b| b.bytes as f64) / span,
        storage_bytes_per_s: store1.saturating_sub(store0) as f64 / span,
        user_fee: tokens(user_fee),
        transfer_fee: tokens(transfer_fee),
        l1_cost_per_tx: tokens(per(l1_fees)),
        base_fee: mean(|b| b.base_fee as f64),
        blob_base_fee: mean(|b| b.blob_base_fee as f64),
        latency: Latency {
            soft_ms: levels.median(Level::Soft),
            posted_ms: levels.median(Level::Posted),
            l1_final_ms: levels.median(Level::L1Final),
            settled_ms: levels.median(Level::Settled),
        },
        l1_final_p99_ms: levels.percentile(Level::L1Final, 0.99),
        withdrawal_s: median(withdrawn),
        drained,
    })
}

/// The median of `v`, if it has any.
pub fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied()
}

/// Every user's transactions, signed in nonce order.
async fn sign(p: &Prepared, setup: Setup, w: &Workload) -> Result<Vec<Vec<Signed>>> {
    let plan = w.plan();
    let chain = p.client.chain_info().await?;
    let n = p.users.len();
    let k = setup.rollups().max(1);
    let mut out = Vec::with_capacity(n);
    for (u, txs) in plan.iter().enumerate() {
        let user = &p.users[u];
        let mut mine = Vec::with_capacity(txs.len());
        for (nonce, t) in txs.iter().enumerate() {
            // A recipient on the sender's own rollup: user numbers are dealt out round-robin.
            let peer = |to: usize| {
                let members = (n - user.rollup).div_ceil(k);
                let mut j = (to / k) % members;
                if j * k + user.rollup == u {
                    j = (j + 1) % members;
                }
                j * k + user.rollup
            };
            let signed = match p.rollups.get(user.rollup) {
                None => {
                    let to = match t.intent {
                        Intent::Transfer { to, .. } => to,
                        Intent::Withdraw { .. } => (u + 1) % n,
                    };
                    let amount = match t.intent {
                        Intent::Transfer { amount, .. } | Intent::Withdraw { amount } => amount,
                    };
                    let action = Action::Transfer {
                        to: p.users[to].key.public(),
                        amount,
                    };
                    let tx = Transaction {
                        chain_id: chain.chain_id,
                        nonce: nonce as u64,
                        max_fee_per_gas: chain.params.initial_base_fee.saturating_mul(L1_FEE_CAP),
                        priority_fee_per_gas: 0,
                        gas_limit: basalt_l1::gas::known_limit(&action)
                            .unwrap_or(basalt_l1::TRANSFER_GAS),
                        action,
                    }
                    .sign(&user.key);
                    (
                        Planned::Ready {
                            bytes: tx.to_bytes(),
                            hash: tx.hash(),
                        },
                        false,
                    )
                }
                Some(_) => {
                    let (tx, withdraw) = match t.intent {
                        Intent::Transfer { to, amount } => (
                            L2Tx::Transfer {
                                from: user.l2_index,
                                to: p.users[peer(to)].l2_index,
                                amount,
                                fee: 0,
                                nonce: nonce as u64,
                                signature: Signature([0; 64]),
                            },
                            false,
                        ),
                        Intent::Withdraw { amount } => (
                            L2Tx::Withdraw {
                                from: user.l2_index,
                                recipient: user.key.public(),
                                amount,
                                fee: 0,
                                nonce: nonce as u64,
                                signature: Signature([0; 64]),
                            },
                            true,
                        ),
                    };
                    (Planned::Later(tx), withdraw)
                }
            };
            mine.push(Signed {
                at: t.at,
                tx: signed.0,
                withdraw: signed.1,
            });
        }
        out.push(mine);
    }
    Ok(out)
}

/// What the validator spends on a block while nobody sends anything, nanoseconds (over 10
/// blocks).
async fn idle_cpu_per_block(p: &Prepared) -> Result<f64> {
    let from = p.lab.next_block().await?;
    let mut to = from;
    while to < from + 10 {
        to = p.lab.next_block().await?;
    }
    let blocks = p.lab.costs(from + 1, to);
    Ok(blocks.iter().map(|b| b.cpu_ns as f64).sum::<f64>() / blocks.len().max(1) as f64)
}

/// Each rollup's sequenced transaction count.
async fn soft_counts(p: &Prepared) -> Result<Vec<u64>> {
    let mut out = Vec::new();
    for r in &p.rollups {
        let info = L2ApiClient::chain_info(&r.l2).await?;
        out.push(
            info.soft
                .context("the rollup node is no sequencer")?
                .transactions,
        );
    }
    Ok(out)
}

/// Waits until everything accepted is in a final L1 block (or the patience runs out, or nothing
/// more has been carried for [`STALL`]): how many transactions that carried, and whether it was
/// all of them.
async fn drain(
    p: &Prepared,
    users: &HashSet<PublicKey>,
    h0: u64,
    accepted: usize,
    soft0: &[u64],
) -> Result<(u64, bool)> {
    let started = Instant::now();
    let mut progress = (0, Instant::now());
    loop {
        let (carried, done) = match p.rollups.is_empty() {
            true => {
                let n = p
                    .lab
                    .costs(h0 + 1, u64::MAX)
                    .iter()
                    .flat_map(|b| &b.txs)
                    .filter(|t| users.contains(&t.signer))
                    .count() as u64;
                (n, n >= accepted as u64)
            }
            false => {
                let (mut carried, mut done) = (0, true);
                for (r, s0) in p.rollups.iter().zip(soft0) {
                    let info = L2ApiClient::chain_info(&r.l2).await?;
                    let soft = info.soft.map_or(0, |s| s.transactions);
                    let fin = info.derived.transactions;
                    carried += fin.min(soft).saturating_sub(*s0);
                    done &= info.pending == 0 && fin >= soft;
                }
                (carried, done)
            }
        };
        if carried > progress.0 {
            progress = (carried, Instant::now());
        }
        if done || started.elapsed() > PATIENCE || progress.1.elapsed() > STALL {
            return Ok((carried, done));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until every batch each rollup posted has settled (or the patience runs out).
async fn settle(p: &Prepared) -> Result<()> {
    let started = Instant::now();
    for r in &p.rollups {
        loop {
            let info = p.client.rollup(&RollupRef::Id(r.id)).await?;
            if info.settled >= info.batches || started.elapsed() > PATIENCE {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}

/// On the L1 alone: every accepted transaction's latency to its (final) block.
fn l1_latencies(blocks: &[BlockCost], sent: &Sent) -> super::track::Levels {
    let sent = sent.lock().unwrap_or_else(|e| e.into_inner());
    let mut levels = super::track::Levels::default();
    for b in blocks {
        for t in &b.txs {
            if let Some(at) = sent.get(&t.hash) {
                let ms = b.at.saturating_duration_since(*at).as_secs_f64() * 1_000.0;
                levels.push(Level::L1Final, ms);
            }
        }
    }
    levels
}

/// Locks a mutex, through a poisoning.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A rollup's quotes for a typical transfer and withdrawal.
async fn read_quotes(l2: &HttpClient) -> Result<(Amount, Amount)> {
    Ok((
        crate::client::quote_fee(l2, "transfer").await?,
        crate::client::quote_fee(l2, "withdraw").await?,
    ))
}

/// Reads each rollup's quotes every [`QUOTE_EVERY`] while `sending` (a failed read keeps the
/// last).
async fn follow_quotes(
    l2: Vec<HttpClient>,
    quotes: Arc<Vec<Mutex<(Amount, Amount)>>>,
    sending: Arc<AtomicBool>,
) {
    while sending.load(Ordering::Relaxed) {
        for (i, c) in l2.iter().enumerate() {
            if let Ok(q) = read_quotes(c).await {
                *lock(&quotes[i]) = q;
            }
        }
        tokio::time::sleep(QUOTE_EVERY).await;
    }
}
