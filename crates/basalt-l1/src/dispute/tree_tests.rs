//! The claim tree against many adversaries: one honest party, playing the strategy the module
//! header describes, wins against any mix of adversary moves, and the tree resolves within its
//! bound.

use super::*;
use basalt_types::{dev_keypair, hash_parts};
use proptest::prelude::*;

const CLOCK: u64 = 40;
const EXTENSION: u64 = 6;

fn key(i: u64) -> PublicKey {
    dev_keypair("claim-tree", i).public()
}

/// The re-execution of one transition: positions past the batch repeat the final state.
fn vm(steps: u64, pre: Hash, step: u64) -> Hash {
    if step > steps {
        pre
    } else {
        hash_parts("claim-tree/state", &[&pre.0, &step.to_le_bytes()])
    }
}

/// The true trace of a batch: position `t` is the state after `t` transactions.
struct Trace {
    states: Vec<Hash>,
}

impl Trace {
    fn new(steps: u64, len: u64) -> Trace {
        let mut states = vec![Hash([7; 32])];
        for t in 1..=len {
            states.push(vm(steps, states[t as usize - 1], t));
        }
        Trace { states }
    }

    fn at(&self, t: u64) -> Hash {
        self.states[t as usize]
    }
}

/// Plays every owed move; returns how many were made.
fn play_honest(tree: &mut ClaimTree, truth: &Trace, height: u64) -> usize {
    let moves = honest_moves(tree, |t| truth.at(t));
    for m in &moves {
        match *m {
            HonestMove::Counter {
                parent,
                attack,
                value,
            } => {
                tree.counter(parent, attack, value, key(0), 10, height)
                    .expect("an honest counter is always allowed in time");
            }
            HonestMove::Step { leaf, attack } => {
                let check = tree
                    .step_check(leaf, attack)
                    .expect("honest step inputs exist");
                let result = vm(tree.rules.steps, check.pre, check.step);
                tree.step(leaf, attack, result, key(0), height)
                    .expect("an honest step counters its leaf");
            }
        }
    }
    moves.len()
}

/// One adversary move, chosen by `pick` (from the strategy) among what the rules allow.
fn play_adversary(tree: &mut ClaimTree, truth: &Trace, pick: &[u64; 4], who: u64, height: u64) {
    let i = (pick[0] % tree.claims().len() as u64) as u32;
    let attack = pick[1].is_multiple_of(2);
    let c = tree.claims()[i as usize];
    if depth_of(c.position) > tree.rules.depth {
        return; // a one-step proof: nothing counters it
    }
    if depth_of(c.position) == tree.rules.depth {
        // A step is checked by re-execution: the adversary only picks which one to try.
        if let Ok(check) = tree.step_check(i, attack) {
            let result = vm(tree.rules.steps, check.pre, check.step);
            let _ = tree.step(i, attack, result, key(who), height);
        }
        return;
    }
    let position = counter_position(c.position, attack);
    if depth_of(position) > tree.rules.depth {
        return; // defending the root: refused whatever the value
    }
    // A lie, or the truth (sybils may agree with the honest party to waste its moves).
    let value = match pick[2] % 3 {
        0 => truth.at(tree.rules.trace_index(position)),
        1 => hash_parts("claim-tree/lie", &[&pick[3].to_le_bytes()]),
        _ => hash_parts("claim-tree/lie", &[&(pick[3] % 4).to_le_bytes()]),
    };
    let _ = tree.counter(i, attack, value, key(who), 10, height);
}

/// Plays a whole game: `output_true` says which side is honest; adversaries make `per_round`
/// moves by `picks` each round, and the honest party answers `latency` blocks later, every round
/// until the tree resolves. Returns the tree at resolution.
fn play(
    steps: u64,
    output_true: bool,
    picks: &[[u64; 4]],
    per_round: usize,
    latency: u64,
) -> (ClaimTree, Trace, usize) {
    let depth = Rules::depth_for(steps);
    let truth = Trace::new(steps, 1 << depth);
    let output = if output_true {
        truth.at(1 << depth)
    } else {
        Hash([9; 32])
    };
    let start = 100;
    let rules = Rules::new(steps, truth.at(0), CLOCK, EXTENSION);
    let mut tree = ClaimTree::new(rules, output, key(1), 10, start);
    let mut height = start;
    let mut honest_moves = 0;
    let mut picks = picks.iter();
    while height < tree.resolvable_at() {
        // The adversaries move first in each round, then the honest party after its latency.
        for (n, pick) in picks.by_ref().take(per_round).enumerate() {
            play_adversary(&mut tree, &truth, pick, 10 + n as u64, height);
        }
        height += latency;
        honest_moves += play_honest(&mut tree, &truth, height);
        height += 1;
    }
    (tree, truth, honest_moves)
}

fn assert_honest_wins(tree: &ClaimTree, truth: &Trace, output_true: bool) {
    let r = tree.resolve();
    assert_eq!(
        r.upheld, output_true,
        "the output resolves as the truth says"
    );
    for (i, c) in tree.claims().iter().enumerate() {
        if c.claimant == key(0) {
            assert!(!r.countered[i], "honest claim {i} stands");
            assert_eq!(r.payouts[i].0, key(0), "and its bond comes back");
            if depth_of(c.position) <= tree.rules.depth {
                assert_eq!(c.value, truth.at(tree.rules.trace_index(c.position)));
            }
        }
    }
    let last = tree.resolvable_at() - tree.claims()[0].created;
    assert!(
        last <= tree.rules.bound(),
        "resolved {last} blocks after the proposal, bound {}",
        tree.rules.bound()
    );
}

#[test]
fn an_unchallenged_output_resolves_upheld_after_one_clock() {
    let (tree, truth, moves) = play(8, true, &[], 1, 1);
    assert_eq!(moves, 0);
    assert_eq!(tree.resolvable_at(), 100 + CLOCK);
    assert_honest_wins(&tree, &truth, true);
}

#[test]
fn one_honest_challenger_removes_a_wrong_output_alone() {
    let (tree, truth, moves) = play(1_000, false, &[], 1, 1);
    assert!(
        moves >= 1 && moves <= tree.rules.depth as usize + 1,
        "{moves} moves"
    );
    assert_honest_wins(&tree, &truth, false);
}

#[test]
fn a_bottom_claim_that_agrees_with_the_step_cannot_be_stepped() {
    let truth = Trace::new(2, 2);
    let mut tree = ClaimTree::new(
        Rules::new(2, truth.at(0), CLOCK, EXTENSION),
        truth.at(2),
        key(1),
        10,
        0,
    );
    let liar = tree.counter(0, true, Hash([3; 32]), key(2), 10, 1).unwrap();
    let wrong = Hash([3; 32]);
    assert_eq!(
        tree.counter(liar, true, wrong, key(3), 10, 2),
        Err(TreeError::AtBottom(liar))
    );
    // The root's side cannot counter the liar's bottom claim by a step that reproduces it ...
    let check = tree.step_check(liar, true).unwrap();
    assert_eq!(check.step, 1);
    assert_eq!(
        tree.step(liar, true, wrong, key(1), 2),
        Err(TreeError::ValidStep(liar))
    );
    // ... only by the true re-execution.
    let result = vm(2, check.pre, check.step);
    tree.step(liar, true, result, key(1), 2).unwrap();
    assert!(tree.resolve().upheld);
    assert_eq!(
        tree.step(liar, true, result, key(3), 3),
        Err(TreeError::AlreadyStepped(liar))
    );
}

#[test]
fn counters_after_the_clock_and_duplicates_are_refused() {
    let truth = Trace::new(8, 8);
    let mut tree = ClaimTree::new(
        Rules::new(8, truth.at(0), CLOCK, EXTENSION),
        truth.at(8),
        key(1),
        10,
        0,
    );
    assert_eq!(
        tree.counter(0, false, Hash([1; 32]), key(2), 10, 1),
        Err(TreeError::DefendRoot)
    );
    let a = tree
        .counter(0, true, Hash([1; 32]), key(2), 10, CLOCK - 1)
        .unwrap();
    assert_eq!(
        tree.counter(0, true, Hash([1; 32]), key(3), 10, CLOCK - 1),
        Err(TreeError::Duplicate(0))
    );
    assert_eq!(
        tree.counter(0, true, Hash([2; 32]), key(3), 10, CLOCK),
        Err(TreeError::ClockRanOut(0))
    );
    // Posted with one block left, the challenger's clock was set back: the root's side still
    // has its whole clock, and the challenger gets the extension for its next answer.
    assert_eq!(tree.claims()[a as usize].clock, CLOCK - EXTENSION);
    let b = tree
        .counter(a, true, truth.at(2), key(1), 10, CLOCK + 5)
        .unwrap();
    assert!(tree
        .counter(
            b,
            true,
            Hash([4; 32]),
            key(2),
            10,
            CLOCK + 5 + EXTENSION - 1
        )
        .is_ok());
    assert_eq!(
        tree.counter(b, false, Hash([4; 32]), key(2), 10, CLOCK + 5 + EXTENSION),
        Err(TreeError::ClockRanOut(b))
    );
}

#[test]
fn two_hundred_sybils_against_a_right_output_lose_and_pay_the_honest_party() {
    let picks: Vec<[u64; 4]> = (0..200u64)
        .map(|i| [0, 0, 1, i]) // each attacks the root with a distinct lie
        .collect();
    let (tree, truth, _) = play(1_000, true, &picks, 200, 1);
    assert!(tree.claims().len() > 200);
    assert_honest_wins(&tree, &truth, true);
    let r = tree.resolve();
    let to_honest: Amount = r
        .payouts
        .iter()
        .filter(|(k, _)| *k == key(0) || *k == key(1))
        .map(|(_, b)| b)
        .sum();
    assert!(
        to_honest >= 200 * 10,
        "the sybils' bonds go to the honest side"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn the_honest_side_always_wins_within_the_bound(
        steps in prop_oneof![Just(0u64), Just(1), 2u64..40, Just(1_000), Just(65_536)],
        output_true in any::<bool>(),
        picks in proptest::collection::vec(any::<[u64; 4]>(), 0..150),
        per_round in 1usize..20,
        latency in 0..EXTENSION - 1,
    ) {
        let (tree, truth, _) = play(steps, output_true, &picks, per_round, latency);
        assert_honest_wins(&tree, &truth, output_true);
    }
}

#[test]
fn sybils_that_counter_in_the_last_block_of_their_clocks_still_lose_within_the_bound() {
    for output_true in [true, false] {
        let steps = 1_000;
        let truth = Trace::new(steps, 1024);
        let output = if output_true {
            truth.at(1024)
        } else {
            Hash([9; 32])
        };
        let mut tree = ClaimTree::new(
            Rules::new(steps, truth.at(0), CLOCK, EXTENSION),
            output,
            key(1),
            10,
            0,
        );
        let mut height = 0;
        while height < tree.resolvable_at() {
            // Every honest-side claim not yet countered by the sybils is countered by 5 of them,
            // each with its own lie, in the last block its clock allows.
            let honest_side = tree.on_output_side(0) == output_true;
            let targets: Vec<u32> = (0..tree.count())
                .filter(|i| tree.on_output_side(*i) == honest_side)
                .filter(|i| tree.counter_clock(&tree.claims()[*i as usize], height) == CLOCK - 1)
                .filter(|i| depth_of(tree.claims()[*i as usize].position) < tree.rules.depth)
                .collect();
            for t in targets {
                for sybil in 0..5u64 {
                    let lie = hash_parts("claim-tree/late", &[&[t as u8, sybil as u8]]);
                    tree.counter(t, true, lie, key(100 + sybil), 10, height)
                        .expect("the last block of a clock still takes a counter");
                }
            }
            play_honest(&mut tree, &truth, height + EXTENSION - 1);
            height += 1;
        }
        assert!(tree.claims().len() > 50, "the sybils played");
        assert_honest_wins(&tree, &truth, output_true);
    }
}

#[test]
fn trees_roundtrip_through_their_encoding_and_broken_ones_are_refused() {
    use basalt_types::{Decode, Encode};
    let (tree, _, _) = play(
        1_000,
        false,
        &[[0, 0, 1, 5], [1, 1, 0, 2], [3, 0, 2, 9]],
        3,
        1,
    );
    assert!(tree.claims().len() > 3);
    let bytes = tree.to_bytes();
    assert_eq!(ClaimTree::from_bytes(&bytes).unwrap(), tree);
    let broken = |f: &dyn Fn(&mut ClaimTree)| {
        let mut t = tree.clone();
        f(&mut t);
        ClaimTree::from_bytes(&t.to_bytes()).is_err()
    };
    assert!(
        broken(&|t| t.claims[1].position = 3),
        "a node no move reaches"
    );
    assert!(
        broken(&|t| t.claims[1].parent = Some(5)),
        "a parent posted later"
    );
    assert!(
        broken(&|t| t.claims[2].clock = CLOCK),
        "a clock past the budget"
    );
    assert!(
        broken(&|t| t.rules.depth += 1),
        "a depth the batch does not have"
    );
    assert!(broken(&|t| t.claims.clear()), "no root");
    assert!(ClaimTree::from_bytes(&bytes[..bytes.len() - 1]).is_err());
}
