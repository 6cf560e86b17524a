//! Degenerate parameters: a rollup whose challenge window or clock extension leaves no time to
//! react lets a liar settle before anyone can object (and an extension as long as the window
//! leaves a side no clock of its own); a dust stake makes a staker that every
//! epoch's committee selection must weigh. Before the fix a window or clock of one block and a stake
//! of one base unit were accepted.

use crate::common::*;
use basalt_l1::{
    Action, FailureCode, L1State, RollupKind, RollupParams, MIN_CHALLENGE_WINDOW,
    MIN_CLOCK_EXTENSION,
};

fn params(challenge_window: u64, clock_extension: u64) -> RollupParams {
    RollupParams {
        name: "floors".into(),
        kind: RollupKind::Optimistic,
        sequencer: key(1).public(),
        challenge_window,
        proposer_bond: 10,
        min_fee: 1,
        clock_extension,
        dispute_bond: 10,
        slash_reward_percent: 50,
        force_inclusion_blocks: 10,
        escape_blocks: 1_000_000,
        fee_model: basalt_l1::FeeModel::Fixed,
    }
}

#[test]
fn a_rollup_whose_challenge_window_or_clock_extension_leaves_no_time_to_react_is_refused() {
    let (mut s, _) = L1State::genesis(&genesis()).unwrap();
    for (window, clock) in [
        (1, 5),
        (MIN_CHALLENGE_WINDOW - 1, 5),
        (5, 1),
        (5, MIN_CLOCK_EXTENSION - 1),
        (6, 6),
    ] {
        let err = params(window, clock).validate().unwrap_err();
        assert!(err.to_string().contains("must be"), "{err}");
        let nonce = s.account(&key(0).public()).unwrap().nonce;
        let (exec, _) = step(
            &mut s,
            vec![tx(
                &key(0),
                nonce,
                Action::RegisterRollup {
                    params: params(window, clock),
                },
            )],
        );
        assert_eq!(
            exec.diff.receipts[0].failure,
            Some(FailureCode::BadRollupParams)
        );
    }
    assert!(s.rollups().is_empty());
    assert!(params(MIN_CHALLENGE_WINDOW, MIN_CLOCK_EXTENSION)
        .validate()
        .is_ok());
}

#[test]
fn a_dust_stake_does_not_make_a_staker_and_an_unstake_cannot_leave_dust() {
    let (mut s, _) = L1State::genesis(&genesis()).unwrap();
    let min = s.params().min_stake;
    let (exec, _) = step(&mut s, vec![tx(&key(0), 0, Action::Stake { amount: 1 })]);
    assert_eq!(
        exec.diff.receipts[0].failure,
        Some(FailureCode::StakeBelowMinimum)
    );
    assert_eq!(s.account(&key(0).public()).unwrap().stake, 0);
    let (exec, _) = step(&mut s, vec![tx(&key(0), 1, Action::Stake { amount: min })]);
    assert!(exec.diff.receipts[0].success());
    let (exec, _) = step(
        &mut s,
        vec![tx(&key(0), 2, Action::Unstake { amount: min - 1 })],
    );
    assert_eq!(
        exec.diff.receipts[0].failure,
        Some(FailureCode::StakeBelowMinimum)
    );
    let (exec, _) = step(
        &mut s,
        vec![tx(&key(0), 3, Action::Unstake { amount: min })],
    );
    assert!(
        exec.diff.receipts[0].success(),
        "unstaking everything is allowed"
    );
}

/// An escape delay the rollup's own settlement could outlast would freeze a live rollup whose
/// proposer is disputed; a force-inclusion delay of no blocks would make every item overdue at
/// once. Both are refused, and the smallest sound values are accepted.
#[test]
fn a_rollup_that_could_freeze_while_live_or_force_at_once_is_refused() {
    let mut p = params(MIN_CHALLENGE_WINDOW, MIN_CLOCK_EXTENSION);
    p.force_inclusion_blocks = 1;
    p.escape_blocks = p.settle_bound();
    let err = p.validate().unwrap_err();
    assert!(err.to_string().contains("escape delay"), "{err}");
    p.escape_blocks += 1;
    assert!(p.validate().is_ok());
    p.force_inclusion_blocks = 0;
    p.escape_blocks = 1_000_000;
    let err = p.validate().unwrap_err();
    assert!(err.to_string().contains("force-inclusion"), "{err}");
}
