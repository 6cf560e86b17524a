//! The consensus application: proposes and verifies L1 blocks through [`Chain`], and applies finalized
//! blocks in height order as marshal delivers them.

use super::block::{from_digest, ChainBlock, Digest};
use super::epochs::{Committees, EpochStart};
use crate::chain::{Chain, ChainError};
use basalt_l1::{verify_all, Header, SignedTransaction};
use basalt_types::PublicKey;
use commonware_actor::Feedback;
use commonware_consensus::marshal::{ancestry::Ancestry, Update};
use commonware_consensus::simplex::{scheme::ed25519, types::Context};
use commonware_consensus::types::Epoch;
use commonware_consensus::Reporter;
use commonware_cryptography::{Digested, Digestible};
use commonware_runtime::{Clock, Metrics, Spawner};
use commonware_utils::acknowledgement::Exact;
use commonware_utils::Acknowledgement as _;
use futures::StreamExt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};
use tokio::sync::{broadcast, mpsc};
use tracing::{debug, error, info, warn};

/// The simplex signing scheme of the L1: ed25519, one equal vote per committee member.
pub type Scheme = ed25519::Scheme;
/// What simplex passes to propose and verify.
pub type ConsensusContext = Context<Digest, commonware_cryptography::ed25519::PublicKey>;

/// How far ahead of a validator's clock a block timestamp may be.
pub const MAX_CLOCK_DRIFT: Duration = Duration::from_secs(2);

/// Converts a consensus public key to a Basalt account key.
pub fn account_key(pk: &commonware_cryptography::ed25519::PublicKey) -> PublicKey {
    let bytes: &[u8] = pk.as_ref();
    PublicKey(bytes.try_into().expect("ed25519 public keys are 32 bytes"))
}

/// Deliberate misbehaviour of a proposer, for tests and demonstrations of Byzantine validators.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ProposerFault {
    /// Honest.
    #[default]
    None,
    /// Proposes blocks whose header claims a state root it did not compute.
    CorruptStateRoot,
    /// Puts these transactions at the head of every block it proposes (those that still apply),
    /// without gossip or admission: a leader pushing crafted signatures straight into blocks.
    IncludeFirst(Arc<Vec<SignedTransaction>>),
}

/// The application handle given to marshal's `Inline` adapter.
#[derive(Clone)]
pub struct Application {
    chain: Arc<Mutex<Chain>>,
    me: PublicKey,
    max_txs: usize,
    block_time: Duration,
    finalized: mpsc::UnboundedSender<(Digested<ChainBlock>, Exact)>,
    fault: ProposerFault,
}

impl Application {
    /// An application for validator `me`; finalized blocks go to `finalized` for the executor.
    pub fn new(
        chain: Arc<Mutex<Chain>>,
        me: PublicKey,
        max_txs: usize,
        finalized: mpsc::UnboundedSender<(Digested<ChainBlock>, Exact)>,
    ) -> Self {
        let block_time = {
            let c = crate::chain::lock(&chain);
            Duration::from_millis(c.state().params().block_time_ms)
        };
        Application {
            chain,
            me,
            max_txs,
            block_time,
            finalized,
            fault: ProposerFault::None,
        }
    }

    /// Makes this validator misbehave when it proposes (tests and demos only).
    pub fn with_fault(mut self, fault: ProposerFault) -> Self {
        self.fault = fault;
        self
    }

    /// Verifies every block of `ancestry` this node has not executed yet, oldest first, so the newest
    /// has a known parent state. Returns false if one is invalid or the ancestry ends early.
    async fn catch_up(
        &self,
        first: Digested<ChainBlock>,
        ancestry: &mut impl Ancestry<ChainBlock>,
    ) -> bool {
        let mut missing = Vec::new();
        let mut next = Some(first);
        while let Some(b) = next {
            {
                let chain = crate::chain::lock(&self.chain);
                if chain.known_header(&b.inner().hash()).is_some()
                    || b.inner().block().header.height <= chain.state().head().height
                {
                    break;
                }
            }
            missing.push(b);
            next = ancestry.next().await;
        }
        let mut chain = crate::chain::lock(&self.chain);
        for b in missing.into_iter().rev() {
            if let Err(e) = chain.verify(b.inner().block()) {
                warn!(height = b.inner().block().header.height, error = %e, "ancestor failed verification");
                return false;
            }
        }
        true
    }
}

fn now_ms(context: &impl Clock) -> u64 {
    context
        .current()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl<E: Clock + Spawner + Metrics> commonware_consensus::Application<E> for Application {
    type SigningScheme = Scheme;
    type Context = ConsensusContext;
    type Block = ChainBlock;
    type Input = ();

    async fn propose(
        &mut self,
        (runtime, context): (E, ConsensusContext),
        mut ancestry: impl Ancestry<ChainBlock>,
        _: (),
    ) -> Option<Digested<ChainBlock>> {
        let parent = ancestry.next().await?;
        let parent_hash = parent.inner().hash();
        // Pace the chain: simplex would otherwise propose as fast as votes travel.
        let due = parent.inner().block().header.timestamp_ms + self.block_time.as_millis() as u64;
        let now = now_ms(&runtime);
        if due > now {
            runtime.sleep(Duration::from_millis(due - now)).await;
        }
        if !self.catch_up(parent, &mut ancestry).await {
            return None;
        }
        let mut block = {
            let mut chain = crate::chain::lock(&self.chain);
            let first = match &self.fault {
                ProposerFault::IncludeFirst(txs) => verify_all(txs.to_vec()).unwrap_or_default(),
                _ => Vec::new(),
            };
            match chain.propose_with(parent_hash, now_ms(&runtime), self.me, self.max_txs, &first) {
                Ok(b) => b,
                Err(e) => {
                    warn!(view = context.round.view().get(), error = %e, "could not propose");
                    return None;
                }
            }
        };
        if self.fault == ProposerFault::CorruptStateRoot {
            block.header.state_root =
                basalt_types::hash_parts("basalt/fault", &[&block.header.state_root.0]);
        }
        debug!(
            height = block.header.height,
            txs = block.txs.len(),
            "proposed"
        );
        let block = ChainBlock::new(block);
        let digest = block.digest();
        Some(Digested::precomputed(block, digest))
    }

    async fn verify(
        &mut self,
        (runtime, context): (E, ConsensusContext),
        mut ancestry: impl Ancestry<ChainBlock>,
    ) -> bool {
        let Some(candidate) = ancestry.next().await else {
            return false;
        };
        let header = candidate.inner().block().header.clone();
        if header.proposer != account_key(&context.leader) {
            warn!(
                height = header.height,
                "block proposer is not the round leader"
            );
            return false;
        }
        if header.timestamp_ms > now_ms(&runtime) + MAX_CLOCK_DRIFT.as_millis() as u64 {
            warn!(
                height = header.height,
                "block timestamp is too far in the future"
            );
            return false;
        }
        if let Some(parent) = ancestry.next().await {
            if !self.catch_up(parent, &mut ancestry).await {
                return false;
            }
        }
        let mut chain = crate::chain::lock(&self.chain);
        match chain.verify(candidate.inner().block()) {
            Ok(()) => true,
            Err(e) => {
                warn!(height = header.height, error = %e, "rejected block");
                false
            }
        }
    }
}

impl Reporter for Application {
    type Activity = Update<ChainBlock>;

    fn report(&mut self, update: Update<ChainBlock>) -> Feedback {
        match update {
            Update::Tip(..) => Feedback::Ok,
            Update::Block(block, ack) => match self.finalized.send((block, ack)) {
                Ok(()) => Feedback::Ok,
                Err(_) => Feedback::Closed,
            },
        }
    }
}

/// Logs each finalized header of one validator at info: a process running several validators
/// calls it for one of them, so each block is logged once.
pub async fn log_finalized(mut headers: broadcast::Receiver<Header>) {
    loop {
        match headers.recv().await {
            Ok(h) => info!(
                height = h.height,
                hash = %h.hash(),
                gas = h.gas_used,
                blob_bytes = h.blob_bytes,
                "finalized"
            ),
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                info!(
                    missed,
                    "finalized blocks not logged (the logger fell behind)"
                )
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Where the executor reports the blocks that close an epoch.
pub struct EpochHook {
    /// Committees by epoch, shared with marshal and the orchestrator.
    pub committees: Committees,
    /// Where the next epoch's start goes.
    pub next: mpsc::UnboundedSender<EpochStart>,
}

/// Applies finalized blocks in order, durably, then acknowledges them to marshal and announces them.
/// After the last block of an epoch it registers the next committee and starts the next epoch.
/// A finalized block this node cannot apply is a safety failure: the executor stops without
/// acknowledging, which halts this node rather than letting it diverge.
pub async fn run_executor(
    chain: Arc<Mutex<Chain>>,
    mut finalized: mpsc::UnboundedReceiver<(Digested<ChainBlock>, Exact)>,
    announce: broadcast::Sender<Header>,
    epochs: EpochHook,
) {
    while let Some((block, ack)) = finalized.recv().await {
        let result = {
            let mut c = crate::chain::lock(&chain);
            c.finalize(block.inner().block()).map(|head| {
                let params = c.state().params();
                let closes = params.closes_epoch(head.height);
                let next =
                    (closes && head.height == block.inner().block().header.height).then(|| {
                        (
                            params.epoch_of(head.height) + 1,
                            c.state().committee().to_vec(),
                        )
                    });
                (head, next)
            })
        };
        match result {
            Ok((head, next_epoch)) => {
                if let Some((epoch, committee)) = next_epoch {
                    match crate::validator::committee_keys(&committee) {
                        Ok(keys) => {
                            let epoch = Epoch::new(epoch);
                            epochs.committees.register(epoch, keys);
                            let _ = epochs.next.send(EpochStart {
                                epoch,
                                floor: block.digest(),
                            });
                        }
                        Err(e) => {
                            error!(error = %e, "the next committee has an unusable key; stopping this node");
                            return;
                        }
                    }
                }
                ack.acknowledge();
                if head.height == block.inner().block().header.height && head.height > 0 {
                    // Per validator, so at debug: a process logs its chain once ([`log_finalized`]).
                    debug!(
                        height = head.height,
                        txs = block.inner().block().txs.len(),
                        "finalized"
                    );
                    let _ = announce.send(head);
                }
            }
            Err(ChainError::Store(e)) => {
                error!(error = %e, "storage failed while finalizing; stopping this node");
                return;
            }
            Err(e) => {
                error!(height = block.inner().block().header.height, hash = %from_digest(&block.digest()), error = %e,
                    "cannot apply a finalized block; stopping this node");
                return;
            }
        }
    }
}
