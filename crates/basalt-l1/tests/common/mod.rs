//! Helpers shared by the state-machine tests.
#![allow(dead_code)]

use basalt_l1::*;
use basalt_types::{dev_keypair, Keypair, PublicKey};

pub const CHAIN: u64 = 31337;

pub fn key(n: u64) -> Keypair {
    dev_keypair("l1-test", n)
}

pub fn params() -> Params {
    Params {
        block_gas_limit: 10 * TRANSFER_GAS,
        block_gas_target: 5 * TRANSFER_GAS,
        initial_base_fee: 100,
        min_base_fee: 10,
        blob_max_bytes_per_block: 4096,
        blob_target_bytes_per_block: 2048,
        max_blob_bytes: 2048,
        initial_blob_base_fee: 5,
        min_blob_base_fee: 1,
        blob_retention_blocks: 3,
        epoch_length: 4,
        max_validators: 2,
        min_stake: 1_000,
        ..Params::default()
    }
}

/// Accounts 0..5 funded; validators 10 and 11 staked.
pub fn genesis() -> Genesis {
    Genesis {
        chain_id: CHAIN,
        timestamp_ms: 1_000,
        params: params(),
        accounts: (0..5)
            .map(|i| GenesisAccount {
                key: key(i).public(),
                balance: 1_000_000_000,
            })
            .collect(),
        validators: (10..12)
            .map(|i| GenesisValidator {
                key: key(i).public(),
                stake: 5_000,
            })
            .collect(),
    }
}

/// A signed transaction paying 1,000 per gas. Its gas limit is the intrinsic gas, plus room for
/// the small batches and disputes of these tests when the action charges more.
pub fn tx(from: &Keypair, nonce: u64, action: Action) -> SignedTransaction {
    // A known limit covers a ZK rollup's work; these tests' blocks are small, so it is capped
    // (the ZK tests, with large blocks, use `tx_with_gas`).
    let limit = basalt_l1::gas::known_limit(&action)
        .map(|l| l.min(params().block_gas_limit))
        .unwrap_or(action.intrinsic_gas() + 140_000);
    tx_with_gas(from, nonce, limit, action)
}

/// A signed transaction with this gas limit.
pub fn tx_with_gas(
    from: &Keypair,
    nonce: u64,
    gas_limit: u64,
    action: Action,
) -> SignedTransaction {
    Transaction {
        chain_id: CHAIN,
        nonce,
        max_fee_per_gas: 1_000,
        priority_fee_per_gas: 2,
        gas_limit,
        action,
    }
    .sign(from)
}

pub fn transfer(from: &Keypair, nonce: u64, to: PublicKey, amount: u128) -> SignedTransaction {
    tx(from, nonce, Action::Transfer { to, amount })
}

/// The proposer the helpers use: the first committee member as of `view`.
pub fn proposer(view: &StateView<'_>) -> PublicKey {
    view.committee()[0]
}

/// Builds a block on the finalized head from `txs`, skipping those that do not apply.
pub fn build(
    state: &L1State,
    txs: Vec<SignedTransaction>,
) -> (ExecutedBlock, Vec<Result<(), TxError>>) {
    let view = StateView::new(state, vec![]);
    let mut b = BlockBuilder::new(&view);
    let mut results = Vec::new();
    for t in txs {
        let v = t.verify().expect("test transactions are signed");
        results.push(b.apply(&v).map(|_| ()));
    }
    let ts = state.head().timestamp_ms + 200;
    (b.finish(ts, proposer(&view)).unwrap(), results)
}

/// Builds, verifies as a peer would, and applies; returns per-transaction results.
pub fn step(
    state: &mut L1State,
    txs: Vec<SignedTransaction>,
) -> (ExecutedBlock, Vec<Result<(), TxError>>) {
    let (exec, results) = build(state, txs);
    let view = StateView::new(state, vec![]);
    let verified = verify_block(&view, &exec.block).expect("honest block verifies");
    assert_eq!(verified.diff, exec.diff);
    state.apply(&exec.diff);
    assert_conserved(state);
    (exec, results)
}

pub fn assert_conserved(state: &L1State) {
    assert_eq!(
        state.circulating() + state.burned(),
        state.genesis_supply(),
        "supply not conserved"
    );
}

pub fn balance(state: &L1State, k: &Keypair) -> u128 {
    state.account(&k.public()).map_or(0, |a| a.balance)
}
