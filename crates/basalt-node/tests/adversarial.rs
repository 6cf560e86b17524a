//! Attacks on a validator's mempool and admission, one test each, named for what must hold.

use basalt_l1::{Action, GenesisAccount, Params, Transaction, ONE_TOKEN};
use basalt_node::chain::{Chain, SubmitError};
use basalt_node::devnet::{dev_account, devnet_genesis, DEVNET_CHAIN_ID};
use basalt_node::mempool::{AdmissionError, MempoolLimits};
use basalt_node::validator::open_chain;
use basalt_types::{dev_keypair, Encode, Keypair};

const SPAMMERS: u64 = 300;
const MAX_FEE: u64 = 10_000_000_000;

fn spammer(i: u64) -> Keypair {
    dev_keypair("adversarial-spammer", i)
}

/// A one-validator chain whose genesis also funds the spammers, with a small pool.
fn chain(dir: &tempfile::TempDir, limits: MempoolLimits) -> Chain {
    let mut genesis = devnet_genesis(1, Params::default(), 1_000);
    genesis
        .accounts
        .extend((0..SPAMMERS).map(|i| GenesisAccount {
            key: spammer(i).public(),
            balance: 1_000 * ONE_TOKEN,
        }));
    open_chain(&genesis, &dir.path().join("state.redb"), limits)
        .unwrap()
        .chain
}

fn transfer(from: &Keypair, nonce: u64, tip: u64) -> Vec<u8> {
    Transaction {
        chain_id: DEVNET_CHAIN_ID,
        nonce,
        max_fee_per_gas: MAX_FEE,
        priority_fee_per_gas: tip,
        gas_limit: basalt_l1::TRANSFER_GAS,
        action: Action::Transfer {
            to: dev_account(9).public(),
            amount: 1,
        },
    }
    .sign(from)
    .to_bytes()
}

/// Proposes and finalizes one block on the head; returns its transactions' hashes.
fn next_block(chain: &mut Chain) -> Vec<basalt_types::Hash> {
    let head = chain.state().head().clone();
    let who = chain.state().committee()[0];
    let block = chain
        .propose(head.hash(), head.timestamp_ms + 200, who, 1_000)
        .unwrap();
    chain.finalize(&block).unwrap();
    block.txs.iter().map(|t| t.hash()).collect()
}

#[test]
fn a_pool_full_of_gapped_max_tip_transactions_still_admits_a_valid_one() {
    let dir = tempfile::tempdir().unwrap();
    let limits = MempoolLimits {
        max_txs: 64,
        max_queued: 64,
        ..MempoolLimits::default()
    };
    let mut chain = chain(&dir, limits);
    // Every spammer skips nonce 0 and pays the highest tip there is, so none can ever execute.
    let mut held = 0;
    for i in 0..SPAMMERS {
        for nonce in 1..4 {
            match chain.submit(&transfer(&spammer(i), nonce, MAX_FEE)) {
                Ok(_) => held += 1,
                Err(SubmitError::Refused(
                    AdmissionError::QueuedFull | AdmissionError::PoolFull,
                )) => {}
                Err(e) => panic!("unexpected refusal: {e}"),
            }
        }
    }
    assert!(held >= 64, "the spam filled the pool");
    assert_eq!(chain.mempool_len(), 64);
    // An honest transfer at the lowest tip is admitted and finalized in the next block.
    let honest = chain.submit(&transfer(&dev_account(0), 0, 1)).unwrap();
    assert!(next_block(&mut chain).contains(&honest));
}

#[test]
fn gapped_transactions_cannot_crowd_out_executable_ones_in_bytes_either() {
    let dir = tempfile::tempdir().unwrap();
    let one = transfer(&spammer(0), 1, MAX_FEE).len();
    let limits = MempoolLimits {
        max_bytes: 40 * one,
        max_queued_bytes: 40 * one,
        ..MempoolLimits::default()
    };
    let mut chain = chain(&dir, limits);
    for i in 0..SPAMMERS {
        let _ = chain.submit(&transfer(&spammer(i), 1, MAX_FEE));
    }
    for sender in 0..5 {
        let hash = chain.submit(&transfer(&dev_account(sender), 0, 1)).unwrap();
        assert!(chain.mempool_len() <= 40);
        assert!(next_block(&mut chain).contains(&hash));
    }
}

#[test]
fn a_transaction_whose_tip_exceeds_its_fee_cap_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut chain = chain(&dir, MempoolLimits::default());
    let bad = Transaction {
        chain_id: DEVNET_CHAIN_ID,
        nonce: 0,
        max_fee_per_gas: MAX_FEE,
        priority_fee_per_gas: MAX_FEE + 1,
        gas_limit: basalt_l1::TRANSFER_GAS,
        action: Action::Transfer {
            to: dev_account(9).public(),
            amount: 1,
        },
    }
    .sign(&dev_account(0))
    .to_bytes();
    let err = chain.submit(&bad).unwrap_err();
    assert!(err.to_string().contains("exceeds the max fee"), "{err}");
}

#[test]
fn a_doomed_rollup_action_is_refused_by_the_cheap_checks_before_its_precheck() {
    // A dispute move's precheck may decode a whole batch under the chain lock: a transaction that
    // cannot pay must be refused before that work, for the reason that costs nothing to find.
    let dir = tempfile::tempdir().unwrap();
    let mut chain = chain(&dir, MempoolLimits::default());
    let challenge = Transaction {
        chain_id: DEVNET_CHAIN_ID,
        nonce: 0,
        max_fee_per_gas: 1,
        priority_fee_per_gas: 1,
        gas_limit: 10_000_000,
        action: Action::Challenge {
            rollup: 9,
            batch: 0,
            output: basalt_types::Hash::ZERO,
        },
    }
    .sign(&dev_account(0))
    .to_bytes();
    let err = chain.submit_local(&challenge).unwrap_err().to_string();
    assert!(err.contains("below the base fee"), "{err}");
}
