//! What the L2 RPC shows of a ZK rollup: finality up to `proven`, withdrawal claims against the
//! newest proven output, and the prover's progress and lag in `l2_chainInfo`.

use super::*;
use crate::rpc::{
    chain_info_of, err, in_flight_finality, not_ready, ready_claim, CoreInfo, L2Node, NOT_FOUND,
};
use basalt_l1::felt_hash;
use basalt_l2::L2State;
use basalt_rpc::l2::*;
use jsonrpsee::core::RpcResult;

impl L2Node for ZkShared {
    type P = Zk;

    fn finality(&self, sequence: u64, out: &mut L2TxStatus) -> L2TxState {
        let view = lock(&self.view);
        let d = &view.derivation;
        if let Some(batch) = d.batch_of(sequence) {
            out.batch = Some(batch);
            out.l1_height = view.batch_heights.get(batch as usize).copied();
            if batch < d.settled_batches() {
                out.proven_at = view.proven_heights.get(batch as usize).copied();
                return L2TxState::Proven;
            }
            return L2TxState::L1Final;
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

    fn withdrawal_proof(&self, index: u64) -> RpcResult<WithdrawalProof> {
        let view = lock(&self.view);
        let d = &view.derivation;
        let Some(batch) = d.batch_with_withdrawal(index) else {
            return Ok(not_ready(index, "not in a batch final on L1 yet"));
        };
        if d.settled_batches() <= batch {
            return Ok(WithdrawalProof {
                batch: Some(batch),
                proven_batches: Some(d.settled_batches()),
                l1_height: Some(view.rollup.height),
                ..not_ready(index, "its batch is not proven yet")
            });
        }
        let claim = d
            .withdrawal_claim(self.id, index)
            .ok_or_else(|| err(NOT_FOUND, format!("no withdrawal {index}")))?;
        Ok(ready_claim(&claim))
    }

    fn chain_info(&self) -> L2ChainInfo {
        let read = CoreInfo::read(&self.core);
        let view = lock(&self.view);
        let d = &view.derivation;
        let r = &view.rollup;
        let lag = d.batches() - d.settled_batches();
        let prover = self.seq.as_ref().map(|_| {
            let p = lock(&self.prover);
            let mean = p.mean_seconds();
            let elapsed = p
                .proving
                .map_or(0.0, |(_, since)| since.elapsed().as_secs_f64());
            ProverInfo {
                next_batch: p.next,
                proving: p.proving.map(|(batch, since)| Proving {
                    batch,
                    elapsed_ms: since.elapsed().as_millis() as u64,
                }),
                proven: p.proven,
                reused: p.reused,
                mean_seconds: mean,
                lag_batches: lag,
                eta_seconds: mean.map(|m| (m * lag as f64 - elapsed).max(0.0)),
                error: p.error.clone(),
            }
        });
        let derived = DerivedInfo {
            batches: d.batches(),
            transactions: d.txs_in_first(d.batches()),
            deposits_known: d.deposits_known(),
            output: d
                .batches()
                .checked_sub(1)
                .and_then(|b| d.output(b))
                .map(felt_hash),
            proven_batches: Some(d.settled_batches()),
            reverted: Some(d.reverted()),
            stuck: d.stuck().map(|(batch, why)| Stuck {
                batch,
                reason: why.to_string(),
            }),
        };
        let l1 = L1SideInfo {
            escrow: r.escrow,
            deposits: r.deposits,
            batches: r.batches,
            proposals: None,
            settled: None,
            unresolved: None,
            dispute_bound: None,
            proven: Some(r.settled),
            withdrawals_paid: r.withdrawals_paid,
        };
        let last_error = view.last_error.clone();
        L2ChainInfo {
            slots: Some(self.slots),
            prover,
            ..chain_info_of(
                &self.core,
                read,
                r,
                last_error,
                &view.in_flight,
                derived,
                l1,
            )
        }
    }
}
