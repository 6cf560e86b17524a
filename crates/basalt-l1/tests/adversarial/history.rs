//! Work that grows with history: every block walked and rehashed every registered rollup, so
//! registering rollups (a flat fee each) made every later block slower for every validator; then
//! every block still visited every rollup waiting on a window or a dispute. Now the registry root
//! is a tree updated per changed rollup, and a block visits only the rollups due at its height.

use crate::common::*;
use basalt_l1::{Action, L1State, RollupKind, RollupParams, StateRead, StateView, ONE_TOKEN};
use basalt_types::Hash;

fn params(i: u32) -> RollupParams {
    RollupParams {
        name: format!("idle-{i}"),
        kind: RollupKind::Optimistic,
        sequencer: key(1).public(),
        challenge_window: 8,
        proposer_bond: 10,
        min_fee: 1,
        clock_extension: 4,
        dispute_bond: 10,
        slash_reward_percent: 50,
        force_inclusion_blocks: 10,
        escape_blocks: 1_000_000,
        fee_model: basalt_l1::FeeModel::Fixed,
    }
}

#[test]
fn idle_rollups_cost_a_block_nothing_however_many_are_registered() {
    let mut g = genesis();
    g.params.block_gas_limit = 400 * basalt_l1::REGISTER_ROLLUP_GAS;
    g.params.block_gas_target = 200 * basalt_l1::REGISTER_ROLLUP_GAS;
    g.params.blob_retention_blocks = 100;
    g.accounts[0].balance = 1_000_000 * ONE_TOKEN;
    let (mut s, _) = L1State::genesis(&g).unwrap();
    let mut nonce = 0;
    for chunk in 0..5u32 {
        let txs = (0..100u32)
            .map(|i| {
                nonce += 1;
                tx(
                    &key(0),
                    nonce - 1,
                    Action::RegisterRollup {
                        params: params(chunk * 100 + i),
                    },
                )
            })
            .collect();
        let (exec, _) = step(&mut s, txs);
        assert!(exec.diff.receipts.iter().all(|r| r.success()));
    }
    assert_eq!(s.rollups().len(), 500);
    let view = StateView::new(&s, vec![]);
    assert_eq!(s.scheduled_rollups(), 0);
    assert!(view.due_rollups(s.head().height + 1).is_empty());
    // The registry root is the tree's, and a lookup by name does not walk the registry.
    assert_eq!(view.rollups_root(), s.rollups_root());
    assert_eq!(s.rollup_by_name("idle-321").unwrap().header.id, 321);
    drop(view);
    // A proposal makes exactly its rollup active until it settles.
    let posted = tx(
        &key(1),
        0,
        Action::PostBatch {
            rollup: 7,
            index: 0,
            data_hash: basalt_l1::blob_hash(&[0]),
            data: vec![0],
            deposits_end: 0,
            max_fee_per_blob_byte: 100,
        },
    );
    step(&mut s, vec![posted]);
    let genesis_output = s.rollup(7).unwrap().header.genesis_output;
    step(
        &mut s,
        vec![tx(
            &key(2),
            0,
            Action::ProposeOutput {
                rollup: 7,
                batch: 0,
                prior: genesis_output,
                output: Hash([1; 32]),
            },
        )],
    );
    let due = |s: &L1State| StateView::new(s, vec![]).due_rollups(s.head().height + 1);
    assert_eq!(s.scheduled_rollups(), 1);
    assert_eq!(s.wake_height(7), Some(s.head().height + 8));
    for _ in 0..7 {
        assert!(due(&s).is_empty(), "waiting on its window: not visited");
        step(&mut s, vec![]);
    }
    assert_eq!(due(&s), vec![7]);
    step(&mut s, vec![]);
    assert_eq!(s.scheduled_rollups(), 0, "settled: idle again");
    assert_eq!(s.rollup(7).unwrap().header.settled, 1);
}

/// Rollup `i`'s batch 0 and an output on it, from the sequencer (key 1) and a proposer (key 2).
fn post_and_propose(s: &L1State, i: u32, nonce: u64) -> [basalt_l1::SignedTransaction; 2] {
    let genesis_output = s.rollup(i).unwrap().header.genesis_output;
    [
        tx(
            &key(1),
            nonce,
            Action::PostBatch {
                rollup: i,
                index: s.rollup(i).unwrap().header.batch_count,
                data_hash: basalt_l1::blob_hash(&[0]),
                data: vec![0],
                deposits_end: 0,
                max_fee_per_blob_byte: 100,
            },
        ),
        tx(
            &key(2),
            nonce,
            Action::ProposeOutput {
                rollup: i,
                batch: 0,
                prior: genesis_output,
                output: Hash([1; 32]),
            },
        ),
    ]
}

#[test]
fn rollups_waiting_on_their_window_cost_a_block_nothing_until_it_ends() {
    let mut g = genesis();
    g.params.block_gas_limit = 400 * basalt_l1::REGISTER_ROLLUP_GAS;
    g.params.block_gas_target = 200 * basalt_l1::REGISTER_ROLLUP_GAS;
    g.params.blob_max_bytes_per_block = 1 << 20;
    g.params.blob_retention_blocks = 1_000;
    for a in &mut g.accounts {
        a.balance = 1_000_000 * ONE_TOKEN;
    }
    let (mut s, _) = L1State::genesis(&g).unwrap();
    let window = 40;
    let txs = (0..200u32)
        .map(|i| {
            let mut p = params(i);
            p.challenge_window = window;
            tx(&key(0), i as u64, Action::RegisterRollup { params: p })
        })
        .collect();
    step(&mut s, txs);
    // Batches in one block, outputs in the next: the sequencer's nonce then the proposer's.
    let (batches, outputs): (Vec<_>, Vec<_>) = (0..200u32)
        .map(|i| {
            let [b, o] = post_and_propose(&s, i, i as u64);
            (b, o)
        })
        .unzip();
    let (exec, _) = step(&mut s, batches);
    assert!(exec.diff.receipts.iter().all(|r| r.success()));
    let (exec, _) = step(&mut s, outputs);
    assert!(exec.diff.receipts.iter().all(|r| r.success()));
    let proposed = s.head().height;
    assert_eq!(
        s.scheduled_rollups(),
        200,
        "every rollup waits on its output's window"
    );
    while s.head().height + 1 < proposed + window {
        let view = StateView::new(&s, vec![]);
        assert!(
            view.due_rollups(s.head().height + 1).is_empty(),
            "no block before the window ends visits a waiting rollup"
        );
        drop(view);
        let (exec, _) = step(&mut s, vec![]);
        assert!(exec.diff.rollups.is_empty());
    }
    let (exec, _) = step(&mut s, vec![]);
    assert_eq!(
        exec.diff.rollups.len(),
        200,
        "all settle in the block their window ends"
    );
    assert_eq!(s.scheduled_rollups(), 0);
    assert!((0..200).all(|i| s.rollup(i).unwrap().header.settled == 1));
}
