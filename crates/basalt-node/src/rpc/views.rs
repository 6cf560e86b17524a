//! How RPC shows blocks, rollups, outputs and disputes: the L1's records as the API's types.

use super::*;
use basalt_l1::{Block, DepositRecord, Dispute, RollupParams};
use basalt_types::Encode;

/// A header as the API shows it.
pub fn header_info(h: &Header) -> HeaderInfo {
    HeaderInfo {
        hash: h.hash(),
        height: h.height,
        parent: h.parent,
        chain_id: h.chain_id,
        timestamp_ms: h.timestamp_ms,
        proposer: h.proposer,
        state_root: h.state_root,
        tx_root: h.tx_root,
        blob_root: h.blob_root,
        receipts_root: h.receipts_root,
        gas_used: h.gas_used,
        base_fee_per_gas: h.base_fee_per_gas,
        blob_bytes: h.blob_bytes,
        blob_base_fee: h.blob_base_fee,
    }
}

/// An action as a block shows it: large payloads by size and hash.
fn action_info(a: &Action) -> ActionInfo {
    match a {
        Action::Transfer { to, amount } => ActionInfo::Transfer {
            to: *to,
            amount: *amount,
        },
        Action::Stake { amount } => ActionInfo::Stake { amount: *amount },
        Action::Unstake { amount } => ActionInfo::Unstake { amount: *amount },
        Action::PostBlob {
            data,
            max_fee_per_blob_byte,
        } => ActionInfo::PostBlob {
            blob_hash: basalt_l1::blob_hash(data),
            bytes: data.len() as u64,
            max_fee_per_blob_byte: *max_fee_per_blob_byte,
        },
        Action::RegisterRollup { params } => ActionInfo::RegisterRollup {
            params: params_info(params),
        },
        Action::Deposit {
            rollup,
            account,
            key,
            amount,
        } => ActionInfo::Deposit {
            rollup: *rollup,
            account: *account,
            key: *key,
            amount: *amount,
        },
        Action::PostBatch {
            rollup,
            index,
            data,
            data_hash,
            deposits_end,
            max_fee_per_blob_byte,
        } => ActionInfo::PostBatch {
            rollup: *rollup,
            index: *index,
            data_hash: *data_hash,
            bytes: data.len() as u64,
            deposits_end: *deposits_end,
            max_fee_per_blob_byte: *max_fee_per_blob_byte,
        },
        Action::ProposeOutput {
            rollup,
            batch,
            prior,
            output,
        } => ActionInfo::ProposeOutput {
            rollup: *rollup,
            batch: *batch,
            prior: *prior,
            output: *output,
        },
        Action::FinalizeWithdrawal(c) => ActionInfo::FinalizeWithdrawal {
            rollup: c.rollup,
            batch: c.batch,
            index: c.index,
            recipient: c.recipient,
            amount: c.amount,
        },
        Action::Counter {
            rollup,
            proposal,
            parent,
            attack,
            value,
        } => ActionInfo::Counter {
            rollup: *rollup,
            proposal: *proposal,
            parent: *parent,
            side: Move::of(*attack),
            value: *value,
        },
        Action::Step {
            rollup,
            proposal,
            leaf,
            attack,
            witness,
        } => ActionInfo::Step {
            rollup: *rollup,
            proposal: *proposal,
            leaf: *leaf,
            side: Move::of(*attack),
            witness_bytes: witness.len() as u64,
        },
        Action::ProveBatch {
            rollup,
            batch,
            output,
            proof,
        } => ActionInfo::ProveBatch {
            rollup: *rollup,
            batch: *batch,
            output: *output,
            proof_bytes: proof.len() as u64,
        },
        Action::RevertBatches { rollup, from } => ActionInfo::RevertBatches {
            rollup: *rollup,
            from: *from,
        },
        Action::Exit(c) => ActionInfo::Exit {
            rollup: c.rollup,
            account: c.index,
            amount: c.balance,
            recipient: c.recipient,
        },
        Action::ForceInclude { rollup, key, tx } => ActionInfo::ForceInclude {
            rollup: *rollup,
            key: *key,
            tx_bytes: tx.len() as u64,
        },
        Action::RefundDeposit { rollup, index, .. } => ActionInfo::RefundDeposit {
            rollup: *rollup,
            index: *index,
        },
    }
}

pub(super) fn block_info(b: &Block) -> BlockInfo {
    let transactions = b
        .txs
        .iter()
        .map(|t| TxInfo {
            hash: t.hash(),
            from: t.signer,
            nonce: t.tx.nonce,
            max_fee_per_gas: t.tx.max_fee_per_gas,
            priority_fee_per_gas: t.tx.priority_fee_per_gas,
            bytes: t.to_bytes().len() as u64,
            gas_limit: t.tx.gas_limit,
            action: action_info(&t.tx.action),
        })
        .collect();
    BlockInfo {
        header: header_info(&b.header),
        transactions,
    }
}

pub(super) fn params_info(p: &RollupParams) -> RollupParamsInfo {
    RollupParamsInfo {
        name: p.name.clone(),
        kind: p.kind.name().to_string(),
        sequencer: p.sequencer,
        challenge_window: p.challenge_window,
        proposer_bond: p.proposer_bond,
        min_fee: p.min_fee,
        clock_extension: p.clock_extension,
        dispute_bond: p.dispute_bond,
        slash_reward_percent: p.slash_reward_percent,
        force_inclusion_blocks: p.force_inclusion_blocks,
        escape_blocks: p.escape_blocks,
        fee_model: p.fee_model,
        zk: p.kind.zk().map(|z| ZkParamsInfo {
            fee_key: HexBytes(z.fee_key.to_bytes()),
            slots: z.slots,
            verifying_key_hash: z.verifying_key_hash(),
            verifying_key_bytes: z.verifying_key.len() as u64,
        }),
    }
}

/// Queue item `index` of a rollup.
pub(super) fn deposit_info(index: u64, d: &DepositRecord) -> DepositInfo {
    DepositInfo {
        index,
        account: d.entry.account,
        key: d.entry.key,
        amount: d.entry.amount,
        sender: d.sender,
        height: d.height,
        // A forced L2 transaction in place of a deposit, as l2_sendTransaction takes it.
        forced: d
            .entry
            .forced
            .map(|tx| tx.to_bytes())
            .or(d.zk_forced.map(|tx| tx.to_bytes()))
            .map(HexBytes),
    }
}

/// Batch `index` of rollup `r`.
pub(super) fn batch_info(r: &RollupState, index: u64) -> BatchInfo {
    let b = &r.batches[index as usize];
    let zk = r.header.params.kind.zk().is_some();
    // An optimistic batch's trace ends with a deposit for each of its range.
    let from = index
        .checked_sub(1)
        .map_or(0, |p| r.batches[p as usize].deposits_end);
    BatchInfo {
        index,
        data_hash: b.data_hash,
        deposits_end: b.deposits_end,
        height: b.height,
        raw_bytes: b.raw_len,
        tx_count: b.tx_count,
        steps: b.tx_count + if zk { 0 } else { b.deposits_end - from },
        // A ZK batch's data hash as its proof's public input.
        proof_input: zk.then_some(b.proof_input),
    }
}

/// A proposed output, with where it stands and its dispute's summary.
pub fn output_info(r: &RollupState, proposal: u64) -> OutputInfo {
    let o = &r.proposals[proposal as usize];
    let status = r.proposal_status(proposal);
    // A ZK rollup's outputs are proven (or reverted), never disputed.
    let dispute = r.disputes.get(proposal as usize);
    OutputInfo {
        proposal,
        batch: o.batch,
        prior: o.prior,
        output: o.output,
        proposer: o.proposer,
        bond: o.bond,
        height: o.height,
        status: status.to_string(),
        settled: status == "settled",
        dispute: dispute.map(|d| OutputDispute {
            resolves_at: d.resolvable_at,
            claims: d.claims as u64,
            bound: o.height + d.rules.bound(),
        }),
        proven: dispute.is_none().then_some(o.prior != o.output),
    }
}

/// A dispute's record: its rules, claim count and digest, resolution; bounded whatever its size.
pub(super) fn dispute_info(d: &Dispute) -> DisputeInfo {
    DisputeInfo {
        proposal: d.proposal,
        batch: d.batch,
        prior: d.rules.prior,
        steps: d.rules.steps,
        depth: d.rules.depth,
        max_clock: d.rules.max_clock,
        clock_extension: d.rules.extension,
        bound: d.rules.bound(),
        claims: d.claims as u64,
        claims_digest: d.claims_digest,
        resolves_at: d.resolvable_at,
        open: d.result.is_none(),
        result: d.result.map(|r| DisputeOutcome {
            outcome: r.name().to_string(),
            height: r.height(),
        }),
    }
}

/// A claim, with its consensus encoding (`data`), which clients decode.
pub(super) fn claim_info(index: u64, c: &Claim) -> ClaimInfo {
    ClaimInfo {
        index,
        parent: c.parent,
        position: c.position,
        value: c.value,
        claimant: c.claimant,
        bond: c.bond,
        created: c.created,
        clock: c.clock,
        data: HexBytes(c.to_bytes()),
    }
}

pub(super) fn rollup_info(r: &RollupState, head: u64) -> RollupInfo {
    let h = &r.header;
    let last_settled_output = h
        .settled
        .checked_sub(1)
        .and_then(|b| r.settled_output(b))
        .map(|(_, o)| o.output);
    RollupInfo {
        id: h.id,
        params: params_info(&h.params),
        genesis_output: h.genesis_output,
        escrow: h.escrow,
        bonds: h.bonds,
        deposits: h.deposit_count,
        batches: h.batch_count,
        deposits_end: h.deposits_end,
        proposals: h.proposal_count,
        settled: h.settled,
        claim_total: h.claim_total,
        unresolved: r.open.len() as u64,
        oldest_open_batch: r.oldest_open_batch(),
        first_unresolved: r.open.iter().take(MAX_LIST_ITEMS as usize).copied().collect(),
        dispute_bound: h.params.dispute_horizon(),
        dispute_bound_rule: "2 * challengeWindow + 16 * clockExtension blocks from a proposal to its resolution, whatever the number of adversaries".into(),
        last_settled_output,
        withdrawals_paid: h.claim_count - h.exit_count - h.refund_count,
        settled_at: h.settled_at,
        frozen_from: r.frozen_from(),
        frozen: r.frozen_from().is_some_and(|at| head + 1 >= at),
        exits: h.exit_count,
        refunds: h.refund_count,
        height: head,
    }
}

/// A rollup's risk view ([`basalt_l1::rollup_risk`]).
pub(super) fn risk_info(r: &RollupState, l1: &basalt_l1::Params) -> RiskInfo {
    let p = &r.header.params;
    let risk = basalt_l1::rollup_risk(p, l1);
    RiskInfo {
        id: r.header.id,
        name: p.name.clone(),
        kind: p.kind.name().to_string(),
        stage: risk.stage,
        next_requirement: risk.next_requirement.map(str::to_string),
        unmet: risk
            .unmet
            .iter()
            .map(|(stage, why)| Unmet {
                stage: *stage,
                requirement: why.to_string(),
            })
            .collect(),
        categories: risk
            .categories
            .iter()
            .map(|c| RiskCategoryInfo {
                id: c.id.to_string(),
                level: c.level.name().to_string(),
                summary: c.summary.clone(),
            })
            .collect(),
    }
}
