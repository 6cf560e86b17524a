//! Starting one validator: store, chain, executor and consensus, on any commonware runtime.

use crate::chain::Chain;
use crate::consensus::application::{run_executor, Application, EpochHook, ProposerFault};
use crate::consensus::block::{to_digest, ChainBlock};
use crate::consensus::engine::{start_validator, Channels, ConsensusStart, Timing};
use crate::consensus::epochs::{Committees, EpochStart};
use crate::mempool::MempoolLimits;
use crate::store::{Store, StoreError};
use basalt_l1::{Genesis, Header, L1State};
use basalt_types::Keypair;
use commonware_consensus::types::Epoch;
use commonware_cryptography::ed25519::PublicKey;
use commonware_cryptography::Signer as _;
use commonware_p2p::{Blocker, Provider, Receiver, Sender};
use commonware_runtime::{Clock, Handle, Metrics, Spawner, Storage};
use std::num::NonZeroU64;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// A running validator.
pub struct Validator {
    /// Its chain, shared with RPC.
    pub chain: Arc<Mutex<Chain>>,
    /// Finalized headers as they are applied.
    pub finalized: broadcast::Sender<Header>,
    /// Its long-running tasks.
    pub handles: Vec<Handle<()>>,
}

impl Validator {
    /// Stops every task of this validator.
    pub fn abort(&self) {
        for h in &self.handles {
            h.abort();
        }
    }
}

/// Options of one validator.
pub struct ValidatorConfig<'a> {
    /// The genesis every validator shares.
    pub genesis: &'a Genesis,
    /// This validator's key.
    pub key: Keypair,
    /// Where its state database lives.
    pub state_path: &'a Path,
    /// Mempool limits.
    pub mempool: MempoolLimits,
    /// Misbehaviour to inject (tests and demos).
    pub fault: ProposerFault,
    /// Threads a peer's block is verified on (1: sequential).
    pub execution_threads: usize,
}

/// The consensus keys of a committee.
pub fn committee_keys(committee: &[basalt_types::PublicKey]) -> Result<Vec<PublicKey>, StoreError> {
    committee
        .iter()
        .map(|k| {
            crate::devnet::consensus_public_key(k).map_err(|_| {
                StoreError::Corrupt(format!("validator key {k} is not a valid ed25519 key"))
            })
        })
        .collect()
}

/// A chain opened from its store, with what consensus needs from genesis.
pub struct OpenedChain {
    /// The chain, at its recovered finalized head.
    pub chain: Chain,
    /// The genesis block every validator starts from.
    pub genesis_block: ChainBlock,
}

/// Opens the state at `state_path`, initializing it from genesis if it is empty.
pub fn open_chain(
    genesis: &Genesis,
    state_path: &Path,
    limits: MempoolLimits,
) -> Result<OpenedChain, StoreError> {
    let (genesis_state, genesis_block) =
        L1State::genesis(genesis).map_err(|e| StoreError::Corrupt(format!("genesis: {e}")))?;
    let store = Store::open(state_path)?;
    let state = store.load_or_init(genesis_state, &genesis_block)?;
    Ok(OpenedChain {
        chain: Chain::new(state, store, limits),
        genesis_block: ChainBlock::new(genesis_block),
    })
}

/// The epoch consensus resumes in, given the finalized head on disk; registers its committee.
///
/// After the last block of epoch `e` the next epoch is `e + 1`, built on that block; otherwise it is
/// the head's own epoch, built on the block that closed the previous one (or genesis).
fn resume_epoch(opened: &OpenedChain, committees: &Committees) -> Result<EpochStart, StoreError> {
    let state = opened.chain.state();
    let (params, head) = (state.params(), state.head().height);
    let (epoch, floor_height) = if params.closes_epoch(head) {
        (params.epoch_of(head) + 1, head)
    } else {
        let epoch = params.epoch_of(head);
        (epoch, (epoch * params.epoch_length).saturating_sub(1))
    };
    let floor = if floor_height == 0 {
        opened.genesis_block.hash()
    } else {
        opened
            .chain
            .store()
            .block(floor_height)?
            .ok_or_else(|| StoreError::Corrupt(format!("finalized block {floor_height} missing")))?
            .hash()
    };
    let epoch = Epoch::new(epoch);
    // The committee only changes in an epoch's last block, so the head's is this epoch's.
    committees.register(epoch, committee_keys(state.committee())?);
    Ok(EpochStart {
        epoch,
        floor: to_digest(floor),
    })
}

/// Starts a validator.
pub async fn launch<E, S, R, P, B>(
    context: E,
    cfg: ValidatorConfig<'_>,
    peer_provider: P,
    blocker: B,
    channels: Channels<S, R>,
) -> Result<Validator, StoreError>
where
    E: Spawner + Clock + Metrics + Storage + rand_core::CryptoRng,
    S: Sender<PublicKey = PublicKey>,
    R: Receiver<PublicKey = PublicKey>,
    P: Provider<PublicKey = PublicKey>,
    B: Blocker<PublicKey = PublicKey> + Sync,
{
    let mut opened = open_chain(cfg.genesis, cfg.state_path, cfg.mempool)?;
    opened.chain.label_metrics(&cfg.key.public());
    opened.chain.set_execution_threads(cfg.execution_threads);
    let signer = crate::devnet::consensus_key(&cfg.key);
    let committees = Committees::new(signer.clone());
    let start = resume_epoch(&opened, &committees)?;
    let (chain, genesis_block) = (Arc::new(Mutex::new(opened.chain)), opened.genesis_block);
    let (next_tx, next_rx) = mpsc::unbounded_channel();
    let epoch_length = NonZeroU64::new(cfg.genesis.params.epoch_length)
        .ok_or_else(|| StoreError::Corrupt("epoch_length is zero".into()))?;
    let (finalized, _) = broadcast::channel(1024);
    let (to_executor, from_marshal) = mpsc::unbounded_channel();
    let app = Application::new(
        chain.clone(),
        cfg.key.public(),
        basalt_l1::MAX_BLOCK_TXS,
        to_executor,
    )
    .with_fault(cfg.fault);
    let executor = {
        let (chain, finalized) = (chain.clone(), finalized.clone());
        let hook = EpochHook {
            committees: committees.clone(),
            next: next_tx,
        };
        context
            .child("executor")
            .spawn(move |_| run_executor(chain, from_marshal, finalized, hook))
    };
    let (txs_out, txs_in) = channels.txs;
    let gossip_out = {
        let chain = chain.clone();
        context
            .child("gossip_out")
            .spawn(move |ctx| crate::consensus::gossip::run_sender(ctx, chain, txs_out))
    };
    let gossip_in = {
        let (chain, blocker) = (chain.clone(), blocker.clone());
        context
            .child("gossip_in")
            .spawn(move |_| crate::consensus::gossip::run_receiver(chain, txs_in, blocker))
    };
    let timing = Timing::for_block_time(Duration::from_millis(cfg.genesis.params.block_time_ms));
    let consensus = ConsensusStart {
        committees,
        epoch_length,
        genesis: genesis_block,
        start,
        next: next_rx,
    };
    let mut handles = start_validator(
        context,
        signer.public_key(),
        app,
        consensus,
        timing,
        peer_provider,
        blocker,
        channels.engine,
    )
    .await;
    handles.extend([executor, gossip_out, gossip_in]);
    Ok(Validator {
        chain,
        finalized,
        handles,
    })
}
