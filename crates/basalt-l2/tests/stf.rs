//! The L2 state transition function: rules, no-op failures, conservation, replay protection, and
//! one-step re-execution from a witness.

use basalt_l2::{
    execute_step, Account, Commitment, Config, DepositEntry, DepositWindow, L2State, L2Tx,
    Optimistic, Outcome, SigCheck, StepWitness, TxFailure, WitnessError,
};
use basalt_merkle::Blake3Hasher;
use basalt_types::{dev_keypair, Decode, Encode, Keypair};
use proptest::prelude::*;

type P = Optimistic;

const CONFIG: Config = Config {
    rollup_id: 7,
    min_fee: 10,
};

fn key(i: u64) -> Keypair {
    dev_keypair("basalt-l2-test", i)
}

fn deposit_to(i: u64, amount: u128) -> DepositEntry<P> {
    DepositEntry {
        forced: None,
        account: None,
        key: key(i).public(),
        amount,
    }
}

fn transfer(from_key: u64, from: u32, to: u32, amount: u128, fee: u128, nonce: u64) -> L2Tx<P> {
    sign(
        from_key,
        L2Tx::Transfer {
            from,
            to,
            amount,
            fee,
            nonce,
            signature: basalt_types::Signature([0; 64]),
        },
    )
}

fn withdraw(from_key: u64, from: u32, amount: u128, fee: u128, nonce: u64) -> L2Tx<P> {
    sign(
        from_key,
        L2Tx::Withdraw {
            from,
            recipient: key(100 + from_key).public(),
            amount,
            fee,
            nonce,
            signature: basalt_types::Signature([0; 64]),
        },
    )
}

fn sign(k: u64, mut tx: L2Tx<P>) -> L2Tx<P> {
    let sig = key(k).sign(&tx.signing_message(CONFIG.rollup_id).0);
    match &mut tx {
        L2Tx::Transfer { signature, .. } | L2Tx::Withdraw { signature, .. } => *signature = sig,
        L2Tx::Deposit { .. } => {}
    }
    tx
}

/// A rollup whose sequencer is key 0, with accounts 1 and 2 funded by deposits 0 and 1.
fn funded() -> (L2State<P>, Vec<DepositEntry<P>>) {
    let mut s = L2State::genesis(CONFIG, key(0).public());
    let deposits = vec![deposit_to(1, 1_000), deposit_to(2, 500)];
    let window = DepositWindow {
        first: 0,
        entries: &deposits,
    };
    for i in 0..2 {
        assert_eq!(
            s.apply(&window, &L2Tx::Deposit { index: i }, SigCheck::Verify),
            Outcome::Applied
        );
    }
    s.commit();
    (s, deposits)
}

fn apply(s: &mut L2State<P>, deposits: &[DepositEntry<P>], tx: L2Tx<P>) -> Outcome {
    let window = DepositWindow {
        first: 0,
        entries: deposits,
    };
    let o = s.apply(&window, &tx, SigCheck::Verify);
    s.commit();
    o
}

#[test]
fn deposits_open_accounts_in_queue_order_and_credit_named_accounts() {
    let (mut s, mut deposits) = funded();
    assert_eq!(s.accounts().len(), 3);
    assert_eq!(s.get(1).unwrap().balance, 1_000);
    // Deposit 2 names account 1 with account 1's key: credited. Deposit 3 names account 1 with
    // another key: a new account for that key, never someone else's.
    deposits.push(DepositEntry {
        forced: None,
        account: Some(1),
        key: key(1).public(),
        amount: 5,
    });
    deposits.push(DepositEntry {
        forced: None,
        account: Some(1),
        key: key(9).public(),
        amount: 6,
    });
    let before = s.output();
    assert_eq!(
        apply(&mut s, &deposits, L2Tx::Deposit { index: 3 }),
        Outcome::Failed(TxFailure::DepositOutOfOrder {
            expected: 2,
            got: 3
        })
    );
    assert_eq!(s.output(), before, "a failed deposit changes nothing");
    assert_eq!(
        apply(&mut s, &deposits, L2Tx::Deposit { index: 2 }),
        Outcome::Applied
    );
    assert_eq!(s.get(1).unwrap().balance, 1_005);
    assert_eq!(
        apply(&mut s, &deposits, L2Tx::Deposit { index: 3 }),
        Outcome::Applied
    );
    assert_eq!(s.get(3).unwrap().key, key(9).public());
    assert_eq!(s.get(3).unwrap().balance, 6);
    assert_eq!(
        apply(&mut s, &deposits, L2Tx::Deposit { index: 4 }),
        Outcome::Failed(TxFailure::DepositUnavailable(4))
    );
}

#[test]
fn transfers_pay_the_sequencer_and_every_broken_rule_is_a_no_op() {
    let (mut s, d) = funded();
    assert_eq!(
        apply(&mut s, &d, transfer(1, 1, 2, 100, 10, 0)),
        Outcome::Applied
    );
    assert_eq!(s.get(1).unwrap().balance, 890);
    assert_eq!(s.get(2).unwrap().balance, 600);
    assert_eq!(s.get(0).unwrap().balance, 10);
    assert_eq!(s.get(1).unwrap().nonce, 1);

    let other_rollup = {
        let mut tx = transfer(1, 1, 2, 1, 10, 1);
        let sig = key(1).sign(&tx.signing_message(CONFIG.rollup_id + 1).0);
        if let L2Tx::Transfer { signature, .. } = &mut tx {
            *signature = sig;
        }
        tx
    };
    let cases = [
        (
            transfer(1, 1, 2, 100, 10, 0),
            TxFailure::BadNonce {
                expected: 1,
                got: 0,
            },
        ),
        (transfer(2, 1, 2, 1, 10, 1), TxFailure::BadSignature),
        (other_rollup, TxFailure::BadSignature),
        (
            transfer(1, 1, 2, 881, 10, 1),
            TxFailure::InsufficientBalance,
        ),
        (transfer(1, 1, 2, 1, 9, 1), TxFailure::FeeTooLow),
        (transfer(1, 1, 99, 1, 10, 1), TxFailure::UnknownAccount(99)),
        (transfer(1, 99, 1, 1, 10, 0), TxFailure::UnknownAccount(99)),
        (transfer(1, 1, 2, u128::MAX, 10, 1), TxFailure::Overflow),
    ];
    for (tx, why) in cases {
        let before = s.output();
        assert_eq!(apply(&mut s, &d, tx), Outcome::Failed(why), "{why}");
        assert_eq!(s.output(), before, "{why} changed the state");
    }
    // A self-transfer only costs the fee.
    assert_eq!(
        apply(&mut s, &d, transfer(1, 1, 1, 50, 10, 1)),
        Outcome::Applied
    );
    assert_eq!(s.get(1).unwrap().balance, 880);
}

#[test]
fn withdrawals_leave_the_rollup_and_are_provable_against_the_withdrawals_root() {
    let (mut s, d) = funded();
    assert_eq!(
        apply(&mut s, &d, withdraw(2, 2, 300, 10, 0)),
        Outcome::Applied
    );
    assert_eq!(s.get(2).unwrap().balance, 190);
    assert_eq!(s.withdrawals().len(), 1);
    let (w, proof) = s.withdrawal_proof(0).unwrap();
    assert_eq!(w.amount, 300);
    assert_eq!(w.recipient, key(102).public());
    let c = s.commitment();
    assert!(proof.verify::<Blake3Hasher>(&c.withdrawals_tree_root, w.leaf::<P>()));
    assert_eq!(
        c.withdrawals_root(),
        basalt_l2::withdrawals_root::<P>(c.withdrawals_tree_root, 1)
    );
    assert_eq!(
        apply(&mut s, &d, withdraw(2, 2, 181, 10, 1)),
        Outcome::Failed(TxFailure::InsufficientBalance)
    );
}

#[test]
fn witnesses_that_do_not_open_the_prior_output_are_rejected() {
    let (s, d) = funded();
    let window = DepositWindow {
        first: 0,
        entries: &d,
    };
    let tx = transfer(1, 1, 2, 100, 10, 0);
    let w = s.witness(&window, &tx);
    let prior = s.output();
    let mut next = s.clone();
    next.apply(&window, &tx, SigCheck::Verify);
    next.commit();
    assert_eq!(
        execute_step(&CONFIG, &prior, &w, &window, &tx),
        Ok((Outcome::Applied, next.output()))
    );
    // Another prior output.
    assert_eq!(
        execute_step(&CONFIG, &next.output(), &w, &window, &tx),
        Err(WitnessError::WrongPrior)
    );
    // A richer sender than the tree holds.
    let mut rich = w.clone();
    if let Some(a) = rich.accounts[0].0.as_mut() {
        a.balance += 1_000_000;
    }
    assert!(matches!(
        execute_step(&CONFIG, &prior, &rich, &window, &tx),
        Err(WitnessError::Path(_))
    ));
    // A witness missing the recipient.
    let mut short = w.clone();
    short.accounts.truncate(1);
    assert!(matches!(
        execute_step(&CONFIG, &prior, &short, &window, &tx),
        Err(WitnessError::Path(_))
    ));
    // A prior commitment with a different account count cannot open the agreed output.
    let mut count = w.clone();
    count.prior.account_count += 1;
    assert_eq!(
        execute_step(&CONFIG, &prior, &count, &window, &tx),
        Err(WitnessError::WrongPrior)
    );
    // Claiming an allocated account is free.
    let mut free = w;
    free.accounts[1].0 = None;
    assert_eq!(
        execute_step(&CONFIG, &prior, &free, &window, &tx),
        Err(WitnessError::BadAccount(2))
    );
}

#[test]
fn transactions_and_witnesses_roundtrip_through_their_encodings() {
    let (s, d) = funded();
    let window = DepositWindow {
        first: 0,
        entries: &d,
    };
    for tx in [
        transfer(1, 1, 2, 100, 10, 0),
        withdraw(2, 2, 5, 10, 0),
        L2Tx::Deposit { index: 2 },
    ] {
        let bytes = tx.to_bytes();
        assert_eq!(L2Tx::<P>::decode_untrusted(&bytes), Ok(tx));
        let w = s.witness(&window, &tx);
        assert_eq!(StepWitness::<P>::from_bytes(&w.to_bytes()), Ok(w));
    }
    let c = s.commitment();
    assert_eq!(Commitment::<P>::from_bytes(&c.to_bytes()), Ok(c));
    assert!(L2Tx::<P>::decode_untrusted(&[0u8; 600]).is_err());
}

/// A random transaction over a small set of keys and accounts, valid or not.
fn arb_tx() -> impl Strategy<Value = (u8, u64, u32, u32, u128, u128, u64)> {
    (
        0u8..4,
        0u64..4,
        any::<u32>(),
        any::<u32>(),
        0u128..700,
        5u128..40,
        0u64..4,
    )
}

/// Builds a transaction: `k == 0` signs with a wrong key and `nonce == 3` skips ahead, so a good
/// share of the signed transactions are valid and the rest break some rule.
#[allow(clippy::too_many_arguments)]
fn build(
    s: &L2State<P>,
    kind: u8,
    k: u64,
    from: u32,
    to: u32,
    amount: u128,
    fee: u128,
    nonce: u64,
) -> L2Tx<P> {
    let next_deposit = s.commitment().next_deposit;
    let owner = s
        .get(from % (s.accounts().len() as u32 + 1))
        .and_then(|a| (0..4).find(|&j| key(j).public() == a.key))
        .unwrap_or(3);
    let signer = if k == 0 { (owner + 1) % 4 } else { owner };
    let count = s.accounts().len() as u32;
    // Mostly existing accounts, sometimes the first free index.
    let (from, to) = (from % (count + 1), to % (count + 1));
    let nonce = match (nonce, s.get(from)) {
        (0..=2, Some(a)) => a.nonce,
        (_, a) => a.map_or(0, |a| a.nonce + 1),
    };
    match kind {
        0 => L2Tx::Deposit {
            index: next_deposit + amount.is_multiple_of(4) as u64,
        },
        1 | 2 => transfer(signer, from, to, amount, fee, nonce),
        _ => withdraw(signer, from, amount, fee, nonce),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any sequence of transactions: value is conserved (deposited = balances + withdrawn), failed
    /// transactions change nothing, applied signed transactions never apply twice, and every step
    /// re-executed from its witness alone gives the traced output.
    #[test]
    fn conservation_no_replay_no_op_failures_and_witness_re_execution(
        txs in proptest::collection::vec(arb_tx(), 1..40),
        amounts in proptest::collection::vec(1u128..2_000, 8),
    ) {
        let deposits: Vec<DepositEntry<P>> = amounts
            .iter()
            .enumerate()
            .map(|(i, a)| DepositEntry { forced: None,
                account: if i % 3 == 2 { Some(1) } else { None },
                key: key(1 + (i as u64 % 3)).public(),
                amount: *a,
            })
            .collect();
        let window = DepositWindow { first: 0, entries: &deposits[..6] };
        let mut s = L2State::genesis(CONFIG, key(0).public());
        let mut batched = s.clone();
        let (mut all, mut outcomes) = (Vec::new(), Vec::new());
        let mut applied_signed = Vec::new();
        for (kind, k, from, to, amount, fee, nonce) in txs {
            let tx = build(&s, kind, k, from, to, amount, fee, nonce);
            all.push(tx);
            let prior = s.output();
            let witness = s.witness(&window, &tx);
            let trace = s.apply_traced(&window, &[tx]);
            let step = trace[0];
            outcomes.push(step.outcome);
            if let Outcome::Failed(_) = step.outcome {
                prop_assert_eq!(step.output, prior, "a failed transaction changed the output");
            }
            let replayed = execute_step(&CONFIG, &prior, &witness, &window, &tx);
            prop_assert_eq!(replayed, Ok((step.outcome, step.output)));
            if step.outcome == Outcome::Applied && tx.signer().is_some() {
                applied_signed.push(tx);
            }
            let deposited: u128 = deposits[..s.commitment().next_deposit as usize]
                .iter()
                .map(|d| d.amount)
                .sum();
            let withdrawn: u128 = s.withdrawals().iter().map(|w| w.amount).sum();
            prop_assert_eq!(s.total_balance() + withdrawn, deposited);
        }
        // The same transactions as one batch, signatures checked together: the same outcomes.
        prop_assert_eq!(batched.apply_batch(&window, &all), outcomes);
        prop_assert_eq!(batched.output(), s.output());
        for tx in applied_signed {
            let before = s.output();
            let outcome = s.apply(&window, &tx, SigCheck::Verify);
            s.commit();
            let replay_refused = matches!(outcome, Outcome::Failed(TxFailure::BadNonce { .. }));
            prop_assert!(replay_refused, "a signed transaction applied twice");
            prop_assert_eq!(s.output(), before);
        }
    }

    #[test]
    fn garbage_never_decodes_into_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..700)) {
        let _ = L2Tx::<P>::decode_untrusted(&bytes);
        let _ = StepWitness::<P>::from_bytes(&bytes);
        let _ = Account::<P>::from_bytes(&bytes);
        let _ = basalt_l2::decode_batch::<P>(&bytes);
    }
}

/// 10,000 signed transfers among 1,000 accounts with skewed senders, as a batch.
fn plain_transfers(n: usize) -> Vec<L2Tx<P>> {
    (0..n)
        .map(|i| {
            let from = ((i * i) % 997) as u32 % 50 + 1; // a few busy senders
            let to = ((i * 7919) % 1000) as u32 + 1;
            transfer(
                1,
                from,
                to,
                1_000 + (i as u128 % 50) * 100,
                10,
                (i / 50) as u64,
            )
        })
        .collect()
}

#[test]
fn batches_roundtrip_and_plain_transfers_cost_at_most_76_bytes_each_on_l1() {
    let txs = plain_transfers(10_000);
    let blob = basalt_l2::encode_batch(&txs);
    assert_eq!(basalt_l2::decode_batch::<P>(&blob), Ok(txs.clone()));
    let per_tx = blob.len() as f64 / txs.len() as f64;
    eprintln!(
        "{per_tx:.1} bytes per plain transfer on L1 ({} bytes raw)",
        basalt_l2::encode_payload(&txs).len() as f64 / txs.len() as f64
    );
    assert!(per_tx <= 76.0, "{per_tx:.1} bytes per transfer on L1");
    for codec in [
        basalt_l2::Codec::None,
        basalt_l2::Codec::Zstd,
        basalt_l2::Codec::Brotli,
    ] {
        let blob = basalt_l2::compress(&basalt_l2::encode_payload(&txs[..100]), codec);
        assert_eq!(basalt_l2::decode_batch::<P>(&blob), Ok(txs[..100].to_vec()));
    }
}

#[test]
fn a_fast_compressed_batch_decodes_the_same_and_is_no_smaller_than_the_best() {
    let txs = plain_transfers(2_000);
    let fast = basalt_l2::encode_batch_with(&txs, basalt_l2::Effort::Fast);
    let best = basalt_l2::encode_batch_with(&txs, basalt_l2::Effort::Best);
    assert_eq!(basalt_l2::decode_batch::<P>(&fast), Ok(txs.clone()));
    assert_eq!(basalt_l2::decode_batch::<P>(&best), Ok(txs));
    assert!(fast.len() >= best.len(), "{} < {}", fast.len(), best.len());
}

#[test]
fn batch_blobs_that_expand_too_far_or_do_not_decode_are_rejected() {
    use basalt_l2::{compress, decode_batch, BatchError, Codec, MAX_BATCH_RAW_BYTES};
    let bomb = compress(&vec![0u8; MAX_BATCH_RAW_BYTES + 10], Codec::Zstd);
    assert!(bomb.len() < 4096, "a small blob");
    assert_eq!(decode_batch::<P>(&bomb), Err(BatchError::TooLarge));
    let bomb = compress(&vec![0u8; MAX_BATCH_RAW_BYTES + 10], Codec::Brotli);
    assert_eq!(decode_batch::<P>(&bomb), Err(BatchError::TooLarge));
    assert_eq!(decode_batch::<P>(&[]), Err(BatchError::Empty));
    assert_eq!(
        decode_batch::<P>(&[9, 1, 2]),
        Err(BatchError::UnknownCodec(9))
    );
    assert!(matches!(
        decode_batch::<P>(&[1, 1, 2, 3]),
        Err(BatchError::Decompress(_))
    ));
    // A count larger than the transactions present.
    assert!(matches!(
        decode_batch::<P>(&[0, 3, 5, 1, 5, 1]),
        Err(BatchError::Decode(_))
    ));
    // A header whose count is not the payload's.
    assert_eq!(
        decode_batch::<P>(&[0, 3, 4, 1, 5, 1]),
        Err(BatchError::CountMismatch {
            declared: 4,
            actual: 5
        })
    );
}

/// The declared length is what a decode may cost, so a blob that holds more (or less) than it
/// declares means nothing: decoding it stops one byte past the declaration.
#[test]
fn a_batch_blob_that_inflates_past_its_declared_length_is_refused_after_one_extra_byte() {
    use basalt_l2::{batch_header, compress, decode_batch, BatchError, BatchHeader, Codec};
    let payload = vec![7u8; 100_000];
    for codec in [Codec::None, Codec::Zstd, Codec::Brotli] {
        let honest = compress(&payload, codec);
        // The payload reads as version 7 with 7 transactions: the header repeats the count.
        let header = BatchHeader {
            raw_len: 100_000,
            tx_count: 7,
        };
        assert_eq!(batch_header(&honest), Ok(header));
        // Rewrite the header to declare 10 bytes: the body still inflates to 100,000.
        let body = &honest[1 + 3 + 1..];
        let lying = [&[codec as u8, 10, 7][..], body].concat();
        assert_eq!(batch_header(&lying).map(|h| h.raw_len), Ok(10));
        assert_eq!(
            decode_batch::<P>(&lying),
            Err(BatchError::LengthMismatch {
                declared: 10,
                actual: 11
            })
        );
        // Declaring more than it holds is refused too.
        let mut long = vec![codec as u8];
        basalt_types::codec::put_varint(&mut long, 100_001);
        long.push(7);
        long.extend_from_slice(body);
        assert_eq!(
            decode_batch::<P>(&long),
            Err(BatchError::LengthMismatch {
                declared: 100_001,
                actual: 100_000
            })
        );
    }
}
