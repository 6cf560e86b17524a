//! The L1 JSON-RPC 2.0 API over HTTP and WebSocket (one port). Methods are documented in `docs/rpc.md`.
//!
//! Every parameter is untrusted: hex is parsed strictly, requests are bounded by [`MAX_REQUEST_BYTES`],
//! and failures are JSON-RPC errors with a message that says what was wrong; nothing changes on error.

use crate::chain::{decode_and_verify, Chain, SubmitError, TxStatus};
use basalt_l1::{Action, Block, Claim, Claims, Dispute, Header, RollupParams, RollupState};
use basalt_types::{codec::parse_hex, Decode, Encode, Hash, PublicKey};
use jsonrpsee::server::{Server, ServerConfig, ServerHandle};
use jsonrpsee::types::{ErrorObject, ErrorObjectOwned, Params};
use jsonrpsee::{PendingSubscriptionSink, RpcModule, SubscriptionMessage};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

mod json;

use json::*;
pub use json::{header_json, output_json};

/// Largest request body accepted: a maximal transaction in hex, with room for the envelope.
pub const MAX_REQUEST_BYTES: u32 = 512 * 1024;
/// Largest response body.
pub const MAX_RESPONSE_BYTES: u32 = 32 * 1024 * 1024;
/// Most concurrent connections.
pub const MAX_CONNECTIONS: u32 = 256;

/// Error code: invalid parameters (JSON-RPC standard).
pub const INVALID_PARAMS: i32 = -32602;
/// Error code: the transaction was refused.
pub const TX_REJECTED: i32 = -32000;
/// Error code: the thing asked for does not exist (or was pruned).
pub const NOT_FOUND: i32 = -32001;
/// Error code: the node failed internally.
pub const INTERNAL: i32 = -32603;

/// What RPC handlers share.
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
}

fn err(code: i32, msg: impl Into<String>) -> ErrorObjectOwned {
    ErrorObject::owned(code, msg.into(), None::<()>)
}

fn invalid(msg: impl Into<String>) -> ErrorObjectOwned {
    err(INVALID_PARAMS, msg)
}

fn one_string(params: &Params<'_>, what: &str) -> Result<String, ErrorObjectOwned> {
    let (s,): (String,) = params
        .parse()
        .map_err(|_| invalid(format!("expected one string parameter: {what}")))?;
    Ok(s)
}

fn parse_key(s: &str) -> Result<PublicKey, ErrorObjectOwned> {
    PublicKey::from_hex(s)
        .map_err(|_| invalid("account must be 32 bytes of hex (0x + 64 hex digits)"))
}

fn parse_hash(s: &str) -> Result<Hash, ErrorObjectOwned> {
    Hash::from_hex(s).map_err(|_| invalid("hash must be 32 bytes of hex (0x + 64 hex digits)"))
}

/// The rollup named by `which` and its proposal `proposal`, or why there is none.
fn proposal_in<'a>(
    state: &'a basalt_l1::L1State,
    which: &Value,
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
    which: &Value,
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

/// Most items one list request returns.
pub const MAX_LIST_ITEMS: u64 = 1_000;
/// Most claims one `l1_getClaims` returns (each under 500 bytes of JSON).
pub const MAX_CLAIMS_PER_PAGE: u64 = 1_000;

/// Parses `[rollup, from, limit]`: the rollup by id or name, then a bounded range.
fn rollup_range<'a>(
    params: &Params<'_>,
    state: &'a basalt_l1::L1State,
) -> Result<(&'a RollupState, u64, u64), ErrorObjectOwned> {
    let usage =
        || invalid("expected [rollup id or name, first index, optional limit (at most 1000)]");
    let mut seq = params.sequence();
    let which: Value = seq.next().map_err(|_| usage())?;
    let from: u64 = seq.next().map_err(|_| usage())?;
    let limit: Option<u64> = seq.optional_next().map_err(|_| usage())?;
    let r = find_rollup(&which, state)?;
    let limit = limit.unwrap_or(MAX_LIST_ITEMS);
    if limit == 0 || limit > MAX_LIST_ITEMS {
        return Err(invalid("limit must be 1 to 1000"));
    }
    Ok((r, from, limit))
}

fn find_rollup<'a>(
    which: &Value,
    state: &'a basalt_l1::L1State,
) -> Result<&'a RollupState, ErrorObjectOwned> {
    let found = match which {
        Value::Number(n) => n
            .as_u64()
            .and_then(|id| u32::try_from(id).ok())
            .and_then(|id| state.rollup(id)),
        Value::String(name) => state.rollup_by_name(name),
        _ => return Err(invalid("rollup must be an id (number) or a name (string)")),
    };
    found.ok_or_else(|| err(NOT_FOUND, format!("no rollup {which}")))
}

/// The items `from..from + limit` of a list, each with its index.
fn page<T>(items: &[T], from: u64, limit: u64, f: impl Fn(u64, &T) -> Value) -> Value {
    let start = (from as usize).min(items.len());
    let end = (from.saturating_add(limit) as usize).min(items.len());
    Value::Array(
        items[start..end]
            .iter()
            .enumerate()
            .map(|(i, x)| f((start + i) as u64, x))
            .collect(),
    )
}

fn internal(e: impl std::fmt::Display) -> ErrorObjectOwned {
    err(INTERNAL, e.to_string())
}

/// Builds the RPC module.
pub fn module(ctx: RpcContext) -> RpcModule<RpcContext> {
    let mut m = RpcModule::new(ctx);
    m.register_method("l1_chainInfo", |_, ctx, _| {
        let chain = crate::chain::lock(&ctx.chain);
        let s = chain.state();
        let (base_fee, blob_base_fee) = chain.next_fees();
        Ok::<_, ErrorObjectOwned>(json!({
            "chainId": s.chain_id(),
            "finalizedHeight": s.head().height,
            "finalizedHash": s.head().hash(),
            "stateRoot": s.head().state_root,
            "nextBaseFeePerGas": base_fee,
            "nextBlobBaseFee": blob_base_fee,
            "validators": s.committee().len(),
            "accounts": s.account_count(),
            "mempool": chain.mempool_len(),
            "burned": s.burned().to_string(),
            "params": s.params(),
        }))
    })
    .expect("unique method");
    m.register_method("l1_getBlock", |params, ctx, _| {
        let arg: Value = params.parse::<(Value,)>().map(|(v,)| v).map_err(|_| {
            invalid("expected one parameter: a height, \"latest\", \"finalized\" or a block hash")
        })?;
        let chain = crate::chain::lock(&ctx.chain);
        let head = chain.state().head().height;
        let height = match &arg {
            Value::Number(n) => n
                .as_u64()
                .ok_or_else(|| invalid("height must be a non-negative integer"))?,
            Value::String(s) if s == "latest" || s == "finalized" => head,
            Value::String(s) if s.starts_with("0x") && s.len() == 66 => {
                let hash = parse_hash(s)?;
                chain
                    .store()
                    .block_height(&hash)
                    .map_err(internal)?
                    .ok_or_else(|| err(NOT_FOUND, format!("no finalized block {s}")))?
            }
            _ => {
                return Err(invalid(
                    "expected a height, \"latest\", \"finalized\" or a block hash",
                ))
            }
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
        Ok(block_json(&block))
    })
    .expect("unique method");
    m.register_method("l1_getAccount", |params, ctx, _| {
        let key = parse_key(&one_string(&params, "account public key")?)?;
        let chain = crate::chain::lock(&ctx.chain);
        let acc = chain.state().account(&key);
        let a = acc.unwrap_or_default();
        Ok::<_, ErrorObjectOwned>(json!({
            "account": key,
            "exists": acc.is_some(),
            "balance": a.balance.to_string(),
            "nonce": a.nonce,
            "pendingNonce": chain.pending_nonce(&key),
            "stake": a.stake.to_string(),
            "unbonding": a.unbonding.to_string(),
            "height": chain.state().head().height,
        }))
    })
    .expect("unique method");
    m.register_method("l1_sendTransaction", |params, ctx, _| {
        let hex = one_string(&params, "hex-encoded signed transaction")?;
        let bytes = parse_hex(&hex).map_err(|_| invalid("transaction must be hex"))?;
        // Decode and check the signature before taking the chain lock.
        let tx = match decode_and_verify(&bytes) {
            Ok(tx) => tx,
            Err(e) => {
                crate::chain::lock(&ctx.chain).count_admission(e.reason());
                return Err(match e {
                    SubmitError::Malformed(_) => invalid(e.to_string()),
                    _ => err(TX_REJECTED, e.to_string()),
                });
            }
        };
        let mut chain = crate::chain::lock(&ctx.chain);
        match chain.admit_local(tx, &bytes) {
            Ok(hash) => Ok(json!(hash)),
            Err(e) => Err(err(TX_REJECTED, e.to_string())),
        }
    })
    .expect("unique method");
    m.register_method("l1_estimateGas", |params, ctx, _| {
        let (from, action): (String, String) = params.parse().map_err(|_| {
            invalid("expected two parameters: the sender's public key and a hex-encoded action")
        })?;
        let signer = parse_key(&from)?;
        let bytes = parse_hex(&action).map_err(|_| invalid("action must be hex"))?;
        if bytes.len() > basalt_l1::MAX_TX_BYTES {
            return Err(invalid("action is larger than any transaction may be"));
        }
        let action = Action::from_bytes(&bytes).map_err(|e| invalid(format!("action: {e}")))?;
        let chain = crate::chain::lock(&ctx.chain);
        match chain.estimate_gas(&signer, &action) {
            Ok(gas) => Ok(json!(gas)),
            Err(e) => Err(err(TX_REJECTED, e.to_string())),
        }
    })
    .expect("unique method");
    m.register_method("l1_getTransaction", |params, ctx, _| {
        let hash = parse_hash(&one_string(&params, "transaction hash")?)?;
        let chain = crate::chain::lock(&ctx.chain);
        let status = chain.tx_status(&hash).map_err(internal)?;
        Ok::<_, ErrorObjectOwned>(match status {
            TxStatus::Pending => json!({"hash": hash, "status": "pending"}),
            TxStatus::Included { height } => {
                json!({"hash": hash, "status": "included", "height": height})
            }
            TxStatus::Finalized { height, failure } => json!({
                "hash": hash,
                "status": "finalized",
                "height": height,
                "success": failure.is_none(),
                "error": failure.map(|f| f.describe()),
                "errorCode": failure.map(|f| f.id()),
            }),
            TxStatus::Rejected { error } => {
                json!({"hash": hash, "status": "rejected", "error": error})
            }
            TxStatus::Unknown => json!({"hash": hash, "status": "unknown"}),
        })
    })
    .expect("unique method");
    m.register_method("l1_getBlob", |params, ctx, _| {
        let hash = parse_hash(&one_string(&params, "blob hash")?)?;
        let chain = crate::chain::lock(&ctx.chain);
        let blob = chain
            .state()
            .blob(&hash)
            .ok_or_else(|| err(NOT_FOUND, "blob not found: never posted, not yet finalized, or pruned after the retention window"))?;
        Ok::<_, ErrorObjectOwned>(json!({
            "hash": blob.hash,
            "height": blob.height,
            "sender": blob.sender,
            "data": format!("0x{}", hex::encode(&blob.data)),
        }))
    })
    .expect("unique method");
    m.register_method("l1_validators", |_, ctx, _| {
        let chain = crate::chain::lock(&ctx.chain);
        let s = chain.state();
        let committee: Vec<Value> = s
            .committee()
            .iter()
            .map(|k| json!({"key": k, "stake": s.account(k).map_or(0, |a| a.stake).to_string()}))
            .collect();
        let stakers: Vec<Value> = s
            .stakers()
            .map(|(k, a)| json!({"key": k, "stake": a.stake.to_string(), "unbonding": a.unbonding.to_string()}))
            .collect();
        // The committee in state is the one that finalizes the next block.
        let epoch = s.params().epoch_of(s.head().height + 1);
        Ok::<_, ErrorObjectOwned>(json!({
            "epoch": epoch,
            "nextEpochAt": (epoch + 1) * s.params().epoch_length,
            "committee": committee,
            "stakers": stakers,
        }))
    })
    .expect("unique method");
    m.register_method("l1_rollups", |params, ctx, _| {
        let usage = || invalid("expected [optional first id, optional limit (at most 1000)]");
        let mut seq = params.sequence();
        let from: Option<u64> = seq.optional_next().map_err(|_| usage())?;
        let limit: Option<u64> = seq.optional_next().map_err(|_| usage())?;
        let limit = limit.unwrap_or(MAX_LIST_ITEMS);
        if limit == 0 || limit > MAX_LIST_ITEMS {
            return Err(invalid("limit must be 1 to 1000"));
        }
        let chain = crate::chain::lock(&ctx.chain);
        let s = chain.state();
        let head = s.head().height;
        let all = s.rollups();
        let start = (from.unwrap_or(0) as usize).min(all.len());
        let end = start.saturating_add(limit as usize).min(all.len());
        Ok::<_, ErrorObjectOwned>(Value::Array(
            all[start..end]
                .iter()
                .map(|r| rollup_json(r, head))
                .collect(),
        ))
    })
    .expect("unique method");
    m.register_method("l1_getRollup", |params, ctx, _| {
        let (which,): (Value,) = params
            .parse()
            .map_err(|_| invalid("expected one parameter: rollup id or name"))?;
        let chain = crate::chain::lock(&ctx.chain);
        let s = chain.state();
        Ok::<_, ErrorObjectOwned>(rollup_json(find_rollup(&which, s)?, s.head().height))
    })
    .expect("unique method");
    m.register_method("l1_getRollupRisk", |params, ctx, _| {
        let (which,): (Value,) = params
            .parse()
            .map_err(|_| invalid("expected one parameter: rollup id or name"))?;
        let chain = crate::chain::lock(&ctx.chain);
        let s = chain.state();
        let r = find_rollup(&which, s)?;
        Ok::<_, ErrorObjectOwned>(risk_json(r, s.params()))
    })
    .expect("unique method");
    m.register_method("l1_getRollupDeposits", |params, ctx, _| {
        let chain = crate::chain::lock(&ctx.chain);
        let (r, from, limit) = rollup_range(&params, chain.state())?;
        Ok::<_, ErrorObjectOwned>(page(&r.deposits, from, limit, |i, d| {
            json!({
                "index": i, "account": d.entry.account, "key": d.entry.key,
                "amount": d.entry.amount.to_string(),
                "sender": d.sender, "height": d.height,
                // A forced L2 transaction in place of a deposit, as l2_sendTransaction takes it.
                "forced": d
                    .entry
                    .forced
                    .map(|tx| tx.to_bytes())
                    .or(d.zk_forced.map(|tx| tx.to_bytes()))
                    .map(|b| format!("0x{}", hex::encode(b))),
            })
        }))
    })
    .expect("unique method");
    m.register_method("l1_getRollupBatches", |params, ctx, _| {
        let chain = crate::chain::lock(&ctx.chain);
        let (r, from, limit) = rollup_range(&params, chain.state())?;
        let zk = r.header.params.kind.zk().is_some();
        Ok::<_, ErrorObjectOwned>(page(&r.batches, from, limit, |i, b| {
            // An optimistic batch's trace ends with a deposit for each of its range.
            let from = i
                .checked_sub(1)
                .map_or(0, |p| r.batches[p as usize].deposits_end);
            let steps = b.tx_count + if zk { 0 } else { b.deposits_end - from };
            let mut v = json!({
                "index": i, "dataHash": b.data_hash, "depositsEnd": b.deposits_end,
                "height": b.height, "rawBytes": b.raw_len, "txCount": b.tx_count,
                "steps": steps,
            });
            // A ZK batch's data hash as its proof's public input.
            if zk {
                v["proofInput"] = json!(b.proof_input);
            }
            v
        }))
    })
    .expect("unique method");
    m.register_method("l1_getRollupOutputs", |params, ctx, _| {
        // The settled chain: one output per batch, in batch order.
        let chain = crate::chain::lock(&ctx.chain);
        let (r, from, limit) = rollup_range(&params, chain.state())?;
        Ok::<_, ErrorObjectOwned>(page(&r.chain, from, limit, |_, p| output_json(r, *p)))
    })
    .expect("unique method");
    m.register_method("l1_getProposals", |params, ctx, _| {
        // Every proposal, competing ones included, in proposal order.
        let chain = crate::chain::lock(&ctx.chain);
        let (r, from, limit) = rollup_range(&params, chain.state())?;
        Ok::<_, ErrorObjectOwned>(page(&r.proposals, from, limit, |i, _| output_json(r, i)))
    })
    .expect("unique method");
    m.register_method("l1_listUnresolved", |params, ctx, _| {
        // Ids of the proposals whose trees have not resolved, from the first id given.
        let chain = crate::chain::lock(&ctx.chain);
        let (r, from, limit) = rollup_range(&params, chain.state())?;
        Ok::<_, ErrorObjectOwned>(json!(r
            .open
            .range(from..)
            .take(limit as usize)
            .collect::<Vec<_>>()))
    })
    .expect("unique method");
    m.register_method("l1_getOutput", |params, ctx, _| {
        let (which, proposal): (Value, u64) = params
            .parse()
            .map_err(|_| invalid("expected [rollup id or name, proposal id]"))?;
        let chain = crate::chain::lock(&ctx.chain);
        let r = proposal_in(chain.state(), &which, proposal)?;
        Ok::<_, ErrorObjectOwned>(output_json(r, proposal))
    })
    .expect("unique method");
    m.register_method("l1_getDispute", |params, ctx, _| {
        let (which, proposal): (Value, u64) = params
            .parse()
            .map_err(|_| invalid("expected [rollup id or name, proposal id]"))?;
        let chain = crate::chain::lock(&ctx.chain);
        let r = dispute_in(chain.state(), &which, proposal)?;
        Ok::<_, ErrorObjectOwned>(dispute_json(&r.disputes[proposal as usize]))
    })
    .expect("unique method");
    m.register_method("l1_getClaims", |params, ctx, _| {
        let usage = || {
            invalid("expected [rollup id or name, proposal id, first claim, optional limit (at most 1000)]")
        };
        let mut seq = params.sequence();
        let which: Value = seq.next().map_err(|_| usage())?;
        let proposal: u64 = seq.next().map_err(|_| usage())?;
        let from: u64 = seq.next().map_err(|_| usage())?;
        let limit: Option<u64> = seq.optional_next().map_err(|_| usage())?;
        let limit = limit.unwrap_or(MAX_CLAIMS_PER_PAGE);
        if limit == 0 || limit > MAX_CLAIMS_PER_PAGE {
            return Err(invalid("claim limit must be 1 to 1000"));
        }
        // Claims are append-only: a page read later agrees with one read earlier, so a client
        // reading a tree page by page checks it against the record's digest and count.
        let (tree, count) = {
            let chain = crate::chain::lock(&ctx.chain);
            let r = dispute_in(chain.state(), &which, proposal)?;
            (r.trees[proposal as usize].clone(), r.disputes[proposal as usize].claims)
        };
        let end = from.saturating_add(limit).min(count as u64);
        let claims: Vec<Value> = (from..end)
            .filter_map(|i| tree.get(i as u32).map(|c: Claim| claim_json(i, &c)))
            .collect();
        Ok::<_, ErrorObjectOwned>(json!({"total": count, "from": from, "claims": claims}))
    })
    .expect("unique method");
    m.register_method("l1_listDisputes", |params, ctx, _| {
        // Records only (no claims), so a page stays small however large each tree is.
        let page = {
            let chain = crate::chain::lock(&ctx.chain);
            let (r, from, limit) = rollup_range(&params, chain.state())?;
            let start = (from as usize).min(r.disputes.len());
            let end = (from.saturating_add(limit) as usize).min(r.disputes.len());
            r.disputes[start..end]
                .iter()
                .map(dispute_json)
                .collect::<Vec<_>>()
        };
        Ok::<_, ErrorObjectOwned>(Value::Array(page))
    })
    .expect("unique method");
    m.register_method("l1_isWithdrawalClaimed", |params, ctx, _| {
        let (which, index): (Value, u64) = params
            .parse()
            .map_err(|_| invalid("expected [rollup id or name, withdrawal index]"))?;
        let chain = crate::chain::lock(&ctx.chain);
        let r = find_rollup(&which, chain.state())?;
        Ok::<_, ErrorObjectOwned>(json!(r.claimed.contains(&index)))
    })
    .expect("unique method");
    m.register_subscription(
        "l1_subscribeBlocks",
        "l1_block",
        "l1_unsubscribeBlocks",
        |_, pending: PendingSubscriptionSink, ctx, _| async move {
            let mut rx = ctx.finalized.subscribe();
            let sink = pending.accept().await?;
            loop {
                match rx.recv().await {
                    Ok(h) => {
                        let msg: SubscriptionMessage =
                            serde_json::value::to_raw_value(&header_json(&h))?.into();
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
        },
    )
    .expect("unique method");
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
    let server = Server::builder().set_config(config).build(addr).await?;
    let bound = server.local_addr()?;
    Ok((bound, server.start(module(ctx))))
}
