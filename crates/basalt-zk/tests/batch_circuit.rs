//! The batch circuit and the shared STF are two encodings of one rule: random batches, valid and
//! invalid, run through both; a batch the STF applies yields a satisfied circuit with the STF's new
//! output and the L1's data hash, and a batch it rejects yields a witness the circuit refuses.

use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem};
use basalt_l2::{
    data_hash, Config, DepositEntry, DepositWindow, Deposits, L2State, L2Tx, Outcome, PostedTx,
    SigCheck, TxFailure, Zk,
};
use basalt_types::zk::{BabyKeypair, Fr};
use basalt_types::{dev_keypair, PublicKey};
use basalt_zk::batch::{BatchCircuit, BatchWitness, SlotKind};
use proptest::prelude::*;

const CONFIG: Config = Config {
    rollup_id: 7,
    min_fee: 10,
};

fn key(i: u8) -> BabyKeypair {
    BabyKeypair::dev(&[b'b', i])
}

fn l1_key(i: u8) -> PublicKey {
    dev_keypair("batch-circuit", i as u64).public()
}

fn deposit(account: Option<u32>, owner: u8, amount: u128) -> DepositEntry<Zk> {
    DepositEntry {
        forced: None,
        account,
        key: key(owner).public(),
        amount,
    }
}

fn transfer(from: u32, to: u32, amount: u128, fee: u128, nonce: u64, signer: u8) -> L2Tx<Zk> {
    L2Tx::Transfer {
        from,
        to,
        amount,
        fee,
        nonce,
        signature: key(0).sign(&basalt_types::zk::Felt::ZERO),
    }
    .signed_zk(CONFIG.rollup_id, &key(signer))
}

fn withdraw(from: u32, to: u8, amount: u128, fee: u128, nonce: u64, signer: u8) -> L2Tx<Zk> {
    L2Tx::Withdraw {
        from,
        recipient: l1_key(to),
        amount,
        fee,
        nonce,
        signature: key(0).sign(&basalt_types::zk::Felt::ZERO),
    }
    .signed_zk(CONFIG.rollup_id, &key(signer))
}

/// Sequencer key 0; accounts 1..=3 (keys 1..=3) opened by the first three deposits.
fn funded(queue: &[DepositEntry<Zk>]) -> L2State<Zk> {
    let mut s = L2State::<Zk>::genesis(CONFIG, key(0).public());
    let window = DepositWindow {
        first: 0,
        entries: queue,
    };
    let opened = s.apply_batch(&window, &[0, 1, 2].map(|index| L2Tx::Deposit { index }));
    assert_eq!(opened, vec![Outcome::Applied; 3]);
    s
}

fn queue() -> Vec<DepositEntry<Zk>> {
    let mut q = vec![
        deposit(None, 1, 1_000),
        deposit(None, 2, 500),
        deposit(None, 3, 50),
    ];
    // Later deposits: to an own account, to someone else's (opens a new one), past the count,
    // to account 0 (the sequencer's own key), and an unhinted one.
    q.extend([
        deposit(Some(2), 2, 70),
        deposit(Some(1), 3, 20),
        deposit(Some(900), 1, 5),
        deposit(Some(0), 0, 9),
        deposit(None, 4, 33),
    ]);
    q
}

/// Whether the circuit is satisfied by `witness`, and its constraint count.
fn check(witness: &BatchWitness) -> (bool, usize) {
    let cs = ConstraintSystem::<Fr>::new_ref();
    BatchCircuit {
        witness: witness.clone(),
    }
    .generate_constraints(cs.clone())
    .unwrap();
    (cs.is_satisfied().unwrap(), cs.num_constraints())
}

/// Runs `txs` through the STF and the circuit and holds them equal. Returns whether the STF
/// applied every transaction.
fn both(state: &L2State<Zk>, queue: &[DepositEntry<Zk>], txs: &[L2Tx<Zk>], slots: usize) -> bool {
    let window = DepositWindow {
        first: 0,
        entries: queue,
    };
    let mut after = state.clone();
    let applies = txs.iter().all(|tx| {
        // A forced transaction's place is consumed whatever it does.
        let forced = matches!(tx, L2Tx::Deposit { index } if window.get(*index).is_some_and(|e| e.forced.is_some()));
        let outcome = after.apply(&window, tx, SigCheck::Verify);
        forced || matches!(outcome, Outcome::Applied | Outcome::Failed(TxFailure::AccountsFull))
    });
    after.commit();
    let witness = match BatchWitness::build(state, &window, txs, slots) {
        Ok(w) => w,
        Err(e) => {
            assert!(!applies, "the STF applies a batch with no witness: {e}");
            return false;
        }
    };
    let (satisfied, _) = check(&witness);
    assert_eq!(satisfied, applies, "circuit and STF disagree on {txs:?}");
    if applies {
        assert_eq!(witness.new_output, after.output());
        let posted: Vec<PostedTx> = txs.iter().map(PostedTx::from).collect();
        let expected = data_hash(&CONFIG, &posted, &window, state.commitment().next_deposit);
        assert_eq!(Ok(witness.data_hash), expected);
        assert_eq!(witness.prior_output, state.output());
    }
    applies
}

#[test]
fn a_batch_of_every_kind_proves_the_stf_output() {
    let q = queue();
    let state = funded(&q);
    let txs = vec![
        L2Tx::Deposit { index: 3 },
        transfer(1, 2, 100, 10, 0, 1),
        // The sequencer spends fees it has not yet been written (the register).
        transfer(0, 3, 0, 10, 0, 0),
        withdraw(2, 9, 300, 12, 0, 2),
        L2Tx::Deposit { index: 4 },
        transfer(3, 3, 1, 10, 0, 3),
        L2Tx::Deposit { index: 5 },
        transfer(2, 0, 7, 10, 1, 2),
        L2Tx::Deposit { index: 6 },
    ];
    for n in 1..=txs.len() {
        assert!(both(&state, &q, &txs[..n], n), "prefix of {n}");
    }
}

#[test]
fn every_kind_of_invalid_transaction_makes_the_batch_unprovable() {
    let q = queue();
    let state = funded(&q);
    let good = transfer(1, 2, 100, 10, 0, 1);
    let cases = [
        ("bad signature", transfer(1, 2, 100, 10, 0, 2)),
        ("replayed nonce", transfer(1, 2, 100, 10, 0, 1)),
        ("future nonce", transfer(1, 2, 100, 10, 2, 1)),
        ("fee too low", transfer(1, 2, 100, 9, 0, 1)),
        ("insufficient balance", transfer(1, 2, 991, 10, 0, 1)),
        ("unknown recipient", transfer(1, 4, 100, 10, 0, 1)),
        ("unknown sender", transfer(5, 2, 100, 10, 0, 1)),
        (
            "amount plus fee overflow",
            transfer(1, 2, u128::MAX, 10, 0, 1),
        ),
        (
            "withdrawal beyond the balance",
            withdraw(3, 1, 45, 10, 0, 3),
        ),
        ("withdrawal signed by another", withdraw(3, 1, 5, 10, 0, 1)),
        ("deposit out of order", L2Tx::Deposit { index: 4 }),
    ];
    assert!(both(&state, &q, std::slice::from_ref(&good), 2));
    for (name, bad) in cases {
        assert!(!both(&state, &q, &[good, bad], 2), "{name} was applied");
    }
}

/// A change to a witness.
type Tamper = fn(&mut BatchWitness);

#[test]
fn a_tampered_witness_or_public_input_is_refused() {
    let q = queue();
    let state = funded(&q);
    let window = DepositWindow {
        first: 0,
        entries: &q,
    };
    let txs = [L2Tx::Deposit { index: 3 }, transfer(1, 2, 100, 10, 0, 1)];
    let witness = BatchWitness::build(&state, &window, &txs, 3).unwrap();
    assert!(check(&witness).0);
    let tampers: [(&str, Tamper); 9] = [
        ("amount", |w| w.slots[1].amount.0 += Fr::from(1u8)),
        ("fee", |w| w.slots[1].fee.0 += Fr::from(1u8)),
        ("kind", |w| w.slots[1].kind = SlotKind::Pad),
        // The deposit names its owner's account: claiming the hint is not allocated fails.
        ("deposit to a new account", |w| w.slots[0].hint_in = false),
        ("new output", |w| w.new_output.0 += Fr::from(1u8)),
        ("prior output", |w| w.prior_output.0 += Fr::from(1u8)),
        ("data hash", |w| w.data_hash.0 += Fr::from(1u8)),
        ("rollup", |w| w.config.rollup_id += 1),
        ("fees kept", |w| w.fees.old.balance.0 += Fr::from(10u8)),
    ];
    for (name, tamper) in tampers {
        let mut w = witness.clone();
        tamper(&mut w);
        assert!(!check(&w).0, "tampered {name} was accepted");
    }
}

#[test]
fn a_witness_that_breaks_a_rule_is_caught_before_its_proof_leaves_the_prover() {
    let q = queue();
    let state = funded(&q);
    let window = DepositWindow {
        first: 0,
        entries: &q,
    };
    let txs = [transfer(1, 2, 100, 10, 0, 1)];
    let witness = BatchWitness::build(&state, &window, &txs, 1).unwrap();
    let keys = basalt_zk::dev_setup(BatchCircuit::blank(1)).unwrap();
    let prover = basalt_zk::batch::batch_prover(keys.proving, 1).unwrap();
    let mut forged = witness.clone();
    forged.slots[0].amount.0 += Fr::from(1u8);
    assert_eq!(
        basalt_zk::batch::prove_batch(&prover, forged).unwrap_err(),
        basalt_zk::ZkError::Unsatisfied
    );
    let proof = basalt_zk::batch::prove_batch(&prover, witness.clone()).unwrap();
    assert_eq!(
        basalt_zk::Verifier::new(&keys.verifying).verify(&witness.public_inputs(), &proof),
        Ok(())
    );
    // A prover of another circuit refuses the key, and the key's prover refuses another circuit's
    // witness.
    assert!(basalt_zk::batch::batch_prover(prover.key().clone(), 2).is_err());
    let two = BatchWitness::build(&state, &window, &txs, 2).unwrap();
    assert!(basalt_zk::batch::prove_batch(&prover, two).is_err());
}

#[test]
fn constraints_per_slot_are_within_the_budget() {
    let q = queue();
    let state = funded(&q);
    let window = DepositWindow {
        first: 0,
        entries: &q,
    };
    let count = |slots| check(&BatchWitness::build(&state, &window, &[], slots).unwrap()).1;
    let (one, two) = (count(1), count(2));
    let per_slot = two - one;
    let per_batch = one - per_slot;
    println!("batch circuit: {per_slot} constraints per slot, {per_batch} per batch");
    assert!(per_slot <= 20_000, "a slot costs {per_slot} constraints");
}

/// A transaction intent and, one time in four, a corruption: 1 signature, 2 nonce, 3 fee, 4 deposit
/// order.
type Intent = (u8, u32, u32, u128, u8);

fn arb_intent() -> impl Strategy<Value = Intent> {
    (
        0u8..3,
        prop_oneof![4 => 1u32..3, 1 => 0u32..5],
        0u32..5,
        prop_oneof![3 => 0u128..60, 1 => 0u128..1_200],
        prop_oneof![3 => Just(0u8), 1 => 1u8..5],
    )
}

/// The transactions of `intents`, with nonces and deposit indices as the state reaches them.
fn realize(state: &L2State<Zk>, queue: &[DepositEntry<Zk>], intents: &[Intent]) -> Vec<L2Tx<Zk>> {
    let window = DepositWindow {
        first: 0,
        entries: queue,
    };
    let mut s = state.clone();
    intents
        .iter()
        .map(|&(kind, from, to, amount, corrupt)| {
            let nonce = s.get(from).map_or(0, |a| a.nonce) + (corrupt == 2) as u64;
            let fee = if corrupt == 3 { 9 } else { 10 + amount % 3 };
            let signer = from as u8 + (corrupt == 1) as u8;
            let tx = match kind {
                0 => L2Tx::Deposit {
                    index: s.commitment().next_deposit + (corrupt == 4) as u64,
                },
                1 => transfer(from, to, amount, fee, nonce, signer),
                _ => withdraw(from, to as u8, amount, fee, nonce, signer),
            };
            s.apply(&window, &tx, SigCheck::Verify);
            s.commit();
            tx
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn the_circuit_and_the_stf_agree_on_random_batches(
        intents in proptest::collection::vec(arb_intent(), 0..4)
    ) {
        let q = queue();
        let state = funded(&q);
        both(&state, &q, &realize(&state, &q, &intents), 4);
    }
}

/// Queue place 3 (after the three openings of `funded`) holding `tx`, forced in under key `signer`.
fn forced_queue(tx: L2Tx<Zk>, signer: u8) -> Vec<DepositEntry<Zk>> {
    let mut q = queue()[..3].to_vec();
    q.push(DepositEntry {
        forced: Some(tx),
        account: None,
        key: key(signer).public(),
        amount: 0,
    });
    q
}

/// The STF's outcome of a forced place holding `tx` under `signer`, after `before`; the circuit
/// proves the batch either way, with the STF's output.
fn forced_outcome(before: &[L2Tx<Zk>], tx: L2Tx<Zk>, signer: u8) -> Outcome {
    let q = forced_queue(tx, signer);
    let state = funded(&q);
    let mut txs = before.to_vec();
    txs.push(L2Tx::Deposit { index: 3 });
    assert!(
        both(&state, &q, &txs, txs.len()),
        "a forced place did not prove"
    );
    let window = DepositWindow {
        first: 0,
        entries: &q,
    };
    let mut s = state.clone();
    for tx in before {
        s.apply(&window, tx, SigCheck::Verify);
    }
    s.apply(&window, &L2Tx::Deposit { index: 3 }, SigCheck::Verify)
}

#[test]
fn a_forced_transaction_is_proven_applied_or_proven_failed_as_the_stf_decides() {
    let applied = [
        ("a transfer", transfer(1, 2, 100, 10, 0, 1), 1),
        ("a withdrawal", withdraw(3, 1, 35, 10, 0, 3), 3),
        ("a self-transfer", transfer(2, 2, 5, 10, 0, 2), 2),
        ("a whole balance", withdraw(3, 1, 40, 10, 0, 3), 3),
    ];
    for (name, tx, signer) in applied {
        assert_eq!(forced_outcome(&[], tx, signer), Outcome::Applied, "{name}");
    }
    // The sequencer spends exactly the fees the register holds (20), written to it by no slot.
    let fees = [transfer(1, 2, 100, 10, 0, 1), transfer(2, 3, 100, 10, 0, 2)];
    assert_eq!(
        forced_outcome(&fees, withdraw(0, 1, 10, 10, 0, 0), 0),
        Outcome::Applied
    );
    let failed = [
        (
            "a used nonce",
            withdraw(3, 1, 5, 10, 0, 3),
            3,
            vec![withdraw(3, 1, 5, 10, 0, 3)],
        ),
        ("a future nonce", withdraw(3, 1, 5, 10, 1, 3), 3, vec![]),
        (
            "a key the sender does not hold",
            withdraw(3, 1, 5, 10, 0, 2),
            2,
            vec![],
        ),
        ("an unknown sender", transfer(9, 1, 5, 10, 0, 1), 1, vec![]),
        (
            "an unknown recipient",
            transfer(1, 40, 5, 10, 0, 1),
            1,
            vec![],
        ),
        (
            "too little balance",
            withdraw(3, 1, 41, 10, 0, 3),
            3,
            vec![],
        ),
        (
            "a balance spent first",
            withdraw(1, 1, 900, 10, 0, 1),
            1,
            vec![transfer(1, 2, 100, 10, 0, 1)],
        ),
        (
            "more than the sequencer's fees",
            withdraw(0, 1, 11, 10, 0, 0),
            0,
            fees.to_vec(),
        ),
    ];
    for (name, tx, signer, before) in failed {
        assert!(
            matches!(forced_outcome(&before, tx, signer), Outcome::Failed(_)),
            "{name} applied"
        );
    }
}

/// A change to a forced slot's claims.
type Claim = fn(&mut basalt_zk::batch::ForcedWitness);

#[test]
fn a_prover_cannot_claim_a_forced_transaction_fails_when_it_applies_or_the_reverse() {
    let enough: Claim = |f| f.enough = !f.enough;
    let from_in: Claim = |f| f.from_in = !f.from_in;
    let to_in: Claim = |f| f.to_in = !f.to_in;
    let cases: [(L2Tx<Zk>, u8, Vec<Claim>); 5] = [
        (withdraw(3, 1, 40, 10, 0, 3), 3, vec![enough, from_in]),
        (
            transfer(1, 2, 100, 10, 0, 1),
            1,
            vec![enough, from_in, to_in],
        ),
        (withdraw(3, 1, 41, 10, 0, 3), 3, vec![enough]),
        (transfer(9, 1, 5, 10, 0, 1), 1, vec![from_in]),
        (transfer(1, 40, 5, 10, 0, 1), 1, vec![to_in]),
    ];
    for (tx, signer, claims) in cases {
        let q = forced_queue(tx, signer);
        let state = funded(&q);
        let window = DepositWindow {
            first: 0,
            entries: &q,
        };
        let place = [L2Tx::Deposit { index: 3 }];
        let witness = BatchWitness::build(&state, &window, &place, 1).unwrap();
        assert!(check(&witness).0);
        let f = witness.slots[0].forced.expect("a forced slot");
        for claim in claims {
            let mut w = witness.clone();
            let mut g = f;
            claim(&mut g);
            w.slots[0].forced = Some(g);
            assert!(!check(&w).0, "a false claim proved {tx:?}");
        }
        // Another nonce or key than the L1 queued is another data hash.
        let mut w = witness.clone();
        w.slots[0].forced = Some(basalt_zk::batch::ForcedWitness {
            nonce: f.nonce + 1,
            ..f
        });
        assert!(!check(&w).0);
        let mut w = witness.clone();
        w.slots[0].forced = Some(basalt_zk::batch::ForcedWitness {
            key: [f.key[1], f.key[0]],
            ..f
        });
        assert!(!check(&w).0);
    }
}

/// The censor's whole witness: a forced withdrawal that applies, laid out as the failing one of a
/// larger amount, then given the real amount and data hash back. No claim makes it prove.
#[test]
fn a_censor_cannot_prove_a_forced_withdrawal_left_unapplied() {
    let q = forced_queue(withdraw(3, 1, 40, 10, 0, 3), 3);
    let state = funded(&q);
    let window = |q| DepositWindow {
        first: 0,
        entries: q,
    };
    let place = [L2Tx::Deposit { index: 3 }];
    let honest = BatchWitness::build(&state, &window(&q), &place, 1).unwrap();
    let larger = forced_queue(withdraw(3, 1, 41, 10, 0, 3), 3);
    let mut censored = BatchWitness::build(&state, &window(&larger), &place, 1).unwrap();
    assert!(check(&censored).0, "the failing withdrawal proves");
    censored.slots[0].amount = honest.slots[0].amount;
    censored.data_hash = honest.data_hash;
    assert_ne!(censored.new_output, honest.new_output);
    for enough in [false, true] {
        let mut w = censored.clone();
        w.slots[0].forced.as_mut().unwrap().enough = enough;
        assert!(
            !check(&w).0,
            "the withdrawal was censored (enough: {enough})"
        );
    }
}
