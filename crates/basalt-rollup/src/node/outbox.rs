//! The outbox actor, the node's L1 driver: the only owner of its key's nonces.
//!
//! Planners hand it transactions through its [`Mailbox`]; it sends each at the next nonce, so
//! many are in flight at once (a crowd of dispute moves in one block, a batch per blob slot),
//! and follows every one until it is final. A transaction the L1 lost is sent again with the same
//! nonce and the same action, so it can never be included twice nor replaced by different
//! content; one that can no longer apply is replaced by a transfer to self, so the nonces after
//! it are not stuck. A dispute move the L1 refused, or executed and failed, is never sent again;
//! nor is a transaction that applied, when a plan read before its release names it once more.
//! A final transaction stays listed until the follower has read the L1 at its height, so the
//! planners always see it, either in flight or in the view.

use super::*;
use std::collections::VecDeque;
use tokio::sync::oneshot;

/// Most refused dispute moves remembered; past it the memory starts afresh.
const FAILED_MOVES: usize = 10_000;
/// Most released (final and applied) transactions remembered, newest kept.
const RELEASED: usize = 4_096;
/// Most transactions in flight; past it the outbox takes no more until some are final. Far
/// below the mempool's per-sender limit (4,096).
pub(crate) const MAX_IN_FLIGHT: usize = 1_024;

/// A transaction of this node on L1, not yet released.
#[derive(Debug, Clone)]
struct InFlight {
    pub hash: Hash,
    /// Its nonce and action: if it is lost, exactly this is sent again at this nonce.
    pub nonce: u64,
    pub action: Action,
    pub what: Posting,
    pub included_at: Option<u64>,
    /// Its final height and, if it failed, why.
    pub final_at: Option<(u64, Option<String>)>,
    pub sent: Instant,
}

/// What the view shows of a transaction in flight.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pending {
    pub hash: Hash,
    pub what: Posting,
    pub included_at: Option<u64>,
    /// Whether it is final and failed.
    pub failed: bool,
}

/// What an own L1 transaction does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Posting {
    /// Batch number `index`, carrying transactions `from..to` and consuming deposits up to
    /// `deposits_end`.
    Batch {
        index: u64,
        from: u64,
        to: u64,
        deposits_end: u64,
    },
    /// The output of batch `batch`.
    Output { batch: u64 },
    /// The validity proof of a ZK rollup's batch `batch`.
    Proof { batch: u64 },
    /// A dispute move over a proposal of batch `batch`.
    Dispute { batch: u64, what: &'static str },
    /// A transfer to self that takes the nonce of a transaction that can no longer apply.
    Filler,
}

/// What an outbox reports to: its node's metrics, and the view its planners read.
pub(crate) trait Board: Send + Sync + 'static {
    /// Whether the node's batch posts are a ZK rollup's (priced by their ZK work).
    const ZK: bool;

    /// The node's metrics.
    fn metrics(&self) -> &RollupMetrics;

    /// Under the view's lock, calls `show` with the finalized height the follower last read at
    /// and puts what it returns in the view as the transactions in flight.
    fn publish(&self, show: &mut dyn FnMut(u64) -> Vec<Pending>);
}

impl Board for Shared {
    const ZK: bool = false;

    fn metrics(&self) -> &RollupMetrics {
        &self.metrics
    }

    fn publish(&self, show: &mut dyn FnMut(u64) -> Vec<Pending>) {
        let mut view = lock(&self.view);
        view.in_flight = show(view.rollup.height);
    }
}

/// A message to the outbox.
pub(crate) enum Message {
    /// Send these at the next nonces, in order; the reply is how many were sent.
    Send {
        txs: Vec<(Action, Posting)>,
        reply: oneshot::Sender<usize>,
    },
}

/// The outbox's mailbox.
#[derive(Clone)]
pub(crate) struct Mailbox(mpsc::Sender<Message>);

/// A mailbox and the outbox's end of it.
pub(crate) fn mailbox() -> (Mailbox, mpsc::Receiver<Message>) {
    let (tx, rx) = mpsc::channel(16);
    (Mailbox(tx), rx)
}

/// The outbox stopped.
#[derive(Debug)]
pub(crate) struct Stopped;

impl Mailbox {
    /// Hands `txs` to the outbox and waits until it has sent what it could; how many it sent.
    pub async fn send(&self, txs: Vec<(Action, Posting)>) -> Result<usize, Stopped> {
        let (reply, sent) = oneshot::channel();
        self.0
            .send(Message::Send { txs, reply })
            .await
            .map_err(|_| Stopped)?;
        sent.await.map_err(|_| Stopped)
    }
}

/// The outbox: the key, its transactions in flight, and the dispute moves never to send again.
pub(crate) struct Outbox<S, B = Shared> {
    shared: Arc<B>,
    client: L1Client<S>,
    key: Keypair,
    pending: Vec<InFlight>,
    failed: HashSet<Vec<u8>>,
    /// The actions of the latest transactions released after they applied, oldest first: a
    /// plan read from the view before the release may still name one, and sending it again
    /// could only fail (its batch number, proposal or claim is taken) and cost its fee.
    released: (VecDeque<Vec<u8>>, HashSet<Vec<u8>>),
    quiet: Quiet,
}

impl<S: L1Source, B: Board> Outbox<S, B> {
    /// An outbox sending with `key`.
    pub(crate) fn new(shared: Arc<B>, client: L1Client<S>, key: Keypair) -> Self {
        Outbox {
            shared,
            client,
            key,
            pending: Vec::new(),
            failed: HashSet::new(),
            released: Default::default(),
            quiet: Quiet::default(),
        }
    }

    /// Takes transactions from `inbox` and follows those in flight every `every`.
    pub(crate) async fn run(mut self, mut inbox: mpsc::Receiver<Message>, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                m = inbox.recv() => match m {
                    Some(Message::Send { txs, reply }) => {
                        let sent = match self.send(txs).await {
                            Ok(n) => n,
                            Err(e) => {
                                self.quiet.warn(format!("outbox: {e}"));
                                0
                            }
                        };
                        self.publish();
                        let _ = reply.send(sent);
                    }
                    None => return,
                },
                _ = tick.tick() => {
                    if let Err(e) = self.track().await {
                        self.quiet.warn(format!("outbox: {e}"));
                    }
                    self.publish();
                }
            }
        }
    }

    /// Sends `txs` at the next nonces, skipping any already in flight, refused before or
    /// released lately; how many it sent.
    async fn send(&mut self, txs: Vec<(Action, Posting)>) -> Result<usize, NodeError> {
        let mut nonce = match self.pending.last() {
            Some(last) => last.nonce + 1,
            None => {
                let account = self.client.account(&self.key.public()).await?;
                if account.pending_nonce > account.nonce {
                    // Transactions of this key from before a restart are still queued on L1:
                    // sending after them could post a batch twice. They are final in a block
                    // or two; the planners plan again then.
                    debug!("waiting for earlier L1 transactions of this key");
                    return Ok(0);
                }
                account.nonce
            }
        };
        let in_flight: HashSet<Vec<u8>> =
            self.pending.iter().map(|p| p.action.to_bytes()).collect();
        let mut sent = 0;
        for (action, what) in txs {
            if self.pending.len() >= MAX_IN_FLIGHT {
                break;
            }
            let bytes = action.to_bytes();
            if in_flight.contains(&bytes)
                || self.failed.contains(&bytes)
                || self.released.1.contains(&bytes)
            {
                continue;
            }
            match self
                .client
                .submit_at(&self.key, action.clone(), nonce, B::ZK)
                .await
            {
                Ok(hash) => {
                    self.count(&action, &what);
                    self.pending.push(InFlight {
                        hash,
                        nonce,
                        action,
                        what,
                        included_at: None,
                        final_at: None,
                        sent: Instant::now(),
                    });
                    nonce += 1;
                    sent += 1;
                }
                Err(L1Error::Refused { message, .. }) => {
                    // Refused before it could cost a fee (a race, a move no longer allowed, the
                    // bond missing): the nonce stays free for the next.
                    self.quiet
                        .warn(format!("L1 refused {what:?} before inclusion: {message}"));
                    if matches!(what, Posting::Dispute { .. }) {
                        self.remember_failed(bytes);
                    }
                }
                // What was sent is followed; the rest is planned again next round.
                Err(e) if sent > 0 => {
                    self.quiet.warn(format!("sending {what:?}: {e}"));
                    break;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(sent)
    }

    fn count(&self, action: &Action, what: &Posting) {
        let m = self.shared.metrics();
        match (what, action) {
            (
                Posting::Batch {
                    index, from, to, ..
                },
                Action::PostBatch { data, .. },
            ) => {
                m.batch_posted(data.len());
                info!(
                    batch = index,
                    txs = to - from,
                    bytes = data.len(),
                    "batch posted"
                );
            }
            (Posting::Output { batch }, Action::ProposeOutput { output, .. }) => {
                m.output_proposed();
                info!(batch, %output, "output proposed");
            }
            (Posting::Proof { batch }, Action::ProveBatch { output, .. }) => {
                m.output_proposed();
                info!(batch, %output, "proof sent");
            }
            (
                Posting::Dispute { batch, what },
                Action::Counter {
                    proposal, parent, ..
                },
            ) => {
                m.dispute_move();
                info!(batch, proposal, parent, "dispute: {what}");
            }
            (Posting::Dispute { batch, what }, Action::Step { proposal, leaf, .. }) => {
                m.dispute_move();
                info!(batch, proposal, leaf, "dispute: {what}");
            }
            _ => {}
        }
    }

    /// Follows the transactions in flight in nonce order, up to the first still waiting; sends
    /// lost ones again; releases the final ones the follower has read past.
    async fn track(&mut self) -> Result<(), NodeError> {
        for i in 0..self.pending.len() {
            if self.pending[i].final_at.is_some() {
                continue;
            }
            let status = self.client.tx_status(&self.pending[i].hash).await?;
            let p = &mut self.pending[i];
            match status {
                L1TxStatus::Pending => break,
                L1TxStatus::Included { height } => p.included_at = Some(height),
                L1TxStatus::Finalized { height, error, .. } => {
                    p.final_at = Some((height, error.clone()));
                    match error {
                        None => debug!(what = ?p.what, height, "L1 transaction final"),
                        Some(e) => {
                            self.shared.metrics().l1_failed();
                            warn!(what = ?p.what, height, "L1 transaction final but failed: {e}");
                            if matches!(p.what, Posting::Dispute { .. }) {
                                let bytes = p.action.to_bytes();
                                self.remember_failed(bytes);
                            }
                        }
                    }
                }
                L1TxStatus::Rejected { error } => {
                    warn!(what = ?p.what, "L1 transaction dropped: {error}; sending it again");
                    self.resend(i).await?;
                }
                L1TxStatus::Unknown if p.sent.elapsed() > LOST_TX_AFTER => {
                    warn!(what = ?p.what, hash = %p.hash, "the L1 node no longer knows our transaction; sending it again");
                    self.resend(i).await?;
                }
                L1TxStatus::Unknown => break,
            }
        }
        Ok(())
    }

    /// Sends transaction `i` again: the same action at the same nonce, with fresh fees. If it
    /// can no longer apply, a transfer to self takes its nonce.
    async fn resend(&mut self, i: usize) -> Result<(), NodeError> {
        self.shared.metrics().l1_resent();
        let account = self.client.account(&self.key.public()).await?;
        let f = self.pending[i].clone();
        if account.nonce > f.nonce {
            // Its nonce is used: a copy was included after all, final by this read.
            let height = self.client.chain_info().await?.finalized_height;
            self.pending[i].final_at = Some((height, None));
            return Ok(());
        }
        let hash = match self
            .client
            .submit_at(&self.key, f.action.clone(), f.nonce, B::ZK)
            .await
        {
            Ok(hash) => hash,
            Err(L1Error::Refused { message, .. }) => {
                warn!(what = ?f.what, "not sent again ({message}): a transfer to self takes its nonce");
                let filler = Action::Transfer {
                    to: self.key.public(),
                    amount: 1,
                };
                let hash = self
                    .client
                    .submit_at(&self.key, filler.clone(), f.nonce, B::ZK)
                    .await?;
                self.pending[i].action = filler;
                self.pending[i].what = Posting::Filler;
                hash
            }
            Err(e) => return Err(e.into()),
        };
        let p = &mut self.pending[i];
        p.hash = hash;
        p.sent = Instant::now();
        p.included_at = None;
        Ok(())
    }

    /// Remembers a dispute move the L1 refused, so that it is never sent again.
    fn remember_failed(&mut self, bytes: Vec<u8>) {
        if self.failed.len() >= FAILED_MOVES {
            self.failed.clear();
        }
        self.failed.insert(bytes);
    }

    /// Releases the final transactions the follower has read past, and shows the rest in the
    /// view, under one lock: a planner sees each either in flight or in what the L1 holds.
    fn publish(&mut self) {
        let (pending, released) = (&mut self.pending, &mut self.released);
        self.shared.publish(&mut |read| {
            let (done, kept) = std::mem::take(pending)
                .into_iter()
                .partition(|p| matches!(p.final_at, Some((height, _)) if height <= read));
            *pending = kept;
            for p in done {
                if matches!(p.final_at, Some((_, None))) {
                    let (order, set) = &mut *released;
                    let bytes = p.action.to_bytes();
                    if set.insert(bytes.clone()) {
                        order.push_back(bytes);
                    }
                    if order.len() > RELEASED {
                        if let Some(old) = order.pop_front() {
                            set.remove(&old);
                        }
                    }
                }
            }
            pending
                .iter()
                .map(|p| Pending {
                    hash: p.hash,
                    what: p.what,
                    included_at: p.included_at,
                    failed: matches!(p.final_at, Some((_, Some(_)))),
                })
                .collect()
        });
    }
}
