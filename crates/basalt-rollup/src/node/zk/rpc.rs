//! What the L2 RPC shows of a ZK rollup: finality up to `proven`, withdrawal claims against the
//! newest proven output, and the prover's progress and lag in `l2_chainInfo`.

use super::*;
use crate::rpc::{
    err, hex_of, in_flight_finality, in_flight_json, ready_claim_json, L2Node, NOT_FOUND,
};
use basalt_l1::felt_hash;
use basalt_l2::L2State;
use jsonrpsee::types::ErrorObjectOwned;
use serde_json::json;

impl L2Node for ZkShared {
    type P = Zk;

    fn finality(&self, sequence: u64, out: &mut Value) -> &'static str {
        let view = lock(&self.view);
        let d = &view.derivation;
        if let Some(batch) = d.batch_of(sequence) {
            out["batch"] = json!(batch);
            out["l1Height"] = json!(view.batch_heights.get(batch as usize));
            if batch < d.settled_batches() {
                out["provenAt"] = json!(view.proven_heights.get(batch as usize));
                return "proven";
            }
            return "l1_final";
        }
        in_flight_finality(&view.in_flight, sequence, out)
    }

    fn derived_tx(&self, _hash: &Hash) -> Option<crate::derive::PostedTx> {
        // Posted ZK transactions carry no signatures, so no hashes: only the sequencer knows them.
        None
    }

    fn with_derived<R>(&self, f: impl FnOnce(&L2State<Zk>) -> R) -> R {
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
        if d.settled_batches() <= batch {
            return Ok(json!({
                "ready": false, "index": index, "batch": batch,
                "reason": "its batch is not proven yet",
                "provenBatches": d.settled_batches(),
                "l1Height": view.rollup.height,
            }));
        }
        let claim = d
            .withdrawal_claim(self.id, index)
            .ok_or_else(|| err(NOT_FOUND, format!("no withdrawal {index}")))?;
        Ok(ready_claim_json(&claim))
    }

    fn chain_info(&self) -> Value {
        let halted = lock(&self.halted).clone();
        let soft = self.seq.as_ref().map(|s| {
            let s = lock(s);
            let c = s.state().commitment();
            json!({
                "blocks": s.blocks().len(),
                "transactions": s.next_sequence(),
                "accounts": c.account_count,
                "depositsApplied": c.next_deposit,
                "output": hex_of(&c.output()),
            })
        });
        let pending = lock(&self.queue).len();
        // Before the view's lock: the fees take the sequencer's and the queue's.
        let fees = crate::rpc_fee::fees_json(&self.core);
        let view = lock(&self.view);
        let d = &view.derivation;
        let r = &view.rollup;
        let lag = d.batches() - d.settled_batches();
        let prover = self.seq.as_ref().map(|_| {
            let p = lock(&self.prover);
            let mean = p.mean_seconds();
            let current = p.proving.map(|(batch, since)| {
                json!({"batch": batch, "elapsedMs": since.elapsed().as_millis() as u64})
            });
            let elapsed = p
                .proving
                .map_or(0.0, |(_, since)| since.elapsed().as_secs_f64());
            json!({
                "nextBatch": p.next,
                "proving": current,
                "proven": p.proven,
                "reused": p.reused,
                "meanSeconds": mean,
                "lagBatches": lag,
                "etaSeconds": mean.map(|m| (m * lag as f64 - elapsed).max(0.0)),
                "error": p.error,
            })
        });
        json!({
            "rollupId": self.id,
            "name": r.params.name,
            "kind": r.params.kind,
            "role": match self.role { Role::Sequencer => "sequencer", Role::Verifier => "verifier" },
            "sequencer": r.params.sequencer,
            "minFee": r.params.min_fee.to_string(),
            "fees": fees,
            "slots": self.slots,
            "l1Rpc": self.l1_url,
            "l1Height": r.height,
            "l1Error": view.last_error,
            "soft": soft,
            "pending": pending,
            "halted": halted,
            "derived": {
                "batches": d.batches(),
                "transactions": d.txs_in_first(d.batches()),
                "depositsKnown": d.deposits_known(),
                "output": d.batches().checked_sub(1).and_then(|b| d.output(b)).map(felt_hash),
                "provenBatches": d.settled_batches(),
                "reverted": d.reverted(),
                "stuck": d.stuck().map(|(batch, why)| json!({"batch": batch, "reason": why.to_string()})),
            },
            "l1": {
                "escrow": r.escrow.to_string(),
                "deposits": r.deposits,
                "batches": r.batches,
                "proven": r.settled,
                "withdrawalsPaid": r.withdrawals_paid,
            },
            "prover": prover,
            "inFlight": in_flight_json(&view.in_flight),
        })
    }
}
