//! Work that grows with history: every block walked and rehashed every registered rollup, so
//! registering rollups (a flat fee each) made every later block slower for every validator. Now a
//! block visits only rollups with something to settle or decide, and the registry root is a tree
//! updated per changed rollup.

use crate::common::*;
use basalt_l1::{Action, L1State, RollupKind, RollupParams, StateView, ONE_TOKEN};
use basalt_types::Hash;
use std::collections::BTreeMap;

fn params(i: u32) -> RollupParams {
    RollupParams {
        name: format!("idle-{i}"),
        kind: RollupKind::Optimistic,
        sequencer: key(1).public(),
        challenge_window: 4,
        proposer_bond: 10,
        min_fee: 1,
        dispute_clock: 4,
        dispute_bond: 10,
        slash_reward_percent: 50,
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
    assert!(view.active_rollups_with(&BTreeMap::new()).is_empty());
    // The registry root is the tree's, and a lookup by name does not walk the registry.
    assert_eq!(view.rollups_root_with(&BTreeMap::new()), s.rollups_root());
    assert_eq!(s.rollup_by_name("idle-321").unwrap().header.id, 321);
    drop(view);
    // A proposal makes exactly its rollup active until it settles.
    let posted = tx(
        &key(1),
        0,
        Action::PostBatch {
            rollup: 7,
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
    let active = |s: &L1State| StateView::new(s, vec![]).active_rollups_with(&BTreeMap::new());
    assert_eq!(active(&s), vec![7]);
    for _ in 0..4 {
        step(&mut s, vec![]);
    }
    assert!(active(&s).is_empty(), "settled: idle again");
    assert_eq!(s.rollup(7).unwrap().header.settled, 1);
}
