//! The L1 loop: follows the rollup on L1, checks every proposal, and posts this node's dispute
//! moves (every move owed, at consecutive nonces), batches and outputs (one L1 transaction at a
//! time).

use super::*;

/// The L1 loop: follows the rollup on L1 and posts this node's batches and outputs.
pub(super) struct Driver {
    pub(super) shared: Arc<Shared>,
    pub(super) client: L1Client,
    pub(super) key: Option<Keypair>,
    pub(super) proposes: bool,
    pub(super) challenges: bool,
    pub(super) fault: Option<Fault>,
    /// Whether the sequencer already posted the data its fault misreads.
    pub(super) fault_posted: bool,
    pub(super) batcher: BatcherConfig,
    pub(super) data_dir: String,
    pub(super) fee_wait_logged: bool,
    /// The last refusal of a proposal, logged once.
    pub(super) last_refusal: Option<String>,
    /// An own transaction finalized during this step: the L1 counters read at its start predate it.
    pub(super) just_finalized: bool,
    /// Dispute moves the L1 executed and refused (a view the L1's re-execution contradicts, or
    /// a race lost): never sent again, so a doomed move costs one fee, not one per block.
    pub(super) failed_moves: HashSet<Vec<u8>>,
}

/// Most refused dispute moves remembered; past it the memory starts afresh.
const FAILED_MOVES: usize = 10_000;
/// Most dispute moves sent in one round, at consecutive nonces.
const MOVES_PER_ROUND: usize = 512;

impl Driver {
    pub(super) async fn run(mut self, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            tick.tick().await;
            match self.step().await {
                Ok(()) => {
                    if failing {
                        info!("L1 reachable again");
                        failing = false;
                    }
                    lock(&self.shared.view).last_error = None;
                }
                Err(e) => {
                    // Logged once per outage, and kept for l2_chainInfo.
                    if !failing {
                        warn!("L1 loop: {e}");
                        failing = true;
                    }
                    lock(&self.shared.view).last_error = Some(e.to_string());
                }
            }
        }
    }

    /// Reads what the L1 finalized about the rollup since the last read, and derives it.
    pub(super) async fn sync(&self) -> Result<RollupInfo, NodeError> {
        let rollup = self.client.rollup(&RollupRef::Id(self.shared.id)).await?;
        self.sync_deposits(rollup.deposits).await?;
        self.sync_batches(rollup.batches).await?;
        self.sync_outputs(&rollup).await?;
        let mut view = lock(&self.shared.view);
        // Trees over settled batches may still be open: their traces stay derivable until then.
        let keep = rollup.oldest_open_batch.unwrap_or(u64::MAX);
        view.derivation.settle_to(rollup.settled.min(keep));
        view.rollup = rollup.clone();
        Ok(rollup)
    }

    async fn step(&mut self) -> Result<(), NodeError> {
        let rollup = self.sync().await?;
        self.just_finalized = false;
        self.track_in_flight().await?;
        if self.just_finalized || lock(&self.shared.view).in_flight.is_some() {
            return Ok(());
        }
        let Some(key) = self.key.clone() else {
            return Ok(());
        };
        if self.challenges && self.play(&key, &rollup).await? {
            return Ok(());
        }
        if self.shared.seq.is_some() && self.post_batch(&key, &rollup).await? {
            return Ok(());
        }
        if self.proposes {
            self.propose(&key, &rollup).await?;
        }
        Ok(())
    }

    async fn sync_deposits(&self, total: u64) -> Result<(), NodeError> {
        loop {
            let known = lock(&self.shared.view).derivation.deposits_known();
            if known >= total {
                return Ok(());
            }
            let page = self.client.deposits(self.shared.id, known).await?;
            if page.is_empty() {
                return Ok(());
            }
            let entries: Vec<_> = page.iter().map(|d| d.entry()).collect();
            if let Some(seq) = &self.shared.seq {
                let mut seq = lock(seq);
                let have = seq.deposits_known();
                // The sequencer may already hold some (it read the queue when it opened).
                let skip = have.saturating_sub(known) as usize;
                seq.add_deposits(entries.iter().skip(skip).copied());
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
            let page = self.client.batches(self.shared.id, derived).await?;
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
                                resolves_by = o.bound,
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

    /// The open claim trees of the rollup, read from the L1 in bounded pages.
    async fn open_trees(&self) -> Result<Vec<OpenTree>, NodeError> {
        let ids = lock(&self.shared.view).unresolved.clone();
        let mut trees = Vec::with_capacity(ids.len());
        for proposal in ids {
            let (d, tree) = self.client.tree(self.shared.id, proposal).await?;
            trees.push(OpenTree {
                proposal,
                batch: d.batch,
                tree: Arc::new(tree),
            });
        }
        Ok(trees)
    }

    /// Sends every dispute move this node owes (up to [`MOVES_PER_ROUND`]) at consecutive nonces,
    /// so that it answers a crowd of claims in a block or two, not one per finality round. Returns
    /// whether it sent any.
    async fn play(&mut self, key: &Keypair, rollup: &RollupInfo) -> Result<bool, NodeError> {
        if rollup.unresolved == 0 {
            return Ok(false);
        }
        let trees = self.open_trees().await?;
        let actions: Vec<Action> = {
            let view = lock(&self.shared.view);
            dispute_actions(self.shared.id, &view.derivation, &trees)
        }
        .into_iter()
        .filter(|a| !self.failed_moves.contains(&a.to_bytes()))
        .take(MOVES_PER_ROUND)
        .collect();
        if actions.is_empty() {
            return Ok(false);
        }
        let mut nonce = self.client.account(&key.public()).await?.pending_nonce;
        let mut sent: Vec<Sent> = Vec::with_capacity(actions.len());
        let mut last_what = None;
        for action in actions {
            let (batch, what) = describe(&action, &trees);
            match self.client.submit_at(key, action.clone(), nonce).await {
                Ok(hash) => {
                    self.shared.metrics.dispute_move();
                    match &action {
                        Action::Counter {
                            proposal, parent, ..
                        } => info!(batch, proposal, parent, "dispute: {what}"),
                        Action::Step { proposal, leaf, .. } => {
                            info!(batch, proposal, leaf, "dispute: {what}")
                        }
                        _ => info!(batch, "dispute: {what}"),
                    }
                    sent.push(Sent {
                        hash,
                        nonce,
                        action,
                    });
                    last_what = Some(Posting::Dispute { batch, what });
                    nonce += 1;
                }
                Err(L1Error::Refused { message, .. }) => {
                    // Refused before it could cost a fee (a race, or a move no longer allowed):
                    // the nonce stays free for the next move.
                    if self.last_refusal.as_ref() != Some(&message) {
                        warn!(
                            batch,
                            "dispute action ({what}) refused by the L1: {message}"
                        );
                        self.last_refusal = Some(message);
                    }
                    self.remember_failed(&action);
                }
                Err(e) if sent.is_empty() => return Err(e.into()),
                Err(e) => {
                    // What was sent is followed; the rest is planned again next round.
                    warn!("sending dispute moves: {e}");
                    break;
                }
            }
        }
        let (Some(last), Some(what)) = (sent.pop(), last_what) else {
            return Ok(false);
        };
        lock(&self.shared.view).in_flight = Some(InFlight {
            hash: last.hash,
            nonce: last.nonce,
            action: last.action,
            what,
            included_at: None,
            sent: Instant::now(),
            earlier: sent,
        });
        Ok(true)
    }

    /// Follows the node's own L1 transaction until it is final.
    async fn track_in_flight(&mut self) -> Result<(), NodeError> {
        let Some(f) = lock(&self.shared.view).in_flight.clone() else {
            return Ok(());
        };
        let status = self.client.tx_status(&f.hash).await?;
        let mut view = lock(&self.shared.view);
        match status {
            L1TxStatus::Pending => {}
            L1TxStatus::Included { height } => {
                if let Some(x) = view.in_flight.as_mut() {
                    x.included_at = Some(height);
                }
            }
            L1TxStatus::Finalized { height, error } => {
                drop(view);
                // The moves sent before it at lower nonces are final too; remember any refused.
                for e in &f.earlier {
                    if let L1TxStatus::Finalized {
                        error: Some(why), ..
                    } = self.client.tx_status(&e.hash).await?
                    {
                        self.shared.metrics.l1_failed();
                        warn!(nonce = e.nonce, "dispute move final but failed: {why}");
                        self.remember_failed(&e.action);
                    }
                }
                match error {
                    None => debug!(what = ?f.what, height, "L1 transaction final"),
                    Some(e) => {
                        self.shared.metrics.l1_failed();
                        warn!(what = ?f.what, height, "L1 transaction final but failed: {e}");
                        if matches!(f.what, Posting::Dispute { .. }) {
                            self.remember_failed(&f.action);
                        }
                    }
                }
                lock(&self.shared.view).in_flight = None;
                self.just_finalized = true;
            }
            L1TxStatus::Rejected { error } => {
                drop(view);
                warn!(what = ?f.what, "L1 transaction dropped: {error}; sending it again");
                self.shared.metrics.l1_resent();
                self.resend(&f).await?;
            }
            L1TxStatus::Unknown if f.sent.elapsed() > LOST_TX_AFTER => {
                drop(view);
                warn!(what = ?f.what, hash = %f.hash, "the L1 node no longer knows our transaction; sending it again");
                self.shared.metrics.l1_resent();
                self.resend(&f).await?;
            }
            L1TxStatus::Unknown => {}
        }
        Ok(())
    }

    /// Remembers a dispute move the L1 refused, so that it is never sent again.
    fn remember_failed(&mut self, action: &Action) {
        if self.failed_moves.len() >= FAILED_MOVES {
            self.failed_moves.clear();
        }
        self.failed_moves.insert(action.to_bytes());
    }

    /// Sends a lost transaction again (with the moves sent before it that are not included yet):
    /// the same actions at the same nonces, with fresh fees.
    async fn resend(&mut self, f: &InFlight) -> Result<(), NodeError> {
        let key = self
            .key
            .as_ref()
            .expect("only a node with a key sends")
            .clone();
        let account = self.client.account(&key.public()).await?;
        if account.nonce > f.nonce {
            // Its nonce is used: a copy was included after all (the L1 shows it on a later read).
            lock(&self.shared.view).in_flight = None;
            self.just_finalized = true;
            return Ok(());
        }
        for e in f.earlier.iter().filter(|e| e.nonce >= account.nonce) {
            if let Err(err) = self.client.submit_at(&key, e.action.clone(), e.nonce).await {
                // A gap below the last move: start again from what the L1 holds.
                warn!(nonce = e.nonce, "dispute move not sent again: {err}");
                lock(&self.shared.view).in_flight = None;
                self.just_finalized = true;
                return Ok(());
            }
        }
        match self.client.submit_at(&key, f.action.clone(), f.nonce).await {
            Ok(hash) => {
                if let Some(x) = lock(&self.shared.view).in_flight.as_mut() {
                    x.hash = hash;
                    x.sent = Instant::now();
                    x.included_at = None;
                }
                Ok(())
            }
            Err(L1Error::Refused { message, .. }) => {
                // It can no longer apply (or its nonce was just used): start again from what the
                // L1 holds. Whatever else takes this nonce, at most one of them is included.
                warn!(what = ?f.what, "not sent again: {message}");
                lock(&self.shared.view).in_flight = None;
                self.just_finalized = true;
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Sends a new transaction of this node at `nonce` (the key's next) and follows it.
    async fn send(
        &mut self,
        key: &Keypair,
        action: Action,
        what: Posting,
        nonce: u64,
    ) -> Result<Hash, L1Error> {
        let hash = self.client.submit_at(key, action.clone(), nonce).await?;
        lock(&self.shared.view).in_flight = Some(InFlight {
            hash,
            nonce,
            action,
            what,
            included_at: None,
            sent: Instant::now(),
            earlier: Vec::new(),
        });
        Ok(hash)
    }

    /// Posts the next batch if one is due. Returns whether it sent a transaction.
    async fn post_batch(&mut self, key: &Keypair, rollup: &RollupInfo) -> Result<bool, NodeError> {
        let seq = self.shared.seq.as_ref().expect("a sequencer");
        let cursor = {
            let view = lock(&self.shared.view);
            view.derivation.txs_in_first(view.derivation.batches())
        };
        let (waiting, oldest_ms) = {
            let seq = lock(seq);
            let logged = seq.next_sequence();
            if cursor > logged {
                return Err(NodeError::LogBehindL1 {
                    posted: cursor,
                    logged,
                    dir: self.data_dir.clone(),
                });
            }
            let oldest = seq.block_at_sequence(cursor).map_or(0, |b| b.timestamp_ms);
            (logged - cursor, oldest)
        };
        if waiting == 0 {
            return Ok(false);
        }
        let full = waiting.saturating_mul(EST_TX_BYTES) >= self.batcher.max_batch_bytes;
        let old = now_ms().saturating_sub(oldest_ms) >= self.batcher.max_delay_ms;
        if !full && !old {
            return Ok(false);
        }
        // A transaction of ours still queued on L1 (from before a restart) comes first: posting
        // now would post its transactions twice.
        let account = self.client.account(&key.public()).await?;
        if account.pending_nonce > account.nonce {
            debug!("waiting for an earlier L1 transaction of the sequencer");
            return Ok(false);
        }
        let chain = self.client.chain_info().await?;
        if chain.next_blob_base_fee > self.batcher.max_blob_fee {
            if !self.fee_wait_logged {
                info!(
                    blob_fee = chain.next_blob_base_fee,
                    cap = self.batcher.max_blob_fee,
                    "blob fee above the batcher's cap: waiting"
                );
                self.fee_wait_logged = true;
            }
            return Ok(false);
        }
        self.fee_wait_logged = false;
        let max_blob = self
            .batcher
            .max_batch_bytes
            .min(chain.params.max_blob_bytes) as usize;
        let Some(mut plan) = plan_batch(&lock(seq), cursor, rollup.deposits_end, max_blob) else {
            return Ok(false);
        };
        if let Some(fault) = self
            .fault
            .filter(|f| f.needs_sequencer() && !self.fault_posted)
        {
            if let Some(data) = misleading_batch(fault, &plan.data) {
                warn!(
                    fault = fault.name(),
                    "FAULT INJECTION: posting a batch the proposer will misread"
                );
                plan.data = data;
                self.fault_posted = true;
            }
        }
        let bytes = plan.data.len();
        let action = Action::PostBatch {
            rollup: self.shared.id,
            index: rollup.batches,
            data_hash: blob_hash(&plan.data),
            data: plan.data,
            deposits_end: plan.deposits_end,
            max_fee_per_blob_byte: self.batcher.max_blob_fee,
        };
        let index = rollup.batches;
        let what = Posting::Batch {
            index,
            from: plan.from,
            to: plan.to,
        };
        self.send(key, action, what, account.pending_nonce).await?;
        self.shared.metrics.batch_posted(bytes);
        info!(
            batch = index,
            txs = plan.to - plan.from,
            bytes,
            blob_fee = chain.next_blob_base_fee,
            "batch posted"
        );
        Ok(true)
    }

    /// Proposes the derived output of the first unsettled batch that has no proposal of it on
    /// the derived prior, with the bond. Competing proposals do not stop it: each has its own tree.
    async fn propose(&mut self, key: &Keypair, rollup: &RollupInfo) -> Result<(), NodeError> {
        let next = {
            let view = lock(&self.shared.view);
            let d = &view.derivation;
            (rollup.settled..d.batches()).find_map(|batch| {
                let (prior, output) = (d.prior(batch)?, d.output(batch)?);
                let proposed = view
                    .outputs
                    .iter()
                    .any(|o| (o.info.batch, o.info.prior, o.info.output) == (batch, prior, output));
                (!proposed).then_some((batch, prior, output))
            })
        };
        let Some((batch, prior, output)) = next else {
            return Ok(());
        };
        let action = Action::ProposeOutput {
            rollup: self.shared.id,
            batch,
            prior,
            output,
        };
        let nonce = self.client.account(&key.public()).await?.pending_nonce;
        match self
            .send(key, action, Posting::Output { batch }, nonce)
            .await
        {
            Ok(_) => {
                self.shared.metrics.output_proposed();
                info!(batch, %output, "output proposed");
                self.last_refusal = None;
                Ok(())
            }
            // Another proposer was first, or the bond is missing: say so and go on following.
            Err(L1Error::Refused { message, .. }) => {
                if self.last_refusal.as_ref() != Some(&message) {
                    warn!(batch, "output proposal refused by the L1: {message}");
                    self.last_refusal = Some(message);
                }
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// The batch a faulty sequencer posts instead of `data` so that `fault` has something to misread:
/// a transfer replaced by a forged one (bad signature) or by a replay of the first, or data that
/// does not decode. `None` if the batch has no transfer to work with.
fn misleading_batch(fault: Fault, data: &[u8]) -> Option<Vec<u8>> {
    if fault == Fault::Undecodable {
        let mut garbage = vec![0x7f];
        garbage.extend_from_slice(data);
        return Some(garbage);
    }
    let mut txs = basalt_l2::decode_batch::<P>(data).ok()?;
    let transfers: Vec<usize> = txs
        .iter()
        .enumerate()
        .filter(|(_, t)| matches!(t, L2Tx::Transfer { .. }))
        .map(|(i, _)| i)
        .collect();
    let (&first, &last) = (transfers.first()?, transfers.last()?);
    match fault {
        Fault::BadSignature => {
            if let L2Tx::Transfer { amount, .. } = &mut txs[last] {
                *amount += 1; // the signature no longer covers it
            }
        }
        Fault::Replay if first != last => txs[last] = txs[first],
        _ => return None,
    }
    Some(basalt_l2::encode_batch(&txs))
}

/// The batch a dispute action concerns and what it is, for logs.
fn describe(action: &Action, trees: &[OpenTree]) -> (u64, &'static str) {
    let batch_of = |id: &u64| {
        trees
            .iter()
            .find(|t| t.proposal == *id)
            .map_or(0, |t| t.batch)
    };
    match action {
        Action::Counter {
            proposal, attack, ..
        } => (
            batch_of(proposal),
            if *attack { "attack" } else { "defence" },
        ),
        Action::Step { proposal, .. } => (batch_of(proposal), "one-step proof"),
        _ => (0, "other"),
    }
}
