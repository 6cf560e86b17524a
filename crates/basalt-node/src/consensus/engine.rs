//! Wiring of one validator: marshal (ordered finalized blocks, archives, backfill from peers), the
//! `Inline` adapter around [`Application`], and the orchestrator that runs a simplex BFT engine per
//! epoch (see [`super::epochs`]). Generic over the runtime, so the
//! same code runs on tokio in production and on the deterministic simulator in tests.

use super::application::{Application, Scheme};
use super::block::{to_digest, ChainBlock, Digest};
use super::epochs::{Committees, EpochStart, Orchestrator};
use commonware_broadcast::buffered;
use commonware_consensus::marshal::{
    self,
    core::{Actor as Marshal, Mailbox as MarshalMailbox},
    resolver::p2p as backfill,
    standard::{Inline, Standard},
    Start,
};
use commonware_consensus::simplex;
use commonware_consensus::types::{FixedEpocher, ViewDelta};
use commonware_cryptography::certificate::Verifier as _;
use commonware_cryptography::ed25519::PublicKey;
use commonware_cryptography::Digested;
use commonware_p2p::{Blocker, Provider, Receiver, Sender};
use commonware_parallel::Sequential;
use commonware_runtime::buffer::paged::{self, CacheRef};
use commonware_runtime::{Clock, Handle, Metrics, Spawner, Storage};
use commonware_storage::archive::immutable;
use commonware_utils::{NZDuration, NZUsize, NZU64};
use std::num::NonZeroU64;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Namespace of consensus signatures.
pub const CONSENSUS_NAMESPACE: &[u8] = b"basalt-l1-consensus";

/// p2p channel ids.
pub mod channels {
    /// simplex votes.
    pub const VOTES: u64 = 0;
    /// simplex certificates.
    pub const CERTIFICATES: u64 = 1;
    /// simplex certificate fetching.
    pub const RESOLVER: u64 = 2;
    /// proposed blocks (marshal's buffered broadcast).
    pub const BLOCKS: u64 = 3;
    /// finalized-block backfill (marshal's resolver).
    pub const BACKFILL: u64 = 4;
    /// transaction gossip.
    pub const TXS: u64 = 5;

    /// Messages a second each peer may send on `channel`, on every network a validator runs on:
    /// votes and certificates (a few a view from each peer) get more than the bulk channels.
    /// A receiver holds one quota burst from every peer, so these bound its queues too.
    pub fn quota(channel: u64) -> commonware_runtime::Quota {
        use commonware_utils::NZU32;
        match channel {
            VOTES | CERTIFICATES => commonware_runtime::Quota::per_second(NZU32!(2_000)),
            _ => commonware_runtime::Quota::per_second(NZU32!(500)),
        }
    }
}

/// The six p2p channels a validator uses.
pub struct Channels<S, R> {
    /// The five consensus channels.
    pub engine: EngineChannels<S, R>,
    /// Transaction gossip.
    pub txs: (S, R),
}

/// The p2p channels of the consensus engine and marshal.
pub struct EngineChannels<S, R> {
    /// Votes.
    pub votes: (S, R),
    /// Certificates.
    pub certificates: (S, R),
    /// Certificate fetching.
    pub resolver: (S, R),
    /// Proposed blocks.
    pub blocks: (S, R),
    /// Finalized-block backfill.
    pub backfill: (S, R),
}

/// Consensus timing.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// How long to wait for a leader's proposal before voting to skip the view.
    pub leader_timeout: Duration,
    /// How long to wait for a notarization before voting to skip the view.
    pub certification_timeout: Duration,
}

impl Timing {
    /// Timeouts scaled to the block time.
    pub fn for_block_time(block_time: Duration) -> Self {
        let leader = (block_time * 5).max(Duration::from_millis(500));
        Timing {
            leader_timeout: leader,
            certification_timeout: leader * 2,
        }
    }
}

/// Bytes an epoch multiplexer prepends to a consensus message (a varint epoch).
const MUX_HEADER: usize = 10;

/// The largest p2p message a validator sends, for committees of up to `n` validators.
pub fn max_message_size(n: u32) -> u32 {
    commonware_p2p::max_message_size(&[
        simplex::max_payload_size::<Scheme, Digest>(n) + MUX_HEADER,
        super::gossip::MAX_BATCH_BYTES + 4 * super::gossip::MAX_BATCH_TXS + 8,
        marshal::max_payload_size::<Standard<ChainBlock>, Scheme>(n, &()),
    ])
}

fn archive_config<C>(
    prefix: &str,
    name: &str,
    page_cache: &CacheRef,
    codec_config: C,
) -> immutable::Config<C> {
    immutable::Config {
        metadata_partition: format!("{prefix}-{name}-metadata"),
        freezer_table_partition: format!("{prefix}-{name}-freezer-table"),
        freezer_table_initial_size: 65_536,
        freezer_table_resize_frequency: 4,
        freezer_table_resize_chunk_size: 16_384,
        freezer_key_partition: format!("{prefix}-{name}-freezer-key"),
        freezer_key_page_cache: page_cache.clone(),
        freezer_value_partition: format!("{prefix}-{name}-freezer-value"),
        freezer_value_target_size: 1 << 30,
        freezer_value_compression: None,
        ordinal_partition: format!("{prefix}-{name}-ordinal"),
        items_per_section: NZU64!(4096),
        freezer_key_write_buffer: NZUsize!(1 << 20),
        freezer_value_write_buffer: NZUsize!(1 << 20),
        ordinal_write_buffer: NZUsize!(1 << 20),
        replay_buffer: NZUsize!(1 << 20),
        codec_config,
    }
}

/// What consensus starts from: committees, epochs, genesis and the first epoch to run.
pub struct ConsensusStart {
    /// Committees by epoch; the starting epoch's must be registered.
    pub committees: Committees,
    /// Blocks per epoch.
    pub epoch_length: NonZeroU64,
    /// The genesis block.
    pub genesis: ChainBlock,
    /// The epoch to run first.
    pub start: EpochStart,
    /// Later epochs, as the executor applies the block that closes each one.
    pub next: mpsc::UnboundedReceiver<EpochStart>,
}

/// Starts one validator's consensus stack; returns the handles of its long-running tasks.
#[allow(clippy::too_many_arguments)]
pub async fn start_validator<E, S, R, P, B>(
    context: E,
    me: PublicKey,
    application: Application,
    consensus: ConsensusStart,
    timing: Timing,
    peer_provider: P,
    blocker: B,
    ch: EngineChannels<S, R>,
) -> Vec<Handle<()>>
where
    E: Spawner + Clock + Metrics + Storage + rand_core::CryptoRng,
    S: Sender<PublicKey = PublicKey>,
    R: Receiver<PublicKey = PublicKey>,
    P: Provider<PublicKey = PublicKey>,
    B: Blocker<PublicKey = PublicKey> + Sync,
{
    let ConsensusStart {
        committees,
        epoch_length,
        genesis,
        start,
        next,
    } = consensus;
    let page_cache = CacheRef::new(paged::page_size(4096), NZUsize!(1024));
    let genesis_digest = to_digest(genesis.hash());
    let prefix = format!("basalt-{me}");
    let epocher = FixedEpocher::new(epoch_length);
    let mut handles = Vec::new();

    let resolver = backfill::init(
        context.child("backfill"),
        backfill::Config {
            public_key: me.clone(),
            peer_provider: peer_provider.clone(),
            blocker: blocker.clone(),
            mailbox_size: NZUsize!(1024),
            fetch_timeout: NZDuration!(Duration::from_secs(2)),
            fetch_retry_delay: Duration::from_millis(100),
            priority_requests: false,
            priority_responses: false,
        },
        ch.backfill,
    );

    let (buffer_engine, buffer): (_, buffered::Mailbox<PublicKey, ChainBlock>) =
        buffered::Engine::new(
            context.child("buffer"),
            buffered::Config {
                public_key: me.clone(),
                mailbox_size: NZUsize!(1024),
                deque_size: 16,
                priority: false,
                codec_config: (),
                peer_provider,
                strategy: Sequential,
            },
        );
    handles.push(buffer_engine.start(ch.blocks));

    // Finalizations of every epoch are decoded with the largest committee any epoch may have.
    let finalizations: immutable::Archive<E, Digest, simplex::types::Finalization<Scheme, Digest>> =
        immutable::Archive::init(
            context.child("finalizations"),
            archive_config(
                &prefix,
                "finalizations",
                &page_cache,
                Scheme::certificate_codec_config_unbounded(),
            ),
        )
        .await
        .expect("open finalizations archive");
    let blocks: immutable::Archive<E, Digest, Arc<ChainBlock>> = immutable::Archive::init(
        context.child("blocks"),
        archive_config(&prefix, "blocks", &page_cache, ()),
    )
    .await
    .expect("open blocks archive");

    let (actor, marshal, _floor): (_, MarshalMailbox<Scheme, Standard<ChainBlock>>, _) =
        Marshal::init(
            context.child("marshal"),
            finalizations,
            blocks,
            marshal::Config {
                provider: committees.clone(),
                epocher: epocher.clone(),
                start: Start::Genesis(Digested::precomputed(genesis, genesis_digest)),
                partition_prefix: format!("{prefix}-marshal"),
                mailbox_size: NZUsize!(1024),
                view_retention: ViewDelta::new(10),
                prunable_items_per_section: NZU64!(4096),
                page_cache: page_cache.clone(),
                replay_buffer: NZUsize!(1 << 20),
                key_write_buffer: NZUsize!(1 << 20),
                value_write_buffer: NZUsize!(1 << 20),
                block_codec_config: (),
                max_repair: NZUsize!(16),
                max_pending_acks: NZUsize!(16),
                strategy: Sequential,
            },
        )
        .await;
    handles.push(actor.start(application.clone(), buffer, resolver));

    let wrapper = Inline::new(
        context.child("application"),
        application,
        marshal.clone(),
        epocher.clone(),
    );
    let orchestrator = Orchestrator {
        committees,
        wrapper,
        marshal,
        blocker,
        timing,
        prefix,
        page_cache,
        epocher,
        name: crate::metrics::validator_name(me.as_ref()),
    };
    handles.push(context.child("orchestrator").spawn(move |ctx| {
        orchestrator.run(ctx, ch.votes, ch.certificates, ch.resolver, start, next)
    }));
    handles
}
