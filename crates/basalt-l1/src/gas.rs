//! Gas: what a transaction pays for the verification work it makes every validator do.
//!
//! A transaction declares a `gas_limit`. It pays its intrinsic gas ([`intrinsic`]: a base per
//! action kind, plus a price per byte of its variable payload, which every validator hashes and
//! copies), and then whatever its action charges for work that grows with the state it reads:
//! decompressing and decoding a posted batch, priced by the length and transaction count its
//! header declares and the L1 records ([`batch_decode`]). A dispute move costs the same however
//! many claims its tree holds (each is appended, never copied). Every charge is made before the
//! work it pays for, so an action whose limit cannot pay stops first, fails with `out_of_gas`, and pays its whole
//! limit; nothing is ever done at a flat price whatever its input.
//!
//! The constants are set so that each action's worst input costs a validator about as many
//! nanoseconds per gas as a plain transfer does; `basalt bench gas` measures that ratio for every
//! action kind, against a transfer, in the same run (see BENCHMARKS.md).

use crate::tx::Action;
use basalt_types::Amount;

/// Gas charged for a transfer.
pub const TRANSFER_GAS: u64 = 21_000;
/// Gas charged for a stake or unstake.
pub const STAKE_GAS: u64 = 50_000;
/// Gas charged for posting a blob (its bytes pay the blob fee, and [`PAYLOAD_BYTE_GAS`], on top).
pub const BLOB_TX_GAS: u64 = 21_000;
/// Gas charged for registering a rollup.
pub const REGISTER_ROLLUP_GAS: u64 = 200_000;
/// Gas charged for a deposit into a rollup.
pub const DEPOSIT_GAS: u64 = 50_000;
/// Gas charged for posting a batch (its bytes pay the blob fee, and [`PAYLOAD_BYTE_GAS`], on top).
pub const POST_BATCH_GAS: u64 = 50_000;
/// Gas charged for proposing an output and opening its claim tree; the batch decode that counts
/// its steps is charged on top.
pub const PROPOSE_OUTPUT_GAS: u64 = 60_000;
/// Gas charged for paying a withdrawal (a Merkle proof check).
pub const FINALIZE_WITHDRAWAL_GAS: u64 = 100_000;
/// Gas of a counter: reading its parent and grandparent claims, the duplicate check, appending
/// one claim and folding it into the tree's digest.
pub const COUNTER_GAS: u64 = 60_000;
/// Base gas of a one-step proof: re-executing one transaction (a signature check and Merkle
/// paths) against its witness, after walking up to [`crate::MAX_TREE_DEPTH`] claims for the states
/// around the step. The batch decode is charged on top.
pub const STEP_GAS: u64 = 300_000;

/// Gas of a validity proof: decoding the rollup's verifying key and the proof (subgroup checks on
/// G2), the public inputs' multi-scalar multiplication and the pairings of a Groth16 check.
pub const PROVE_BATCH_GAS: u64 = 5_000_000;
/// Gas of reverting a ZK rollup's unproven batches, plus [`REVERT_BATCH_GAS`] for each.
pub const REVERT_GAS: u64 = 50_000;
/// Gas per batch reverted: a no-op output appended to the settled chain.
pub const REVERT_BATCH_GAS: u64 = 20_000;
/// Gas of checking a ZK deposit's key: decompressing a BabyJubJub point and checking its order.
pub const ZK_KEY_GAS: u64 = 300_000;
/// Gas per transaction of a ZK batch's data hash at its post: one Poseidon hash.
pub const ZK_DATA_TX_GAS: u64 = 100_000;
/// Gas per deposit a ZK batch consumes, on top of [`ZK_DATA_TX_GAS`]: its queued key is read and
/// decompressed into the hash (`basalt bench gas` measures about 370 us a deposit).
pub const ZK_DATA_DEPOSIT_GAS: u64 = 500_000;
/// Gas of a ZK withdrawal's proof on top of [`FINALIZE_WITHDRAWAL_GAS`]: ten levels of 4-ary
/// Poseidon, the leaf and the two commitments above the tree.
pub const ZK_WITHDRAWAL_GAS: u64 = 1_500_000;

/// Gas of an exit from a frozen rollup: the settled commitment, an account's Merkle path and an
/// ed25519 signature check. `basalt bench gas` measured 0.96x a transfer's time a gas at 150,000.
pub const EXIT_GAS: u64 = 165_000;
/// Gas of an EdDSA-Poseidon signature check (`basalt bench zk` times one at about 300 us; set so
/// that `basalt bench gas`'s forced ZK transactions cost no more a gas than a transfer).
pub const ZK_SIGNATURE_GAS: u64 = 500_000;
/// Gas of a ZK exit on top of [`EXIT_GAS`]: the account's key decompressed, its Poseidon path and
/// an EdDSA-Poseidon check.
pub const ZK_EXIT_GAS: u64 = ZK_WITHDRAWAL_GAS + ZK_KEY_GAS + ZK_SIGNATURE_GAS;
/// Gas of forcing an L2 transaction in: a deposit's queue append, the transaction's decode and
/// an ed25519 signature check (a ZK rollup's key and EdDSA-Poseidon check are charged on top).
/// `basalt bench gas` measured 1.56x a transfer's time a gas at `DEPOSIT_GAS + 30_000`, and 1.05x
/// at `DEPOSIT_GAS + 70_000`.
pub const FORCE_INCLUDE_GAS: u64 = DEPOSIT_GAS + 80_000;
/// Gas of refunding a deposit of a frozen rollup: the settled commitment and the payment.
pub const REFUND_GAS: u64 = 60_000;
/// Gas of checking a ZK rollup's settled commitment: three Poseidon hashes.
pub const ZK_COMMITMENT_GAS: u64 = 300_000;

/// Gas per byte of a transaction's variable payload (blob, witness, proof, name): hashed for the
/// transaction id and the signature, copied into the block and its roots.
pub const PAYLOAD_BYTE_GAS: u64 = 4;
/// Gas per declared decompressed byte of a batch an action decodes.
pub const BATCH_BYTE_GAS: u64 = 4;
/// Gas per decode of a batch, whatever its size.
pub const BATCH_DECODE_GAS: u64 = 20_000;
/// Gas per transaction a batch declares: each is parsed and materialized.
pub const BATCH_TX_GAS: u64 = 200;

/// Gas a transaction pays before its action runs: the action's base and its payload's bytes.
pub fn intrinsic(action: &Action) -> u64 {
    let base = match action {
        Action::Transfer { .. } => TRANSFER_GAS,
        Action::Stake { .. } | Action::Unstake { .. } => STAKE_GAS,
        Action::PostBlob { .. } => BLOB_TX_GAS,
        Action::RegisterRollup { .. } => REGISTER_ROLLUP_GAS,
        Action::Deposit { .. } => DEPOSIT_GAS,
        Action::PostBatch { .. } => POST_BATCH_GAS,
        Action::ProposeOutput { .. } => PROPOSE_OUTPUT_GAS,
        Action::FinalizeWithdrawal(_) => FINALIZE_WITHDRAWAL_GAS,
        Action::Counter { .. } => COUNTER_GAS,
        Action::Step { .. } => STEP_GAS,
        Action::ProveBatch { .. } => PROVE_BATCH_GAS,
        Action::RevertBatches { .. } => REVERT_GAS,
        Action::Exit(_) => EXIT_GAS,
        Action::ForceInclude { .. } => FORCE_INCLUDE_GAS,
        Action::RefundDeposit { .. } => REFUND_GAS,
    };
    base + PAYLOAD_BYTE_GAS * payload_len(action)
}

/// Bytes of an action's variable-length payload.
fn payload_len(action: &Action) -> u64 {
    let len = match action {
        Action::PostBlob { data, .. } | Action::PostBatch { data, .. } => data.len(),
        Action::Step { witness, .. } => witness.len(),
        Action::FinalizeWithdrawal(claim) => claim.proof.len() * 32,
        Action::Exit(claim) => claim.proof.len() * 32 + claim.signature.len(),
        Action::ForceInclude { tx, .. } => tx.len(),
        Action::RegisterRollup { params } => {
            params.name.len() + params.kind.zk().map_or(0, |z| z.verifying_key.len())
        }
        Action::ProveBatch { proof, .. } => proof.len(),
        _ => 0,
    };
    len as u64
}

/// Gas to decompress and decode a batch that declares `raw_len` decompressed bytes holding
/// `tx_count` transactions.
pub fn batch_decode(raw_len: u64, tx_count: u64) -> u64 {
    BATCH_DECODE_GAS + BATCH_BYTE_GAS * raw_len + BATCH_TX_GAS * tx_count
}

/// A gas limit for an action whose estimate is `estimate`: half again, and a little more, so that
/// the state may change before inclusion (a batch decoded by another action), capped by the block.
pub fn limit_with_headroom(estimate: u64, block_gas_limit: u64) -> u64 {
    estimate
        .saturating_add(estimate / 2)
        .saturating_add(HEADROOM_GAS)
        .min(block_gas_limit)
}

/// Gas added to every estimate by [`limit_with_headroom`].
pub const HEADROOM_GAS: u64 = 100_000;

/// Gas a ZK batch's post charges for its blob beyond the intrinsic gas: the decode its header
/// declares and the data hash of each transaction ([`ZK_DATA_TX_GAS`]).
pub fn zk_post(raw_len: u64, tx_count: u64) -> u64 {
    batch_decode(raw_len, tx_count).saturating_add(ZK_DATA_TX_GAS.saturating_mul(tx_count))
}

/// The gas limit of a batch post to a ZK rollup: its intrinsic gas, [`zk_post`] of the header its
/// blob declares and [`ZK_DATA_DEPOSIT_GAS`] for each deposit it consumes.
pub fn zk_post_limit(action: &Action) -> u64 {
    let extra = match action {
        Action::PostBatch { data, .. } => {
            let header =
                basalt_l2::batch_header(data).map_or(0, |h| zk_post(h.raw_len, h.tx_count));
            let deposits = basalt_l2::decode_zk_batch(data).map_or(0, |txs| {
                txs.iter()
                    .filter(|t| matches!(t, basalt_l2::PostedTx::Deposit))
                    .count() as u64
            });
            header.saturating_add(ZK_DATA_DEPOSIT_GAS.saturating_mul(deposits))
        }
        _ => 0,
    };
    intrinsic(action).saturating_add(extra)
}

/// The most gas an action can use whatever the state, when the action alone says it: a limit
/// that suffices (what is left is refunded). `None`: the state decides; estimate it.
///
/// A deposit may check a ZK key and a withdrawal may check a Poseidon proof: the limit covers the
/// ZK rollup's work, which an optimistic one leaves unused. A batch post is priced for an
/// optimistic rollup: a ZK rollup's sequencer, which knows its rollup, sends [`zk_post_limit`]
/// (covering the ZK work for every post would reserve whole blocks for large optimistic batches).
pub fn known_limit(action: &Action) -> Option<u64> {
    let intrinsic = intrinsic(action);
    let extra = match action {
        Action::Transfer { .. }
        | Action::Stake { .. }
        | Action::Unstake { .. }
        | Action::PostBlob { .. }
        | Action::RegisterRollup { .. }
        | Action::Counter { .. }
        | Action::ProveBatch { .. } => 0,
        Action::Deposit { .. } => ZK_KEY_GAS,
        Action::FinalizeWithdrawal(_) => ZK_WITHDRAWAL_GAS,
        Action::PostBatch { .. } => 0,
        Action::RevertBatches { .. } => REVERT_BATCH_GAS * crate::bridge::MAX_UNPROVEN_BATCHES,
        Action::Exit(_) => ZK_COMMITMENT_GAS + ZK_EXIT_GAS,
        Action::RefundDeposit { .. } => ZK_COMMITMENT_GAS,
        Action::ForceInclude { .. } => ZK_KEY_GAS + ZK_SIGNATURE_GAS,
        Action::ProposeOutput { .. } | Action::Step { .. } => return None,
    };
    Some(intrinsic.saturating_add(extra))
}

/// L1 gas one L2 transaction of `bytes` batch bytes adds to what its sequencer pays the L1, in
/// batches of `batch_txs` transactions: the bytes' payload gas and its share of each batch's
/// fixed cost (the post and its output proposal; on a ZK rollup of `zk_slots` slots the post,
/// its decode and its proof's check, in batches of at most `zk_slots`), and on a ZK rollup the
/// per-transaction data hash and decode.
pub fn l2_tx_gas(zk_slots: Option<u32>, bytes: u64, batch_txs: u64) -> u64 {
    let payload = PAYLOAD_BYTE_GAS.saturating_mul(bytes);
    let Some(slots) = zk_slots else {
        let per_batch = POST_BATCH_GAS + PROPOSE_OUTPUT_GAS;
        return payload.saturating_add(per_batch.div_ceil(batch_txs.max(1)));
    };
    let per_batch = POST_BATCH_GAS
        + BATCH_DECODE_GAS
        + PROVE_BATCH_GAS
        + PAYLOAD_BYTE_GAS * basalt_zk::PROOF_BYTES as u64;
    payload
        .saturating_add(ZK_DATA_TX_GAS + BATCH_TX_GAS)
        .saturating_add(BATCH_BYTE_GAS.saturating_mul(bytes))
        .saturating_add(per_batch.div_ceil(batch_txs.clamp(1, slots.max(1) as u64)))
}

/// What the L1 charges for one L2 transaction of `bytes` batch bytes in batches of `batch_txs`
/// ([`l2_tx_gas`] at
/// `gas_price` a gas, and its bytes as blob data at `blob_base_fee` a byte): the L1 data part of
/// its L2 fee.
pub fn l2_data_fee(
    zk_slots: Option<u32>,
    bytes: u64,
    batch_txs: u64,
    gas_price: u64,
    blob_base_fee: u64,
) -> Amount {
    (l2_tx_gas(zk_slots, bytes, batch_txs) as Amount)
        .saturating_mul(gas_price as Amount)
        .saturating_add((bytes as Amount).saturating_mul(blob_base_fee as Amount))
}

#[cfg(test)]
mod l2_fee_tests {
    use super::*;

    #[test]
    fn a_transactions_share_of_its_batch_falls_as_batches_fill() {
        let lone = l2_tx_gas(None, 100, 1);
        let shared = l2_tx_gas(None, 100, 1_000);
        assert_eq!(lone, 400 + POST_BATCH_GAS + PROPOSE_OUTPUT_GAS);
        assert_eq!(shared, 400 + 110);
        // A ZK batch holds at most its slots: a larger size is priced as full.
        assert_eq!(l2_tx_gas(Some(6), 10, 6), l2_tx_gas(Some(6), 10, 1_000));
        assert!(l2_tx_gas(Some(6), 10, 6) < l2_tx_gas(Some(6), 10, 2));
    }

    #[test]
    fn the_data_fee_prices_gas_and_blob_bytes() {
        let gas = l2_tx_gas(None, 100, 10) as Amount;
        assert_eq!(l2_data_fee(None, 100, 10, 7, 3), gas * 7 + 300);
    }
}
