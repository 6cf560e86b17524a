//! Epochs: the committee of every epoch, and the orchestrator that runs one simplex engine per epoch.
//!
//! The L1 state machine picks the next committee in the last block of each epoch. Once that block is
//! finalized and applied, the executor registers the new committee here and hands the orchestrator an
//! [`EpochStart`]; the orchestrator stops the old engine and starts a new one whose floor is that
//! block. Votes, certificates and certificate requests are multiplexed by epoch on their p2p
//! channels, so engines of different epochs never read each other's messages. A node that hears
//! traffic from a later epoch than its own asks marshal to fetch the finalization that closes its
//! current epoch from that peer, which is how a node that was down catches up across epochs.

use super::application::Scheme;
use super::block::{ChainBlock, Digest};
use super::engine::{Timing, CONSENSUS_NAMESPACE};
use super::tally::VoteTally;
use crate::metrics::{validator_name, VoteMetrics};
use commonware_consensus::marshal::core::Mailbox as MarshalMailbox;
use commonware_consensus::marshal::standard::{Inline, Standard};
use commonware_consensus::simplex::{
    self, elector::RoundRobin, Floor, ForwardPolicy, SkipBudget, SkipPolicy,
};
use commonware_consensus::types::{Epoch, Epocher as _, FixedEpocher, ViewDelta};
use commonware_cryptography::certificate::{Provider, Scheme as _, Scoped};
use commonware_cryptography::ed25519::{PrivateKey, PublicKey};
use commonware_cryptography::Sha256;
use commonware_macros::select;
use commonware_p2p::utils::mux::{Builder as _, MuxHandle, Muxer};
use commonware_p2p::{Blocker, Receiver, Sender};
use commonware_parallel::Sequential;
use commonware_runtime::buffer::paged::CacheRef;
use commonware_runtime::{Clock, Handle, Metrics, Spawner, Storage};
use commonware_utils::ordered::Set;
use commonware_utils::vec::NonEmptyVec;
use commonware_utils::{NZDuration, NZUsize};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

/// Epochs whose committees are kept after a newer one is registered (for late certificates).
const KEEP_EPOCHS: u64 = 2;

/// One epoch's scheme, and whether this node signs in it.
type Member = (Arc<Scheme>, bool);

/// The consensus committee of every known epoch, as marshal's certificate provider.
#[derive(Clone)]
pub struct Committees {
    me: PrivateKey,
    by_epoch: Arc<Mutex<BTreeMap<Epoch, Member>>>,
}

impl Committees {
    /// An empty set of committees for the validator holding `me`.
    pub fn new(me: PrivateKey) -> Self {
        Committees {
            me,
            by_epoch: Arc::default(),
        }
    }

    /// Records the committee of `epoch`; this node signs in it if its key is a member.
    pub fn register(&self, epoch: Epoch, committee: Vec<PublicKey>) {
        let members = Set::from_iter_dedup(committee);
        let (scheme, signer) =
            match Scheme::signer(CONSENSUS_NAMESPACE, members.clone(), self.me.clone()) {
                Some(s) => (s, true),
                None => (Scheme::verifier(CONSENSUS_NAMESPACE, members), false),
            };
        let mut map = self.by_epoch.lock().unwrap_or_else(|p| p.into_inner());
        map.insert(epoch, (Arc::new(scheme), signer));
        let newest = *map.keys().next_back().expect("just inserted");
        map.retain(|e, _| e.get() + KEEP_EPOCHS >= newest.get());
    }

    /// The scheme of `epoch`, and whether this node signs in it.
    fn get(&self, epoch: Epoch) -> Option<Member> {
        let map = self.by_epoch.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&epoch).cloned()
    }
}

impl Provider for Committees {
    type Scope = Epoch;
    type Scheme = Scheme;

    fn scoped(&self, epoch: Epoch) -> Option<Scoped<Scheme>> {
        self.get(epoch).map(|(scheme, signer)| {
            if signer {
                Scoped::scheme(scheme)
            } else {
                Scoped::verifier(scheme)
            }
        })
    }
}

/// Where consensus of one epoch starts: its number and the finalized block it builds on (the last
/// block of the previous epoch, or genesis).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochStart {
    /// The epoch.
    pub epoch: Epoch,
    /// Digest of the block every proposal of the epoch descends from.
    pub floor: Digest,
}

/// The marshal adapter every epoch's engine proposes, verifies and reports through.
pub type Wrapper<E> = Inline<E, Scheme, super::application::Application, ChainBlock, FixedEpocher>;

/// What the orchestrator needs to build an engine for any epoch.
pub struct Orchestrator<E: Spawner + Clock + Metrics, B> {
    /// Committees by epoch.
    pub committees: Committees,
    /// The marshal adapter.
    pub wrapper: Wrapper<E>,
    /// Marshal, to fetch the finalization closing an epoch this node missed.
    pub marshal: MarshalMailbox<Scheme, Standard<ChainBlock>>,
    /// Blocks peers that misbehave in consensus.
    pub blocker: B,
    /// Consensus timeouts.
    pub timing: Timing,
    /// Prefix of the storage partitions of the engines.
    pub prefix: String,
    /// Page cache shared with the engines' journals.
    pub page_cache: CacheRef,
    /// Heights of each epoch.
    pub epocher: FixedEpocher,
    /// This validator's name in metrics ([`validator_name`]).
    pub name: String,
}

/// The epoch-multiplexed consensus channels.
struct MuxedChannels<S: Sender> {
    votes: MuxHandle<S>,
    certificates: MuxHandle<S>,
    resolver: MuxHandle<S>,
}

impl<E, B> Orchestrator<E, B>
where
    E: Spawner + Clock + Metrics + Storage + rand_core::CryptoRng,
    B: Blocker<PublicKey = PublicKey> + Sync,
{
    /// Runs epoch after epoch, starting at `start`, switching whenever `next` delivers a later epoch.
    /// Engines and multiplexers are children of `context`, so aborting this task stops them all.
    pub async fn run<S, R>(
        self,
        context: E,
        votes: (S, R),
        certificates: (S, R),
        resolver: (S, R),
        start: EpochStart,
        mut next: mpsc::UnboundedReceiver<EpochStart>,
    ) where
        S: Sender<PublicKey = PublicKey>,
        R: Receiver<PublicKey = PublicKey>,
    {
        let (vote_mux, vote_handle, mut vote_backup) =
            Muxer::builder(context.child("vote_mux"), votes.0, votes.1)
                .with_backup()
                .build();
        let (cert_mux, cert_handle, mut cert_backup) =
            Muxer::builder(context.child("cert_mux"), certificates.0, certificates.1)
                .with_backup()
                .build();
        let (resolver_mux, resolver_handle) =
            Muxer::new(context.child("resolver_mux"), resolver.0, resolver.1);
        let _muxers = [vote_mux.start(), cert_mux.start(), resolver_mux.start()];
        let mut channels = MuxedChannels {
            votes: vote_handle,
            certificates: cert_handle,
            resolver: resolver_handle,
        };

        let Some(mut active) = self.enter(&context, start, &mut channels).await else {
            return;
        };
        loop {
            select! {
                started = next.recv() => {
                    let Some(start) = started else { return };
                    if start.epoch <= active.0 {
                        continue;
                    }
                    active.1.abort();
                    let Some(entered) = self.enter(&context, start, &mut channels).await else {
                        return;
                    };
                    active = entered;
                },
                heard = vote_backup.recv() => {
                    let Some((epoch, (from, _))) = heard else { return };
                    self.heard_from_epoch(active.0, Epoch::new(epoch), from);
                },
                heard = cert_backup.recv() => {
                    let Some((epoch, (from, _))) = heard else { return };
                    self.heard_from_epoch(active.0, Epoch::new(epoch), from);
                },
            }
        }
    }

    /// A peer spoke in an epoch we have no engine for; if it is ahead, fetch our epoch's last block
    /// from it, which lets the executor move us to the next epoch.
    fn heard_from_epoch(&self, ours: Epoch, theirs: Epoch, from: PublicKey) {
        if theirs <= ours {
            return;
        }
        let Some(boundary) = self.epocher.last(ours) else {
            return;
        };
        debug!(%ours, %theirs, %boundary, "peer is in a later epoch; fetching our epoch's last block");
        self.marshal
            .hint_finalized(boundary, NonEmptyVec::new(from));
    }

    /// Starts the engine of one epoch on its subchannels.
    async fn enter<S: Sender<PublicKey = PublicKey>>(
        &self,
        context: &E,
        start: EpochStart,
        channels: &mut MuxedChannels<S>,
    ) -> Option<(Epoch, Handle<()>)> {
        // A node outside the committee runs a verify-only engine: it follows the epoch without voting.
        let Some((scheme, member)) = self.committees.get(start.epoch) else {
            warn!(epoch = %start.epoch, "no committee known for epoch; consensus stops here");
            return None;
        };
        let timing = self.timing;
        let signers: Vec<String> = scheme
            .participants()
            .iter()
            .map(|k| validator_name(k.as_ref()))
            .collect();
        let engine = simplex::Engine::new(
            context
                .child("simplex")
                .with_attribute("epoch", start.epoch),
            simplex::Config {
                scheme: scheme.as_ref().clone(),
                elector: RoundRobin::<Sha256>::default(),
                blocker: self.blocker.clone(),
                automaton: self.wrapper.clone(),
                relay: self.wrapper.clone(),
                reporter: VoteTally::new(
                    self.wrapper.clone(),
                    VoteMetrics::new(&self.name, &signers),
                ),
                strategy: Sequential,
                partition: format!("{}-simplex-{}", self.prefix, start.epoch.get()),
                mailbox_size: NZUsize!(1024),
                epoch: start.epoch,
                floor: Floor::Genesis(start.floor),
                replay_buffer: NZUsize!(1 << 20),
                write_buffer: NZUsize!(1 << 20),
                page_cache: self.page_cache.clone(),
                leader_timeout: timing.leader_timeout,
                certification_timeout: timing.certification_timeout,
                timeout_retry: timing.certification_timeout * 2,
                view_retention: ViewDelta::new(10),
                skip: SkipPolicy::Enabled {
                    timeout: timing.certification_timeout * 4,
                    budget: SkipBudget::Participants,
                },
                fetch_timeout: NZDuration!(Duration::from_secs(1)),
                fetch_retry_delay: Duration::from_millis(100),
                forward: ForwardPolicy::Disabled,
                track_historical_votes: false,
            },
        );
        let sub = start.epoch.get();
        let votes = channels.votes.register(sub).await.ok()?;
        let certificates = channels.certificates.register(sub).await.ok()?;
        let resolver = channels.resolver.register(sub).await.ok()?;
        let handle = engine.start(votes, certificates, resolver);
        info!(
            epoch = %start.epoch,
            member,
            "entered epoch"
        );
        Some((start.epoch, handle))
    }
}
