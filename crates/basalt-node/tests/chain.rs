//! The node core without consensus: proposing, verifying with mempool-reused signatures, finalizing.

use basalt_l1::{Action, Params, Transaction, ONE_TOKEN};
use basalt_node::chain::{Chain, ChainError};
use basalt_node::devnet::{dev_account, devnet_genesis, DEVNET_CHAIN_ID};
use basalt_node::mempool::MempoolLimits;
use basalt_node::validator::open_chain;
use basalt_types::Encode;

fn chain(dir: &tempfile::TempDir, name: &str) -> Chain {
    let genesis = devnet_genesis(1, Params::default(), 1_000);
    open_chain(&genesis, &dir.path().join(name), MempoolLimits::default())
        .unwrap()
        .chain
}

fn transfer(from: u64, nonce: u64) -> Vec<u8> {
    transfer_to(from, nonce, dev_account(9).public())
}

/// A transfer of one token from dev account `from` to `to`.
fn transfer_to(from: u64, nonce: u64, to: basalt_types::PublicKey) -> Vec<u8> {
    Transaction {
        chain_id: DEVNET_CHAIN_ID,
        nonce,
        max_fee_per_gas: 10_000_000_000,
        priority_fee_per_gas: 1,
        gas_limit: basalt_l1::TRANSFER_GAS,
        action: Action::Transfer {
            to,
            amount: ONE_TOKEN,
        },
    }
    .sign(&dev_account(from))
    .to_bytes()
}

#[test]
fn verifiers_reuse_admitted_signatures_but_still_reject_forged_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (mut proposer, mut verifier) = (chain(&dir, "p.redb"), chain(&dir, "v.redb"));
    let (t1, t2) = (transfer(0, 0), transfer(1, 0));
    proposer.submit(&t1).unwrap();
    proposer.submit(&t2).unwrap();
    verifier.submit(&t1).unwrap(); // the verifier has seen only the first
    let head = proposer.state().head().clone();
    let who = proposer.state().committee()[0];
    let block = proposer
        .propose(head.hash(), head.timestamp_ms + 200, who, 100)
        .unwrap();
    assert_eq!(block.txs.len(), 2);

    let mut forged = block.clone();
    forged.txs[1].signature.0[0] ^= 1;
    match verifier.verify(&forged) {
        Err(ChainError::Invalid(basalt_l1::BlockError::BadSignature { index: 1, .. })) => {}
        other => panic!("forged signature accepted or misreported: {other:?}"),
    }
    verifier.verify(&block).unwrap();
    let h = verifier.finalize(&block).unwrap();
    assert_eq!(h.height, 1);
    assert_eq!(
        verifier.mempool_len(),
        0,
        "included transactions leave the mempool"
    );
    assert_eq!(verifier.state().head().state_root, block.header.state_root);
}

/// A transfer of one token from dev account `from` to a fresh account numbered `to`.
fn transfer_to_new(from: u64, nonce: u64, to: u64) -> Vec<u8> {
    let key = basalt_types::Keypair::from_secret([(to % 251) as u8 + 1; 32]).public();
    transfer_to(from, nonce, key)
}

#[test]
fn validators_verifying_on_different_thread_counts_agree_on_every_block() {
    let dir = tempfile::tempdir().unwrap();
    let mut proposer = chain(&dir, "p.redb");
    let mut one = chain(&dir, "one.redb");
    let mut two = chain(&dir, "two.redb");
    let mut four = chain(&dir, "four.redb");
    two.set_execution_threads(2);
    four.set_execution_threads(4);
    let txs: Vec<Vec<u8>> = (0..300u64)
        .map(|i| transfer_to_new(i % 10, i / 10, i % 37))
        .collect();
    for (i, t) in txs.iter().enumerate() {
        proposer.submit(t).unwrap();
        if i % 3 == 0 {
            two.submit(t).unwrap(); // the others' signatures are checked in the block, threaded
        }
    }
    let head = proposer.state().head().clone();
    let who = proposer.state().committee()[0];
    let block = proposer
        .propose(head.hash(), head.timestamp_ms + 200, who, 1_000)
        .unwrap();
    assert_eq!(block.txs.len(), 300);

    let mut forged = block.clone();
    forged.txs[250].signature.0[0] ^= 1;
    for v in [&mut one, &mut two, &mut four] {
        match v.verify(&forged) {
            Err(ChainError::Invalid(basalt_l1::BlockError::BadSignature {
                index: 250, ..
            })) => {}
            other => panic!("forged signature accepted or misreported: {other:?}"),
        }
    }
    let mut wrong_root = block.clone();
    wrong_root.header.state_root.0[0] ^= 1;
    for v in [&mut one, &mut two, &mut four] {
        assert!(v.verify(&wrong_root).is_err(), "a wrong state root passed");
        v.verify(&block).unwrap();
        v.finalize(&block).unwrap();
        assert_eq!(v.state().head().state_root, block.header.state_root);
        assert_eq!(v.state().head().hash(), block.header.hash());
    }
    // A validator that finalizes a block it never verified executes it then, threaded too.
    let mut late = chain(&dir, "late.redb");
    late.set_execution_threads(2);
    late.finalize(&block).unwrap();
    assert_eq!(late.state().head().state_root, block.header.state_root);
}

#[test]
fn a_restarted_chain_resumes_from_its_store() {
    let dir = tempfile::tempdir().unwrap();
    let root = {
        let mut c = chain(&dir, "s.redb");
        c.submit(&transfer(0, 0)).unwrap();
        let head = c.state().head().clone();
        let who = c.state().committee()[0];
        let block = c
            .propose(head.hash(), head.timestamp_ms + 200, who, 100)
            .unwrap();
        c.finalize(&block).unwrap();
        c.state().head().state_root
    };
    let c = chain(&dir, "s.redb");
    assert_eq!(c.state().head().height, 1);
    assert_eq!(c.state().head().state_root, root);
    assert_eq!(
        c.state().account(&dev_account(0).public()).unwrap().nonce,
        1
    );
    assert_eq!(
        c.state().circulating() + c.state().burned(),
        c.state().genesis_supply()
    );
}

fn signed(from: u64, nonce: u64, action: Action) -> Vec<u8> {
    // Room for the small batch decode a proposal pays on top of its intrinsic gas.
    let gas_limit =
        basalt_l1::gas::known_limit(&action).unwrap_or(action.intrinsic_gas() + 100_000);
    Transaction {
        chain_id: DEVNET_CHAIN_ID,
        nonce,
        max_fee_per_gas: 10_000_000_000,
        priority_fee_per_gas: 1,
        gas_limit,
        action,
    }
    .sign(&dev_account(from))
    .to_bytes()
}

/// Rollup `alpha`, sequenced by dev account 1, with short dev windows (devnet only).
fn alpha_params() -> basalt_l1::RollupParams {
    basalt_l1::RollupParams {
        name: "alpha".into(),
        kind: basalt_l1::RollupKind::Optimistic,
        sequencer: dev_account(1).public(),
        challenge_window: 5,
        proposer_bond: ONE_TOKEN,
        min_fee: 1,
        clock_extension: 4,
        dispute_bond: 1,
        slash_reward_percent: 50,
        force_inclusion_blocks: 10,
        escape_blocks: 1_000_000,
        fee_model: basalt_l1::FeeModel::Fixed,
    }
}

fn finalize_next(c: &mut Chain) {
    let head = c.state().head().clone();
    let who = c.state().committee()[0];
    let block = c
        .propose(head.hash(), head.timestamp_ms + 200, who, 100)
        .unwrap();
    c.finalize(&block).unwrap();
}

#[test]
fn rollup_state_survives_a_restart_and_doomed_rollup_actions_are_refused_at_submission() {
    let dir = tempfile::tempdir().unwrap();
    let params = alpha_params();
    let batch = |from: u64, nonce: u64| {
        let data = basalt_l2::encode_batch::<basalt_l2::Optimistic>(&[basalt_l2::L2Tx::Deposit {
            index: 0,
        }]);
        signed(
            from,
            nonce,
            Action::PostBatch {
                rollup: 0,
                index: 0,
                data_hash: basalt_l1::blob_hash(&data),
                data,
                deposits_end: 1,
                max_fee_per_blob_byte: 1_000_000,
            },
        )
    };
    let before = {
        let mut c = chain(&dir, "r.redb");
        c.submit(&signed(0, 0, Action::RegisterRollup { params }))
            .unwrap();
        finalize_next(&mut c);
        let deposit = Action::Deposit {
            rollup: 0,
            account: None,
            key: dev_account(2).public(),
            amount: 5 * ONE_TOKEN,
        };
        c.submit(&signed(2, 0, deposit)).unwrap();
        finalize_next(&mut c);
        // Not the sequencer: refused with the reason, before it can cost a fee.
        let refused = c.submit_local(&batch(3, 0)).unwrap_err().to_string();
        assert!(refused.contains("only the sequencer"), "{refused}");
        assert_eq!(c.mempool_len(), 0);
        c.submit(&batch(1, 0)).unwrap();
        finalize_next(&mut c);
        let g = c.state().rollup(0).unwrap().header.genesis_output;
        let propose = Action::ProposeOutput {
            rollup: 0,
            batch: 0,
            prior: g,
            output: basalt_types::Hash([7; 32]),
        };
        c.submit(&signed(4, 0, propose)).unwrap();
        finalize_next(&mut c);
        // Claims in the tree: stored as an append-only list, restored and checked on open.
        for (who, value) in [(3u64, 1u8), (2, 2)] {
            let counter = Action::Counter {
                rollup: 0,
                proposal: 0,
                parent: 0,
                attack: true,
                value: basalt_types::Hash([value; 32]),
            };
            c.submit(&signed(who, if who == 2 { 1 } else { 0 }, counter))
                .unwrap();
        }
        finalize_next(&mut c);
        c.state().rollup(0).unwrap().clone()
    };
    let c = chain(&dir, "r.redb");
    let after = c.state().rollup(0).unwrap();
    assert_eq!(after, &before);
    assert_eq!(after.header.escrow, 5 * ONE_TOKEN);
    assert_eq!(
        (
            after.deposits.len(),
            after.batches.len(),
            after.proposals.len()
        ),
        (1, 1, 1)
    );
    assert_eq!(
        after.trees[0].claims().len(),
        3,
        "the tree's claims survive"
    );
    assert_eq!(after.open.len(), 1);
    assert!(c.state().blob(&after.batches[0].data_hash).is_some());
    assert_eq!(
        c.state().circulating() + c.state().burned(),
        c.state().genesis_supply()
    );
}

/// A sequencer pipelines its batches: batch 1 at the nonce after batch 0's is judged on the state
/// batch 0 leaves, not on the finalized one, so it is admitted and both land in order. A doomed
/// action at the sender's next nonce is still refused before it costs a fee.
#[test]
fn a_pipelined_batch_behind_the_senders_pending_one_is_admitted_and_lands_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = chain(&dir, "p.redb");
    let params = alpha_params();
    c.submit_local(&signed(0, 0, Action::RegisterRollup { params }))
        .unwrap();
    finalize_next(&mut c);
    let batch = |index: u64, nonce: u64| {
        let data = vec![index as u8; 10];
        signed(
            1,
            nonce,
            Action::PostBatch {
                rollup: 0,
                index,
                data_hash: basalt_l1::blob_hash(&data),
                data,
                deposits_end: 0,
                max_fee_per_blob_byte: 1_000_000,
            },
        )
    };
    // Out of order at the next nonce: refused with the reason.
    let refused = c.submit_local(&batch(1, 0)).unwrap_err().to_string();
    assert!(refused.contains("next batch is number 0"), "{refused}");
    c.submit_local(&batch(0, 0)).unwrap();
    c.submit_local(&batch(1, 1)).unwrap();
    c.submit_local(&batch(2, 2)).unwrap();
    assert_eq!(c.mempool_len(), 3);
    finalize_next(&mut c);
    let r = c.state().rollup(0).unwrap();
    assert_eq!(r.header.batch_count, 3);
    assert_eq!(r.batches[2].data_hash, basalt_l1::blob_hash(&[2; 10]));
}

/// Block building took senders at equal tips in key order, each sender's whole queue before the
/// next: a sender with a lucky key filled every slot (two rollups' batchers bidding the same blob
/// fee got 0.29 and 0.57 of the blob space). Now they take turns.
#[test]
fn senders_paying_the_same_tip_take_turns_in_a_full_block() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = chain(&dir, "l1.redb");
    for from in [1, 2] {
        for nonce in 0..4 {
            c.submit(&transfer(from, nonce)).unwrap();
        }
    }
    let head = c.state().head().clone();
    let who = c.state().committee()[0];
    let block = c
        .propose(head.hash(), head.timestamp_ms + 200, who, 4)
        .unwrap();
    c.finalize(&block).unwrap();
    for from in [1, 2] {
        let nonce = c
            .state()
            .account(&dev_account(from).public())
            .unwrap()
            .nonce;
        assert_eq!(nonce, 2, "sender {from} got {nonce} of the block's 4 slots");
    }
}

/// The admission precheck runs only at the sender's next nonce, so a doomed action queued behind
/// the sender's own pending transaction gets in; it is no free spam: it fails in its block and
/// the sender pays its gas.
#[test]
fn a_doomed_action_behind_the_senders_pending_one_fails_in_its_block_and_pays_its_fee() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = chain(&dir, "d.redb");
    let doomed = Action::PostBatch {
        rollup: 7, // no such rollup
        index: 0,
        data_hash: basalt_l1::blob_hash(&[1; 10]),
        data: vec![1; 10],
        deposits_end: 0,
        max_fee_per_blob_byte: 1_000_000,
    };
    // At the next nonce the precheck refuses it for nothing.
    assert!(c.submit_local(&signed(1, 0, doomed.clone())).is_err());
    c.submit_local(&transfer(1, 0)).unwrap();
    let hash = c.submit_local(&signed(1, 1, doomed)).unwrap();
    finalize_next(&mut c);
    let receipt = c.store().tx(&hash).unwrap().expect("final").receipt;
    assert!(receipt.failure.is_some(), "the doomed action failed");
    assert!(receipt.fee_paid > 0, "and the sender paid for it");
}
