//! Work bought at a flat price: a challenge paid 300,000 gas whatever the batch it made every
//! validator decompress and decode, and a 128 KiB blob can inflate to 4 MiB; a move paid the same
//! however many parties and games the dispute it reloads and rehashes holds. Gas now grows with
//! the work, is charged before the work, and a limit that cannot pay stops the work.

use crate::common::*;
use basalt_l1::gas::{self, CHALLENGE_GAS};
use basalt_l1::*;
use basalt_l2::{compress, encode_payload, Codec, L2Tx, Optimistic};
use basalt_types::{Hash, Signature};

const PRICE: u64 = 1_000;

/// A chain with room for the largest blobs and the gas they buy, and funded keys 0..6.
fn chain() -> L1State {
    let mut g = genesis();
    g.params = Params {
        block_gas_limit: 200_000_000,
        block_gas_target: 100_000_000,
        max_blob_bytes: MAX_BLOB_BYTES as u64,
        blob_max_bytes_per_block: 2 * MAX_BLOB_BYTES as u64,
        blob_target_bytes_per_block: MAX_BLOB_BYTES as u64,
        blob_retention_blocks: 1_000,
        ..g.params
    };
    for a in &mut g.accounts {
        a.balance = 1_000_000 * ONE_TOKEN;
    }
    L1State::genesis(&g).unwrap().0
}

/// Sends one transaction of `who` at `limit` in its own block; returns its receipt and how many
/// batches the block's builder decoded.
fn send(s: &mut L1State, who: u64, limit: u64, action: Action) -> (Receipt, usize) {
    let nonce = s.account(&key(who).public()).map_or(0, |a| a.nonce);
    let t = Transaction {
        chain_id: CHAIN,
        nonce,
        max_fee_per_gas: PRICE,
        priority_fee_per_gas: 0,
        gas_limit: limit,
        action,
    }
    .sign(&key(who));
    let view = StateView::new(s, vec![]);
    let mut b = BlockBuilder::new(&view);
    b.apply(&t.verify().unwrap()).expect("includable");
    let decoded = b.batches_decoded();
    let ts = s.head().timestamp_ms + 200;
    let exec = b.finish(ts, proposer(&view)).unwrap();
    let checked = verify_block(&view, &exec.block).expect("verifies as built");
    drop(view);
    s.apply(&checked.diff);
    assert_conserved(s);
    (checked.diff.receipts[0].clone(), decoded)
}

/// Sends at the intrinsic gas plus `extra`, and demands success.
fn ok(s: &mut L1State, who: u64, extra: u64, action: Action) -> Receipt {
    let limit = action.intrinsic_gas() + extra;
    let (r, _) = send(s, who, limit, action);
    assert_eq!(r.failure, None);
    r
}

/// A batch blob under 128 KiB that inflates to nearly the 4 MiB limit, every byte of it valid
/// transactions: the most decode work one posted batch can ask for.
fn inflating_batch() -> (Vec<u8>, u64, u64) {
    let tx = L2Tx::<Optimistic>::Transfer {
        from: 1,
        to: 2,
        amount: 1,
        fee: 1,
        nonce: 0,
        signature: Signature([7; 64]),
    };
    let one = encode_payload(std::slice::from_ref(&tx)).len() - 2;
    let n = (basalt_l2::MAX_BATCH_RAW_BYTES - 8) / one;
    let payload = encode_payload(&vec![tx; n]);
    let blob = compress(&payload, Codec::Zstd);
    assert!(blob.len() < 4096 && payload.len() > 4_000_000);
    (blob, payload.len() as u64, n as u64)
}

/// A batch of the most transactions a batch may hold, each the smallest there is (a deposit of
/// one byte or two): the most decode work per byte.
fn tiny_batch() -> (Vec<u8>, u64, u64) {
    let n = basalt_l2::MAX_BATCH_TXS;
    let txs: Vec<L2Tx<Optimistic>> = (0..n).map(|_| L2Tx::Deposit { index: 0 }).collect();
    let payload = encode_payload(&txs);
    (
        compress(&payload, Codec::Zstd),
        payload.len() as u64,
        n as u64,
    )
}

/// Registers a rollup (sequencer 1), posts the inflating batch and proposes a wrong output on it
/// (proposer 4). Returns the rollup id, the output and the batch's declared length and count.
fn disputed_batch(s: &mut L1State) -> (u32, Hash, u64, u64) {
    disputed(s, inflating_batch())
}

fn disputed(s: &mut L1State, (data, raw_len, count): (Vec<u8>, u64, u64)) -> (u32, Hash, u64, u64) {
    let params = RollupParams {
        name: "fat".into(),
        kind: RollupKind::Optimistic,
        sequencer: key(1).public(),
        challenge_window: 50,
        proposer_bond: ONE_TOKEN,
        min_fee: 1,
        dispute_clock: 50,
        dispute_bond: ONE_TOKEN,
        slash_reward_percent: 50,
    };
    ok(s, 0, 0, Action::RegisterRollup { params });
    let post = Action::PostBatch {
        rollup: 0,
        data_hash: blob_hash(&data),
        data,
        deposits_end: 0,
        max_fee_per_blob_byte: 10,
    };
    ok(s, 1, 0, post);
    let record = s.rollup(0).unwrap().batches[0];
    assert_eq!((record.raw_len, record.tx_count), (raw_len, count));
    let genesis_output = s.rollup(0).unwrap().header.genesis_output;
    let output = Hash([9; 32]);
    let propose = Action::ProposeOutput {
        rollup: 0,
        batch: 0,
        prior: genesis_output,
        output,
    };
    ok(s, 4, 0, propose);
    (0, output, raw_len, count)
}

fn challenge(output: Hash) -> Action {
    Action::Challenge {
        rollup: 0,
        batch: 0,
        output,
    }
}

#[test]
fn a_challenge_pays_for_decoding_a_batch_that_inflates_to_megabytes() {
    let mut s = chain();
    let (_, output, raw_len, count) = disputed_batch(&mut s);
    let r = challenge_at_estimate(&mut s, output);
    // The old flat price was 300,000 gas for ~4 MiB of decompression and ~40,000 decoded txs.
    let decode = gas::batch_decode(raw_len, count);
    assert!(r.gas_used >= CHALLENGE_GAS + decode);
    assert!(r.gas_used > 50 * 300_000, "{}", r.gas_used);
}

#[test]
fn a_challenge_pays_per_transaction_for_a_batch_of_the_most_and_smallest_transactions() {
    let mut s = chain();
    let (_, output, raw_len, count) = disputed(&mut s, tiny_batch());
    assert!(raw_len < 200_000, "a small payload: {raw_len} bytes");
    let r = challenge_at_estimate(&mut s, output);
    assert!(r.gas_used >= CHALLENGE_GAS + gas::batch_decode(raw_len, count));
    assert!(r.gas_used > 10 * 300_000, "{}", r.gas_used);
}

/// A challenge sent with exactly its estimate, which must be what it then uses.
fn challenge_at_estimate(s: &mut L1State, output: Hash) -> Receipt {
    let estimate = estimate_gas(
        &StateView::new(s, vec![]),
        &key(2).public(),
        &challenge(output),
    )
    .expect("the challenge would succeed");
    let r = ok(s, 2, estimate - CHALLENGE_GAS, challenge(output));
    assert_eq!(
        r.gas_used, estimate,
        "the estimate is what the action then uses"
    );
    r
}

#[test]
fn an_action_whose_limit_cannot_pay_for_a_decode_stops_before_it_and_pays_its_whole_limit() {
    let mut s = chain();
    let (_, output, _, _) = disputed_batch(&mut s);
    let before = balance(&s, &key(2));
    let (base_fee, _) = child_fees(s.head(), s.params());
    // Enough for everything but the decode.
    let limit = challenge(output).intrinsic_gas() + 1_000_000;
    let (r, decoded) = send(&mut s, 2, limit, challenge(output));
    assert_eq!(r.failure, Some(FailureCode::OutOfGas));
    assert_eq!(decoded, 0, "the batch was not decoded");
    assert_eq!(r.gas_used, limit);
    assert_eq!(
        before - balance(&s, &key(2)),
        limit as u128 * base_fee as u128
    );
    assert_eq!(
        s.rollup(0).unwrap().header.dispute_count,
        0,
        "no dispute opened"
    );
}

#[test]
fn a_move_in_a_crowded_dispute_pays_for_every_party_and_game_it_rehashes() {
    let mut s = chain();
    let (_, output, _, _) = disputed_batch(&mut s);
    ok(&mut s, 2, 40_000_000, challenge(output));
    let bisect = |game: u32, mid: u8| Action::Bisect {
        rollup: 0,
        dispute: 0,
        game,
        choice: Choice::Whole,
        mid: Hash([mid; 32]),
        end: Hash([mid + 1; 32]),
    };
    let alone = ok(&mut s, 2, 1_000_000, bisect(0, 1)).gas_used;
    // Three more challengers: each plays the proposer, so the dispute holds 5 parties, 4 games.
    for who in [3, 0, 1] {
        ok(&mut s, who, 1_000_000, challenge(output));
    }
    let d = s.rollup(0).unwrap().disputes[0].clone();
    assert_eq!((d.challengers.len(), d.games.len()), (4, 4));
    let crowded = ok(&mut s, 3, 1_000_000, bisect(1, 3)).gas_used;
    assert_eq!(crowded, BISECT_GAS + gas::dispute_touch(&d));
    assert_eq!(
        crowded - alone,
        6 * gas::DISPUTE_ITEM_GAS,
        "three parties and three games more"
    );
}

#[test]
fn a_gas_limit_below_the_intrinsic_gas_or_above_the_block_cannot_be_included() {
    let s = chain();
    let action = Action::PostBlob {
        data: vec![1; 1000],
        max_fee_per_blob_byte: 10,
    };
    let intrinsic = action.intrinsic_gas();
    assert_eq!(intrinsic, BLOB_TX_GAS + 1000 * gas::PAYLOAD_BYTE_GAS);
    for (limit, want) in [
        (
            intrinsic - 1,
            TxError::GasLimitBelowIntrinsic {
                limit: intrinsic - 1,
                intrinsic,
            },
        ),
        (
            200_000_001,
            TxError::GasLimitAboveBlock {
                limit: 200_000_001,
                max: 200_000_000,
            },
        ),
    ] {
        let t = tx_with_gas(&key(0), 0, limit, action.clone());
        let view = StateView::new(&s, vec![]);
        let mut b = BlockBuilder::new(&view);
        assert_eq!(b.apply(&t.verify().unwrap()).map(|_| ()), Err(want));
    }
}

/// A state whose blobs cannot be read: any read fails the test.
struct NoBlobReads;

impl BlobSource for NoBlobReads {
    fn blob(&self, hash: &Hash) -> Option<StoredBlob> {
        panic!("blob {hash} was read: an estimate or precheck decoded a batch");
    }
}

/// An estimate or an admission precheck ran the action for real, so a request for a challenge of
/// a batch inflating to 4 MiB decoded it under the node's chain lock, for free and as often as
/// asked. Both now price the decode from the batch record without reading the blob.
#[test]
fn an_estimate_or_admission_precheck_prices_a_decode_without_doing_it() {
    let mut s = chain();
    let (_, output, _, _) = disputed_batch(&mut s);
    let blind = s.clone().with_blob_source(std::sync::Arc::new(NoBlobReads));
    let view = StateView::new(&blind, vec![]);
    let estimate = estimate_gas(&view, &key(2).public(), &challenge(output)).unwrap();
    let limit = gas::limit_with_headroom(estimate, 200_000_000);
    precheck_action(&view, &key(2).public(), &challenge(output), limit, 0).unwrap();
    drop(view);
    let used = ok(&mut s, 2, estimate - CHALLENGE_GAS, challenge(output)).gas_used;
    assert_eq!(
        used, estimate,
        "the priced estimate is what the real run uses"
    );
}
