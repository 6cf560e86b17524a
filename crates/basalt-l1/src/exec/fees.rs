//! Fees and the checks of a transaction that need no other transaction: EIP-1559 base fees, the
//! most a transaction can cost, and the admission rules shared by blocks and the mempool.

use super::TxError;
use crate::block::Header;
use crate::params::Params;
use crate::state::Account;
use crate::tx::SignedTransaction;
use basalt_types::Amount;

/// The base fee after a block that used `used` against `target` (EIP-1559, 1/8 max change).
pub fn next_base_fee(fee: u64, used: u64, target: u64, min: u64) -> u64 {
    let (fee_w, used_w, target_w) = (fee as u128, used as u128, target as u128);
    let next = if used_w > target_w {
        let delta = (fee_w * (used_w - target_w) / target_w / 8).max(1);
        fee_w + delta
    } else {
        fee_w - fee_w * (target_w - used_w) / target_w / 8
    };
    (next.min(u64::MAX as u128) as u64).max(min)
}

/// The base fees of the block after `parent`.
pub fn child_fees(parent: &Header, params: &Params) -> (u64, u64) {
    if parent.height == 0 {
        return (parent.base_fee_per_gas, parent.blob_base_fee);
    }
    (
        next_base_fee(
            parent.base_fee_per_gas,
            parent.gas_used,
            params.block_gas_target,
            params.min_base_fee,
        ),
        next_base_fee(
            parent.blob_base_fee,
            parent.blob_bytes,
            params.blob_target_bytes_per_block,
            params.min_blob_base_fee,
        ),
    )
}

/// The most a transaction can cost its sender: value, its gas limit at the cap, blob bytes at the cap.
pub fn max_cost(tx: &SignedTransaction) -> Option<Amount> {
    let gas = (tx.tx.gas_limit as u128).checked_mul(tx.tx.max_fee_per_gas as u128)?;
    let blob = match tx.tx.action.blob() {
        Some((data, max_fee_per_blob_byte)) => {
            (data.len() as u128).checked_mul(max_fee_per_blob_byte as u128)?
        }
        None => 0,
    };
    gas.checked_add(blob)?.checked_add(tx.tx.action.value())
}

/// Checks the rules that do not depend on the block's other transactions: chain, fees, gas limit,
/// nonce order against `account_nonce`, blob size and balance. The mempool uses the same function
/// at admission.
pub fn check_tx(
    tx: &SignedTransaction,
    chain_id: u64,
    params: &Params,
    account: Option<Account>,
    base_fee: u64,
    blob_base_fee: u64,
) -> Result<(), TxError> {
    let t = &tx.tx;
    if t.chain_id != chain_id {
        return Err(TxError::WrongChainId {
            expected: chain_id,
            got: t.chain_id,
        });
    }
    if t.priority_fee_per_gas > t.max_fee_per_gas {
        return Err(TxError::TipAboveMaxFee {
            tip: t.priority_fee_per_gas,
            max_fee: t.max_fee_per_gas,
        });
    }
    if t.max_fee_per_gas < base_fee {
        return Err(TxError::FeeBelowBaseFee {
            max_fee: t.max_fee_per_gas,
            base_fee,
        });
    }
    if t.gas_limit > params.block_gas_limit {
        return Err(TxError::GasLimitAboveBlock {
            limit: t.gas_limit,
            max: params.block_gas_limit,
        });
    }
    let intrinsic = t.action.intrinsic_gas();
    if t.gas_limit < intrinsic {
        return Err(TxError::GasLimitBelowIntrinsic {
            limit: t.gas_limit,
            intrinsic,
        });
    }
    if let Some((data, max_fee_per_blob_byte)) = t.action.blob() {
        let len = data.len() as u64;
        if len == 0 || len > params.max_blob_bytes {
            return Err(TxError::BadBlobSize {
                len,
                max: params.max_blob_bytes,
            });
        }
        if max_fee_per_blob_byte < blob_base_fee {
            return Err(TxError::BlobFeeBelowBaseFee {
                max_fee: max_fee_per_blob_byte,
                base_fee: blob_base_fee,
            });
        }
    }
    let acc = account.unwrap_or_default();
    if t.nonce < acc.nonce {
        return Err(TxError::StaleNonce {
            expected: acc.nonce,
            got: t.nonce,
        });
    }
    let need = max_cost(tx).ok_or(TxError::Overflow)?;
    if need > acc.balance {
        return Err(TxError::InsufficientBalance {
            need,
            have: acc.balance,
        });
    }
    Ok(())
}
