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
    // A proposal's or a step's precheck may decode a whole batch under the chain lock: a
    // transaction that cannot pay must be refused before that work, for the reason that costs
    // nothing to find.
    let dir = tempfile::tempdir().unwrap();
    let mut chain = chain(&dir, MempoolLimits::default());
    let challenge = Transaction {
        chain_id: DEVNET_CHAIN_ID,
        nonce: 0,
        max_fee_per_gas: 1,
        priority_fee_per_gas: 1,
        gas_limit: 10_000_000,
        action: Action::ProposeOutput {
            rollup: 9,
            batch: 0,
            prior: basalt_types::Hash::ZERO,
            output: basalt_types::Hash::ZERO,
        },
    }
    .sign(&dev_account(0))
    .to_bytes();
    let err = chain.submit_local(&challenge).unwrap_err().to_string();
    assert!(err.contains("below the base fee"), "{err}");
}

/// Retained blobs used to be held in memory, all loaded at start: a full retention window of
/// maximal blobs is tens of GB. Now a node keeps none in memory, reads them from its store on
/// demand, before and after a restart, and prunes them at retention.
#[test]
fn a_node_holds_no_blob_in_memory_and_reads_them_from_disk_until_retention_prunes_them() {
    let dir = tempfile::tempdir().unwrap();
    let params = Params {
        blob_retention_blocks: 6,
        ..Params::default()
    };
    let genesis = devnet_genesis(1, params, 1_000);
    let open = || {
        open_chain(
            &genesis,
            &dir.path().join("blobs.redb"),
            MempoolLimits::default(),
        )
        .unwrap()
        .chain
    };
    let finalize_next = |c: &mut Chain| {
        let head = c.state().head().clone();
        let who = c.state().committee()[0];
        let block = c
            .propose(head.hash(), head.timestamp_ms + 200, who, 100)
            .unwrap();
        c.finalize(&block).unwrap();
    };
    let data: Vec<Vec<u8>> = (0..3u8).map(|i| vec![i; 100_000]).collect();
    let hashes: Vec<_> = data.iter().map(|d| basalt_l1::blob_hash(d)).collect();
    let posted_at = {
        let mut c = open();
        for (nonce, d) in data.iter().enumerate() {
            let post = Action::PostBlob {
                data: d.clone(),
                max_fee_per_blob_byte: 1_000_000,
            };
            let tx = Transaction {
                chain_id: DEVNET_CHAIN_ID,
                nonce: nonce as u64,
                max_fee_per_gas: MAX_FEE,
                priority_fee_per_gas: 1,
                gas_limit: post.intrinsic_gas(),
                action: post,
            }
            .sign(&dev_account(0));
            c.submit(&tx.to_bytes()).unwrap();
        }
        finalize_next(&mut c);
        assert_eq!(c.state().blobs_in_memory(), 0);
        for (h, d) in hashes.iter().zip(&data) {
            assert_eq!(&c.state().blob(h).expect("retained").data, d);
        }
        c.state().head().height
    };
    let mut c = open();
    assert_eq!(c.state().blobs_in_memory(), 0, "nothing loaded at start");
    assert_eq!(c.state().blob(&hashes[1]).expect("retained").data, data[1]);
    while c.state().head().height < posted_at + 6 {
        assert!(c.state().blob(&hashes[2]).is_some());
        finalize_next(&mut c);
    }
    assert!(hashes.iter().all(|h| c.state().blob(h).is_none()), "pruned");
}
