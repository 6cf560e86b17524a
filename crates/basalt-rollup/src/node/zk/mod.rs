//! The node of a ZK rollup: a sequencer (with its batcher and prover) or a verifier.
//!
//! It shares the optimistic node's core (the block actor, the queue, the outbox, the L2 RPC) and
//! differs in what it reads and sends: the follower derives the state with [`ZkDerivation`]
//! (checking every batch's data hash and every settled output), the batcher posts batches of at
//! most the circuit's slot count without signatures, and the prover proves each posted batch in
//! order from the sequencer's signed transactions, in a background worker, and settles it with a
//! `ProveBatch`. There are no proposals and no disputes: a batch's output is final at its proof.

use super::*;
use crate::l1client::QueueItem;
use crate::node::pricing;
use crate::zkderive::ZkDerivation;
use basalt_l2::Zk;

mod batcher;
mod follower;
mod prover;
mod rpc;

pub(crate) use prover::ProverStatus;

/// What a ZK node knows from the L1.
pub(crate) struct ZkView {
    pub derivation: ZkDerivation,
    pub rollup: RollupInfo,
    /// The L1 height each batch was posted at.
    pub batch_heights: Vec<u64>,
    /// The L1 height each settled batch was proven (or reverted) at.
    pub proven_heights: Vec<u64>,
    /// This node's L1 transactions not yet released by the outbox, in nonce order.
    pub in_flight: Vec<Pending>,
    pub last_error: Option<String>,
}

/// State shared by the loops and the RPC handlers of a ZK rollup's node.
pub(crate) struct ZkShared {
    pub core: Core<Zk>,
    pub view: Mutex<ZkView>,
    /// The circuit's slot count: the most transactions a batch holds.
    pub slots: u32,
    /// Where the prover stands (sequencer only).
    pub prover: Mutex<ProverStatus>,
}

impl std::ops::Deref for ZkShared {
    type Target = Core<Zk>;
    fn deref(&self) -> &Core<Zk> {
        &self.core
    }
}

impl outbox::Board for ZkShared {
    const ZK: bool = true;

    fn metrics(&self) -> &RollupMetrics {
        &self.metrics
    }

    fn publish(&self, show: &mut dyn FnMut(u64) -> Vec<Pending>) {
        let mut view = lock(&self.view);
        view.in_flight = show(view.rollup.height);
    }
}

/// Starts the node of ZK rollup `rollup` (read from the L1, its sequencer key already checked).
pub(super) async fn start<S: L1Source>(
    cfg: NodeConfig,
    key: Option<Keypair>,
    client: L1Client<S>,
    rollup: RollupInfo,
) -> Result<RollupNode, NodeError> {
    let Some(zk) = rollup.params.zk.clone() else {
        return Err(NodeError::Config(format!(
            "rollup {} is zk but the L1 reports no ZK parameters",
            rollup.params.name
        )));
    };
    if cfg.fault.is_some() {
        return Err(NodeError::Config(
            "fault injection plays dishonest optimistic parties: a ZK rollup has none".into(),
        ));
    }
    let fee_key = crate::l1client::fee_key(&zk)?;
    let config = Config {
        rollup_id: rollup.id,
        min_fee: rollup.params.min_fee,
    };
    let deposits = client
        .all_deposits(rollup.id, rollup.deposits)
        .await?
        .iter()
        .map(|d| d.zk_entry())
        .collect::<Result<Vec<_>, _>>()?;
    // The prover's keys first: a setup takes a while, and a mismatch must stop the node at once.
    let prover = match cfg.role {
        Role::Sequencer => Some(prover::load_prover(&cfg, &zk).await?),
        Role::Verifier => None,
    };
    let seq = match cfg.role {
        Role::Sequencer => {
            std::fs::create_dir_all(&cfg.data_dir).map_err(|e| {
                NodeError::Config(format!("creating {}: {e}", cfg.data_dir.display()))
            })?;
            let s = Sequencer::<Zk>::open(
                &cfg.data_dir.join("blocks.log"),
                config,
                fee_key,
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
    let mut derivation = ZkDerivation::new(config, fee_key);
    derivation.add_deposits(deposits);
    let name = rollup.params.name.clone();
    let shared = Arc::new(ZkShared {
        core: Core::new(
            rollup.id,
            config,
            cfg.role,
            client.url().to_string(),
            seq,
            &name,
            Pricing {
                model: rollup.params.fee_model,
                zk_slots: Some(zk.slots),
            },
            L1Prices::from(&client.chain_info().await?),
        ),
        view: Mutex::new(ZkView {
            derivation,
            rollup: rollup.clone(),
            batch_heights: Vec::new(),
            proven_heights: Vec::new(),
            in_flight: Vec::new(),
            last_error: None,
        }),
        slots: zk.slots,
        prover: Mutex::new(ProverStatus::default()),
    });
    let follower = follower::ZkFollower::new(shared.clone(), client.clone());
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
        proven = caught_up.settled,
        "derived the ZK rollup from L1"
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
    if let (Some(key), Some(prover)) = (key, prover) {
        let (mailbox, inbox) = outbox::mailbox();
        let out = outbox::Outbox::new(shared.clone(), client.clone(), key);
        tasks.spawn("outbox", out.run(inbox, every));
        let b = batcher::ZkBatcher::new(
            shared.clone(),
            client.clone(),
            cfg.batcher.clone(),
            cfg.data_dir.display().to_string(),
        );
        tasks.spawn("batcher", plan_loop(b, synced.clone(), mailbox.clone()));
        let p = prover::Prover::new(shared.clone(), prover, cfg.data_dir.join("proofs"));
        tasks.spawn("prover", plan_loop(p, synced, mailbox));
    }
    span.in_scope(
        || info!(role = ?cfg.role, rpc = %rpc_addr, l1 = %shared.l1_url, slots = zk.slots, "ZK rollup node started"),
    );
    Ok(RollupNode {
        rpc_addr,
        rollup_id: rollup.id,
        name,
        server,
        tasks: tasks.into_handles(),
    })
}
