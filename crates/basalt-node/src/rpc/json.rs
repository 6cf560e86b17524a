//! How RPC renders blocks, rollups, outputs and disputes as JSON.

use super::*;

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

pub(super) fn block_json(b: &Block) -> Value {
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

pub(super) fn params_json(p: &RollupParams) -> Value {
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
pub(super) fn output_status(r: &RollupState, proposal: u64) -> &'static str {
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

pub(super) fn party_json(p: &Party) -> Value {
    json!({"key": p.key, "bond": p.bond.to_string(), "active": p.active(), "lostGame": p.lost})
}

pub(super) fn move_json(m: &Move) -> Value {
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

pub(super) fn game_json(d: &Dispute, index: usize, g: &Game) -> Value {
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
pub(super) fn dispute_summary(d: &Dispute) -> Value {
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

pub(super) fn rollup_json(r: &RollupState, head: u64) -> Value {
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
