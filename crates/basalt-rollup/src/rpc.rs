//! The L2 JSON-RPC API of a rollup node (HTTP and WebSocket on one port), documented in
//! `docs/rpc.md`. Every parameter is untrusted: sizes are bounded, hex is parsed strictly, and a
//! refusal is a JSON-RPC error that says why and changes nothing.

use crate::node::{lock, Core, L1View, Posting, Role, Shared};
use crate::L2Block;
use basalt_l2::{L2State, L2Tx, Profile, MAX_L2_TX_BYTES};
use basalt_types::{codec::parse_hex, Decode, Encode, Hash};
use jsonrpsee::server::{BatchRequestConfig, Server, ServerConfig, ServerHandle};
use jsonrpsee::types::{ErrorObject, ErrorObjectOwned, Params};
use jsonrpsee::{PendingSubscriptionSink, RpcModule, SubscriptionMessage};
use serde_json::{json, Value};
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

/// Error code: invalid parameters.
pub const INVALID_PARAMS: i32 = -32602;
/// Error code: the transaction was refused.
pub const TX_REJECTED: i32 = -32000;
/// Error code: no such thing.
pub const NOT_FOUND: i32 = -32001;
/// Error code: this node does not do that (a verifier asked to sequence).
pub const UNSUPPORTED: i32 = -32002;

pub(crate) fn err(code: i32, msg: impl Into<String>) -> ErrorObjectOwned {
    ErrorObject::owned(code, msg.into(), None::<()>)
}

pub(crate) fn invalid(msg: impl Into<String>) -> ErrorObjectOwned {
    err(INVALID_PARAMS, msg)
}

/// A transaction as JSON.
pub fn tx_json<P: Profile>(tx: &L2Tx<P>) -> Value {
    let mut v = match tx {
        L2Tx::Deposit { index } => json!({"type": "deposit", "index": index}),
        L2Tx::Transfer {
            from,
            to,
            amount,
            fee,
            nonce,
            ..
        } => json!({
            "type": "transfer", "from": from, "to": to, "amount": amount.to_string(),
            "fee": fee.to_string(), "nonce": nonce,
        }),
        L2Tx::Withdraw {
            from,
            recipient,
            amount,
            fee,
            nonce,
            ..
        } => json!({
            "type": "withdraw", "from": from, "recipient": recipient,
            "amount": amount.to_string(), "fee": fee.to_string(), "nonce": nonce,
        }),
    };
    v["hash"] = json!(tx.hash());
    v
}

/// A block as JSON, with its transactions.
pub fn block_json<P: Profile>(b: &L2Block<P>) -> Value {
    let txs: Vec<Value> = b.txs.iter().map(tx_json).collect();
    json!({
        "number": b.number,
        "timestampMs": b.timestamp_ms,
        "output": hex_of(&b.output),
        "transactions": txs,
    })
}

/// The status of a transaction with sequence number `sequence`, from what the L1 shows.
fn finality(view: &L1View, sequence: u64, out: &mut Value) -> &'static str {
    if let Some(batch) = view.derivation.batch_of(sequence) {
        out["batch"] = json!(batch);
        out["l1Height"] = json!(view.batch_heights.get(batch as usize));
        if let Some(o) = view.proposal_for(batch) {
            out["settlesBy"] = json!(o.bound);
        }
        return if view.settled(batch) {
            "settled"
        } else {
            "l1_final"
        };
    }
    in_flight_finality(&view.in_flight, sequence, out)
}

/// `posted` if one of this node's batches in flight holds transaction `sequence` and is in an L1
/// block (its height in `out`), else `soft`.
pub(crate) fn in_flight_finality(
    in_flight: &[crate::node::Pending],
    sequence: u64,
    out: &mut Value,
) -> &'static str {
    for f in in_flight {
        if let Posting::Batch { from, to, .. } = f.what {
            if (from..to).contains(&sequence) && !f.failed {
                if let Some(h) = f.included_at {
                    out["l1Height"] = json!(h);
                    return "posted";
                }
            }
        }
    }
    "soft"
}

fn parse_tx<P: Profile>(hex: &str) -> Result<L2Tx<P>, ErrorObjectOwned> {
    if hex.len() > 2 + 2 * MAX_L2_TX_BYTES {
        return Err(invalid(format!(
            "transaction longer than {MAX_L2_TX_BYTES} bytes"
        )));
    }
    let bytes = parse_hex(hex).map_err(|_| invalid("transaction must be hex"))?;
    let tx = L2Tx::<P>::decode_untrusted(&bytes)
        .map_err(|e| invalid(format!("undecodable L2 transaction: {e}")))?;
    if matches!(tx, L2Tx::Deposit { .. }) {
        return Err(invalid(
            "deposits come from the L1 queue: use an L1 Deposit (`basalt wallet deposit`)",
        ));
    }
    Ok(tx)
}

/// Status of a transaction: pending, soft, posted, l1_final, settled or failed.
fn tx_status<N: L2Node>(shared: &N, hash: &Hash) -> Value {
    let mut out = json!({"hash": hash});
    let position = shared.seq.as_ref().and_then(|s| lock(s).position(hash));
    if let Some(p) = position {
        out["block"] = json!(p.block);
        out["sequence"] = json!(p.sequence);
        if let Some(w) = p.withdrawal {
            out["withdrawalIndex"] = json!(w);
        }
        let status = shared.finality(p.sequence, &mut out);
        status_or_failure(&mut out, status, p.failure);
        return out;
    }
    if let Some(t) = shared.derived_tx(hash) {
        out["sequence"] = json!(t.sequence);
        if let Some(w) = t.withdrawal {
            out["withdrawalIndex"] = json!(w);
        }
        let status = shared.finality(t.sequence, &mut out);
        status_or_failure(&mut out, status, t.failure);
        return out;
    }
    let q = lock(&shared.queue);
    if let Some(why) = q.refused.get(hash) {
        out["status"] = json!("failed");
        out["reason"] = json!(why.to_string());
    } else if q.hashes.contains(hash) {
        out["status"] = json!("pending");
    } else {
        out["status"] = json!("unknown");
    }
    out
}

/// Sets `status`, or `failed` with the reason for a transaction confirmed as a no-op (a forced
/// one, whose queue place is consumed whatever it does); its finality stays in the other fields.
fn status_or_failure(out: &mut Value, status: &str, failure: Option<basalt_l2::TxFailure>) {
    match failure {
        Some(why) => {
            out["status"] = json!("failed");
            out["reason"] = json!(why.to_string());
        }
        None => out["status"] = json!(status),
    }
}

fn account_json<P: Profile>(index: u32, a: &basalt_l2::Account<P>) -> Value {
    json!({"index": index, "key": hex_of(&a.key), "balance": a.balance.to_string(), "nonce": a.nonce})
}

fn get_account<N: L2Node>(shared: &N, which: &Value) -> Result<Value, ErrorObjectOwned> {
    let (mut out, at) = match &shared.seq {
        Some(s) => {
            let seq = lock(s);
            let mut out = account_in(seq.state(), which)?;
            let index = out["index"].as_u64().unwrap_or_default() as u32;
            // The nonce its next transaction must carry, after those still queued.
            out["pendingNonce"] = json!(lock(&shared.queue).next_nonce(index, seq.state()));
            (out, "soft")
        }
        None => (
            shared.with_derived(|state| account_in(state, which))?,
            "l1_final",
        ),
    };
    out["at"] = json!(at);
    Ok(out)
}

/// Account `which` (an index, or the first account of a key) in `state`.
fn account_in<P: Profile>(state: &L2State<P>, which: &Value) -> Result<Value, ErrorObjectOwned> {
    Ok(match which {
        Value::Number(n) => {
            let index = n
                .as_u64()
                .and_then(|i| u32::try_from(i).ok())
                .ok_or_else(|| invalid("account index must be a u32"))?;
            let a = state
                .get(index)
                .ok_or_else(|| err(NOT_FOUND, format!("no L2 account {index}")))?;
            account_json(index, a)
        }
        Value::String(s) => {
            let key = parse_hex(s)
                .ok()
                .and_then(|b| P::PublicKey::from_bytes(&b).ok())
                .ok_or_else(|| invalid("key must be a 32-byte L2 key in hex"))?;
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
                    format!("no L2 account for key {s}: a deposit to it opens one"),
                )
            })?;
            let mut v = account_json(first, &state.accounts()[first as usize]);
            v["indices"] = json!(owned);
            v
        }
        _ => {
            return Err(invalid(
                "expected an account index (number) or a key (hex string)",
            ))
        }
    })
}

fn withdrawal_proof<N: L2Node>(shared: &N, which: &Value) -> Result<Value, ErrorObjectOwned> {
    let index = match which {
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| invalid("withdrawal index must be a non-negative integer"))?,
        Value::String(s) => {
            let hash = Hash::from_hex(s)
                .map_err(|_| invalid("expected a withdrawal index or a transaction hash"))?;
            let status = tx_status(shared, &hash);
            status["withdrawalIndex"].as_u64().ok_or_else(|| {
                err(
                    NOT_FOUND,
                    format!("transaction {hash} is not an applied withdrawal known to this node"),
                )
            })?
        }
        _ => return Err(invalid("expected a withdrawal index or a transaction hash")),
    };
    shared.withdrawal_proof(index)
}

/// The hex of a digest's or key's canonical bytes (how hashes and keys appear in JSON).
pub(crate) fn hex_of(x: &impl Encode) -> String {
    format!("0x{}", hex::encode(x.to_bytes()))
}

/// What the L2 RPC asks of a node beyond its [`Core`]: what its kind derives from the L1.
pub(crate) trait L2Node:
    std::ops::Deref<Target = Core<Self::P>> + Send + Sync + 'static
{
    /// The rollup's profile.
    type P: Profile;

    /// Where confirmed transaction `sequence` stands on L1 (fills its batch and heights in `out`):
    /// `soft`, `posted`, `l1_final`, `proven` or `settled`.
    fn finality(&self, sequence: u64, out: &mut Value) -> &'static str;

    /// A transaction known from the L1's data alone.
    fn derived_tx(&self, hash: &Hash) -> Option<crate::derive::PostedTx>;

    /// Calls `f` on the state derived from the L1.
    fn with_derived<R>(&self, f: impl FnOnce(&L2State<Self::P>) -> R) -> R;

    /// The claim of withdrawal `index`, or why it is not ready.
    fn withdrawal_proof(&self, index: u64) -> Result<Value, ErrorObjectOwned>;

    /// `l2_chainInfo`.
    fn chain_info(&self) -> Value;
}

impl L2Node for Shared {
    type P = basalt_l2::Optimistic;

    fn finality(&self, sequence: u64, out: &mut Value) -> &'static str {
        finality(&lock(&self.view), sequence, out)
    }

    fn derived_tx(&self, hash: &Hash) -> Option<crate::derive::PostedTx> {
        lock(&self.view).derivation.tx(hash)
    }

    fn with_derived<R>(&self, f: impl FnOnce(&L2State<Self::P>) -> R) -> R {
        f(lock(&self.view).derivation.state())
    }

    fn withdrawal_proof(&self, index: u64) -> Result<Value, ErrorObjectOwned> {
        let view = lock(&self.view);
        let d = &view.derivation;
        let Some(batch) = d.batch_with_withdrawal(index) else {
            return Ok(json!({
                "ready": false, "index": index,
                "reason": "not in a batch final on L1 yet",
            }));
        };
        let settled = view.rollup.settled;
        if settled <= batch {
            let o = view.proposal_for(batch);
            return Ok(json!({
                "ready": false, "index": index, "batch": batch,
                "reason": match o {
                    Some(_) => "the output of its batch has not settled yet",
                    None => "no output proposed for its batch yet",
                },
                "settlesBy": o.map(|o| o.bound),
                "l1Height": view.rollup.height,
            }));
        }
        // Prove against the newest settled output: it contains every older withdrawal too.
        let claim = d
            .withdrawal_claim(self.id, settled - 1, index)
            .ok_or_else(|| err(NOT_FOUND, format!("no withdrawal {index}")))?;
        Ok(ready_claim_json(&claim))
    }

    fn chain_info(&self) -> Value {
        chain_info(self)
    }
}

/// `l2_getWithdrawalProof`'s answer for a claim that is ready.
pub(crate) fn ready_claim_json(claim: &basalt_l1::WithdrawalClaim) -> Value {
    json!({
        "ready": true,
        "index": claim.index,
        "claim": {
            "rollup": claim.rollup,
            "batch": claim.batch,
            "stateRoot": claim.state_root,
            "withdrawalsTreeRoot": claim.withdrawals_tree_root,
            "withdrawalCount": claim.withdrawal_count,
            "index": claim.index,
            "recipient": claim.recipient,
            "amount": claim.amount.to_string(),
            "proof": claim.proof,
        },
    })
}

/// The node's own L1 transactions not yet released, as JSON.
pub(crate) fn in_flight_json(pending: &[crate::node::Pending]) -> Vec<Value> {
    pending
        .iter()
        .map(|f| {
            let what = match f.what {
                Posting::Batch {
                    index, from, to, ..
                } => {
                    json!({"type": "batch", "batch": index, "fromTx": from, "toTx": to})
                }
                Posting::Output { batch } => json!({"type": "output", "batch": batch}),
                Posting::Proof { batch } => json!({"type": "proof", "batch": batch}),
                Posting::Dispute { batch, what } => {
                    json!({"type": "dispute", "batch": batch, "action": what})
                }
                Posting::Filler => json!({"type": "filler"}),
            };
            json!({"hash": f.hash, "what": what, "includedAt": f.included_at, "failed": f.failed})
        })
        .collect()
}

fn chain_info(shared: &Shared) -> Value {
    let halted = lock(&shared.halted).clone();
    let soft = shared.seq.as_ref().map(|s| {
        let s = lock(s);
        let c = s.state().commitment();
        json!({
            "blocks": s.blocks().len(),
            "transactions": s.next_sequence(),
            "accounts": c.account_count,
            "depositsApplied": c.next_deposit,
            "output": c.output(),
        })
    });
    let pending = lock(&shared.queue).len();
    // Before the view's lock: the fees take the sequencer's and the queue's.
    let fees = crate::rpc_fee::fees_json(&shared.core);
    let view = lock(&shared.view);
    let d = &view.derivation;
    let r = &view.rollup;
    let mismatches: Vec<Value> = view
        .outputs
        .iter()
        .filter(|o| o.info.status != "removed")
        .filter_map(|o| match o.verdict {
            crate::Verdict::Mismatch { derived } => Some(json!({
                "batch": o.info.batch, "proposed": o.info.output, "derived": derived,
                "proposal": o.info.proposal, "proposer": o.info.proposer,
                "resolvesBy": o.info.bound,
            })),
            _ => None,
        })
        .collect();
    let in_flight = in_flight_json(&view.in_flight);
    json!({
        "rollupId": shared.id,
        "name": r.params.name,
        "kind": r.params.kind,
        "role": match shared.role { Role::Sequencer => "sequencer", Role::Verifier => "verifier" },
        "sequencer": r.params.sequencer,
        "minFee": r.params.min_fee.to_string(),
        "fees": fees,
        "challengeWindow": r.params.challenge_window,
        "proposerBond": r.params.proposer_bond.to_string(),
        "l1Rpc": shared.l1_url,
        "l1Height": r.height,
        "l1Error": view.last_error,
        "soft": soft,
        "pending": pending,
        "halted": halted,
        "derived": {
            "batches": d.batches(),
            "transactions": d.txs_in_first(d.batches()),
            "depositsKnown": d.deposits_known(),
            "output": d.batches().checked_sub(1).and_then(|b| d.output(b)),
        },
        "l1": {
            "escrow": r.escrow.to_string(),
            "deposits": r.deposits,
            "batches": r.batches,
            "proposals": r.proposals,
            "settled": r.settled,
            "unresolved": r.unresolved,
            "disputeBound": r.dispute_bound,
            "withdrawalsPaid": r.withdrawals_paid,
        },
        "mismatches": mismatches,
        "inFlight": in_flight,
    })
}

/// Builds the RPC module.
pub(crate) fn module<N: L2Node>(shared: Arc<N>) -> RpcModule<Arc<N>> {
    let mut m = RpcModule::new(shared);
    m.register_method("l2_chainInfo", |_, s, _| {
        Ok::<_, ErrorObjectOwned>(s.chain_info())
    })
    .expect("unique method");
    m.register_async_method(
        "l2_sendTransaction",
        |params: Params<'static>, s, _| async move {
            let usage =
                || invalid("expected [hex-encoded signed L2 transaction, optional wait (bool)]");
            let mut seq_params = params.sequence();
            let hex: String = seq_params.next().map_err(|_| usage())?;
            let wait: Option<bool> = seq_params.optional_next().map_err(|_| usage())?;
            let tx = parse_tx::<N::P>(&hex)?;
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
            let known = tx_status(&**s, &hash);
            if known["status"] != "unknown" && known["status"] != "failed" {
                return Err(err(
                    TX_REJECTED,
                    format!("transaction {hash} is already known ({})", known["status"]),
                ));
            }
            // Subscribe before queueing so the block that holds it cannot be missed.
            let mut blocks = s.blocks.subscribe();
            crate::node::admit(&s, tx)
                .await
                .map_err(|why| err(TX_REJECTED, why))?;
            if wait != Some(true) {
                return Ok(json!({"hash": hash, "status": "pending"}));
            }
            let deadline = tokio::time::Instant::now() + WAIT_FOR_BLOCK;
            loop {
                let status = tx_status(&**s, &hash);
                match status["status"].as_str() {
                    Some("failed") => {
                        return Err(err(
                            TX_REJECTED,
                            format!("refused: {}", status["reason"].as_str().unwrap_or("?")),
                        ))
                    }
                    Some("pending") => {}
                    _ => return Ok(status),
                }
                match tokio::time::timeout_at(deadline, blocks.recv()).await {
                    Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
                    Ok(Err(broadcast::error::RecvError::Closed)) | Err(_) => {
                        return Ok(tx_status(&**s, &hash))
                    }
                }
            }
        },
    )
    .expect("unique method");
    m.register_method("l2_estimateFee", |params, s, _| {
        let (query,): (crate::rpc_fee::FeeQuery,) = params.parse().map_err(|e| {
            invalid(format!(
                "expected one object: {{\"kind\": \"transfer\" or \"withdraw\", and \
                 optionally from, to, recipient, amount, nonce}} ({e})"
            ))
        })?;
        crate::rpc_fee::estimate_fee(&**s, &query)
    })
    .expect("unique method");
    m.register_method("l2_getTransaction", |params, s, _| {
        let (h,): (String,) = params
            .parse()
            .map_err(|_| invalid("expected one string parameter: transaction hash"))?;
        let hash = Hash::from_hex(&h)
            .map_err(|_| invalid("hash must be 32 bytes of hex (0x + 64 hex digits)"))?;
        Ok::<_, ErrorObjectOwned>(tx_status(&**s, &hash))
    })
    .expect("unique method");
    m.register_method("l2_getAccount", |params, s, _| {
        let (which,): (Value,) = params
            .parse()
            .map_err(|_| invalid("expected one parameter: account index or key"))?;
        get_account(&**s, &which)
    })
    .expect("unique method");
    m.register_method("l2_getBlock", |params, s, _| {
        let (which,): (Value,) = params
            .parse()
            .map_err(|_| invalid("expected one parameter: a block number or \"latest\""))?;
        let Some(seq) = &s.seq else {
            return Err(err(
                UNSUPPORTED,
                "this node is a verifier: it sees batches on L1, not the sequencer's blocks",
            ));
        };
        let seq = lock(seq);
        let number = match &which {
            Value::String(x) if x == "latest" => seq.blocks().len() as u64,
            Value::Number(n) => n
                .as_u64()
                .ok_or_else(|| invalid("block number must be a non-negative integer"))?,
            _ => return Err(invalid("expected a block number or \"latest\"")),
        };
        let b = seq.block(number).ok_or_else(|| {
            err(
                NOT_FOUND,
                format!("no block {number} (the newest is {})", seq.blocks().len()),
            )
        })?;
        Ok(block_json(b))
    })
    .expect("unique method");
    m.register_method("l2_getWithdrawalProof", |params, s, _| {
        let (which,): (Value,) = params.parse().map_err(|_| {
            invalid(
                "expected one parameter: a withdrawal index or the withdrawal's transaction hash",
            )
        })?;
        withdrawal_proof(&**s, &which)
    })
    .expect("unique method");
    m.register_subscription(
        "l2_subscribeBlocks",
        "l2_block",
        "l2_unsubscribeBlocks",
        |_, pending: PendingSubscriptionSink, s, _| async move {
            if s.seq.is_none() {
                pending
                    .reject(err(
                        UNSUPPORTED,
                        "this node is a verifier: it makes no blocks",
                    ))
                    .await;
                return Ok(());
            }
            let mut rx = s.blocks.subscribe();
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
        },
    )
    .expect("unique method");
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
    let server = Server::builder().set_config(config).build(addr).await?;
    let bound = server.local_addr()?;
    Ok((bound, server.start(module(shared))))
}
