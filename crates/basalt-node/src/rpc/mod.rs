//! The L1 JSON-RPC 2.0 API over HTTP and WebSocket (one port): [`basalt_rpc::L1ApiServer`] and
//! [`basalt_rpc::L1SubscriptionsServer`] over the node's chain. Methods are documented in
//! `docs/rpc.md`.
//!
//! Every parameter is untrusted: it is parsed into its typed form (hex strictly), requests are
//! bounded by [`MAX_REQUEST_BYTES`], and failures are JSON-RPC errors with a message that says
//! what was wrong; nothing changes on error.

use crate::chain::{decode_and_verify, Chain, SubmitError, TxStatus};
use basalt_l1::{Action, Claim, Claims, Header, RollupState};
use basalt_rpc::l1::*;
use basalt_rpc::{
    error as err, invalid, BlockId, HexBytes, L1ApiServer, L1SubscriptionsServer, RollupRef,
    MAX_CLAIMS_PER_PAGE, MAX_LIST_ITEMS,
};
use basalt_types::{Decode, Hash, PublicKey};
use jsonrpsee::core::{RpcResult, SubscriptionResult};
use jsonrpsee::server::middleware::rpc::RpcServiceBuilder;
use jsonrpsee::server::{Server, ServerConfig, ServerHandle};
use jsonrpsee::types::ErrorObjectOwned;
use jsonrpsee::{PendingSubscriptionSink, RpcModule, SubscriptionMessage};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

mod views;

pub use basalt_rpc::{INTERNAL, INVALID_PARAMS, NOT_FOUND, TX_REJECTED};
use views::*;
pub use views::{header_info, output_info};

/// Largest request body accepted: a maximal transaction in hex, with room for the envelope.
pub const MAX_REQUEST_BYTES: u32 = 512 * 1024;
/// Largest response body.
pub const MAX_RESPONSE_BYTES: u32 = 32 * 1024 * 1024;
/// Most concurrent connections.
pub const MAX_CONNECTIONS: u32 = 256;

/// What RPC handlers share.
#[derive(Clone)]
pub struct RpcContext {
    /// The chain.
    pub chain: Arc<Mutex<Chain>>,
    /// Finalized headers, as they happen.
    pub finalized: broadcast::Sender<Header>,
}

impl RpcContext {
    /// Handlers over `chain`, announcing `finalized` headers to subscribers.
    pub fn new(chain: Arc<Mutex<Chain>>, finalized: broadcast::Sender<Header>) -> Self {
        RpcContext { chain, finalized }
    }

    fn chain(&self) -> std::sync::MutexGuard<'_, Chain> {
        crate::chain::lock(&self.chain)
    }
}

fn internal(e: impl std::fmt::Display) -> ErrorObjectOwned {
    err(INTERNAL, e.to_string())
}

fn find_rollup<'a>(
    which: &RollupRef,
    state: &'a basalt_l1::L1State,
) -> Result<&'a RollupState, ErrorObjectOwned> {
    let found = match which {
        RollupRef::Id(id) => state.rollup(*id),
        RollupRef::Name(name) => state.rollup_by_name(name),
    };
    found.ok_or_else(|| err(NOT_FOUND, format!("no rollup {which}")))
}

/// The rollup named by `which` and its proposal `proposal`, or why there is none.
fn proposal_in<'a>(
    state: &'a basalt_l1::L1State,
    which: &RollupRef,
    proposal: u64,
) -> Result<&'a RollupState, ErrorObjectOwned> {
    let r = find_rollup(which, state)?;
    if proposal >= r.header.proposal_count {
        return Err(err(
            NOT_FOUND,
            format!(
                "rollup {} has {} proposals; no proposal {proposal}",
                r.header.id, r.header.proposal_count
            ),
        ));
    }
    Ok(r)
}

/// The rollup holding proposal `proposal` and its dispute (a ZK rollup's outputs have none).
fn dispute_in<'a>(
    state: &'a basalt_l1::L1State,
    which: &RollupRef,
    proposal: u64,
) -> Result<&'a RollupState, ErrorObjectOwned> {
    let r = proposal_in(state, which, proposal)?;
    if r.disputes.get(proposal as usize).is_none() {
        return Err(err(
            NOT_FOUND,
            format!(
                "rollup {} is a ZK rollup: its outputs are proven, never disputed",
                r.header.id
            ),
        ));
    }
    Ok(r)
}

/// A list's limit: `limit` if given, within 1 to `most`, else `most`.
fn limit_of(limit: Option<u64>, most: u64) -> RpcResult<u64> {
    match limit.unwrap_or(most) {
        l if l == 0 || l > most => Err(invalid(format!("limit must be 1 to {most}"))),
        l => Ok(l),
    }
}

/// The items `from..from + limit` of a list, each with its index.
fn page<T, V>(items: &[T], from: u64, limit: u64, f: impl Fn(u64, &T) -> V) -> Vec<V> {
    let start = (from as usize).min(items.len());
    let end = (from.saturating_add(limit) as usize).min(items.len());
    items[start..end]
        .iter()
        .enumerate()
        .map(|(i, x)| f((start + i) as u64, x))
        .collect()
}

impl RpcContext {
    /// A page of rollup `which`'s list `items`, rendered by `f`.
    fn rollup_page<V>(
        &self,
        which: &RollupRef,
        from: u64,
        limit: Option<u64>,
        f: impl FnOnce(&RollupState, u64, u64) -> V,
    ) -> RpcResult<V> {
        let limit = limit_of(limit, MAX_LIST_ITEMS)?;
        let chain = self.chain();
        let r = find_rollup(which, chain.state())?;
        Ok(f(r, from, limit))
    }
}

impl L1ApiServer for RpcContext {
    fn chain_info(&self) -> RpcResult<ChainInfo> {
        let chain = self.chain();
        let s = chain.state();
        let (base_fee, blob_base_fee) = chain.next_fees();
        Ok(ChainInfo {
            chain_id: s.chain_id(),
            finalized_height: s.head().height,
            finalized_hash: s.head().hash(),
            state_root: s.head().state_root,
            next_base_fee_per_gas: base_fee,
            next_blob_base_fee: blob_base_fee,
            validators: s.committee().len() as u64,
            accounts: s.account_count() as u64,
            mempool: chain.mempool_len() as u64,
            burned: s.burned(),
            params: s.params().clone(),
        })
    }

    fn get_block(&self, id: BlockId) -> RpcResult<BlockInfo> {
        let chain = self.chain();
        let head = chain.state().head().height;
        let height = match id {
            BlockId::Height(h) => h,
            BlockId::Latest => head,
            BlockId::Hash(hash) => chain
                .store()
                .block_height(&hash)
                .map_err(internal)?
                .ok_or_else(|| err(NOT_FOUND, format!("no finalized block {hash}")))?,
        };
        let block = chain
            .store()
            .block(height)
            .map_err(internal)?
            .ok_or_else(|| {
                err(
                    NOT_FOUND,
                    format!("no finalized block at height {height} (finalized height is {head})"),
                )
            })?;
        Ok(block_info(&block))
    }

    fn get_account(&self, key: PublicKey) -> RpcResult<AccountInfo> {
        let chain = self.chain();
        let acc = chain.state().account(&key);
        let a = acc.unwrap_or_default();
        Ok(AccountInfo {
            account: key,
            exists: acc.is_some(),
            balance: a.balance,
            nonce: a.nonce,
            pending_nonce: chain.pending_nonce(&key),
            stake: a.stake,
            unbonding: a.unbonding,
            height: chain.state().head().height,
        })
    }

    fn send_transaction(&self, tx: HexBytes) -> RpcResult<Hash> {
        let bytes = tx.0;
        // Decode and check the signature before taking the chain lock.
        let tx = match decode_and_verify(&bytes) {
            Ok(tx) => tx,
            Err(e) => {
                self.chain().count_admission(e.reason());
                return Err(match e {
                    SubmitError::Malformed(_) => invalid(e.to_string()),
                    _ => err(TX_REJECTED, e.to_string()),
                });
            }
        };
        self.chain()
            .admit_local(tx, &bytes)
            .map_err(|e| err(TX_REJECTED, e.to_string()))
    }

    fn estimate_gas(&self, from: PublicKey, action: HexBytes) -> RpcResult<u64> {
        if action.0.len() > basalt_l1::MAX_TX_BYTES {
            return Err(invalid("action is larger than any transaction may be"));
        }
        let action = Action::from_bytes(&action.0).map_err(|e| invalid(format!("action: {e}")))?;
        self.chain()
            .estimate_gas(&from, &action)
            .map_err(|e| err(TX_REJECTED, e.to_string()))
    }

    fn get_transaction(&self, hash: Hash) -> RpcResult<TxStatusInfo> {
        let status = self.chain().tx_status(&hash).map_err(internal)?;
        let status = match status {
            TxStatus::Pending => L1TxStatus::Pending,
            TxStatus::Included { height } => L1TxStatus::Included { height },
            TxStatus::Finalized { height, failure } => L1TxStatus::Finalized {
                height,
                success: failure.is_none(),
                error: failure.map(|f| f.describe().to_string()),
                error_code: failure.map(|f| f.id().to_string()),
            },
            TxStatus::Rejected { error } => L1TxStatus::Rejected { error },
            TxStatus::Unknown => L1TxStatus::Unknown,
        };
        Ok(TxStatusInfo { hash, status })
    }

    fn get_blob(&self, hash: Hash) -> RpcResult<BlobInfo> {
        let chain = self.chain();
        let blob = chain.state().blob(&hash).ok_or_else(|| {
            err(
                NOT_FOUND,
                "blob not found: never posted, not yet finalized, or pruned after the retention window",
            )
        })?;
        Ok(BlobInfo {
            hash: blob.hash,
            height: blob.height,
            sender: blob.sender,
            data: HexBytes(blob.data.clone()),
        })
    }

    fn validators(&self) -> RpcResult<ValidatorsInfo> {
        let chain = self.chain();
        let s = chain.state();
        let committee = s
            .committee()
            .iter()
            .map(|k| Stake {
                key: *k,
                stake: s.account(k).map_or(0, |a| a.stake),
                unbonding: None,
            })
            .collect();
        let stakers = s
            .stakers()
            .map(|(k, a)| Stake {
                key: k,
                stake: a.stake,
                unbonding: Some(a.unbonding),
            })
            .collect();
        // The committee in state is the one that finalizes the next block.
        let epoch = s.params().epoch_of(s.head().height + 1);
        Ok(ValidatorsInfo {
            epoch,
            next_epoch_at: (epoch + 1) * s.params().epoch_length,
            committee,
            stakers,
        })
    }

    fn rollups(&self, from: Option<u64>, limit: Option<u64>) -> RpcResult<Vec<RollupInfo>> {
        let limit = limit_of(limit, MAX_LIST_ITEMS)?;
        let chain = self.chain();
        let s = chain.state();
        let head = s.head().height;
        Ok(page(s.rollups(), from.unwrap_or(0), limit, |_, r| {
            rollup_info(r, head)
        }))
    }

    fn get_rollup(&self, rollup: RollupRef) -> RpcResult<RollupInfo> {
        let chain = self.chain();
        let s = chain.state();
        Ok(rollup_info(find_rollup(&rollup, s)?, s.head().height))
    }

    fn get_rollup_risk(&self, rollup: RollupRef) -> RpcResult<RiskInfo> {
        let chain = self.chain();
        let s = chain.state();
        Ok(risk_info(find_rollup(&rollup, s)?, s.params()))
    }

    fn get_rollup_deposits(
        &self,
        rollup: RollupRef,
        from: u64,
        limit: Option<u64>,
    ) -> RpcResult<Vec<DepositInfo>> {
        self.rollup_page(&rollup, from, limit, |r, from, limit| {
            page(&r.deposits, from, limit, deposit_info)
        })
    }

    fn get_rollup_batches(
        &self,
        rollup: RollupRef,
        from: u64,
        limit: Option<u64>,
    ) -> RpcResult<Vec<BatchInfo>> {
        self.rollup_page(&rollup, from, limit, |r, from, limit| {
            page(&r.batches, from, limit, |i, _| batch_info(r, i))
        })
    }

    fn get_rollup_outputs(
        &self,
        rollup: RollupRef,
        from: u64,
        limit: Option<u64>,
    ) -> RpcResult<Vec<OutputInfo>> {
        // The settled chain: one output per batch, in batch order.
        self.rollup_page(&rollup, from, limit, |r, from, limit| {
            page(&r.chain, from, limit, |_, p| output_info(r, *p))
        })
    }

    fn get_proposals(
        &self,
        rollup: RollupRef,
        from: u64,
        limit: Option<u64>,
    ) -> RpcResult<Vec<OutputInfo>> {
        // Every proposal, competing ones included, in proposal order.
        self.rollup_page(&rollup, from, limit, |r, from, limit| {
            page(&r.proposals, from, limit, |i, _| output_info(r, i))
        })
    }

    fn list_unresolved(
        &self,
        rollup: RollupRef,
        from: u64,
        limit: Option<u64>,
    ) -> RpcResult<Vec<u64>> {
        // Ids of the proposals whose trees have not resolved, from the first id given.
        self.rollup_page(&rollup, from, limit, |r, from, limit| {
            r.open.range(from..).take(limit as usize).copied().collect()
        })
    }

    fn get_output(&self, rollup: RollupRef, proposal: u64) -> RpcResult<OutputInfo> {
        let chain = self.chain();
        let r = proposal_in(chain.state(), &rollup, proposal)?;
        Ok(output_info(r, proposal))
    }

    fn get_dispute(&self, rollup: RollupRef, proposal: u64) -> RpcResult<DisputeInfo> {
        let chain = self.chain();
        let r = dispute_in(chain.state(), &rollup, proposal)?;
        Ok(dispute_info(&r.disputes[proposal as usize]))
    }

    fn get_claims(
        &self,
        rollup: RollupRef,
        proposal: u64,
        from: u64,
        limit: Option<u64>,
    ) -> RpcResult<ClaimsPage> {
        let limit = limit_of(limit, MAX_CLAIMS_PER_PAGE)
            .map_err(|_| invalid("claim limit must be 1 to 1000"))?;
        // Claims are append-only: a page read later agrees with one read earlier, so a client
        // reading a tree page by page checks it against the record's digest and count.
        let (tree, count) = {
            let chain = self.chain();
            let r = dispute_in(chain.state(), &rollup, proposal)?;
            (
                r.trees[proposal as usize].clone(),
                r.disputes[proposal as usize].claims,
            )
        };
        let end = from.saturating_add(limit).min(count as u64);
        let claims = (from..end)
            .filter_map(|i| tree.get(i as u32).map(|c: Claim| claim_info(i, &c)))
            .collect();
        Ok(ClaimsPage {
            total: count as u64,
            from,
            claims,
        })
    }

    fn list_disputes(
        &self,
        rollup: RollupRef,
        from: u64,
        limit: Option<u64>,
    ) -> RpcResult<Vec<DisputeInfo>> {
        // Records only (no claims), so a page stays small however large each tree is.
        self.rollup_page(&rollup, from, limit, |r, from, limit| {
            page(&r.disputes, from, limit, |_, d| dispute_info(d))
        })
    }

    fn is_withdrawal_claimed(&self, rollup: RollupRef, index: u64) -> RpcResult<bool> {
        let chain = self.chain();
        Ok(find_rollup(&rollup, chain.state())?
            .claimed
            .contains(&index))
    }
}

#[jsonrpsee::core::async_trait]
impl L1SubscriptionsServer for RpcContext {
    async fn subscribe_blocks(&self, pending: PendingSubscriptionSink) -> SubscriptionResult {
        let mut rx = self.finalized.subscribe();
        let sink = pending.accept().await?;
        loop {
            match rx.recv().await {
                Ok(h) => {
                    let msg: SubscriptionMessage =
                        serde_json::value::to_raw_value(&header_info(&h))?.into();
                    if sink.send(msg).await.is_err() {
                        break;
                    }
                }
                // A slow subscriber misses headers rather than stalling the node.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
        Ok(())
    }
}

/// Builds the RPC module: the calls and the subscriptions.
pub fn module(ctx: RpcContext) -> RpcModule<RpcContext> {
    let mut m = L1ApiServer::into_rpc(ctx.clone());
    m.merge(L1SubscriptionsServer::into_rpc(ctx))
        .expect("the calls and the subscriptions have distinct names");
    m
}

/// Starts the server on `addr`.
pub async fn serve(
    addr: SocketAddr,
    ctx: RpcContext,
) -> std::io::Result<(SocketAddr, ServerHandle)> {
    let config = ServerConfig::builder()
        .max_request_body_size(MAX_REQUEST_BYTES)
        .max_response_body_size(MAX_RESPONSE_BYTES)
        .max_connections(MAX_CONNECTIONS)
        .build();
    // A call with parameters that do not parse is answered with the method's signature.
    let usage = RpcServiceBuilder::new().layer_fn(basalt_rpc::ParamsUsage);
    let server = Server::builder()
        .set_config(config)
        .set_rpc_middleware(usage)
        .build(addr)
        .await?;
    let bound = server.local_addr()?;
    Ok((bound, server.start(module(ctx))))
}
