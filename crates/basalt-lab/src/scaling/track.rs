//! Following sampled transactions through the finality levels their rollup node reports, and
//! withdrawals to their funds on L1.

use crate::client::wait_final;
use anyhow::{bail, Context, Result};
use basalt_l1::Action;
use basalt_rollup::l1client::L1Client;
use basalt_rpc::l2::L2TxState;
use basalt_rpc::L2ApiClient;
use basalt_types::{Hash, Keypair};
use jsonrpsee::http_client::HttpClient;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// When each accepted transaction was sent, by hash.
pub type Sent = Arc<Mutex<HashMap<Hash, Instant>>>;

/// A planned transaction: its user and its place among the user's.
pub type Ticket = (usize, usize);

/// The hash each planned transaction was signed with, once signed (a rollup's are signed when
/// sent, at the fee quoted then).
pub type Tickets = Arc<Mutex<HashMap<Ticket, Hash>>>;

/// The hash and send time of `ticket`, once it was sent and accepted.
fn sent_as(ticket: Ticket, tickets: &Tickets, sent: &Sent) -> Option<(Hash, Instant)> {
    let hash = *tickets
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&ticket)?;
    let at = *sent.lock().unwrap_or_else(|e| e.into_inner()).get(&hash)?;
    Some((hash, at))
}

/// A finality level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// In a sequencer's block.
    Soft,
    /// In an L1 block.
    Posted,
    /// In a finalized L1 block.
    L1Final,
    /// Settled or proven.
    Settled,
}

impl Level {
    const ALL: [Level; 4] = [Level::Soft, Level::Posted, Level::L1Final, Level::Settled];

    /// The level a rollup node's status names, if it names one.
    fn of(status: L2TxState) -> Option<Level> {
        match status {
            L2TxState::Soft => Some(Level::Soft),
            L2TxState::Posted => Some(Level::Posted),
            L2TxState::L1Final => Some(Level::L1Final),
            // Settled on an optimistic rollup, proven on a ZK one.
            L2TxState::Settled | L2TxState::Proven => Some(Level::Settled),
            _ => None,
        }
    }
}

/// Latencies seen at each level, milliseconds.
#[derive(Default, Debug)]
pub struct Levels(HashMap<Level, Vec<f64>>);

impl Levels {
    /// Adds a latency at `level`.
    pub fn push(&mut self, level: Level, ms: f64) {
        self.0.entry(level).or_default().push(ms);
    }

    /// The median latency at `level`.
    pub fn median(&self, level: Level) -> Option<f64> {
        self.percentile(level, 0.5)
    }

    /// The `q` quantile (0 to 1) of the latencies at `level`.
    pub fn percentile(&self, level: Level, q: f64) -> Option<f64> {
        let mut v = self.0.get(&level)?.clone();
        v.sort_by(f64::total_cmp);
        let i = ((v.len() as f64 - 1.0) * q).round() as usize;
        v.get(i).copied()
    }
}

/// Polls each sampled transaction's status on its rollup's node until it settles (or `patience`
/// passes), noting when it first reached each level. A level passed between two polls is noted
/// at the poll that saw the next one. A sample not accepted once `sending` is false is dropped.
pub async fn track_samples(
    l2: Vec<HttpClient>,
    samples: Vec<(usize, Ticket)>,
    tickets: Tickets,
    sent: Sent,
    sending: Arc<AtomicBool>,
    patience: Duration,
) -> Levels {
    let started = Instant::now();
    let mut seen: Vec<Option<Level>> = vec![None; samples.len()];
    let mut levels = Levels::default();
    loop {
        let mut open = 0;
        for (i, &(rollup, ticket)) in samples.iter().enumerate() {
            if seen[i] == Some(Level::Settled) {
                continue;
            }
            let Some((hash, at)) = sent_as(ticket, &tickets, &sent) else {
                // Not sent yet, or refused: open until the load is over.
                open += usize::from(sending.load(Ordering::Relaxed));
                continue;
            };
            open += 1;
            let Ok(status) = l2[rollup].get_transaction(hash).await else {
                continue;
            };
            let Some(now) = Level::of(status.status) else {
                if status.status == L2TxState::Failed {
                    seen[i] = Some(Level::Settled);
                }
                continue;
            };
            let ms = at.elapsed().as_secs_f64() * 1_000.0;
            for l in Level::ALL {
                if l <= now && seen[i].is_none_or(|s| l > s) {
                    levels.push(l, ms);
                }
            }
            seen[i] = Some(seen[i].map_or(now, |s| s.max(now)));
        }
        if open == 0 || started.elapsed() > patience {
            return levels;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Follows the withdrawal `ticket` to its claim final on L1, made by `who`: seconds from its
/// sending.
pub async fn track_withdrawal(
    l2: HttpClient,
    l1: L1Client,
    who: Keypair,
    ticket: Ticket,
    tickets: Tickets,
    sent: Sent,
) -> Result<f64> {
    let give_up = Instant::now() + Duration::from_secs(600);
    let wait = || async {
        if Instant::now() > give_up {
            bail!("withdrawal {ticket:?} not paid within 600 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok(())
    };
    let (at, index) = loop {
        if let Some((hash, at)) = sent_as(ticket, &tickets, &sent) {
            let s = l2.get_transaction(hash).await?;
            if s.status == L2TxState::Failed {
                bail!("withdrawal {hash} failed: {}", s.reason.unwrap_or_default());
            }
            if let Some(i) = s.withdrawal_index {
                break (at, i);
            }
        }
        wait().await?;
    };
    let claim = loop {
        let ready = crate::client::ready_claim(&l2, basalt_rpc::WithdrawalRef::Index(index));
        if let Some(claim) = ready.await.context("a withdrawal proof")? {
            break claim;
        }
        wait().await?;
    };
    let h = l1.submit(&who, Action::FinalizeWithdrawal(claim)).await?;
    wait_final(&l1, &[h]).await?;
    Ok(at.elapsed().as_secs_f64())
}
