//! The L2 JSON-RPC API of a rollup node (HTTP and WebSocket on one port):
//! [`basalt_rpc::L2ApiServer`] and [`basalt_rpc::L2SubscriptionsServer`] over a node of either
//! kind, documented in `docs/rpc.md`. Every parameter is untrusted: it is parsed into its typed
//! form, sizes are bounded, and a refusal is a JSON-RPC error that says why and changes nothing.

use crate::node::{lock, Core, L1View, Posting, Role, Shared};
use crate::L2Block;
use basalt_l2::{L2State, L2Tx, Profile, MAX_L2_TX_BYTES};
use basalt_rpc::l2::*;
use basalt_rpc::WithdrawalRef;
use basalt_rpc::{AccountRef, BlockNumber, HexBytes, L2ApiServer, L2SubscriptionsServer};
use basalt_types::{Decode, Encode, Hash};
use jsonrpsee::core::{RpcResult, SubscriptionResult};
use jsonrpsee::server::middleware::rpc::RpcServiceBuilder;
use jsonrpsee::server::{BatchRequestConfig, Server, ServerConfig, ServerHandle};
use jsonrpsee::types::ErrorObjectOwned;
use jsonrpsee::{PendingSubscriptionSink, RpcModule, SubscriptionMessage};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// Largest request body: a batch of a few thousand transactions in hex.
pub const MAX_REQUEST_BYTES: u32 = 4 * 1024 * 1024;
/// Largest response body.
pub const MAX_RESPONSE_BYTES: u32 = 16 * 1024 * 1024;
/// Most calls in one JSON-RPC batch request.
pub const MAX_BATCH_CALLS: u32 = 10_000;
/// Most concurrent connections.
pub const MAX_CONNECTIONS: u32 = 256;
/// How long `l2_sendTransaction` with `wait` waits for the next block.
const WAIT_FOR_BLOCK: Duration = Duration::from_secs(10);

pub(crate) use basalt_rpc::{error as err, invalid};
pub use basalt_rpc::{INVALID_PARAMS, NOT_FOUND, TX_REJECTED, UNSUPPORTED};

/// A transaction as the API shows it.
pub fn tx_info<P: Profile>(tx: &L2Tx<P>) -> L2TxInfo {
    let kind = match tx {
        L2Tx::Deposit { index } => L2TxKind::Deposit { index: *index },
        L2Tx::Transfer {
            from,
            to,
            amount,
            fee,
            nonce,
            ..
        } => L2TxKind::Transfer {
            from: *from,
            to: *to,
            amount: *amount,
            fee: *fee,
            nonce: *nonce,
        },
        L2Tx::Withdraw {
            from,
            recipient,
            amount,
            fee,
            nonce,
            ..
        } => L2TxKind::Withdraw {
            from: *from,
            recipient: *recipient,
            amount: *amount,
            fee: *fee,
            nonce: *nonce,
        },
    };
    L2TxInfo {
        hash: tx.hash(),
        tx: kind,
    }
}

/// A block as the API shows it, with its transactions.
pub fn block_info<P: Profile>(b: &L2Block<P>) -> L2BlockInfo {
    L2BlockInfo {
        number: b.number,
        timestamp_ms: b.timestamp_ms,
        output: HexBytes(b.output.to_bytes()),
        transactions: b.txs.iter().map(tx_info).collect(),
    }
}

/// The status of a transaction with sequence number `sequence`, from what the L1 shows.
fn finality(view: &L1View, sequence: u64, out: &mut L2TxStatus) -> L2TxState {
    if let Some(batch) = view.derivation.batch_of(sequence) {
        out.batch = Some(batch);
        out.l1_height = view.batch_heights.get(batch as usize).copied();
        if let Some(o) = view.proposal_for(batch) {
            out.settles_by = Some(o.bound());
        }
        return if view.settled(batch) {
            L2TxState::Settled
        } else {
            L2TxState::L1Final
        };
    }
    in_flight_finality(&view.in_flight, sequence, out)
}

/// `posted` if one of this node's batches in flight holds transaction `sequence` and is in an L1
/// block (its height in `out`), else `soft`.
pub(crate) fn in_flight_finality(
    in_flight: &[crate::node::Pending],
    sequence: u64,
    out: &mut L2TxStatus,
) -> L2TxState {
    for f in in_flight {
        if let Posting::Batch { from, to, .. } = f.what {
            if (from..to).contains(&sequence) && !f.failed {
                if let Some(h) = f.included_at {
                    out.l1_height = Some(h);
                    return L2TxState::Posted;
                }
            }
        }
    }
    L2TxState::Soft
}

fn parse_tx<P: Profile>(bytes: &[u8]) -> Result<L2Tx<P>, ErrorObjectOwned> {
    if bytes.len() > MAX_L2_TX_BYTES {
        return Err(invalid(format!(
            "transaction longer than {MAX_L2_TX_BYTES} bytes"
        )));
    }
    let tx = L2Tx::<P>::decode_untrusted(bytes)
        .map_err(|e| invalid(format!("undecodable L2 transaction: {e}")))?;
    if matches!(tx, L2Tx::Deposit { .. }) {
        return Err(invalid(
            "deposits come from the L1 queue: use an L1 Deposit (`basalt wallet deposit`)",
        ));
    }
    Ok(tx)
}

/// Status of a transaction: pending, soft, posted, l1_final, proven, settled or failed.
fn tx_status<N: L2Node>(shared: &N, hash: &Hash) -> L2TxStatus {
    let mut out = L2TxStatus::new(*hash, L2TxState::Unknown);
    let position = shared.seq.as_ref().and_then(|s| lock(s).position(hash));
    if let Some(p) = position {
        out.block = Some(p.block);
        out.sequence = Some(p.sequence);
        out.withdrawal_index = p.withdrawal;
        let status = shared.finality(p.sequence, &mut out);
        status_or_failure(&mut out, status, p.failure);
        return out;
    }
    if let Some(t) = shared.derived_tx(hash) {
        out.sequence = Some(t.sequence);
        out.withdrawal_index = t.withdrawal;
        let status = shared.finality(t.sequence, &mut out);
        status_or_failure(&mut out, status, t.failure);
        return out;
    }
    let q = lock(&shared.queue);
    if let Some(why) = q.refused.get(hash) {
        out.status = L2TxState::Failed;
        out.reason = Some(why.to_string());
    } else if q.hashes.contains(hash) {
        out.status = L2TxState::Pending;
    }
    out
}

/// Sets `status`, or `failed` with the reason for a transaction confirmed as a no-op (a forced
/// one, whose queue place is consumed whatever it does); its finality stays in the other fields.
fn status_or_failure(
    out: &mut L2TxStatus,
    status: L2TxState,
    failure: Option<basalt_l2::TxFailure>,
) {
    match failure {
        Some(why) => {
            out.status = L2TxState::Failed;
            out.reason = Some(why.to_string());
        }
        None => out.status = status,
    }
}

fn account_info<P: Profile>(index: u32, a: &basalt_l2::Account<P>, at: &str) -> L2AccountInfo {
    L2AccountInfo {
        index,
        key: HexBytes(a.key.to_bytes()),
        balance: a.balance,
        nonce: a.nonce,
        indices: None,
        pending_nonce: None,
        at: at.to_string(),
    }
}

fn get_account<N: L2Node>(shared: &N, which: &AccountRef) -> RpcResult<L2AccountInfo> {
    match &shared.seq {
        Some(s) => {
            let seq = lock(s);
            let mut out = account_in(seq.state(), which, "soft")?;
            // The nonce its next transaction must carry, after those still queued.
            out.pending_nonce = lock(&shared.queue).next_nonce(out.index, seq.state());
            Ok(out)
        }
        None => shared.with_derived(|state| account_in(state, which, "l1_final")),
    }
}

/// Account `which` (an index, or the first account of a key) in `state`, read `at` a level.
fn account_in<P: Profile>(
    state: &L2State<P>,
    which: &AccountRef,
    at: &str,
) -> RpcResult<L2AccountInfo> {
    Ok(match which {
        AccountRef::Index(index) => {
            let a = state
                .get(*index)
                .ok_or_else(|| err(NOT_FOUND, format!("no L2 account {index}")))?;
            account_info(*index, a, at)
        }
        AccountRef::Key(bytes) => {
            let key = P::PublicKey::from_bytes(&bytes.0)
                .map_err(|_| invalid("key must be a 32-byte L2 key in hex"))?;
            let owned: Vec<u32> = state
                .accounts()
                .iter()
                .enumerate()
                .filter(|(_, a)| a.key == key)
                .map(|(i, _)| i as u32)
                .collect();
            let first = *owned.first().ok_or_else(|| {
                err(
                    NOT_FOUND,
                    format!(
                        "no L2 account for key {}: a deposit to it opens one",
                        bytes.to_hex()
                    ),
                )
            })?;
            let mut v = account_info(first, &state.accounts()[first as usize], at);
            v.indices = Some(owned);
            v
        }
    })
}

fn withdrawal_proof<N: L2Node>(shared: &N, which: WithdrawalRef) -> RpcResult<WithdrawalProof> {
    let index = match which {
        WithdrawalRef::Index(i) => i,
        WithdrawalRef::Tx(hash) => tx_status(shared, &hash).withdrawal_index.ok_or_else(|| {
            err(
                NOT_FOUND,
                format!("transaction {hash} is not an applied withdrawal known to this node"),
            )
        })?,
    };
    shared.withdrawal_proof(index)
}

/// `l2_getWithdrawalProof`'s answer for a withdrawal not ready, and why.
pub(crate) fn not_ready(index: u64, reason: &str) -> WithdrawalProof {
    WithdrawalProof {
        ready: false,
        index,
        reason: Some(reason.to_string()),
        batch: None,
        settles_by: None,
        proven_batches: None,
        l1_height: None,
        claim: None,
    }
}

/// What the L2 RPC asks of a node beyond its [`Core`]: what its kind derives from the L1.
pub(crate) trait L2Node:
    std::ops::Deref<Target = Core<Self::P>> + Send + Sync + 'static
{
    /// The rollup's profile.
    type P: Profile;

    /// Where confirmed transaction `sequence` stands on L1 (fills its batch and heights in `out`):
    /// `soft`, `posted`, `l1_final`, `proven` or `settled`.
    fn finality(&self, sequence: u64, out: &mut L2TxStatus) -> L2TxState;

    /// A transaction known from the L1's data alone.
    fn derived_tx(&self, hash: &Hash) -> Option<crate::derive::PostedTx>;

    /// Calls `f` on the state derived from the L1.
    fn with_derived<R>(&self, f: impl FnOnce(&L2State<Self::P>) -> R) -> R;

    /// The claim of withdrawal `index`, or why it is not ready.
    fn withdrawal_proof(&self, index: u64) -> RpcResult<WithdrawalProof>;

    /// `l2_chainInfo`.
    fn chain_info(&self) -> L2ChainInfo;
}

impl L2Node for Shared {
    type P = basalt_l2::Optimistic;

    fn finality(&self, sequence: u64, out: &mut L2TxStatus) -> L2TxState {
        finality(&lock(&self.view), sequence, out)
    }

    fn derived_tx(&self, hash: &Hash) -> Option<crate::derive::PostedTx> {
        lock(&self.view).derivation.tx(hash)
    }

    fn with_derived<R>(&self, f: impl FnOnce(&L2State<Self::P>) -> R) -> R {
        f(lock(&self.view).derivation.state())
    }

    fn withdrawal_proof(&self, index: u64) -> RpcResult<WithdrawalProof> {
        let view = lock(&self.view);
        let d = &view.derivation;
        let Some(batch) = d.batch_with_withdrawal(index) else {
            return Ok(not_ready(index, "not in a batch final on L1 yet"));
        };
        let settled = view.rollup.settled;
        if settled <= batch {
            let o = view.proposal_for(batch);
            let reason = match o {
                Some(_) => "the output of its batch has not settled yet",
                None => "no output proposed for its batch yet",
            };
            return Ok(WithdrawalProof {
                batch: Some(batch),
                settles_by: o.map(|o| o.bound()),
                l1_height: Some(view.rollup.height),
                ..not_ready(index, reason)
            });
        }
        // Prove against the newest settled output: it contains every older withdrawal too.
        let claim = d
            .withdrawal_claim(self.id, settled - 1, index)
            .ok_or_else(|| err(NOT_FOUND, format!("no withdrawal {index}")))?;
        Ok(ready_claim(&claim))
    }

    fn chain_info(&self) -> L2ChainInfo {
        chain_info(self)
    }
}

/// `l2_getWithdrawalProof`'s answer for a claim that is ready.
pub(crate) fn ready_claim(claim: &basalt_l1::WithdrawalClaim) -> WithdrawalProof {
    WithdrawalProof {
        ready: true,
        claim: Some(claim.into()),
        reason: None,
        ..not_ready(claim.index, "")
    }
}

/// The node's own L1 transactions not yet released.
pub(crate) fn in_flight_info(pending: &[crate::node::Pending]) -> Vec<InFlight> {
    pending
        .iter()
        .map(|f| InFlight {
            hash: f.hash,
            what: match f.what {
                crate::node::Posting::Batch {
                    index, from, to, ..
                } => basalt_rpc::l2::Posting::Batch {
                    batch: index,
                    from_tx: from,
                    to_tx: to,
                },
                crate::node::Posting::Output { batch } => basalt_rpc::l2::Posting::Output { batch },
                crate::node::Posting::Proof { batch } => basalt_rpc::l2::Posting::Proof { batch },
                crate::node::Posting::Dispute { batch, what } => basalt_rpc::l2::Posting::Dispute {
                    batch,
                    action: what.to_string(),
                },
                crate::node::Posting::Filler => basalt_rpc::l2::Posting::Filler,
            },
            included_at: f.included_at,
            failed: f.failed,
        })
        .collect()
}

/// The sequencer's soft chain, for `l2_chainInfo` (none on a verifier).
fn soft_info<P: Profile>(core: &Core<P>) -> Option<SoftInfo> {
    core.seq.as_ref().map(|s| {
        let s = lock(s);
        let c = s.state().commitment();
        SoftInfo {
            blocks: s.blocks().len() as u64,
            transactions: s.next_sequence(),
            accounts: c.account_count as u64,
            deposits_applied: c.next_deposit,
            output: HexBytes(c.output().to_bytes()),
        }
    })
}

/// `sequencer` or `verifier`.
pub(crate) fn role_name(role: Role) -> String {
    match role {
        Role::Sequencer => "sequencer",
        Role::Verifier => "verifier",
    }
    .to_string()
}

/// What `l2_chainInfo` reads of a node's core, taken before its view's lock (the fees take the
/// sequencer's and the queue's).
pub(crate) struct CoreInfo {
    soft: Option<SoftInfo>,
    fees: FeesInfo,
    pending: u64,
    halted: Option<String>,
}

impl CoreInfo {
    /// Reads `core`.
    pub(crate) fn read<P: Profile>(core: &Core<P>) -> Self {
        // One lock at a time, each released at the end of its statement (a guard in a struct
        // literal would live to the end of the literal, and the fees take the queue's again).
        let halted = lock(&core.halted).clone();
        let soft = soft_info(core);
        let pending = lock(&core.queue).len() as u64;
        let fees = crate::rpc_fee::fees_info(core);
        CoreInfo {
            soft,
            fees,
            pending,
            halted,
        }
    }
}

/// `l2_chainInfo` of a node of either kind: its core as read, the rollup as it last read it on
/// L1 with the error of that read, its transactions in flight, and what it derived; the fields of
/// the other kind left empty.
pub(crate) fn chain_info_of<P: Profile>(
    core: &Core<P>,
    read: CoreInfo,
    r: &crate::l1client::RollupInfo,
    last_error: Option<String>,
    in_flight: &[crate::node::Pending],
    derived: DerivedInfo,
    l1: L1SideInfo,
) -> L2ChainInfo {
    L2ChainInfo {
        rollup_id: core.id,
        name: r.params.name.clone(),
        kind: r.params.kind.clone(),
        role: role_name(core.role),
        sequencer: r.params.sequencer,
        min_fee: r.params.min_fee,
        fees: read.fees,
        challenge_window: None,
        proposer_bond: None,
        slots: None,
        l1_rpc: core.l1_url.clone(),
        l1_height: r.height,
        l1_error: last_error,
        soft: read.soft,
        pending: read.pending,
        halted: read.halted,
        derived,
        l1,
        mismatches: None,
        prover: None,
        in_flight: in_flight_info(in_flight),
    }
}

fn chain_info(shared: &Shared) -> L2ChainInfo {
    let read = CoreInfo::read(&shared.core);
    let view = lock(&shared.view);
    let d = &view.derivation;
    let r = &view.rollup;
    let mismatches = view
        .outputs
        .iter()
        .filter(|o| o.info.status != "removed")
        .filter_map(|o| match o.verdict {
            crate::Verdict::Mismatch { derived } => Some(Mismatch {
                batch: o.info.batch,
                proposed: o.info.output,
                derived,
                proposal: o.info.proposal,
                proposer: o.info.proposer,
                resolves_by: o.info.bound(),
            }),
            _ => None,
        })
        .collect();
    let derived = DerivedInfo {
        batches: d.batches(),
        transactions: d.txs_in_first(d.batches()),
        deposits_known: d.deposits_known(),
        output: d.batches().checked_sub(1).and_then(|b| d.output(b)),
        proven_batches: None,
        reverted: None,
        stuck: None,
    };
    let l1 = L1SideInfo {
        escrow: r.escrow,
        deposits: r.deposits,
        batches: r.batches,
        proposals: Some(r.proposals),
        settled: Some(r.settled),
        unresolved: Some(r.unresolved),
        dispute_bound: Some(r.dispute_bound),
        proven: None,
        withdrawals_paid: r.withdrawals_paid,
    };
    let last_error = view.last_error.clone();
    L2ChainInfo {
        challenge_window: Some(r.params.challenge_window),
        proposer_bond: Some(r.params.proposer_bond),
        mismatches: Some(mismatches),
        ..chain_info_of(
            &shared.core,
            read,
            r,
            last_error,
            &view.in_flight,
            derived,
            l1,
        )
    }
}

/// The L2 API over a node of either kind.
pub(crate) struct L2Rpc<N>(pub Arc<N>);

#[jsonrpsee::core::async_trait]
impl<N: L2Node> L2ApiServer for L2Rpc<N> {
    fn chain_info(&self) -> RpcResult<L2ChainInfo> {
        Ok(self.0.chain_info())
    }

    async fn send_transaction(&self, tx: HexBytes, wait: Option<bool>) -> RpcResult<L2TxStatus> {
        let s = &self.0;
        let tx = parse_tx::<N::P>(&tx.0)?;
        if s.seq.is_none() {
            return Err(err(
                UNSUPPORTED,
                "this node is a verifier: send transactions to the rollup's sequencer",
            ));
        }
        if let Some(why) = lock(&s.halted).clone() {
            return Err(err(
                TX_REJECTED,
                format!("the sequencer has stopped: {why}"),
            ));
        }
        let hash = tx.hash();
        let known = tx_status(&**s, &hash).status;
        if !matches!(known, L2TxState::Unknown | L2TxState::Failed) {
            let name = serde_json::to_value(known).unwrap_or_default();
            return Err(err(
                TX_REJECTED,
                format!("transaction {hash} is already known ({name})"),
            ));
        }
        // Subscribe before queueing so the block that holds it cannot be missed.
        let mut blocks = s.blocks.subscribe();
        crate::node::admit(s, tx)
            .await
            .map_err(|why| err(TX_REJECTED, why))?;
        if wait != Some(true) {
            return Ok(L2TxStatus::new(hash, L2TxState::Pending));
        }
        let deadline = tokio::time::Instant::now() + WAIT_FOR_BLOCK;
        loop {
            let status = tx_status(&**s, &hash);
            match status.status {
                L2TxState::Failed => {
                    return Err(err(
                        TX_REJECTED,
                        format!("refused: {}", status.reason.as_deref().unwrap_or("?")),
                    ))
                }
                L2TxState::Pending => {}
                _ => return Ok(status),
            }
            match tokio::time::timeout_at(deadline, blocks.recv()).await {
                Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
                Ok(Err(broadcast::error::RecvError::Closed)) | Err(_) => {
                    return Ok(tx_status(&**s, &hash))
                }
            }
        }
    }

    fn estimate_fee(&self, query: FeeQuery) -> RpcResult<FeeEstimate> {
        crate::rpc_fee::estimate_fee(&self.0, &query)
    }

    fn get_transaction(&self, hash: Hash) -> RpcResult<L2TxStatus> {
        Ok(tx_status(&*self.0, &hash))
    }

    fn get_account(&self, account: AccountRef) -> RpcResult<L2AccountInfo> {
        get_account(&*self.0, &account)
    }

    fn get_block(&self, number: BlockNumber) -> RpcResult<L2BlockInfo> {
        let Some(seq) = &self.0.seq else {
            return Err(err(
                UNSUPPORTED,
                "this node is a verifier: it sees batches on L1, not the sequencer's blocks",
            ));
        };
        let seq = lock(seq);
        let number = match number {
            BlockNumber::Latest => seq.blocks().len() as u64,
            BlockNumber::Number(n) => n,
        };
        let b = seq.block(number).ok_or_else(|| {
            err(
                NOT_FOUND,
                format!("no block {number} (the newest is {})", seq.blocks().len()),
            )
        })?;
        Ok(block_info(b))
    }

    fn get_withdrawal_proof(&self, withdrawal: WithdrawalRef) -> RpcResult<WithdrawalProof> {
        withdrawal_proof(&*self.0, withdrawal)
    }
}

#[jsonrpsee::core::async_trait]
impl<N: L2Node> L2SubscriptionsServer for L2Rpc<N> {
    async fn subscribe_blocks(&self, pending: PendingSubscriptionSink) -> SubscriptionResult {
        if self.0.seq.is_none() {
            pending
                .reject(err(
                    UNSUPPORTED,
                    "this node is a verifier: it makes no blocks",
                ))
                .await;
            return Ok(());
        }
        let mut rx = self.0.blocks.subscribe();
        let sink = pending.accept().await?;
        loop {
            match rx.recv().await {
                Ok(b) => {
                    let msg: SubscriptionMessage = serde_json::value::to_raw_value(&b)?.into();
                    if sink.send(msg).await.is_err() {
                        break;
                    }
                }
                // A slow subscriber misses blocks rather than stalling the sequencer.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
        Ok(())
    }
}

/// Builds the RPC module: the calls and the subscriptions.
pub(crate) fn module<N: L2Node>(shared: Arc<N>) -> RpcModule<L2Rpc<N>> {
    let mut m = L2ApiServer::into_rpc(L2Rpc(shared.clone()));
    m.merge(L2SubscriptionsServer::into_rpc(L2Rpc(shared)))
        .expect("the calls and the subscriptions have distinct names");
    m
}

/// Starts the L2 JSON-RPC server on `addr`.
pub(crate) async fn serve<N: L2Node>(
    addr: SocketAddr,
    shared: Arc<N>,
) -> std::io::Result<(SocketAddr, ServerHandle)> {
    let config = ServerConfig::builder()
        .max_request_body_size(MAX_REQUEST_BYTES)
        .max_response_body_size(MAX_RESPONSE_BYTES)
        .max_connections(MAX_CONNECTIONS)
        .set_batch_request_config(BatchRequestConfig::Limit(MAX_BATCH_CALLS))
        .build();
    // A call with parameters that do not parse is answered with the method's signature.
    let usage = RpcServiceBuilder::new().layer_fn(basalt_rpc::ParamsUsage);
    let server = Server::builder()
        .set_config(config)
        .set_rpc_middleware(usage)
        .build(addr)
        .await?;
    let bound = server.local_addr()?;
    Ok((bound, server.start(module(shared))))
}
