//! Dry runs of one action on top of a view: admission prechecks and gas estimates. Both charge
//! for heavy work without doing it.

use super::{BlockBuilder, PrecheckError, TxError};
use crate::tx::Action;
use crate::view::{StateRead, StateView};
use basalt_types::{Amount, PublicKey};

/// Why `signer`'s `action`, with this `gas_limit`, would fail on top of `view` right now, if it
/// would. A node refuses such a transaction from its own clients with this reason rather than let
/// it pay a fee for nothing. `max_gas_cost` is what the sender pays for gas up front.
pub fn precheck_action(
    view: &StateView<'_>,
    signer: &PublicKey,
    action: &Action,
    gas_limit: u64,
    max_gas_cost: Amount,
) -> Result<(), PrecheckError> {
    if matches!(
        action,
        Action::Transfer { .. }
            | Action::Stake { .. }
            | Action::Unstake { .. }
            | Action::PostBlob { .. }
    ) {
        // check_tx covers every way these fail.
        return Ok(());
    }
    dry_run(view, signer, action, gas_limit, max_gas_cost).map(|_| ())
}

/// The gas `signer`'s `action` would use on top of `view` right now, with the most gas a block
/// allows; or why it would fail. Clients set their gas limit from it, with room for the state to
/// change before inclusion.
pub fn estimate_gas(
    view: &StateView<'_>,
    signer: &PublicKey,
    action: &Action,
) -> Result<u64, PrecheckError> {
    dry_run(
        view,
        signer,
        action,
        view.base().params().block_gas_limit,
        0,
    )
}

/// Runs `action` in a throwaway block; returns the gas it used.
fn dry_run(
    view: &StateView<'_>,
    signer: &PublicKey,
    action: &Action,
    gas_limit: u64,
    max_gas_cost: Amount,
) -> Result<u64, PrecheckError> {
    let intrinsic = action.intrinsic_gas();
    let left = gas_limit
        .checked_sub(intrinsic)
        .ok_or(TxError::GasLimitBelowIntrinsic {
            limit: gas_limit,
            intrinsic,
        })?;
    let mut builder = BlockBuilder::new(view);
    let mut sender = builder.account(signer).unwrap_or_default();
    sender.balance = sender.balance.saturating_sub(max_gas_cost);
    builder.gas_left = left;
    builder.pricing_only = true;
    match builder.run_action(*signer, &mut sender, action) {
        Ok(None) => Ok(gas_limit - builder.gas_left),
        Ok(Some(failure)) => Err(PrecheckError::Fails(failure)),
        Err(e) => Err(PrecheckError::Invalid(e)),
    }
}
