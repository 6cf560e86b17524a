//! The follower actor: reads what the L1 finalized about the rollup (deposits, batches,
//! proposals, unresolved trees), derives the L2 state from it, checks every proposal against the
//! derivation, and announces each read to the planners.

use super::*;
use crate::l1client::QueueItem;

/// Reads the L1 with `sync` every `every`, announces each read on `synced` (every read wakes the
/// planners, even at the same height: what they sent may have been released since), and hands
/// `record` the failure of the last read, if it failed. A failure is logged once until another
/// comes or the L1 answers again.
pub(super) async fn follow<F: std::future::Future<Output = Result<RollupInfo, NodeError>>>(
    every: Duration,
    synced: watch::Sender<Synced>,
    mut sync: impl FnMut() -> F,
    record: impl Fn(Option<String>),
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing: Option<String> = None;
    loop {
        tick.tick().await;
        match sync().await {
            Ok(rollup) => {
                if failing.take().is_some() {
                    info!("L1 reachable again");
                }
                record(None);
                synced.send_replace(Synced {
                    height: rollup.height,
                    frozen: rollup.frozen,
                });
            }
            Err(e) => {
                let message = e.to_string();
                if failing.as_ref() != Some(&message) {
                    match e {
                        NodeError::ZkDerive(_) => error!(
                            "THE L1'S RECORD OF THIS ZK ROLLUP DISAGREES WITH ITS DATA: {message}"
                        ),
                        _ => warn!("L1 follower: {message}"),
                    }
                    failing = Some(message.clone());
                }
                record(Some(message));
            }
        }
    }
}

/// The first `count` items of a page: a read stops at the totals of the rollup snapshot it began
/// with, so the view's counts and its derivation describe one L1 height.
pub(super) fn upto<T>(mut page: Vec<T>, count: u64) -> Vec<T> {
    page.truncate(usize::try_from(count).unwrap_or(usize::MAX));
    page
}

/// The follower: the only writer of the node's view of the L1.
pub(super) struct Follower<S> {
    pub(super) shared: Arc<Shared>,
    pub(super) client: L1Client<S>,
}

impl<S: L1Source> Follower<S> {
    /// A follower of the rollup `shared` names.
    pub(super) fn new(shared: Arc<Shared>, client: L1Client<S>) -> Self {
        Follower { shared, client }
    }

    /// Reads the L1 every `every` and announces each read on `synced`.
    pub(super) async fn run(self, every: Duration, synced: watch::Sender<Synced>) {
        let shared = self.shared.clone();
        let record = move |e: Option<String>| lock(&shared.view).last_error = e;
        follow(every, synced, || self.sync(), record).await
    }

    /// Reads what the L1 finalized about the rollup since the last read, and derives it.
    pub(super) async fn sync(&self) -> Result<RollupInfo, NodeError> {
        let rollup = self.client.rollup(&RollupRef::Id(self.shared.id)).await?;
        self.sync_deposits(rollup.deposits).await?;
        #[cfg(feature = "faults")]
        self.censor(&rollup).await?;
        self.sync_batches(rollup.batches).await?;
        self.sync_outputs(&rollup).await?;
        let mut view = lock(&self.shared.view);
        // Trees over settled batches may still be open: their traces stay derivable until then.
        let keep = rollup.oldest_open_batch.unwrap_or(u64::MAX);
        view.derivation.settle_to(rollup.settled.min(keep));
        view.rollup = rollup.clone();
        drop(view);
        self.shared.note_frozen(&rollup);
        Ok(rollup)
    }

    async fn sync_deposits(&self, total: u64) -> Result<(), NodeError> {
        loop {
            let known = lock(&self.shared.view).derivation.deposits_known();
            if known >= total {
                return Ok(());
            }
            let page = upto(
                self.client.deposits(self.shared.id, known).await?,
                total - known,
            );
            if page.is_empty() {
                return Ok(());
            }
            let entries = page
                .iter()
                .map(|d| d.entry())
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(seq) = &self.shared.seq {
                let mut seq = lock(seq);
                let have = seq.deposits_known();
                // The sequencer may already hold some (it read the queue when it opened).
                let skip = have.saturating_sub(known) as usize;
                seq.add_deposits(entries.iter().skip(skip).copied());
                // A censor holds its queue before any new item of its victim, under this lock.
                #[cfg(feature = "faults")]
                if let Some(key) = self.shared.censor {
                    super::censor::hold_first(&mut seq, key, have);
                }
            }
            lock(&self.shared.view).derivation.add_deposits(entries);
            debug!(from = known, count = page.len(), "deposits read from L1");
        }
    }

    async fn sync_batches(&self, total: u64) -> Result<(), NodeError> {
        loop {
            let derived = lock(&self.shared.view).derivation.batches();
            if derived >= total {
                return Ok(());
            }
            let page = upto(
                self.client.batches(self.shared.id, derived).await?,
                total - derived,
            );
            if page.is_empty() {
                return Ok(());
            }
            for b in page {
                let blob = self.client.blob(&b.data_hash).await?;
                let mut view = lock(&self.shared.view);
                let d = view.derivation.apply(b.deposits_end, &blob)?;
                view.batch_heights.push(b.height);
                drop(view);
                if let Some(why) = d.undecodable {
                    warn!(
                        batch = d.index,
                        "posted batch does not decode ({why}): it applies nothing"
                    );
                }
                debug!(batch = d.index, txs = d.txs, output = %d.output, "batch derived");
            }
        }
    }

    /// Reads the proposals made since the last read (competing ones included), and checks each
    /// against the derivation; a proposal over a batch not derived yet is read again later. A
    /// proposal read while its tree was open is read again once the tree has resolved.
    async fn sync_outputs(&self, rollup: &RollupInfo) -> Result<(), NodeError> {
        let unresolved = self.unresolved_ids(rollup).await?;
        let stale: Vec<u64> = {
            let view = lock(&self.shared.view);
            view.outputs
                .iter()
                .filter(|o| !o.resolved() && !unresolved.contains(&o.info.proposal))
                .map(|o| o.info.proposal)
                .collect()
        };
        for proposal in stale {
            let fresh = self.client.output(self.shared.id, proposal).await?;
            lock(&self.shared.view).outputs[proposal as usize].info = fresh;
        }
        lock(&self.shared.view).unresolved = unresolved;
        let mut next = lock(&self.shared.view).outputs.len() as u64;
        while next < rollup.proposals {
            let page = self.client.proposals(self.shared.id, next).await?;
            if page.is_empty() {
                return Ok(());
            }
            let mut view = lock(&self.shared.view);
            for o in page {
                let verdict = match view.derivation.prior(o.batch) {
                    Some(prior) if prior != o.prior => Verdict::Mismatch {
                        derived: view.derivation.output(o.batch).unwrap_or(Hash::ZERO),
                    },
                    _ => view.derivation.check(o.batch, o.output),
                };
                match verdict {
                    // Proposals over batches not derived yet are checked on a later step.
                    Verdict::Pending => return Ok(()),
                    Verdict::Match => {}
                    Verdict::Mismatch { derived } => {
                        if view.reported.insert(o.proposal) {
                            error!(
                                rollup = self.shared.id,
                                batch = o.batch,
                                proposal = o.proposal,
                                proposed = %o.output,
                                %derived,
                                proposer = %o.proposer,
                                resolves_by = o.bound(),
                                "PROPOSED OUTPUT DOES NOT MATCH THE STATE DERIVED FROM L1: it must be countered before its clock runs out"
                            )
                        }
                    }
                }
                next = o.proposal + 1;
                view.outputs.push(CheckedOutput { info: o, verdict });
            }
        }
        Ok(())
    }

    /// The ids of the rollup's unresolved proposals, read in bounded pages.
    async fn unresolved_ids(&self, rollup: &RollupInfo) -> Result<Vec<u64>, NodeError> {
        let mut ids = Vec::with_capacity(rollup.unresolved as usize);
        let mut from = 0;
        while (ids.len() as u64) < rollup.unresolved {
            let page = self.client.unresolved(self.shared.id, from).await?;
            let Some(last) = page.last() else { break };
            from = last + 1;
            ids.extend(page);
        }
        Ok(ids)
    }
}
