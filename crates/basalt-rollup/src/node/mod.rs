//! The rollup node process: a sequencer or a verifier of one rollup, reaching the L1 through an
//! [`L1Source`] (its JSON-RPC over HTTP, or an L1 in the same process in tests).
//!
//! The node is a set of actors, one per role, each a task with its own state and a typed mailbox
//! (the layout of commonware's `simplex/actors`):
//! - [`blocks`] (sequencer): turns queued transactions into an L2 block every `block_time_ms`
//!   and logs it durably before anyone sees it confirmed;
//! - [`follower`]: reads what the L1 finalized about the rollup (deposits, batches, proposals,
//!   unresolved trees), derives the L2 state from it, checks every proposal, and announces each
//!   read ([`Synced`]) to the planners;
//! - the planners, woken by each [`Synced`]: [`challenger`] (every dispute move the node owes),
//!   [`batcher`] (sequencer: the next batches, pipelined past those in flight), [`proposer`]
//!   (the derived output of every batch that lacks it) and [`rescuer`] (a proposing verifier:
//!   the next batch, when the sequencer leaves a queued item overdue); each hands its
//!   transactions to
//! - [`outbox`], the L1 driver: the only owner of the key's nonces. It sends at consecutive
//!   nonces, follows every transaction to finality, sends a lost one again with the same nonce
//!   and content (so nothing is ever included twice), and never sends a move twice.

use crate::derive::{Derivation, DeriveError, Verdict};
use crate::game::OpenTree;
use crate::l1client::QueueItem;
use crate::l1client::{L1Client, L1Error, L1TxStatus, OutputInfo, RollupInfo, RollupRef};
use crate::l1source::L1Source;
use crate::metrics::RollupMetrics;
use crate::rpc;
use crate::sequencer::{Sequencer, SequencerError};
use basalt_l1::Action;
use basalt_l2::{Config, L2Tx, Optimistic, Profile};
use basalt_types::{Encode, Hash, Keypair};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{broadcast, mpsc, watch};
use tracing::{debug, error, info, info_span, warn, Instrument};

type P = Optimistic;

mod batcher;
mod blocks;
#[cfg(feature = "faults")]
mod censor;
mod challenger;
mod config;
mod follower;
mod outbox;
mod pricing;
mod proposer;
mod queue;
mod rescuer;
mod tasks;
mod zk;

use tasks::Tasks;

#[cfg(feature = "faults")]
pub use censor::margin as censor_margin;
pub use config::{BatcherConfig, NodeConfig, NodeError, Role, EXAMPLE_CONFIG};
pub(crate) use outbox::{Pending, Posting};
pub(crate) use pricing::{L1Prices, Pricing};
pub(crate) use queue::{admit, Queue};
pub use queue::{MAX_PENDING_PER_SENDER, MAX_PENDING_TXS};

/// Bytes a signed transfer takes in a batch, for the batcher's size threshold.
const EST_TX_BYTES: u64 = 72;
/// How long an own L1 transaction the node has never seen may stay unaccounted for.
const LOST_TX_AFTER: Duration = Duration::from_secs(30);

/// What the follower announces after each read of the L1: the finalized height it read at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Synced {
    /// The L1's finalized height at the read.
    pub height: u64,
    /// Whether the rollup was frozen at that height: then nothing more is posted to it.
    pub frozen: bool,
}

/// A proposed output and how it compares with the derived one.
#[derive(Debug, Clone)]
pub(crate) struct CheckedOutput {
    pub info: OutputInfo,
    pub verdict: Verdict,
}

impl CheckedOutput {
    /// Whether its tree had resolved when it was read (its status can no longer change but to
    /// settled).
    pub fn resolved(&self) -> bool {
        matches!(self.info.status.as_str(), "removed" | "upheld" | "settled")
    }
}

/// What the node knows from the L1.
pub(crate) struct L1View {
    pub derivation: Derivation,
    pub rollup: RollupInfo,
    pub batch_heights: Vec<u64>,
    /// Every proposal read, by proposal id, as it stood when last read.
    pub outputs: Vec<CheckedOutput>,
    /// Proposals whose trees had not resolved at the last read.
    pub unresolved: Vec<u64>,
    /// Proposals already reported as not matching the derivation.
    pub reported: HashSet<u64>,
    /// This node's L1 transactions not yet released by the outbox, in nonce order.
    pub in_flight: Vec<Pending>,
    pub last_error: Option<String>,
}

impl L1View {
    /// Whether batch `batch` has settled on L1.
    pub fn settled(&self, batch: u64) -> bool {
        batch < self.rollup.settled
    }

    /// The first proposal of `batch` that matches the derivation, as it stood when read.
    pub fn proposal_for(&self, batch: u64) -> Option<&OutputInfo> {
        self.outputs
            .iter()
            .find(|o| o.info.batch == batch && o.verdict == Verdict::Match)
            .map(|o| &o.info)
    }
}

/// What every rollup node shares between its loops and RPC handlers, whatever its kind.
pub(crate) struct Core<Q: Profile> {
    pub id: u32,
    pub config: Config,
    pub role: Role,
    pub l1_url: String,
    pub seq: Option<Mutex<Sequencer<Q>>>,
    pub queue: Mutex<Queue<Q>>,
    /// What the rollup's prices depend on.
    pub pricing: Pricing,
    /// The L1's next-block fees, as last read.
    pub l1_prices: Mutex<L1Prices>,
    /// The running size of this sequencer's batches, in sixteenths of a transaction (0 before
    /// the first): what a transaction's share of a batch's fixed cost is priced by.
    pub batch_size: std::sync::atomic::AtomicU64,
    /// Where the batches this sequencer planned end, in confirmed transactions.
    pub batched_to: std::sync::atomic::AtomicU64,
    pub blocks: broadcast::Sender<basalt_rpc::l2::L2BlockInfo>,
    /// Why the sequencer stopped making blocks, if it did.
    pub halted: Mutex<Option<String>>,
    pub metrics: RollupMetrics,
    /// Signature checks at the door running at once: half the cores (at least one), so that a
    /// flood of transactions to check leaves the other half to blocks, proofs and the L1.
    pub verifying: tokio::sync::Semaphore,
    /// Whether the L1 has frozen the rollup: the sequencer takes and makes nothing more.
    pub frozen: std::sync::atomic::AtomicBool,
    /// FAULT INJECTION: the L2 key whose transactions this sequencer refuses.
    #[cfg(feature = "faults")]
    pub censor: Option<Q::PublicKey>,
}

impl<Q: Profile> Core<Q> {
    /// A node's core; `seq` for a sequencer, priced by `pricing` from the L1's `l1_prices`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: u32,
        config: Config,
        role: Role,
        l1_url: String,
        seq: Option<Sequencer<Q>>,
        name: &str,
        pricing: Pricing,
        l1_prices: L1Prices,
    ) -> Self {
        let seq = seq.map(|mut s| {
            s.set_fee_model(pricing.model);
            Mutex::new(s)
        });
        Core {
            id,
            config,
            role,
            l1_url,
            seq,
            queue: Mutex::new(Queue::new(pricing.model)),
            pricing,
            l1_prices: Mutex::new(l1_prices),
            batch_size: std::sync::atomic::AtomicU64::new(0),
            batched_to: std::sync::atomic::AtomicU64::new(0),
            blocks: broadcast::channel(256).0,
            halted: Mutex::new(None),
            metrics: RollupMetrics::new(name),
            verifying: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1)),
            ),
            frozen: std::sync::atomic::AtomicBool::new(false),
            #[cfg(feature = "faults")]
            censor: None,
        }
    }

    /// Records whether the L1 read `rollup` frozen, saying so once when it first is.
    pub fn note_frozen(&self, rollup: &RollupInfo) {
        use std::sync::atomic::Ordering;
        if rollup.frozen && !self.frozen.swap(true, Ordering::Relaxed) {
            error!(
                since = rollup.frozen_from,
                "THE ROLLUP IS FROZEN: it settled nothing for {} L1 blocks while it owed something; \
                 it takes no more batches, outputs or proofs, and its users exit on L1 \
                 (`basalt wallet exit`, `basalt wallet refund`)",
                rollup.params.escape_blocks
            );
        }
    }

    /// Whether the L1 has frozen the rollup, as last read.
    pub fn is_frozen(&self) -> bool {
        self.frozen.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// State shared by the loops and the RPC handlers of an optimistic rollup's node.
pub(crate) struct Shared {
    pub core: Core<P>,
    pub view: Mutex<L1View>,
}

impl std::ops::Deref for Shared {
    type Target = Core<P>;
    fn deref(&self) -> &Core<P> {
        &self.core
    }
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
    tasks: Vec<tokio::task::AbortHandle>,
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

/// Starts a rollup node following the L1 node at `cfg.l1_rpc` over JSON-RPC. `key` is the L1
/// key the config names, already read.
pub async fn start(cfg: NodeConfig, key: Option<Keypair>) -> Result<RollupNode, NodeError> {
    cfg.validate()?;
    let client = L1Client::new(&cfg.l1_rpc)?;
    start_with(cfg, key, client).await
}

/// Starts a rollup node on any L1 source: reads the rollup from the L1, replays the sequencer
/// log, catches up with the L1, starts the L2 JSON-RPC server and the actors.
pub async fn start_with<S: L1Source>(
    cfg: NodeConfig,
    key: Option<Keypair>,
    client: L1Client<S>,
) -> Result<RollupNode, NodeError> {
    cfg.validate()?;
    let rollup = client.rollup(&RollupRef::parse(&cfg.rollup)).await?;
    if !matches!(rollup.params.kind.as_str(), "optimistic" | "zk") {
        return Err(NodeError::Config(format!(
            "rollup {} is {}, this node runs optimistic and zk rollups",
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
    if rollup.params.kind == "zk" {
        if cfg.censor.is_some() {
            return Err(NodeError::Config(
                "censor is for optimistic rollups: a ZK sequencer does not censor in this build"
                    .into(),
            ));
        }
        return zk::start(cfg, key, client, rollup).await;
    }
    // Every deposit known now, so the sequencer's log replays.
    let deposits = client
        .all_deposits(rollup.id, rollup.deposits)
        .await?
        .iter()
        .map(|d| d.entry())
        .collect::<Result<Vec<_>, _>>()?;
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
            Some(s)
        }
        Role::Verifier => None,
    };
    let mut derivation = Derivation::new(config, rollup.params.sequencer);
    #[cfg(feature = "faults")]
    if let Some(f) = cfg.fault() {
        warn!(fault = f.name(), "FAULT INJECTION: this node derives, proposes and plays disputes dishonestly (tests and demos only)");
        derivation =
            Derivation::with_fault(config, rollup.params.sequencer, f, (rollup.batches, 0));
    }
    derivation.add_deposits(deposits);
    let name = rollup.params.name.clone();
    #[cfg_attr(not(feature = "faults"), allow(unused_mut))]
    let mut core = Core::new(
        rollup.id,
        config,
        cfg.role,
        client.url().to_string(),
        seq,
        &name,
        Pricing {
            model: rollup.params.fee_model,
            zk_slots: None,
        },
        L1Prices::from(&client.chain_info().await?),
    );
    #[cfg(feature = "faults")]
    if let Some(censored) = cfg.censor() {
        warn!(key = %censored, "FAULT INJECTION: this sequencer censors an L2 key (tests and demos only)");
        core.censor = Some(censored);
        if let Some(seq) = &core.seq {
            censor::hold_first(&mut lock(seq), censored, 0);
        }
    }
    let shared = Arc::new(Shared {
        core,
        view: Mutex::new(L1View {
            derivation,
            rollup: rollup.clone(),
            batch_heights: Vec::new(),
            outputs: Vec::new(),
            reported: HashSet::new(),
            unresolved: Vec::new(),
            in_flight: Vec::new(),
            last_error: None,
        }),
    });
    // Catch up with the L1 before answering anyone, so that the first answers are not stale.
    let follower = follower::Follower::new(shared.clone(), client.clone());
    let caught_up = follower.sync().await?;
    {
        // The batches the L1 holds already end here: what waits for the next one starts there.
        let view = lock(&shared.view);
        let to = view.derivation.txs_in_first(view.rollup.batches);
        shared.note_batched_to(to);
    }
    info!(
        rollup = %name,
        batches = caught_up.batches,
        proposals = caught_up.proposals,
        "derived the rollup from L1"
    );
    let (rpc_addr, server) = serve_rpc(cfg.rpc, shared.clone()).await?;
    let span = info_span!("rollup", name = %name);
    let mut tasks = Tasks::halting(span.clone(), &shared);
    if shared.seq.is_some() {
        let every = Duration::from_millis(cfg.block_time_ms);
        tasks.spawn("block", blocks::run(shared.clone(), every));
    }
    let every = Duration::from_millis(cfg.l1_poll_ms);
    let (synced_tx, synced) = watch::channel(Synced {
        height: caught_up.height,
        frozen: caught_up.frozen,
    });
    tasks.spawn("follower", follower.run(every, synced_tx));
    if shared.seq.is_some() {
        let prices = pricing::follow_l1_prices(shared.clone(), client.clone(), every);
        tasks.spawn("prices", prices);
    }
    if let Some(key) = key {
        let (mailbox, inbox) = outbox::mailbox();
        let out = outbox::Outbox::new(shared.clone(), client.clone(), key);
        tasks.spawn("outbox", out.run(inbox, every));
        if cfg.challenge.unwrap_or(true) {
            let c = challenger::Challenger::new(shared.clone(), client.clone());
            tasks.spawn("challenger", plan_loop(c, synced.clone(), mailbox.clone()));
        }
        if shared.seq.is_some() {
            let b = batcher::Batcher::new(
                shared.clone(),
                client.clone(),
                cfg.batcher.clone(),
                cfg.data_dir.display().to_string(),
            );
            tasks.spawn("batcher", plan_loop(b, synced.clone(), mailbox.clone()));
        }
        if cfg.proposes() && shared.seq.is_none() {
            let r = rescuer::Rescuer::new(shared.clone(), client.clone(), cfg.batcher.max_blob_fee);
            tasks.spawn("rescuer", plan_loop(r, synced.clone(), mailbox.clone()));
        }
        if cfg.proposes() {
            let p = proposer::Proposer::new(shared.clone());
            tasks.spawn("proposer", plan_loop(p, synced.clone(), mailbox));
        }
    }
    span.in_scope(
        || info!(role = ?cfg.role, rpc = %rpc_addr, l1 = %shared.l1_url, "rollup node started"),
    );
    Ok(RollupNode {
        rpc_addr,
        rollup_id: rollup.id,
        name,
        server,
        tasks: tasks.into_handles(),
    })
}

/// Starts the node's L2 JSON-RPC server on `addr`.
async fn serve_rpc<N: rpc::L2Node>(
    addr: SocketAddr,
    shared: Arc<N>,
) -> Result<(SocketAddr, jsonrpsee::server::ServerHandle), NodeError> {
    rpc::serve(addr, shared)
        .await
        .map_err(|source| NodeError::Rpc { addr, source })
}

/// Logs a warning once until a different one comes: a planner that fails every round (the L1
/// down) says so once, not every round.
#[derive(Default)]
pub(crate) struct Quiet(Option<String>);

impl Quiet {
    /// Logs `message` if it differs from the last one logged.
    pub fn warn(&mut self, message: String) {
        if self.0.as_ref() != Some(&message) {
            warn!("{message}");
            self.0 = Some(message);
        }
    }

    /// Forgets the last message: the next failure is logged again.
    pub fn clear(&mut self) {
        self.0 = None;
    }
}

/// An actor that plans L1 transactions after each read of the L1.
pub(crate) trait Planner: Send + 'static {
    /// Its role, for logs.
    const ROLE: &'static str;

    /// Whether it plays on once the rollup is frozen: the L1 takes no more batches, outputs or
    /// proofs then, but open claim trees still resolve and pay their bonds.
    const WHEN_FROZEN: bool = false;

    /// The transactions to send now, in order.
    fn plan(
        &mut self,
    ) -> impl std::future::Future<Output = Result<Vec<(Action, Posting)>, NodeError>> + Send;
}

/// Runs a planner: after each read of the L1, plans its transactions and hands them to the
/// outbox, waiting for the outbox to take them before planning again (so a planner never plans
/// what it already handed over).
pub(crate) async fn plan_loop<T: Planner>(
    mut planner: T,
    mut synced: watch::Receiver<Synced>,
    outbox: outbox::Mailbox,
) {
    let mut quiet = Quiet::default();
    while synced.changed().await.is_ok() {
        // A frozen rollup takes no more batches, outputs or proofs (the follower said so once).
        if synced.borrow_and_update().frozen && !T::WHEN_FROZEN {
            continue;
        }
        match planner.plan().await {
            Ok(txs) if txs.is_empty() => quiet.clear(),
            Ok(txs) => {
                quiet.clear();
                if outbox.send(txs).await.is_err() {
                    return; // the outbox stopped: so is the node
                }
            }
            Err(e) => quiet.warn(format!("{}: {e}", T::ROLE)),
        }
    }
}
