//! `l2_estimateFee` and the fee part of `l2_chainInfo`: what the sequencer asks of a transaction
//! now, and a fee to sign that stays enough for a block or two.

use crate::node::{lock, Core};
use crate::rpc::{err, invalid, UNSUPPORTED};
use basalt_l2::{L2Tx, Profile};
use basalt_types::{Amount, PublicKey};
use jsonrpsee::types::ErrorObjectOwned;
use serde::Deserialize;
use serde_json::{json, Value};

/// `l2_estimateFee`'s parameter: the transaction to price, unsigned and without its fee. What
/// is left out is taken as typical (account 1, one token, the sender's next nonce).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct FeeQuery {
    /// `transfer` or `withdraw`.
    kind: String,
    from: Option<u32>,
    to: Option<u32>,
    recipient: Option<PublicKey>,
    /// Base units, as a decimal string.
    amount: Option<String>,
    nonce: Option<u64>,
}

impl FeeQuery {
    /// The transaction the query describes, with no fee and a placeholder signature.
    fn tx<P: Profile>(&self, next_nonce: impl Fn(u32) -> Option<u64>) -> Result<L2Tx<P>, String> {
        let from = self.from.unwrap_or(1);
        let amount = match &self.amount {
            None => basalt_l1::ONE_TOKEN,
            Some(a) => a
                .parse::<Amount>()
                .map_err(|_| format!("amount {a:?} is not a decimal number of base units"))?,
        };
        let nonce = self.nonce.or_else(|| next_nonce(from)).unwrap_or(0);
        let signature = P::placeholder_signature();
        match self.kind.as_str() {
            "transfer" => Ok(L2Tx::Transfer {
                from,
                to: self.to.unwrap_or(1),
                amount,
                fee: 0,
                nonce,
                signature,
            }),
            "withdraw" => Ok(L2Tx::Withdraw {
                from,
                recipient: self.recipient.unwrap_or(PublicKey([0; 32])),
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
}

/// `l2_estimateFee`: the fee to sign for the transaction `query` describes.
pub(crate) fn estimate_fee<Q: Profile>(
    core: &Core<Q>,
    query: &FeeQuery,
) -> Result<Value, ErrorObjectOwned> {
    let Some(seq) = &core.seq else {
        return Err(err(
            UNSUPPORTED,
            "this node is a verifier: the rollup's sequencer quotes its fees",
        ));
    };
    let seq = lock(seq);
    let (tx, clearing) = {
        let q = lock(&core.queue);
        let tx = query
            .tx::<Q>(|from| q.next_nonce(from, seq.state()))
            .map_err(invalid)?;
        (tx, q.clearing)
    };
    let market = *seq.market();
    let (least, quoted) = core.quote(&seq, clearing, &tx);
    drop(seq);
    let l1 = *lock(&core.l1_prices);
    Ok(json!({
        "fee": quoted.total().to_string(),
        "least": least.total().to_string(),
        "execution": quoted.execution.to_string(),
        "l1Data": quoted.l1_data.to_string(),
        "bytes": quoted.bytes,
        "model": core.pricing.model,
        "l2BaseFee": market.base_fee.to_string(),
        "l1GasPrice": l1.gas_price,
        "l1BlobBaseFee": l1.blob_base_fee,
    }))
}

/// The fee part of `l2_chainInfo`: the model and the prices it stands at.
pub(crate) fn fees_json<Q: Profile>(core: &Core<Q>) -> Value {
    let base_fee = core
        .seq
        .as_ref()
        .map(|s| lock(s).market().base_fee.to_string());
    let clearing = lock(&core.queue).clearing;
    let l1 = *lock(&core.l1_prices);
    json!({
        "model": core.pricing.model,
        "minFee": core.config.min_fee.to_string(),
        "l2BaseFee": base_fee,
        "clearingFee": clearing.to_string(),
        "l1GasPrice": l1.gas_price,
        "l1BlobBaseFee": l1.blob_base_fee,
    })
}
