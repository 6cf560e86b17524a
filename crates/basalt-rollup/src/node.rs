//! The rollup node process: a sequencer (block loop, batcher, proposer) or a verifier (derivation
//! and output checks), following one rollup on an L1 through its JSON-RPC API.
//!
//! Two loops share the node's state:
//! - the block loop (sequencer only) turns queued transactions into an L2 block every
//!   `block_time_ms` and logs it durably before anyone sees it confirmed;
//! - the L1 loop reads the rollup's finalized deposits, batches, outputs and disputes from the L1,
//!   derives the L2 state from them, checks every proposed output, and then posts at most one L1
//!   transaction of its own at a time: first a dispute action (challenger: a move in a game on
//!   its turn, a defence of a disputed output it agrees with, a challenge of the first output it
//!   disagrees with), then the next batch (sequencer), then the next output (proposer).

use crate::derive::{Derivation, DeriveError, Verdict};
use crate::game::{dispute_actions, Fault, LiveOutput};
use crate::l1client::{L1Client, L1Error, L1TxStatus, OutputInfo, RollupInfo, RollupRef};
use crate::metrics::RollupMetrics;
use crate::sequencer::{Sequencer, SequencerError};
use crate::{plan_batch, rpc};
use basalt_l1::{blob_hash, Action};
use basalt_l2::{Config, L2Tx, Optimistic, TxFailure};
use basalt_types::{Hash, Keypair};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tracing::{debug, error, info, info_span, warn, Instrument};

type P = Optimistic;

/// Most transactions waiting for the next block; more are refused until it is made.
pub const MAX_PENDING_TXS: usize = 65_536;
/// Refused transactions remembered for `l2_getTransaction`.
const REMEMBERED_REFUSALS: usize = 100_000;
/// Bytes a signed transfer takes in a batch, for the batcher's size threshold.
const EST_TX_BYTES: u64 = 72;
/// How long an own L1 transaction the node has never seen may stay unaccounted for.
const LOST_TX_AFTER: Duration = Duration::from_secs(30);

/// What the node does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Orders transactions, posts batches (needs the registered sequencer key).
    Sequencer,
    /// Derives the state from L1 data alone and checks every output.
    Verifier,
}

/// When and how the batcher posts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BatcherConfig {
    /// Post once the unposted transactions would fill this many blob bytes (capped by the L1's
    /// largest blob).
    pub max_batch_bytes: u64,
    /// Post once the oldest unposted transaction is this old, however few are waiting.
    pub max_delay_ms: u64,
    /// Highest blob base fee (per byte) the batcher pays; above it, it waits for the fee to fall.
    pub max_blob_fee: u64,
}

impl Default for BatcherConfig {
    fn default() -> Self {
        BatcherConfig {
            max_batch_bytes: 120_000,
            max_delay_ms: 1_000,
            max_blob_fee: 1_000_000,
        }
    }
}

/// A rollup node's configuration (the TOML file of `basalt rollup --config`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// The L1 node's JSON-RPC URL.
    pub l1_rpc: String,
    /// The rollup, by registered name or id.
    pub rollup: String,
    /// `sequencer` or `verifier`.
    pub role: Role,
    /// Where the node keeps its data (the sequencer's block log).
    pub data_dir: PathBuf,
    /// Address the L2 JSON-RPC server listens on.
    pub rpc: SocketAddr,
    /// L1 key file: the sequencer's key (required for the sequencer role), or a proposer's.
    #[serde(default)]
    pub key: Option<PathBuf>,
    /// Propose outputs with the key's bond (default: yes for a sequencer, no for a verifier).
    #[serde(default)]
    pub propose: Option<bool>,
    /// Challenge wrong outputs, defend right ones and play every game to the end, bonding the
    /// key (default: yes whenever the node has a key).
    #[serde(default)]
    pub challenge: Option<bool>,
    /// FOR TESTS AND DEMOS: derive with this fault injected (see [`Fault`]), so the node
    /// proposes, challenges and plays as a dishonest party would.
    #[serde(default)]
    pub fault: Option<String>,
    /// Milliseconds between L2 blocks.
    #[serde(default = "default_block_time_ms")]
    pub block_time_ms: u64,
    /// Milliseconds between reads of the L1.
    #[serde(default = "default_l1_poll_ms")]
    pub l1_poll_ms: u64,
    /// Batch posting thresholds.
    #[serde(default)]
    pub batcher: BatcherConfig,
}

fn default_block_time_ms() -> u64 {
    50
}

fn default_l1_poll_ms() -> u64 {
    200
}

impl NodeConfig {
    /// Reads a config from TOML text, checking every value.
    pub fn from_toml(text: &str) -> Result<Self, NodeError> {
        let cfg: NodeConfig = toml::from_str(text).map_err(|e| NodeError::Config(e.to_string()))?;
        cfg.validate()?;
        let bad = |s: &str| Err(NodeError::Config(s.to_string()));
        if cfg.role == Role::Sequencer && cfg.key.is_none() {
            return bad("a sequencer needs `key`: the L1 key file of the registered sequencer");
        }
        if cfg.propose == Some(true) && cfg.key.is_none() {
            return bad("propose = true needs `key`: the L1 key that locks the bond");
        }
        if cfg.challenge == Some(true) && cfg.key.is_none() {
            return bad("challenge = true needs `key`: the L1 key that locks dispute bonds");
        }
        Ok(cfg)
    }

    /// Checks the values (but not the key file, which the caller reads), naming the first bad one.
    pub fn validate(&self) -> Result<(), NodeError> {
        let bad = |s: &str| Err(NodeError::Config(s.to_string()));
        if !(10..=10_000).contains(&self.block_time_ms) {
            return bad("block_time_ms must be 10 to 10000");
        }
        if !(10..=60_000).contains(&self.l1_poll_ms) {
            return bad("l1_poll_ms must be 10 to 60000");
        }
        if self.batcher.max_batch_bytes < 1_024 {
            return bad("batcher.max_batch_bytes must be at least 1024");
        }
        if let Some(f) = &self.fault {
            let Some(fault) = Fault::parse(f) else {
                let names: Vec<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
                return Err(NodeError::Config(format!(
                    "unknown fault {f:?}: one of {}",
                    names.join(", ")
                )));
            };
            if fault.needs_sequencer() && self.role != Role::Sequencer {
                return Err(NodeError::Config(format!(
                    "fault {f} needs role = \"sequencer\": only the sequencer posts the data it misreads"
                )));
            }
        }
        Ok(())
    }

    /// The fault this node injects, if any (checked by [`NodeConfig::validate`]).
    pub fn fault(&self) -> Option<Fault> {
        self.fault.as_deref().and_then(Fault::parse)
    }

    /// Whether this node proposes outputs.
    pub fn proposes(&self) -> bool {
        self.propose.unwrap_or(self.role == Role::Sequencer)
    }
}

/// Why the node cannot start or go on.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// A bad configuration value.
    #[error("config: {0}")]
    Config(String),
    /// The L1 failed or refused.
    #[error(transparent)]
    L1(#[from] L1Error),
    /// The sequencer's log failed.
    #[error(transparent)]
    Sequencer(#[from] SequencerError),
    /// Derivation cannot go on.
    #[error(transparent)]
    Derive(#[from] DeriveError),
    /// The L2 RPC server did not start.
    #[error("L2 JSON-RPC on {addr}: {source} (is another node using it?)")]
    Rpc {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The L1 holds more posted transactions than the sequencer's log.
    #[error("the L1 holds {posted} posted transactions of this rollup but the sequencer log in {dir} only {logged}: wrong data_dir, or the log was lost")]
    LogBehindL1 {
        /// Posted on L1.
        posted: u64,
        /// In the log.
        logged: u64,
        /// The data directory.
        dir: String,
    },
}

/// A transaction of this node on L1, not yet final.
#[derive(Debug, Clone)]
pub(crate) struct InFlight {
    pub hash: Hash,
    /// Its nonce and action: if it is lost, exactly this is sent again at this nonce, so it can
    /// never be included twice nor be replaced by different content.
    pub nonce: u64,
    pub action: Action,
    pub what: Posting,
    pub included_at: Option<u64>,
    pub sent: Instant,
}

/// What an own L1 transaction does.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Posting {
    /// Batch number `index`, carrying transactions `from..to`.
    Batch { index: u64, from: u64, to: u64 },
    /// The output of batch `batch`.
    Output { batch: u64 },
    /// A dispute action over the output of batch `batch`.
    Dispute { batch: u64, what: &'static str },
}

/// A proposed output and how it compares with the derived one.
#[derive(Debug, Clone)]
pub(crate) struct CheckedOutput {
    pub info: OutputInfo,
    pub verdict: Verdict,
}

/// What the node knows from the L1.
pub(crate) struct L1View {
    pub derivation: Derivation,
    pub rollup: RollupInfo,
    pub batch_heights: Vec<u64>,
    pub outputs: Vec<CheckedOutput>,
    /// Proposals already reported as not matching the derivation.
    pub reported: HashSet<u64>,
    /// (proposals, live outputs) on L1 when the outputs were last read.
    pub outputs_seen: (u64, u64),
    pub in_flight: Option<InFlight>,
    pub last_error: Option<String>,
}

impl L1View {
    /// Whether batch `batch` has settled on L1.
    pub fn settled(&self, batch: u64) -> bool {
        batch < self.rollup.settled
    }
}

/// Transactions waiting for the next block, and recent refusals.
#[derive(Default)]
pub(crate) struct Queue {
    pub txs: Vec<L2Tx<P>>,
    pub hashes: HashSet<Hash>,
    pub refused: HashMap<Hash, TxFailure>,
    refused_order: VecDeque<Hash>,
}

impl Queue {
    fn refuse(&mut self, hash: Hash, why: TxFailure) {
        if self.refused.insert(hash, why).is_none() {
            self.refused_order.push_back(hash);
        }
        while self.refused_order.len() > REMEMBERED_REFUSALS {
            if let Some(old) = self.refused_order.pop_front() {
                self.refused.remove(&old);
            }
        }
    }
}

/// State shared by the loops and the RPC handlers.
pub(crate) struct Shared {
    pub id: u32,
    pub config: Config,
    pub role: Role,
    pub l1_url: String,
    pub seq: Option<Mutex<Sequencer>>,
    pub view: Mutex<L1View>,
    pub queue: Mutex<Queue>,
    pub blocks: broadcast::Sender<Value>,
    /// Why the sequencer stopped making blocks, if it did.
    pub halted: Mutex<Option<String>>,
    pub metrics: RollupMetrics,
}

/// Locks a mutex, recovering the data if a thread panicked while holding it (no invariant spans
/// a panic: every update is a single assignment or push).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A running rollup node.
pub struct RollupNode {
    /// The L2 JSON-RPC address it listens on.
    pub rpc_addr: SocketAddr,
    /// The rollup's registry id.
    pub rollup_id: u32,
    /// The rollup's name.
    pub name: String,
    server: jsonrpsee::server::ServerHandle,
    tasks: Vec<JoinHandle<()>>,
}

impl RollupNode {
    /// Stops the loops and the RPC server. Everything confirmed is already on disk.
    pub fn stop(self) {
        let _ = self.server.stop();
        for t in self.tasks {
            t.abort();
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Starts a rollup node: reads the rollup from the L1, replays the sequencer log, starts the L2
/// JSON-RPC server and the loops. `key` is the L1 key the config names, already read.
pub async fn start(cfg: NodeConfig, key: Option<Keypair>) -> Result<RollupNode, NodeError> {
    cfg.validate()?;
    let client = L1Client::new(&cfg.l1_rpc)?;
    let rollup = client.rollup(&RollupRef::parse(&cfg.rollup)).await?;
    if rollup.params.kind != "optimistic" {
        return Err(NodeError::Config(format!(
            "rollup {} is {}, this node runs optimistic rollups",
            rollup.params.name, rollup.params.kind
        )));
    }
    let config = Config {
        rollup_id: rollup.id,
        min_fee: rollup.params.min_fee,
    };
    if cfg.role == Role::Sequencer {
        let Some(k) = key.as_ref().map(|k| k.public()) else {
            return Err(NodeError::Config(
                "a sequencer needs the L1 key of the registered sequencer".into(),
            ));
        };
        if k != rollup.params.sequencer {
            return Err(NodeError::Config(format!(
                "the key does not match the sequencer of rollup {} ({}): only it may post batches",
                rollup.params.name, rollup.params.sequencer
            )));
        }
    }
    // Every deposit known now, so the sequencer's log replays.
    let mut deposits = Vec::new();
    while (deposits.len() as u64) < rollup.deposits {
        let page = client.deposits(rollup.id, deposits.len() as u64).await?;
        if page.is_empty() {
            break;
        }
        deposits.extend(page.iter().map(|d| d.entry()));
    }
    let seq = match cfg.role {
        Role::Sequencer => {
            std::fs::create_dir_all(&cfg.data_dir).map_err(|e| {
                NodeError::Config(format!("creating {}: {e}", cfg.data_dir.display()))
            })?;
            let s = Sequencer::open(
                &cfg.data_dir.join("blocks.log"),
                config,
                rollup.params.sequencer,
                deposits.clone(),
            )?;
            info!(
                rollup = %rollup.params.name,
                blocks = s.blocks().len(),
                txs = s.next_sequence(),
                "sequencer log replayed"
            );
            Some(Mutex::new(s))
        }
        Role::Verifier => None,
    };
    let fault = cfg.fault();
    let mut derivation = match fault {
        None => Derivation::new(config, rollup.params.sequencer),
        Some(f) => {
            warn!(fault = f.name(), "FAULT INJECTION: this node derives, proposes and plays disputes dishonestly (tests and demos only)");
            Derivation::with_fault(config, rollup.params.sequencer, f, (rollup.batches, 0))
        }
    };
    derivation.add_deposits(deposits);
    let (blocks, _) = broadcast::channel(256);
    let name = rollup.params.name.clone();
    let shared = Arc::new(Shared {
        id: rollup.id,
        config,
        role: cfg.role,
        l1_url: cfg.l1_rpc.clone(),
        seq,
        view: Mutex::new(L1View {
            derivation,
            rollup: rollup.clone(),
            batch_heights: Vec::new(),
            outputs: Vec::new(),
            reported: HashSet::new(),
            outputs_seen: (0, 0),
            in_flight: None,
            last_error: None,
        }),
        queue: Mutex::new(Queue::default()),
        blocks,
        halted: Mutex::new(None),
        metrics: RollupMetrics::new(&rollup.params.name),
    });
    let driver = Driver {
        shared: shared.clone(),
        client,
        key: key.clone(),
        proposes: cfg.proposes() && key.is_some(),
        challenges: cfg.challenge.unwrap_or(true) && key.is_some(),
        fault,
        fault_posted: false,
        batcher: cfg.batcher.clone(),
        data_dir: cfg.data_dir.display().to_string(),
        fee_wait_logged: false,
        last_refusal: None,
        just_finalized: false,
    };
    // Catch up with the L1 before answering anyone, so that the first answers are not stale.
    let caught_up = driver.sync().await?;
    info!(
        rollup = %name,
        batches = caught_up.batches,
        outputs = caught_up.outputs,
        "derived the rollup from L1"
    );
    let (rpc_addr, server) = rpc::serve(cfg.rpc, shared.clone())
        .await
        .map_err(|source| NodeError::Rpc {
            addr: cfg.rpc,
            source,
        })?;
    let span = info_span!("rollup", name = %name);
    let mut tasks = Vec::new();
    if shared.seq.is_some() {
        let blocks = block_loop(shared.clone(), Duration::from_millis(cfg.block_time_ms));
        tasks.push(tokio::spawn(blocks.instrument(span.clone())));
    }
    let l1_loop = driver.run(Duration::from_millis(cfg.l1_poll_ms));
    tasks.push(tokio::spawn(l1_loop.instrument(span.clone())));
    span.in_scope(
        || info!(role = ?cfg.role, rpc = %rpc_addr, l1 = %cfg.l1_rpc, "rollup node started"),
    );
    Ok(RollupNode {
        rpc_addr,
        rollup_id: rollup.id,
        name,
        server,
        tasks,
    })
}

/// Makes a block of the queued transactions every `every`, while there is anything to apply.
async fn block_loop(shared: Arc<Shared>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let txs = std::mem::take(&mut lock(&shared.queue).txs);
        let s = shared.clone();
        let made = tokio::task::spawn_blocking(move || {
            let seq = s.seq.as_ref().expect("the block loop runs on a sequencer");
            let mut seq = lock(seq);
            let deposits_waiting = seq.deposits_known() > seq.state().commitment().next_deposit;
            if txs.is_empty() && !deposits_waiting {
                return Ok(None);
            }
            let (block, admissions) = seq.produce(now_ms(), &txs)?;
            s.metrics.block(block.number, block.txs.len());
            let summary = rpc::block_json(block);
            let decided: Vec<(Hash, Option<TxFailure>)> = txs
                .iter()
                .zip(&admissions)
                .map(|(tx, a)| (tx.hash(), a.err()))
                .collect();
            Ok::<_, SequencerError>(Some((summary, decided)))
        })
        .await;
        match made {
            Ok(Ok(None)) => {}
            Ok(Ok(Some((summary, decided)))) => {
                let mut q = lock(&shared.queue);
                for (hash, refused) in decided {
                    q.hashes.remove(&hash);
                    if let Some(why) = refused {
                        q.refuse(hash, why);
                    }
                }
                drop(q);
                let _ = shared.blocks.send(summary);
            }
            Ok(Err(e)) => {
                // Nothing unlogged was confirmed to anyone; a restart replays the log.
                error!("sequencer stopped: {e}");
                *lock(&shared.halted) = Some(e.to_string());
                return;
            }
            Err(e) => {
                error!("sequencer block task failed: {e}");
                *lock(&shared.halted) = Some(e.to_string());
                return;
            }
        }
    }
}

/// The L1 loop: follows the rollup on L1 and posts this node's batches and outputs.
struct Driver {
    shared: Arc<Shared>,
    client: L1Client,
    key: Option<Keypair>,
    proposes: bool,
    challenges: bool,
    fault: Option<Fault>,
    /// Whether the sequencer already posted the data its fault misreads.
    fault_posted: bool,
    batcher: BatcherConfig,
    data_dir: String,
    fee_wait_logged: bool,
    /// The last refusal of a proposal, logged once.
    last_refusal: Option<String>,
    /// An own transaction finalized during this step: the L1 counters read at its start predate it.
    just_finalized: bool,
}

impl Driver {
    async fn run(mut self, every: Duration) {
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
    async fn sync(&self) -> Result<RollupInfo, NodeError> {
        let rollup = self.client.rollup(&RollupRef::Id(self.shared.id)).await?;
        self.sync_deposits(rollup.deposits).await?;
        self.sync_batches(rollup.batches).await?;
        self.sync_outputs(&rollup).await?;
        let mut view = lock(&self.shared.view);
        view.derivation.settle_to(rollup.settled);
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

    /// Reads the live outputs, and checks each against the derivation. The unsettled ones are
    /// read again whenever an output was proposed or removed since the last read.
    async fn sync_outputs(&self, rollup: &RollupInfo) -> Result<(), NodeError> {
        let keep = {
            let mut view = lock(&self.shared.view);
            let all_checked = view.outputs.len() as u64 == rollup.outputs;
            if all_checked && view.outputs_seen == (rollup.proposals, rollup.outputs) {
                return Ok(());
            }
            view.outputs_seen = (rollup.proposals, rollup.outputs);
            let keep = view.outputs.len().min(rollup.settled as usize);
            view.outputs.truncate(keep);
            keep as u64
        };
        let mut next = keep;
        while next < rollup.outputs {
            let page = self.client.outputs(self.shared.id, next).await?;
            if page.is_empty() {
                return Ok(());
            }
            let mut view = lock(&self.shared.view);
            for o in page {
                let verdict = view.derivation.check(o.batch, o.output);
                match verdict {
                    // Outputs of batches not derived yet are checked on a later step.
                    Verdict::Pending => return Ok(()),
                    Verdict::Match => {}
                    Verdict::Mismatch { derived } => {
                        if view.reported.insert(o.proposal) {
                            error!(
                                rollup = self.shared.id,
                                batch = o.batch,
                                proposed = %o.output,
                                %derived,
                                proposer = %o.proposer,
                                settles_at = o.settles_at,
                                "PROPOSED OUTPUT DOES NOT MATCH THE STATE DERIVED FROM L1: it must be challenged before it settles"
                            )
                        }
                    }
                }
                next = o.batch + 1;
                view.outputs.push(CheckedOutput { info: o, verdict });
            }
        }
        Ok(())
    }

    /// Sends the first dispute action due, if any. Returns whether it sent one.
    async fn play(&mut self, key: &Keypair, rollup: &RollupInfo) -> Result<bool, NodeError> {
        let live: Vec<LiveOutput> = {
            let view = lock(&self.shared.view);
            view.outputs
                .iter()
                .skip(rollup.settled as usize)
                .map(|o| LiveOutput {
                    batch: o.info.batch,
                    prior: o.info.prior,
                    output: o.info.output,
                    challenge_until: o.info.settles_at,
                })
                .collect()
        };
        let mut disputes = Vec::with_capacity(rollup.open_dispute_ids.len());
        for id in &rollup.open_dispute_ids {
            disputes.push(self.client.dispute(self.shared.id, *id).await?);
        }
        if live.is_empty() && disputes.is_empty() {
            return Ok(false);
        }
        let me = key.public();
        let actions = {
            let view = lock(&self.shared.view);
            dispute_actions(
                self.shared.id,
                &me,
                &view.derivation,
                &live,
                &disputes,
                rollup.height + 1,
            )
        };
        let Some(action) = actions.into_iter().next() else {
            return Ok(false);
        };
        let (batch, what) = describe(&action, &disputes);
        let nonce = self.client.account(&me).await?.pending_nonce;
        match self
            .send(key, action.clone(), Posting::Dispute { batch, what }, nonce)
            .await
        {
            Ok(_) => {
                self.shared.metrics.dispute_move();
                match &action {
                    Action::Bisect {
                        dispute,
                        game,
                        choice,
                        ..
                    } => info!(
                        batch,
                        dispute,
                        game,
                        choice = choice.name(),
                        "dispute: bisect"
                    ),
                    Action::OneStepProof { dispute, game, .. } => {
                        info!(batch, dispute, game, "dispute: one-step proof")
                    }
                    _ => info!(batch, "dispute: {what}"),
                }
                Ok(true)
            }
            Err(L1Error::Refused { message, .. }) => {
                if self.last_refusal.as_ref() != Some(&message) {
                    warn!(
                        batch,
                        "dispute action ({what}) refused by the L1: {message}"
                    );
                    self.last_refusal = Some(message);
                }
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
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
                match error {
                    None => debug!(what = ?f.what, height, "L1 transaction final"),
                    Some(e) => {
                        self.shared.metrics.l1_failed();
                        warn!(what = ?f.what, height, "L1 transaction final but failed: {e}")
                    }
                }
                view.in_flight = None;
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

    /// Sends a lost transaction again: the same action at the same nonce, with fresh fees.
    async fn resend(&mut self, f: &InFlight) -> Result<(), NodeError> {
        let key = self.key.as_ref().expect("only a node with a key sends");
        let account = self.client.account(&key.public()).await?;
        if account.nonce > f.nonce {
            // Its nonce is used: a copy was included after all (the L1 shows it on a later read).
            lock(&self.shared.view).in_flight = None;
            self.just_finalized = true;
            return Ok(());
        }
        match self.client.submit_at(key, f.action.clone(), f.nonce).await {
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

    /// Proposes the derived output of the next batch without one, with the bond.
    async fn propose(&mut self, key: &Keypair, rollup: &RollupInfo) -> Result<(), NodeError> {
        let batch = rollup.outputs;
        let (prior, output) = {
            let view = lock(&self.shared.view);
            match (view.derivation.prior(batch), view.derivation.output(batch)) {
                (Some(p), Some(o)) => (p, o),
                _ => return Ok(()),
            }
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
fn describe(action: &Action, disputes: &[basalt_l1::Dispute]) -> (u64, &'static str) {
    let batch_of = |id: &u64| disputes.iter().find(|d| d.id == *id).map_or(0, |d| d.batch);
    match action {
        Action::Challenge { batch, .. } => (*batch, "challenge"),
        Action::Defend { batch, .. } => (*batch, "defend"),
        Action::Bisect { dispute, .. } => (batch_of(dispute), "bisect"),
        Action::OneStepProof { dispute, .. } => (batch_of(dispute), "one-step proof"),
        _ => (0, "other"),
    }
}

/// A commented example of [`NodeConfig`], as `basalt rollup --example` prints it.
pub const EXAMPLE_CONFIG: &str = r#"# A Basalt rollup node (`basalt rollup --config THIS_FILE`).
# Relative paths are relative to this file.

# The L1 node's JSON-RPC endpoint (`basalt up` serves one on 127.0.0.1:8545).
l1_rpc = "http://127.0.0.1:8545"
# The rollup, by its registered name or id (`basalt wallet rollups` lists them).
rollup = "alpha"
# "sequencer": orders transactions into L2 blocks and posts batches (needs the sequencer's key).
# "verifier": rebuilds the state from L1 data alone and checks every proposed output.
role = "verifier"
# Where the node keeps its data (the sequencer's block log).
data_dir = "./rollup-data"
# The L2 JSON-RPC server (HTTP and WebSocket).
rpc = "127.0.0.1:8650"
# L1 key file (`basalt wallet new --out FILE`): required for a sequencer, which must be the key the
# rollup registered; optional for a verifier that proposes.
# key = "./sequencer.key"
# Propose outputs, locking the rollup's bond each time (default: true for a sequencer).
# propose = false
# Challenge any proposed output that differs from the derived one, defend disputed outputs that
# match it, and play every game to the end, locking the rollup's dispute bond each time
# (default: true whenever the node has a key).
# challenge = true
# FOR TESTS AND DEMOS ONLY: behave as a dishonest party with this fault injected (see
# `basalt rollup --help`): balance, skip-deposit, reorder-deposits, bad-signature, replay, mint,
# withdrawals-root, undecodable.
# fault = "mint"
# Milliseconds between L2 blocks, and between reads of the L1.
block_time_ms = 50
l1_poll_ms = 200

[batcher]
# Post a batch once the waiting transactions fill this many bytes, or once the oldest waited
# max_delay_ms, whichever comes first.
max_batch_bytes = 120000
max_delay_ms = 1000
# Highest blob base fee paid per byte; above it the batcher waits.
max_blob_fee = 1000000
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_parses_and_bad_values_are_named() {
        let cfg = NodeConfig::from_toml(EXAMPLE_CONFIG).unwrap();
        assert_eq!(cfg.role, Role::Verifier);
        assert!(!cfg.proposes());
        let seq = EXAMPLE_CONFIG.replace("role = \"verifier\"", "role = \"sequencer\"");
        let e = NodeConfig::from_toml(&seq).unwrap_err().to_string();
        assert!(e.contains("a sequencer needs `key`"), "{e}");
        let slow = EXAMPLE_CONFIG.replace("block_time_ms = 50", "block_time_ms = 0");
        let e = NodeConfig::from_toml(&slow).unwrap_err().to_string();
        assert!(e.contains("block_time_ms"), "{e}");
        let typo = format!("{EXAMPLE_CONFIG}\nblok_time_ms = 5\n");
        let e = NodeConfig::from_toml(&typo).unwrap_err().to_string();
        assert!(e.contains("unknown field"), "{e}");
    }
}
