mod common;

use basalt_l1::*;
use basalt_types::Encode;
use common::*;

#[test]
fn transfer_moves_value_burns_base_fee_and_tips_the_proposer() {
    let (mut s, _) = L1State::genesis(&genesis()).unwrap();
    let (a, b) = (key(0), key(1));
    let before_a = balance(&s, &a);
    let before_b = balance(&s, &b);
    let proposer = proposer(&StateView::new(&s, vec![]));
    let tips_before = s.account(&proposer).unwrap().balance;
    let (exec, results) = step(&mut s, vec![transfer(&a, 0, b.public(), 500)]);
    assert_eq!(results, vec![Ok(())]);
    let base = exec.block.header.base_fee_per_gas as u128;
    let fee = TRANSFER_GAS as u128 * (base + 2);
    assert_eq!(balance(&s, &a), before_a - 500 - fee);
    assert_eq!(balance(&s, &b), before_b + 500);
    assert_eq!(
        s.account(&proposer).unwrap().balance,
        tips_before + TRANSFER_GAS as u128 * 2
    );
    assert_eq!(s.burned(), TRANSFER_GAS as u128 * base);
    assert_eq!(exec.diff.receipts[0].fee_paid, fee);
    assert_eq!(s.account(&a.public()).unwrap().nonce, 1);
}

#[test]
fn a_replayed_transaction_is_rejected_as_stale() {
    let (mut s, _) = L1State::genesis(&genesis()).unwrap();
    let t = transfer(&key(0), 0, key(1).public(), 1);
    step(&mut s, vec![t.clone()]);
    let (_, results) = step(&mut s, vec![t.clone()]);
    assert_eq!(
        results,
        vec![Err(TxError::StaleNonce {
            expected: 1,
            got: 0
        })]
    );
    // The same transaction twice in one block applies once.
    let t1 = transfer(&key(0), 1, key(1).public(), 1);
    let (exec, results) = step(&mut s, vec![t1.clone(), t1]);
    assert_eq!(exec.block.txs.len(), 1);
    assert_eq!(
        results[1],
        Err(TxError::StaleNonce {
            expected: 2,
            got: 1
        })
    );
}

#[test]
fn bad_transactions_are_rejected_with_their_reason() {
    let (s, _) = L1State::genesis(&genesis()).unwrap();
    let a = key(0);
    let wrong_chain = Transaction {
        chain_id: 1,
        nonce: 0,
        max_fee_per_gas: 1_000,
        priority_fee_per_gas: 0,
        gas_limit: basalt_l1::TRANSFER_GAS,
        action: Action::Transfer {
            to: key(1).public(),
            amount: 1,
        },
    }
    .sign(&a);
    let low_fee = Transaction {
        chain_id: CHAIN,
        nonce: 0,
        max_fee_per_gas: 99,
        priority_fee_per_gas: 0,
        gas_limit: basalt_l1::TRANSFER_GAS,
        action: Action::Transfer {
            to: key(1).public(),
            amount: 1,
        },
    }
    .sign(&a);
    let too_much = transfer(&a, 0, key(1).public(), 1_000_000_000);
    let future = transfer(&a, 5, key(1).public(), 1);
    let unfunded = transfer(&key(99), 0, key(1).public(), 1);
    let (exec, results) = build(&s, vec![wrong_chain, low_fee, too_much, future, unfunded]);
    assert!(exec.block.txs.is_empty());
    assert!(matches!(
        results[0],
        Err(TxError::WrongChainId {
            expected: CHAIN,
            got: 1
        })
    ));
    assert!(matches!(
        results[1],
        Err(TxError::FeeBelowBaseFee {
            max_fee: 99,
            base_fee: 100
        })
    ));
    assert!(matches!(
        results[2],
        Err(TxError::InsufficientBalance { .. })
    ));
    assert!(matches!(
        results[3],
        Err(TxError::FutureNonce {
            expected: 0,
            got: 5
        })
    ));
    assert!(matches!(
        results[4],
        Err(TxError::InsufficientBalance { have: 0, .. })
    ));
}

#[test]
fn base_fee_rises_above_target_and_falls_to_the_floor_below_it() {
    let (mut s, _) = L1State::genesis(&genesis()).unwrap();
    let a = key(0);
    // Block 1 at the initial fee; a full block (10 transfers, target 5) raises the next fee by 1/8.
    let txs = (0..10)
        .map(|n| transfer(&a, n, key(1).public(), 1))
        .collect();
    let (b1, _) = step(&mut s, txs);
    assert_eq!(b1.block.header.base_fee_per_gas, 100);
    assert_eq!(b1.block.header.gas_used, 10 * TRANSFER_GAS);
    let (b2, _) = step(&mut s, vec![]);
    assert_eq!(b2.block.header.base_fee_per_gas, 112);
    // Empty blocks lower it by 1/8 each time, down to the floor.
    for _ in 0..40 {
        step(&mut s, vec![]);
    }
    assert_eq!(s.head().base_fee_per_gas, params().min_base_fee);
    assert_eq!(next_base_fee(100, 5, 5, 1), 100);
    assert_eq!(next_base_fee(u64::MAX, 10, 5, 1), u64::MAX);
}

#[test]
fn a_block_cannot_exceed_its_gas_limit() {
    let (s, _) = L1State::genesis(&genesis()).unwrap();
    let txs = (0..11)
        .map(|n| transfer(&key(0), n, key(1).public(), 1))
        .collect();
    let (exec, results) = build(&s, txs);
    assert_eq!(exec.block.txs.len(), 10);
    assert_eq!(results[10], Err(TxError::BlockGasFull));
}

#[test]
fn blobs_pay_their_own_fee_are_retrievable_and_pruned_after_retention() {
    let (mut s, _) = L1State::genesis(&genesis()).unwrap();
    let data = vec![7u8; 1000];
    let post = tx(
        &key(0),
        0,
        Action::PostBlob {
            data: data.clone(),
            max_fee_per_blob_byte: 5,
        },
    );
    let (b1, results) = step(&mut s, vec![post]);
    assert_eq!(results, vec![Ok(())]);
    let h = blob_hash(&data);
    assert_eq!(b1.block.header.blob_bytes, 1000);
    assert_eq!(b1.block.header.blob_root, basalt_merkle::list_root(&[h]));
    let fee = b1.diff.receipts[0].fee_paid;
    let gas = BLOB_TX_GAS + basalt_l1::gas::PAYLOAD_BYTE_GAS * 1000;
    assert_eq!(fee, gas as u128 * (100 + 2) + 1000 * 5);
    assert_eq!(s.blob(&h).unwrap().data, data);
    // Retention is 3 blocks: still there at height 3, gone at height 4.
    step(&mut s, vec![]);
    step(&mut s, vec![]);
    assert!(s.blob(&h).is_some());
    step(&mut s, vec![]);
    assert!(s.blob(&h).is_none());
    assert_eq!(s.blobs_in_memory(), 0);
}

#[test]
fn oversized_empty_or_underpriced_blobs_are_rejected() {
    let (s, _) = L1State::genesis(&genesis()).unwrap();
    let a = key(0);
    let big = tx(
        &a,
        0,
        Action::PostBlob {
            data: vec![0; 2049],
            max_fee_per_blob_byte: 5,
        },
    );
    let empty = tx(
        &a,
        0,
        Action::PostBlob {
            data: vec![],
            max_fee_per_blob_byte: 5,
        },
    );
    let cheap = tx(
        &a,
        0,
        Action::PostBlob {
            data: vec![1; 10],
            max_fee_per_blob_byte: 4,
        },
    );
    let (_, r) = build(&s, vec![big, empty, cheap]);
    assert!(matches!(r[0], Err(TxError::BadBlobSize { len: 2049, .. })));
    assert!(matches!(r[1], Err(TxError::BadBlobSize { len: 0, .. })));
    assert!(matches!(r[2], Err(TxError::BlobFeeBelowBaseFee { .. })));
    // Two blobs of 2048 fill the block's 4096 bytes; a third does not fit.
    let fill: Vec<_> = (0..3)
        .map(|n| {
            tx(
                &a,
                n,
                Action::PostBlob {
                    data: vec![n as u8; 2048],
                    max_fee_per_blob_byte: 5,
                },
            )
        })
        .collect();
    let (exec, r) = build(&s, fill);
    assert_eq!(exec.block.txs.len(), 2);
    assert_eq!(r[2], Err(TxError::BlockBlobSpaceFull));
}

#[test]
fn committee_changes_only_at_epoch_boundaries_and_unbonding_returns_then() {
    // Epochs are 4 blocks: heights 0..=3 are epoch 0, and block 3 picks epoch 1's committee.
    let (mut s, _) = L1State::genesis(&genesis()).unwrap();
    let (v0, v1, newcomer) = (key(10).public(), key(11).public(), key(0));
    let mut expected = vec![v0, v1];
    expected.sort();
    assert_eq!(s.committee(), expected.as_slice());
    // Height 1: a newcomer stakes more than anyone, and validator 11 (which holds only stake) is
    // funded so it can pay fees; height 2: validator 11 unbonds everything.
    step(
        &mut s,
        vec![
            tx(&newcomer, 0, Action::Stake { amount: 9_000 }),
            transfer(&key(1), 0, v1, 100_000_000),
        ],
    );
    assert_eq!(s.committee(), expected.as_slice(), "no change mid-epoch");
    let v1_balance = s.account(&v1).unwrap().balance;
    let unstake = Transaction {
        chain_id: CHAIN,
        nonce: 0,
        max_fee_per_gas: 1_000,
        priority_fee_per_gas: 0,
        gas_limit: basalt_l1::STAKE_GAS,
        action: Action::Unstake { amount: 5_000 },
    };
    let (b2, r) = step(&mut s, vec![unstake.sign(&key(11))]);
    assert_eq!(r, vec![Ok(())]);
    let unstake_fee = b2.diff.receipts[0].fee_paid;
    assert_eq!(s.head().height, 2);
    assert_eq!(s.committee(), expected.as_slice(), "no change mid-epoch");
    assert_eq!(s.account(&v1).unwrap().unbonding, 5_000);
    let (b3, _) = step(&mut s, vec![]);
    assert_eq!(b3.block.header.height, 3);
    assert!(
        b3.diff.committee.is_some(),
        "the last block of the epoch sets the committee"
    );
    let mut next = vec![v0, newcomer.public()];
    next.sort();
    assert_eq!(s.committee(), next.as_slice());
    let acc = s.account(&v1).unwrap();
    assert_eq!((acc.stake, acc.unbonding), (0, 0));
    assert_eq!(acc.balance, v1_balance - unstake_fee + 5_000);
    // Nothing changes inside epoch 1 (heights 4..=7) without new stake.
    for _ in 4..=7 {
        let (b, _) = step(&mut s, vec![]);
        assert!(b.diff.committee.is_none());
    }
}

#[test]
fn unstaking_more_than_the_stake_fails_but_still_pays() {
    let (mut s, _) = L1State::genesis(&genesis()).unwrap();
    let a = key(0);
    let before = balance(&s, &a);
    let (exec, results) = step(&mut s, vec![tx(&a, 0, Action::Unstake { amount: 1 })]);
    assert_eq!(results, vec![Ok(())]);
    let r = &exec.diff.receipts[0];
    assert_eq!(r.failure, Some(FailureCode::UnstakeExceedsStake));
    assert_eq!(balance(&s, &a), before - r.fee_paid);
    assert_eq!(s.account(&a.public()).unwrap().nonce, 1);
}

#[test]
fn verifiers_reject_blocks_whose_header_lies() {
    let (s, _) = L1State::genesis(&genesis()).unwrap();
    let (exec, _) = build(&s, vec![transfer(&key(0), 0, key(1).public(), 5)]);
    let view = StateView::new(&s, vec![]);
    let tamper = |f: &dyn Fn(&mut Block)| {
        let mut b = exec.block.clone();
        f(&mut b);
        verify_block(&view, &b).unwrap_err()
    };
    assert_eq!(
        tamper(&|b| b.header.state_root = basalt_types::hash(b"lie")),
        BlockError::HeaderMismatch("state_root")
    );
    assert_eq!(
        tamper(&|b| b.header.gas_used += 1),
        BlockError::HeaderMismatch("gas_used")
    );
    assert_eq!(
        tamper(&|b| b.header.base_fee_per_gas = 1),
        BlockError::HeaderMismatch("base_fee_per_gas")
    );
    assert_eq!(
        tamper(&|b| b.header.tx_root = basalt_types::Hash::ZERO),
        BlockError::HeaderMismatch("tx_root")
    );
    assert_eq!(
        tamper(&|b| b.header.height = 5),
        BlockError::BadLink("height")
    );
    assert!(matches!(
        tamper(&|b| b.header.timestamp_ms = 1_000),
        BlockError::NonIncreasingTimestamp { .. }
    ));
    assert!(matches!(
        tamper(&|b| b.header.proposer = key(3).public()),
        BlockError::UnknownProposer(_)
    ));
    assert!(matches!(
        tamper(&|b| b.txs[0].tx.nonce = 1),
        BlockError::BadSignature { index: 0, .. }
    ));
    // A block that smuggles an unpayable transaction is invalid as a whole.
    let mut bad = exec.block.clone();
    bad.txs
        .push(transfer(&key(0), 1, key(1).public(), u128::MAX / 2));
    assert!(matches!(
        verify_block(&view, &bad),
        Err(BlockError::InvalidTx { index: 1, .. })
    ));
}

#[test]
fn blocks_roundtrip_through_the_codec() {
    let (s, genesis_block) = L1State::genesis(&genesis()).unwrap();
    assert_eq!(
        Block::decode_untrusted(&genesis_block.to_bytes()).unwrap(),
        genesis_block
    );
    let (exec, _) = build(&s, vec![transfer(&key(0), 0, key(1).public(), 5)]);
    let bytes = exec.block.to_bytes();
    assert_eq!(Block::decode_untrusted(&bytes).unwrap(), exec.block);
    assert!(Block::decode_untrusted(&bytes[..bytes.len() - 1]).is_err());
    let r = &exec.diff.receipts[0];
    assert_eq!(
        <Receipt as basalt_types::Decode>::from_bytes(&r.to_bytes()).unwrap(),
        *r
    );
}

#[test]
fn executing_on_unfinalized_parents_matches_executing_after_finalization() {
    let (mut s, _) = L1State::genesis(&genesis()).unwrap();
    let (b1, _) = build(&s, vec![transfer(&key(0), 0, key(7).public(), 5)]);
    // Build block 2 on top of the unfinalized block 1.
    let b2 = {
        let view = StateView::new(&s, vec![&b1.diff]);
        let mut builder = BlockBuilder::new(&view);
        let t = transfer(&key(7), 0, key(8).public(), 1).verify().unwrap();
        assert!(
            builder.apply(&t).is_err(),
            "a fresh account holds 5, not enough for fees"
        );
        let t = transfer(&key(0), 1, key(8).public(), 9).verify().unwrap();
        builder.apply(&t).unwrap();
        builder
            .finish(b1.block.header.timestamp_ms + 200, proposer(&view))
            .unwrap()
    };
    s.apply(&b1.diff);
    let view = StateView::new(&s, vec![]);
    let again = verify_block(&view, &b2.block).unwrap();
    assert_eq!(again.diff, b2.diff);
    s.apply(&b2.diff);
    assert_eq!(s.account(&key(8).public()).unwrap().index, 8);
}

#[test]
fn genesis_rejects_duplicates_bad_params_and_stakeless_validators() {
    let mut g = genesis();
    g.accounts.push(g.accounts[0].clone());
    assert!(matches!(
        L1State::genesis(&g),
        Err(GenesisError::Duplicate(_))
    ));
    let mut g = genesis();
    g.params.epoch_length = 1;
    assert!(matches!(
        L1State::genesis(&g),
        Err(GenesisError::InvalidParam {
            name: "epoch_length",
            ..
        })
    ));
    let mut g = genesis();
    g.validators.iter_mut().for_each(|v| v.stake = 1);
    assert_eq!(L1State::genesis(&g).err(), Some(GenesisError::NoValidators));
    let text = genesis().to_json();
    assert_eq!(Genesis::from_json(&text).unwrap(), genesis());
    assert!(matches!(
        Genesis::from_json("{\"chain_id\": 1}"),
        Err(GenesisError::Parse(_))
    ));
}
