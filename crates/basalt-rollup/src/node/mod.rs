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
use crate::game::{dispute_actions, Fault, OpenTree};
use crate::l1client::{L1Client, L1Error, L1TxStatus, OutputInfo, RollupInfo, RollupRef};
use crate::metrics::RollupMetrics;
use crate::sequencer::{Sequencer, SequencerError};
use crate::{plan_batch, rpc};
use basalt_l1::{blob_hash, Action};
use basalt_l2::{Config, L2Tx, Optimistic, TxFailure};
use basalt_types::{Encode, Hash, Keypair};
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

mod config;
mod driver;

pub use config::{BatcherConfig, NodeConfig, NodeError, Role, EXAMPLE_CONFIG};
use driver::Driver;

/// Most transactions waiting for the next block; more are refused until it is made.
pub const MAX_PENDING_TXS: usize = 65_536;
/// Refused transactions remembered for `l2_getTransaction`.
const REMEMBERED_REFUSALS: usize = 100_000;
/// Bytes a signed transfer takes in a batch, for the batcher's size threshold.
const EST_TX_BYTES: u64 = 72;
/// How long an own L1 transaction the node has never seen may stay unaccounted for.
const LOST_TX_AFTER: Duration = Duration::from_secs(30);

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
    /// Dispute moves sent just before it at the nonces below its own, in order: final when it is.
    pub earlier: Vec<Sent>,
}

/// One transaction of a group sent at consecutive nonces.
#[derive(Debug, Clone)]
pub(crate) struct Sent {
    pub hash: Hash,
    pub nonce: u64,
    pub action: Action,
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
    pub in_flight: Option<InFlight>,
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
            unresolved: Vec::new(),
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
        failed_moves: HashSet::new(),
    };
    // Catch up with the L1 before answering anyone, so that the first answers are not stale.
    let caught_up = driver.sync().await?;
    info!(
        rollup = %name,
        batches = caught_up.batches,
        proposals = caught_up.proposals,
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
