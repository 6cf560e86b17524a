//! The L1 JSON-RPC 2.0 API over HTTP and WebSocket (one port). Methods are documented in `docs/rpc.md`.
//!
//! Every parameter is untrusted: hex is parsed strictly, requests are bounded by [`MAX_REQUEST_BYTES`],
//! and failures are JSON-RPC errors with a message that says what was wrong; nothing changes on error.

use crate::chain::{decode_and_verify, Chain, SubmitError, TxStatus};
use basalt_l1::{
    midpoint, Action, Block, Dispute, DisputeResult, Game, GameEnd, Header, Move, MoveKind, Party,
    RollupParams, RollupState, Side,
};
use basalt_types::{codec::parse_hex, Decode, Encode, Hash, PublicKey};
use jsonrpsee::server::{Server, ServerConfig, ServerHandle};
use jsonrpsee::types::{ErrorObject, ErrorObjectOwned, Params};
use jsonrpsee::{PendingSubscriptionSink, RpcModule, SubscriptionMessage};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

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
    /// Encodings of the disputes last read by `l1_getDisputeBytes`.
    encoded: Mutex<EncodedDisputes>,
}

impl RpcContext {
    /// Handlers over `chain`, announcing `finalized` headers to subscribers.
    pub fn new(chain: Arc<Mutex<Chain>>, finalized: broadcast::Sender<Header>) -> Self {
        RpcContext {
            chain,
            finalized,
            encoded: Mutex::new(EncodedDisputes::default()),
        }
    }
}

/// Most dispute encodings kept for paging, and most bytes they may hold together.
const ENCODED_DISPUTES: usize = 4;
const ENCODED_DISPUTE_BYTES: usize = 64 * 1024 * 1024;

/// The encodings of recently paged disputes, each with the snapshot it encodes: a client reading a
/// dispute page by page costs one encoding, not one per page. An entry is the same dispute only
/// while state holds the same shared copy, so a dispute changed by a block is encoded afresh.
#[derive(Default)]
struct EncodedDisputes {
    entries: std::collections::VecDeque<(Arc<Dispute>, Encoded)>,
}

/// A dispute's encoding and its digest.
type Encoded = (Arc<Vec<u8>>, Hash);

impl EncodedDisputes {
    /// The encoding of `d`, made outside the cache's lock when it is not cached.
    fn of(cache: &Mutex<EncodedDisputes>, d: &Arc<Dispute>) -> Encoded {
        let lock = || cache.lock().unwrap_or_else(|p| p.into_inner());
        let cached = lock()
            .entries
            .iter()
            .find(|(e, _)| Arc::ptr_eq(e, d))
            .map(|(_, bytes)| bytes.clone());
        cached.unwrap_or_else(|| {
            let bytes = Arc::new(d.to_bytes());
            let encoded = (bytes.clone(), Dispute::hash_encoded(&bytes));
            lock().insert(d, &encoded);
            encoded
        })
    }

    fn insert(&mut self, d: &Arc<Dispute>, encoded: &Encoded) {
        if encoded.0.len() <= ENCODED_DISPUTE_BYTES {
            self.entries.push_front((d.clone(), encoded.clone()));
            let mut total = 0;
            let keep = self
                .entries
                .iter()
                .take(ENCODED_DISPUTES)
                .take_while(|(_, (b, _))| {
                    total += b.len();
                    total <= ENCODED_DISPUTE_BYTES
                })
                .count();
            self.entries.truncate(keep);
        }
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

/// A header as JSON.
pub fn header_json(h: &Header) -> Value {
    json!({
        "hash": h.hash(),
        "height": h.height,
        "parent": h.parent,
        "chainId": h.chain_id,
        "timestampMs": h.timestamp_ms,
        "proposer": h.proposer,
        "stateRoot": h.state_root,
        "txRoot": h.tx_root,
        "blobRoot": h.blob_root,
        "receiptsRoot": h.receipts_root,
        "gasUsed": h.gas_used,
        "baseFeePerGas": h.base_fee_per_gas,
        "blobBytes": h.blob_bytes,
        "blobBaseFee": h.blob_base_fee,
    })
}

fn block_json(b: &Block) -> Value {
    let txs: Vec<Value> = b
        .txs
        .iter()
        .map(|t| {
            let action = match &t.tx.action {
                Action::Transfer { to, amount } => {
                    json!({"type": "transfer", "to": to, "amount": amount.to_string()})
                }
                Action::Stake { amount } => json!({"type": "stake", "amount": amount.to_string()}),
                Action::Unstake { amount } => {
                    json!({"type": "unstake", "amount": amount.to_string()})
                }
                Action::PostBlob {
                    data,
                    max_fee_per_blob_byte,
                } => json!({
                    "type": "postBlob",
                    "blobHash": basalt_l1::blob_hash(data),
                    "bytes": data.len(),
                    "maxFeePerBlobByte": max_fee_per_blob_byte,
                }),
                Action::RegisterRollup { params } => {
                    json!({"type": "registerRollup", "params": params_json(params)})
                }
                Action::Deposit {
                    rollup,
                    account,
                    key,
                    amount,
                } => json!({
                    "type": "deposit", "rollup": rollup, "account": account, "key": key,
                    "amount": amount.to_string(),
                }),
                Action::PostBatch {
                    rollup,
                    data,
                    data_hash,
                    deposits_end,
                    max_fee_per_blob_byte,
                } => json!({
                    "type": "postBatch", "rollup": rollup, "dataHash": data_hash,
                    "bytes": data.len(), "depositsEnd": deposits_end,
                    "maxFeePerBlobByte": max_fee_per_blob_byte,
                }),
                Action::ProposeOutput {
                    rollup,
                    batch,
                    prior,
                    output,
                } => json!({
                    "type": "proposeOutput", "rollup": rollup, "batch": batch,
                    "prior": prior, "output": output,
                }),
                Action::FinalizeWithdrawal(c) => json!({
                    "type": "finalizeWithdrawal", "rollup": c.rollup, "batch": c.batch,
                    "index": c.index, "recipient": c.recipient, "amount": c.amount.to_string(),
                }),
                Action::Challenge {
                    rollup,
                    batch,
                    output,
                } => json!({
                    "type": "challenge", "rollup": rollup, "batch": batch, "output": output,
                }),
                Action::Defend {
                    rollup,
                    batch,
                    output,
                } => json!({
                    "type": "defend", "rollup": rollup, "batch": batch, "output": output,
                }),
                Action::Bisect {
                    rollup,
                    dispute,
                    game,
                    choice,
                    mid,
                    end,
                } => json!({
                    "type": "bisect", "rollup": rollup, "dispute": dispute, "game": game,
                    "choice": choice.name(), "mid": mid, "end": end,
                }),
                Action::OneStepProof {
                    rollup,
                    dispute,
                    game,
                    choice,
                    witness,
                } => json!({
                    "type": "oneStepProof", "rollup": rollup, "dispute": dispute, "game": game,
                    "choice": choice.name(), "witnessBytes": witness.len(),
                }),
            };
            json!({
                "hash": t.hash(),
                "from": t.signer,
                "nonce": t.tx.nonce,
                "maxFeePerGas": t.tx.max_fee_per_gas,
                "priorityFeePerGas": t.tx.priority_fee_per_gas,
                "bytes": t.to_bytes().len(),
                "gasLimit": t.tx.gas_limit,
                "action": action,
            })
        })
        .collect();
    json!({ "header": header_json(&b.header), "transactions": txs })
}

fn params_json(p: &RollupParams) -> Value {
    json!({
        "name": p.name,
        "kind": p.kind.name(),
        "sequencer": p.sequencer,
        "challengeWindow": p.challenge_window,
        "proposerBond": p.proposer_bond.to_string(),
        "minFee": p.min_fee.to_string(),
        "disputeClock": p.dispute_clock,
        "disputeBond": p.dispute_bond.to_string(),
        "slashRewardPercent": p.slash_reward_percent,
    })
}

/// Where a proposed output stands: `pending`, `disputed`, `settled` or `removed`.
fn output_status(r: &RollupState, proposal: u64) -> &'static str {
    let rec = &r.proposals[proposal as usize];
    if r.chain.get(rec.batch as usize) != Some(&proposal) {
        "removed"
    } else if rec.batch < r.header.settled {
        "settled"
    } else if r.dispute_over(proposal).is_some_and(|d| d.result.is_none()) {
        "disputed"
    } else {
        "pending"
    }
}

/// A proposed output as JSON, with its status and dispute.
pub fn output_json(r: &RollupState, proposal: u64) -> Value {
    let o = &r.proposals[proposal as usize];
    json!({
        "proposal": proposal, "batch": o.batch, "prior": o.prior, "output": o.output,
        "proposer": o.proposer, "bond": o.bond.to_string(), "height": o.height,
        "settlesAt": o.settles_at(r.header.params.challenge_window),
        "status": output_status(r, proposal),
        "settled": output_status(r, proposal) == "settled",
        "dispute": r.dispute_of.get(&proposal),
    })
}

fn party_json(p: &Party) -> Value {
    json!({"key": p.key, "bond": p.bond.to_string(), "active": p.active(), "lostGame": p.lost})
}

fn move_json(m: &Move) -> Value {
    let kind = match m.kind {
        MoveKind::Bisect { a, b, mid, end } => json!({
            "type": "bisect", "from": a, "to": b, "midpoint": midpoint(a, b), "mid": mid, "end": end,
        }),
        MoveKind::OneStep { step, result } => {
            json!({"type": "oneStep", "step": step, "result": result})
        }
    };
    json!({"side": m.side.name(), "height": m.height, "choice": m.choice.name(), "move": kind})
}

fn game_json(d: &Dispute, index: usize, g: &Game) -> Value {
    let end = match g.end_state {
        None => Value::Null,
        Some(GameEnd::Won {
            winner,
            reason,
            height,
        }) => json!({
            "winner": winner.name(), "reason": reason.name(), "height": height,
            "loser": d.party(winner.other(), g.player(winner.other())).key,
        }),
        Some(GameEnd::Cancelled { height }) => json!({"cancelled": true, "height": height}),
    };
    json!({
        "index": index,
        "challenger": d.party(Side::Challenger, g.challenger).key,
        "defender": d.party(Side::Defender, g.defender).key,
        "segment": {"from": g.a, "to": g.b, "start": g.start, "mid": g.mid, "end": g.end},
        "turn": g.ongoing().then(|| g.turn.name()),
        "turnSince": g.since,
        "clocks": {"challenger": g.clocks[0], "defender": g.clocks[1]},
        "moves": g.moves.iter().map(move_json).collect::<Vec<_>>(),
        "result": end,
    })
}

/// A dispute's fields and counts, without its parties or games: bounded whatever its size.
fn dispute_summary(d: &Dispute) -> Value {
    let result = d.result.map(|r| {
        let (DisputeResult::Removed { height }
        | DisputeResult::Upheld { height }
        | DisputeResult::Dropped { height }) = r;
        json!({"outcome": r.name(), "height": height})
    });
    json!({
        "id": d.id, "proposal": d.proposal, "batch": d.batch, "prior": d.prior,
        "output": d.output, "steps": d.steps, "opened": d.opened,
        "challengeUntil": d.challenge_until, "defendUntil": d.defend_until, "clock": d.clock,
        "open": d.result.is_none(), "result": result,
        "challengers": d.challengers.len(), "defenders": d.defenders.len(),
        "games": d.games.len(),
        "gamesOngoing": d.games.iter().filter(|g| g.ongoing()).count(),
    })
}

/// Dispute `id` of the rollup named by `which`.
/// A shared snapshot, taken in O(1) under the chain lock and read after it is released.
fn dispute_in(
    state: &basalt_l1::L1State,
    which: &Value,
    id: u64,
) -> Result<Arc<Dispute>, ErrorObjectOwned> {
    let r = find_rollup(which, state)?;
    r.disputes.get(id as usize).cloned().ok_or_else(|| {
        err(
            NOT_FOUND,
            format!(
                "rollup {} has {} disputes; no dispute {id}",
                r.header.id, r.header.dispute_count
            ),
        )
    })
}

fn rollup_json(r: &RollupState, head: u64) -> Value {
    let h = &r.header;
    let last_settled = h
        .settled
        .checked_sub(1)
        .map(|b| r.live_output(b).expect("settled outputs are live").1.output);
    json!({
        "id": h.id,
        "params": params_json(&h.params),
        "genesisOutput": h.genesis_output,
        "escrow": h.escrow.to_string(),
        "bonds": h.bonds.to_string(),
        "deposits": h.deposit_count,
        "batches": h.batch_count,
        "depositsEnd": h.deposits_end,
        "outputs": h.output_count,
        "proposals": h.proposal_count,
        "settled": h.settled,
        "disputes": h.dispute_count,
        "openDisputeIds": r.open.iter().collect::<Vec<_>>(),
        "lastSettledOutput": last_settled,
        "claims": h.claim_count,
        "height": head,
    })
}

/// Most items one list request returns.
pub const MAX_LIST_ITEMS: u64 = 1_000;
/// Most games one `l1_getDispute` returns; `gamesFrom` pages through the rest.
pub const MAX_GAMES_PER_PAGE: u64 = 256;
/// Most bytes of a dispute's encoding one `l1_getDisputeBytes` returns.
pub const DISPUTE_BYTES_PER_PAGE: usize = 1024 * 1024;

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
    m.register_method("l1_getRollupDeposits", |params, ctx, _| {
        let chain = crate::chain::lock(&ctx.chain);
        let (r, from, limit) = rollup_range(&params, chain.state())?;
        Ok::<_, ErrorObjectOwned>(page(&r.deposits, from, limit, |i, d| {
            json!({
                "index": i, "account": d.entry.account, "key": d.entry.key,
                "amount": d.entry.amount.to_string(),
                "sender": d.sender, "height": d.height,
            })
        }))
    })
    .expect("unique method");
    m.register_method("l1_getRollupBatches", |params, ctx, _| {
        let chain = crate::chain::lock(&ctx.chain);
        let (r, from, limit) = rollup_range(&params, chain.state())?;
        Ok::<_, ErrorObjectOwned>(page(&r.batches, from, limit, |i, b| {
            json!({
                "index": i, "dataHash": b.data_hash, "depositsEnd": b.deposits_end,
                "height": b.height, "rawBytes": b.raw_len, "txCount": b.tx_count,
            })
        }))
    })
    .expect("unique method");
    m.register_method("l1_getRollupOutputs", |params, ctx, _| {
        let chain = crate::chain::lock(&ctx.chain);
        let (r, from, limit) = rollup_range(&params, chain.state())?;
        Ok::<_, ErrorObjectOwned>(page(&r.chain, from, limit, |_, p| output_json(r, *p)))
    })
    .expect("unique method");
    m.register_method("l1_getOutput", |params, ctx, _| {
        let (which, proposal): (Value, u64) = params
            .parse()
            .map_err(|_| invalid("expected [rollup id or name, proposal id]"))?;
        let chain = crate::chain::lock(&ctx.chain);
        let r = find_rollup(&which, chain.state())?;
        if proposal >= r.header.proposal_count {
            return Err(err(
                NOT_FOUND,
                format!(
                    "rollup {} has {} proposals; no proposal {proposal}",
                    r.header.id, r.header.proposal_count
                ),
            ));
        }
        Ok(output_json(r, proposal))
    })
    .expect("unique method");
    m.register_method("l1_getDispute", |params, ctx, _| {
        let usage = || {
            invalid("expected [rollup id or name, dispute id, optional first game, optional game limit (at most 256)]")
        };
        let mut seq = params.sequence();
        let which: Value = seq.next().map_err(|_| usage())?;
        let id: u64 = seq.next().map_err(|_| usage())?;
        let from: Option<u64> = seq.optional_next().map_err(|_| usage())?;
        let limit: Option<u64> = seq.optional_next().map_err(|_| usage())?;
        let limit = limit.unwrap_or(MAX_GAMES_PER_PAGE);
        if limit == 0 || limit > MAX_GAMES_PER_PAGE {
            return Err(invalid("game limit must be 1 to 256"));
        }
        let from = from.unwrap_or(0) as usize;
        let range = from..from.saturating_add(limit as usize);
        // A snapshot under the lock; the bounded page is rendered after it is released.
        let d = dispute_in(crate::chain::lock(&ctx.chain).state(), &which, id)?;
        let page = &d.games[range.start.min(d.games.len())..range.end.min(d.games.len())];
        let mut v = dispute_summary(&d);
        v["challengers"] = d.challengers.iter().map(party_json).collect();
        v["defenders"] = d.defenders.iter().map(party_json).collect();
        v["gamesFrom"] = json!(range.start);
        v["gameList"] = page
            .iter()
            .enumerate()
            .map(|(i, g)| game_json(&d, range.start + i, g))
            .collect();
        Ok::<_, ErrorObjectOwned>(v)
    })
    .expect("unique method");
    m.register_method("l1_getDisputeBytes", |params, ctx, _| {
        let usage = || invalid("expected [rollup id or name, dispute id, optional byte offset]");
        let mut seq = params.sequence();
        let which: Value = seq.next().map_err(|_| usage())?;
        let id: u64 = seq.next().map_err(|_| usage())?;
        let offset: Option<u64> = seq.optional_next().map_err(|_| usage())?;
        // A snapshot under the chain lock; encoded (once per snapshot) after it is released.
        let d = dispute_in(crate::chain::lock(&ctx.chain).state(), &which, id)?;
        let (bytes, hash) = EncodedDisputes::of(&ctx.encoded, &d);
        let start = (offset.unwrap_or(0) as usize).min(bytes.len());
        let end = start
            .saturating_add(DISPUTE_BYTES_PER_PAGE)
            .min(bytes.len());
        Ok::<_, ErrorObjectOwned>(json!({
            "total": bytes.len(),
            "hash": hash,
            "offset": start,
            "data": format!("0x{}", hex::encode(&bytes[start..end])),
        }))
    })
    .expect("unique method");
    m.register_method("l1_listDisputes", |params, ctx, _| {
        // Summaries only (no parties, no games), so a page stays small however large each is.
        let page = {
            let chain = crate::chain::lock(&ctx.chain);
            let (r, from, limit) = rollup_range(&params, chain.state())?;
            let start = (from as usize).min(r.disputes.len());
            let end = (from.saturating_add(limit) as usize).min(r.disputes.len());
            r.disputes[start..end]
                .iter()
                .map(|d| dispute_summary(d))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn dispute(id: u64) -> Arc<Dispute> {
        let record = basalt_l1::OutputRecord {
            batch: 0,
            prior: Hash([1; 32]),
            output: Hash([2; 32]),
            proposer: basalt_types::dev_keypair("rpc", 0).public(),
            bond: 1,
            height: 1,
        };
        Arc::new(Dispute::open(id, 0, &record, 10, 2, 4, 4))
    }

    #[test]
    fn paging_a_dispute_encodes_each_snapshot_once_and_keeps_few() {
        let cache = Mutex::new(EncodedDisputes::default());
        let d = dispute(0);
        let (first, hash) = EncodedDisputes::of(&cache, &d);
        assert_eq!(*first, d.to_bytes());
        assert_eq!(hash, d.hash());
        let again = EncodedDisputes::of(&cache, &d).0;
        assert!(Arc::ptr_eq(&first, &again), "cached");
        // An equal dispute in another snapshot (a block rewrote it) is encoded afresh.
        let rewritten = Arc::new(Dispute::clone(&d));
        let fresh = EncodedDisputes::of(&cache, &rewritten).0;
        assert!(!Arc::ptr_eq(&first, &fresh));
        for id in 1..10 {
            EncodedDisputes::of(&cache, &dispute(id));
        }
        assert_eq!(cache.lock().unwrap().entries.len(), ENCODED_DISPUTES);
    }
}
