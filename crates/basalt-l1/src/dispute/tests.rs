//! Unit tests of the pure dispute game.

use super::*;
use basalt_types::{dev_keypair, Decode};

const CLOCK: u64 = 100;

fn key(i: u64) -> PublicKey {
    dev_keypair("dispute", i).public()
}

fn h(i: u64) -> Hash {
    hash_parts("test", &[&i.to_le_bytes()])
}

/// A dispute over a batch of `steps` steps whose true trace is `h(i)` at position `i`, where the
/// proposer claims `output`.
fn dispute(steps: u64, output: Hash) -> Dispute {
    let record = crate::OutputRecord {
        batch: 0,
        prior: h(0),
        output,
        proposer: key(0),
        bond: 100,
        height: 10,
    };
    Dispute::open(0, 0, &record, steps, 11, 20, CLOCK)
}

/// Plays game `index` honestly for the side whose trace is `truth` and dishonestly (claims
/// `h(i) + 1000` from position `from` on) for the other, until the game ends.
fn play(d: &mut Dispute, index: u32, honest: Side, wrong_from: u64, height: &mut u64) -> Slash {
    let claim = |side: Side, pos: u64| {
        if side == honest || pos < wrong_from {
            h(pos)
        } else {
            h(pos + 1000)
        }
    };
    loop {
        *height += 1;
        let g = d.games[index as usize].clone();
        let side = g.turn;
        let choice = match g.mid {
            None => Choice::Whole,
            Some(m) if m == claim(side, midpoint(g.a, g.b)) => Choice::Right,
            Some(_) => Choice::Left,
        };
        let seg = g.segment(choice).unwrap();
        assert_eq!(seg.start, h(seg.a), "the agreed start is always true");
        if seg.b - seg.a == 1 {
            // The L1 re-executes the step: the true output.
            return d.one_step(index, choice, h(seg.b), *height).unwrap();
        }
        let m = midpoint(seg.a, seg.b);
        d.bisect(index, choice, claim(side, m), claim(side, seg.b), *height)
            .unwrap();
    }
}

#[test]
fn an_honest_challenger_beats_a_wrong_output_at_any_step() {
    for steps in [1u64, 2, 3, 5, 8, 100, 1000] {
        for wrong_from in [1, steps / 2 + 1, steps] {
            let mut d = dispute(steps, h(steps + 1000));
            let mut height = 12;
            assert!(d
                .join(Side::Challenger, key(1), 50, height)
                .unwrap()
                .is_empty());
            let slash = play(&mut d, 0, Side::Challenger, wrong_from, &mut height);
            assert_eq!(
                slash.loser,
                key(0),
                "steps {steps}, wrong from {wrong_from}"
            );
            assert_eq!(slash.winner, key(1));
            let moves = d.games[0].moves.len() as u64;
            assert!(
                moves <= 64 - (steps - 1).leading_zeros() as u64 + 1,
                "{moves} moves"
            );
            assert_eq!(
                d.decide(d.defend_until),
                Some(DisputeResult::Removed {
                    height: d.defend_until
                })
            );
        }
    }
}

#[test]
fn a_dishonest_challenger_loses_against_a_right_output() {
    for steps in [1u64, 2, 7, 64, 1000] {
        let mut d = dispute(steps, h(steps));
        let mut height = 12;
        d.join(Side::Challenger, key(1), 50, height).unwrap();
        let slash = play(&mut d, 0, Side::Defender, steps / 3 + 1, &mut height);
        assert_eq!(slash.loser, key(1));
        assert_eq!(
            d.decide(d.defend_until),
            Some(DisputeResult::Upheld {
                height: d.defend_until
            })
        );
    }
}

#[test]
fn a_silent_defender_loses_by_clock_and_another_defends_in_its_place() {
    let mut d = dispute(16, h(16));
    d.join(Side::Challenger, key(1), 50, 12).unwrap();
    d.bisect(0, Choice::Whole, h(8 + 1000), h(16 + 1000), 13)
        .unwrap();
    assert!(
        d.timeouts(13 + CLOCK - 1).is_empty(),
        "the defender has a whole clock"
    );
    let slashes = d.timeouts(13 + CLOCK);
    assert_eq!(slashes.len(), 1);
    assert_eq!(slashes[0].loser, key(0));
    // Not decided while defenders may still join.
    assert_eq!(d.decide(13 + CLOCK + 1), None);
    let mut height = 13 + CLOCK + 1;
    d.join(Side::Defender, key(2), 50, height).unwrap();
    let slash = play(&mut d, 1, Side::Defender, 3, &mut height);
    assert_eq!(slash.loser, key(1));
    assert_eq!(
        d.decide(d.defend_until.max(height)).map(|r| r.name()),
        Some("upheld")
    );
}

#[test]
fn many_dishonest_challengers_all_lose_and_a_losing_party_has_its_other_games_cancelled() {
    let mut d = dispute(40, h(40));
    let mut height = 12;
    for i in 1..=4 {
        d.join(Side::Challenger, key(i), 50, height).unwrap();
    }
    // A dishonest defender joins too, and so gets a game against each challenger.
    d.join(Side::Defender, key(9), 50, height).unwrap();
    assert_eq!(d.games.len(), 8);
    for i in 0..4 {
        let slash = play(&mut d, i, Side::Defender, (i as u64) * 9 + 1, &mut height);
        assert_eq!(slash.loser, key(i as u64 + 1));
    }
    // Each challenger's game against the second defender was cancelled when it lost.
    assert!(d.games[4..]
        .iter()
        .all(|g| matches!(g.end_state, Some(GameEnd::Cancelled { .. }))));
    assert_eq!(d.decide(d.defend_until).map(|r| r.name()), Some("upheld"));
}

#[test]
fn a_batch_without_transactions_is_decided_at_once() {
    let mut right = dispute(0, h(0));
    let s = right.join(Side::Challenger, key(1), 50, 12).unwrap();
    assert_eq!(s[0].loser, key(1));
    let mut wrong = dispute(0, h(5));
    let s = wrong.join(Side::Challenger, key(1), 50, 12).unwrap();
    assert_eq!(s[0].loser, key(0));
}

#[test]
fn moves_out_of_turn_or_shape_are_refused() {
    let mut d = dispute(4, h(4 + 1000));
    d.join(Side::Challenger, key(1), 50, 12).unwrap();
    assert!(matches!(
        d.mover(0, &key(0)),
        Err(DisputeError::NotYourTurn { .. })
    ));
    assert!(d.mover(0, &key(1)).is_ok());
    assert!(matches!(
        d.bisect(0, Choice::Left, h(2), h(4), 13),
        Err(DisputeError::BadChoice(_))
    ));
    assert_eq!(
        d.bisect(0, Choice::Whole, h(2), h(4 + 1000), 13),
        Err(DisputeError::NoDisagreement)
    );
    assert!(matches!(
        d.one_step(0, Choice::Whole, h(1), 13),
        Err(DisputeError::NeedsBisect { .. })
    ));
    assert!(matches!(
        d.join(Side::Defender, key(1), 5, 13),
        Err(DisputeError::AlreadyParty(_))
    ));
}

#[test]
fn disputes_roundtrip_through_their_encoding() {
    let mut d = dispute(9, h(9 + 1000));
    let mut height = 12;
    d.join(Side::Challenger, key(1), 50, height).unwrap();
    d.join(Side::Defender, key(2), 70, height).unwrap();
    play(&mut d, 0, Side::Challenger, 4, &mut height);
    d.result = d.decide(height.max(d.defend_until));
    let back = Dispute::from_bytes(&d.to_bytes()).unwrap();
    assert_eq!(back, d);
}
