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
                    index,
                    data,
                    data_hash,
                    deposits_end,
                    max_fee_per_blob_byte,
                } => json!({
                    "type": "postBatch", "rollup": rollup, "index": index, "dataHash": data_hash,
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
                Action::Counter {
                    rollup,
                    proposal,
                    parent,
                    attack,
                    value,
                } => json!({
                    "type": "counter", "rollup": rollup, "proposal": proposal, "parent": parent,
                    "move": if *attack { "attack" } else { "defend" }, "value": value,
                }),
                Action::Step {
                    rollup,
                    proposal,
                    leaf,
                    attack,
                    witness,
                } => json!({
                    "type": "step", "rollup": rollup, "proposal": proposal, "leaf": leaf,
                    "move": if *attack { "attack" } else { "defend" },
                    "witnessBytes": witness.len(),
                }),
                Action::ProveBatch {
                    rollup,
                    batch,
                    output,
                    proof,
                } => json!({
                    "type": "proveBatch", "rollup": rollup, "batch": batch, "output": output,
                    "proofBytes": proof.len(),
                }),
                Action::RevertBatches { rollup, from } => json!({
                    "type": "revertBatches", "rollup": rollup, "from": from,
                }),
                Action::Exit(c) => json!({
                    "type": "exit", "rollup": c.rollup, "account": c.index,
                    "amount": c.balance.to_string(), "recipient": c.recipient,
                }),
                Action::ForceInclude { rollup, key, tx } => json!({
                    "type": "forceInclude", "rollup": rollup, "key": key, "txBytes": tx.len(),
                }),
                Action::RefundDeposit { rollup, index, .. } => json!({
                    "type": "refundDeposit", "rollup": rollup, "index": index,
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
        "clockExtension": p.clock_extension,
        "disputeBond": p.dispute_bond.to_string(),
        "slashRewardPercent": p.slash_reward_percent,
        "forceInclusionBlocks": p.force_inclusion_blocks,
        "escapeBlocks": p.escape_blocks,
        "feeModel": p.fee_model,
        "zk": p.kind.zk().map(|z| json!({
            "feeKey": format!("0x{}", hex::encode(z.fee_key.to_bytes())),
            "slots": z.slots,
            "verifyingKeyHash": z.verifying_key_hash(),
            "verifyingKeyBytes": z.verifying_key.len(),
        })),
    })
}

/// A proposed output as JSON, with where it stands and its dispute's summary.
pub fn output_json(r: &RollupState, proposal: u64) -> Value {
    let o = &r.proposals[proposal as usize];
    let mut v = json!({
        "proposal": proposal, "batch": o.batch, "prior": o.prior, "output": o.output,
        "proposer": o.proposer, "bond": o.bond.to_string(), "height": o.height,
        "status": r.proposal_status(proposal),
        "settled": r.proposal_status(proposal) == "settled",
    });
    // A ZK rollup's outputs are proven (or reverted), never disputed.
    if let Some(d) = r.disputes.get(proposal as usize) {
        v["resolvesAt"] = json!(d.resolvable_at);
        v["claims"] = json!(d.claims);
        v["bound"] = json!(o.height + d.rules.bound());
    } else {
        v["proven"] = json!(o.prior != o.output);
    }
    v
}

/// A dispute's record: its rules, claim count and digest, resolution; bounded whatever its size.
pub(super) fn dispute_json(d: &Dispute) -> Value {
    let result = d
        .result
        .map(|r| json!({"outcome": r.name(), "height": r.height()}));
    json!({
        "proposal": d.proposal, "batch": d.batch,
        "prior": d.rules.prior, "steps": d.rules.steps, "depth": d.rules.depth,
        "maxClock": d.rules.max_clock, "clockExtension": d.rules.extension,
        "bound": d.rules.bound(),
        "claims": d.claims, "claimsDigest": d.claims_digest,
        "resolvesAt": d.resolvable_at,
        "open": d.result.is_none(), "result": result,
    })
}

/// A claim as JSON, with its consensus encoding (`data`), which clients decode.
pub(super) fn claim_json(index: u64, c: &Claim) -> Value {
    json!({
        "index": index, "parent": c.parent, "position": c.position, "value": c.value,
        "claimant": c.claimant, "bond": c.bond.to_string(), "created": c.created,
        "clock": c.clock, "data": format!("0x{}", hex::encode(c.to_bytes())),
    })
}

pub(super) fn rollup_json(r: &RollupState, head: u64) -> Value {
    let h = &r.header;
    let last_settled = h
        .settled
        .checked_sub(1)
        .and_then(|b| r.settled_output(b))
        .map(|(_, o)| o.output);
    json!({
        "id": h.id,
        "params": params_json(&h.params),
        "genesisOutput": h.genesis_output,
        "escrow": h.escrow.to_string(),
        "bonds": h.bonds.to_string(),
        "deposits": h.deposit_count,
        "batches": h.batch_count,
        "depositsEnd": h.deposits_end,
        "proposals": h.proposal_count,
        "settled": h.settled,
        "claimTotal": h.claim_total,
        "unresolved": r.open.len(),
        "oldestOpenBatch": r.oldest_open_batch(),
        "firstUnresolved": r.open.iter().take(MAX_LIST_ITEMS as usize).collect::<Vec<_>>(),
        "disputeBound": h.params.dispute_horizon(),
        "disputeBoundRule": "2 * challengeWindow + 16 * clockExtension blocks from a proposal to its resolution, whatever the number of adversaries",
        "lastSettledOutput": last_settled,
        "withdrawalsPaid": h.claim_count - h.exit_count - h.refund_count,
        "settledAt": h.settled_at,
        "frozenFrom": r.frozen_from(),
        "frozen": r.frozen_from().is_some_and(|at| head + 1 >= at),
        "exits": h.exit_count,
        "refunds": h.refund_count,
        "height": head,
    })
}

/// A rollup's risk view ([`basalt_l1::rollup_risk`]) as JSON.
pub(super) fn risk_json(r: &RollupState, l1: &basalt_l1::Params) -> Value {
    let p = &r.header.params;
    let risk = basalt_l1::rollup_risk(p, l1);
    json!({
        "id": r.header.id,
        "name": p.name,
        "kind": p.kind.name(),
        "stage": risk.stage,
        "nextRequirement": risk.next_requirement,
        "unmet": risk.unmet.iter().map(|(stage, why)| json!({"stage": stage, "requirement": why})).collect::<Vec<_>>(),
        "categories": risk.categories.iter().map(|c| json!({
            "id": c.id, "level": c.level.name(), "summary": c.summary,
        })).collect::<Vec<_>>(),
    })
}
