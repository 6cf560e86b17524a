//! Work bought at a flat price: a challenge once paid 300,000 gas whatever the batch it made every
//! validator decompress and decode, and a 128 KiB blob can inflate to 4 MiB. A proposal (which
//! counts its tree's steps by decoding the batch) now pays for the decode, before it, and a limit
//! that cannot pay stops it; a move costs the same however many claims its tree holds.

use crate::common::*;
use basalt_l1::gas::{self, COUNTER_GAS, PROPOSE_OUTPUT_GAS};
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

/// Registers a rollup (sequencer 1) and posts the inflating batch. Returns the rollup's genesis
/// output and the batch's declared length and count.
fn posted_batch(s: &mut L1State) -> (Hash, u64, u64) {
    posted(s, inflating_batch())
}

fn posted(s: &mut L1State, (data, raw_len, count): (Vec<u8>, u64, u64)) -> (Hash, u64, u64) {
    let params = RollupParams {
        name: "fat".into(),
        kind: RollupKind::Optimistic,
        sequencer: key(1).public(),
        challenge_window: 250,
        proposer_bond: ONE_TOKEN,
        min_fee: 1,
        clock_extension: 10,
        dispute_bond: ONE_TOKEN,
        slash_reward_percent: 50,
        force_inclusion_blocks: 10,
        escape_blocks: 1_000_000,
        fee_model: basalt_l1::FeeModel::Fixed,
    };
    ok(s, 0, 0, Action::RegisterRollup { params });
    let post = Action::PostBatch {
        rollup: 0,
        index: 0,
        data_hash: blob_hash(&data),
        data,
        deposits_end: 0,
        max_fee_per_blob_byte: 10,
    };
    ok(s, 1, 0, post);
    let record = s.rollup(0).unwrap().batches[0];
    assert_eq!((record.raw_len, record.tx_count), (raw_len, count));
    (s.rollup(0).unwrap().header.genesis_output, raw_len, count)
}

fn propose(prior: Hash, output: u8) -> Action {
    Action::ProposeOutput {
        rollup: 0,
        batch: 0,
        prior,
        output: Hash([output; 32]),
    }
}

#[test]
fn a_proposal_pays_for_decoding_a_batch_that_inflates_to_megabytes() {
    let mut s = chain();
    let (prior, raw_len, count) = posted_batch(&mut s);
    let r = propose_at_estimate(&mut s, propose(prior, 9));
    // The old flat price was 300,000 gas for ~4 MiB of decompression and ~40,000 decoded txs.
    let decode = gas::batch_decode(raw_len, count);
    assert!(r.gas_used >= PROPOSE_OUTPUT_GAS + decode);
    assert!(r.gas_used > 50 * 300_000, "{}", r.gas_used);
}

#[test]
fn a_proposal_pays_per_transaction_for_a_batch_of_the_most_and_smallest_transactions() {
    let mut s = chain();
    let (prior, raw_len, count) = posted(&mut s, tiny_batch());
    assert!(raw_len < 200_000, "a small payload: {raw_len} bytes");
    let r = propose_at_estimate(&mut s, propose(prior, 9));
    assert!(r.gas_used >= PROPOSE_OUTPUT_GAS + gas::batch_decode(raw_len, count));
    assert!(r.gas_used > 10 * 300_000, "{}", r.gas_used);
}

/// An action sent by key 4 with exactly its estimate, which must be what it then uses.
fn propose_at_estimate(s: &mut L1State, action: Action) -> Receipt {
    let estimate = estimate_gas(&StateView::new(s, vec![]), &key(4).public(), &action)
        .expect("the action would succeed");
    let r = ok(s, 4, estimate - action.intrinsic_gas(), action);
    assert_eq!(
        r.gas_used, estimate,
        "the estimate is what the action then uses"
    );
    r
}

#[test]
fn an_action_whose_limit_cannot_pay_for_a_decode_stops_before_it_and_pays_its_whole_limit() {
    let mut s = chain();
    let (prior, _, _) = posted_batch(&mut s);
    let before = balance(&s, &key(2));
    let (base_fee, _) = child_fees(s.head(), s.params());
    // Enough for everything but the decode.
    let limit = propose(prior, 9).intrinsic_gas() + 1_000_000;
    let (r, decoded) = send(&mut s, 2, limit, propose(prior, 9));
    assert_eq!(r.failure, Some(FailureCode::OutOfGas));
    assert_eq!(decoded, 0, "the batch was not decoded");
    assert_eq!(r.gas_used, limit);
    assert_eq!(
        before - balance(&s, &key(2)),
        limit as u128 * base_fee as u128
    );
    assert_eq!(
        s.rollup(0).unwrap().header.proposal_count,
        0,
        "no proposal made"
    );
}

#[test]
fn a_counter_costs_the_same_however_many_claims_its_tree_holds() {
    let mut s = chain();
    let (prior, _, _) = posted(&mut s, tiny_batch());
    ok(&mut s, 4, 40_000_000, propose(prior, 9));
    let counter = |parent: u32, value: u8| Action::Counter {
        rollup: 0,
        proposal: 0,
        parent,
        attack: true,
        value: Hash([value; 32]),
    };
    let alone = ok(&mut s, 2, 0, counter(0, 1)).gas_used;
    assert_eq!(alone, COUNTER_GAS, "a counter is fixed-price");
    // Two hundred more claims, from three parties.
    for i in 0..200u32 {
        ok(
            &mut s,
            [2, 3, 0][i as usize % 3],
            0,
            counter(i % 7, (i % 200) as u8 + 10),
        );
    }
    assert!(s.rollup(0).unwrap().trees[0].claims().len() > 200);
    let crowded = ok(&mut s, 3, 0, counter(150, 2)).gas_used;
    assert_eq!(crowded, alone);
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
/// asked. Both now price the decode from the batch record without reading the blob (today the
/// action that decodes is a proposal).
#[test]
fn an_estimate_or_admission_precheck_prices_a_decode_without_doing_it() {
    let mut s = chain();
    let (prior, _, _) = posted_batch(&mut s);
    let blind = s.clone().with_blob_source(std::sync::Arc::new(NoBlobReads));
    let view = StateView::new(&blind, vec![]);
    let action = propose(prior, 9);
    let estimate = estimate_gas(&view, &key(2).public(), &action).unwrap();
    let limit = gas::limit_with_headroom(estimate, 200_000_000);
    precheck_action(&view, &key(2).public(), &action, limit, 0).unwrap();
    drop(view);
    let used = ok(&mut s, 2, estimate - action.intrinsic_gas(), action).gas_used;
    assert_eq!(
        used, estimate,
        "the priced estimate is what the real run uses"
    );
}
