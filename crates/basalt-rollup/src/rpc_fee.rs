//! `l2_estimateFee` and the fee part of `l2_chainInfo`: what the sequencer asks of a transaction
//! now, and a fee to sign that stays enough for a block or two.

use crate::node::{lock, Core};
use crate::rpc::{err, invalid, UNSUPPORTED};
use basalt_l2::{L2Tx, Profile};
use basalt_rpc::l2::{FeeEstimate, FeeQuery, FeesInfo};
use basalt_types::{Amount, PublicKey};
use jsonrpsee::core::RpcResult;

/// The transaction `query` describes, with no fee and a placeholder signature. What it leaves
/// out is taken as typical (account 1, one token, the sender's next nonce).
fn query_tx<P: Profile>(
    query: &FeeQuery,
    next_nonce: impl Fn(u32) -> Option<u64>,
) -> Result<L2Tx<P>, String> {
    let from = query.from.unwrap_or(1);
    let amount = match &query.amount {
        None => basalt_l1::ONE_TOKEN,
        Some(a) => a
            .parse::<Amount>()
            .map_err(|_| format!("amount {a:?} is not a decimal number of base units"))?,
    };
    let nonce = query.nonce.or_else(|| next_nonce(from)).unwrap_or(0);
    let signature = P::placeholder_signature();
    match query.kind.as_str() {
        "transfer" => Ok(L2Tx::Transfer {
            from,
            to: query.to.unwrap_or(1),
            amount,
            fee: 0,
            nonce,
            signature,
        }),
        "withdraw" => Ok(L2Tx::Withdraw {
            from,
            recipient: query.recipient.unwrap_or(PublicKey([0; 32])),
            amount,
            fee: 0,
            nonce,
            signature,
        }),
        other => Err(format!(
            "kind {other:?} is not a user's transaction: transfer or withdraw"
        )),
    }
}

/// `l2_estimateFee`: the fee to sign for the transaction `query` describes.
pub(crate) fn estimate_fee<Q: Profile>(core: &Core<Q>, query: &FeeQuery) -> RpcResult<FeeEstimate> {
    let Some(seq) = &core.seq else {
        return Err(err(
            UNSUPPORTED,
            "this node is a verifier: the rollup's sequencer quotes its fees",
        ));
    };
    let seq = lock(seq);
    let (tx, clearing) = {
        let q = lock(&core.queue);
        let tx = query_tx::<Q>(query, |from| q.next_nonce(from, seq.state())).map_err(invalid)?;
        (tx, q.clearing)
    };
    let market = *seq.market();
    let (least, quoted) = core.quote(&seq, clearing, &tx);
    drop(seq);
    let l1 = *lock(&core.l1_prices);
    Ok(FeeEstimate {
        fee: quoted.total(),
        least: least.total(),
        execution: quoted.execution,
        l1_data: quoted.l1_data,
        bytes: quoted.bytes,
        model: core.pricing.model,
        l2_base_fee: market.base_fee,
        l1_gas_price: l1.gas_price,
        l1_blob_base_fee: l1.blob_base_fee,
    })
}

/// The fee part of `l2_chainInfo`: the model and the prices it stands at.
pub(crate) fn fees_info<Q: Profile>(core: &Core<Q>) -> FeesInfo {
    let base_fee = core.seq.as_ref().map(|s| lock(s).market().base_fee);
    let clearing = lock(&core.queue).clearing;
    let l1 = *lock(&core.l1_prices);
    FeesInfo {
        model: core.pricing.model,
        min_fee: core.config.min_fee,
        l2_base_fee: base_fee,
        clearing_fee: clearing,
        l1_gas_price: l1.gas_price,
        l1_blob_base_fee: l1.blob_base_fee,
    }
}
