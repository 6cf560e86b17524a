//! Disputes against many adversaries, on the real L1 state machine: one honest party, playing the
//! rollup node's own strategy, against 200 sybils that counter every claim it makes with lies (as
//! defenders of a wrong output, as challengers of a right one, or both), sybils that wait for the
//! last block of their clocks, a liar that re-proposes a new wrong output every block, and an
//! honest party restarted mid-game. Each ends with the honest outcome within the tree's stated
//! bound, with the bridge and bond invariants checked after every block.

mod common;
use basalt_l1::{Action, Claims, L1State, MAX_TREE_DEPTH};
use basalt_rollup::faults::Sybil;
use basalt_rollup::lab::Player;
use basalt_rollup::Fault;
use basalt_types::{hash_parts, Amount, PublicKey};
use common::world::*;
use common::*;

/// The honest party's key (it proposes and plays) and the liar's.
const HONEST: usize = 6;
const LIAR: usize = 2;
/// The sybils' keys: after the harness's eight.
const SYBILS: u64 = 200;
const FIRST_SYBIL: u64 = 8;

/// The crowd of sybils, countering in time or in the last block a clock allows.
fn crowd(late: bool) -> Vec<Sybil> {
    (FIRST_SYBIL..FIRST_SYBIL + SYBILS)
        .map(|who| Sybil::new(who as usize, late))
        .collect()
}

/// Each sybil's counter in the next block.
fn sybil_moves(l1: &L1State, sybils: &mut [Sybil], honest: &PublicKey) -> Vec<(usize, Action)> {
    sybils
        .iter_mut()
        .filter_map(|s| s.action(l1, 0, honest).map(|a| (s.who, a)))
        .collect()
}

fn world_with_sybils() -> L1 {
    let mut l1 = L1::with_keys(FIRST_SYBIL + SYBILS);
    populate(&mut l1, 6);
    l1
}

/// Runs blocks with the players and sybils until every batch settled and every tree resolved;
/// returns the most claims any tree held.
fn play_out(l1: &mut L1, parties: &mut [Player], sybils: &mut [Sybil]) -> usize {
    let honest = key(HONEST as u64).public();
    for _ in 0..MAX_BLOCKS {
        if all_settled(&l1.state) {
            let r = l1.state.rollup(0).unwrap();
            return r.trees.iter().map(|t| t.claims().len()).max().unwrap_or(0);
        }
        let extra = sybil_moves(&l1.state, sybils, &honest);
        for (who, r) in step_with(l1, parties, extra) {
            // A faulty view's moves may be refused (its steps do not re-execute), and a liar whose
            // fault has not shown yet may post the honest output or claim first in a block (it is
            // then the honest one, whoever posted it); the honest party's moves are otherwise
            // never refused, nor the sybils'.
            use basalt_l1::FailureCode::{AlreadyProposed, AlreadyStepped, DuplicateClaim};
            let race = matches!(
                r.failure,
                Some(AlreadyProposed | DuplicateClaim | AlreadyStepped)
            );
            if who != LIAR && !race {
                assert_eq!(r.failure, None, "a move of key {who} failed");
            }
        }
    }
    panic!("not settled after {MAX_BLOCKS} blocks");
}

/// Every tree resolved within its stated bound of its proposal, however many claims it held.
fn assert_within_bound(l1: &L1State) {
    let r = l1.rollup(0).unwrap();
    for (p, d) in r.disputes.iter().enumerate() {
        let proposed = r.proposals[p].height;
        let resolved = d.result.expect("resolved").height();
        assert!(
            resolved <= proposed + d.rules.bound(),
            "proposal {p} resolved {} blocks after its proposal, bound {} ({} claims)",
            resolved - proposed,
            d.rules.bound(),
            d.claims
        );
        assert!(d.rules.bound() <= r.header.params.dispute_horizon());
    }
    assert!(r.header.params.dispute_horizon() >= 2 * WINDOW + MAX_TREE_DEPTH as u64);
}

/// The bonds `who`'s claims locked, and what resolution paid it (shares of countered claims'
/// bonds, and its own standing bonds back), over every resolved tree.
fn bonds_of(l1: &L1State, who: &PublicKey) -> (Amount, Amount) {
    let r = l1.rollup(0).unwrap();
    let (mut staked, mut paid) = (0, 0);
    for t in &r.trees {
        let resolution = t.resolve();
        for (i, c) in t.claims().iter().enumerate() {
            if c.claimant == *who {
                staked += c.bond;
            }
            let (to, bond) = resolution.payouts[i];
            if to == *who {
                paid += if resolution.countered[i] {
                    r.header.params.slash_reward(bond)
                } else {
                    bond
                };
            }
        }
    }
    (staked, paid)
}

fn honest_keys() -> Vec<PublicKey> {
    vec![key(HONEST as u64).public()]
}

#[test]
fn one_honest_challenger_removes_a_wrong_output_that_200_sybils_defend() {
    let mut l1 = world_with_sybils();
    let mut parties = [
        party(LIAR, Some((Fault::Mint, (0, 0))), true),
        party(HONEST, None, true),
    ];
    let most = play_out(&mut l1, &mut parties, &mut crowd(false));
    assert!(most > SYBILS as usize, "the sybils played: {most} claims");
    assert_honest_outcome(&l1.state, &honest_keys());
    assert_within_bound(&l1.state);
}

#[test]
fn one_honest_proposer_keeps_a_right_output_that_200_sybils_challenge() {
    let mut l1 = world_with_sybils();
    let mut parties = [party(HONEST, None, true)];
    let most = play_out(&mut l1, &mut parties, &mut crowd(false));
    assert!(most > SYBILS as usize, "the sybils played: {most} claims");
    assert_honest_outcome(&l1.state, &honest_keys());
    assert_within_bound(&l1.state);
    let r = l1.state.rollup(0).unwrap();
    assert!(
        r.disputes.iter().all(|d| d.upheld()),
        "no honest output removed"
    );
    // The sybils' bonds paid the honest party more than its own bonds ever put at stake.
    let (staked, paid) = bonds_of(&l1.state, &key(HONEST as u64).public());
    assert!(
        paid > staked + SYBILS as Amount * 500,
        "staked {staked}, paid {paid}"
    );
}

#[test]
fn sybils_on_both_sides_at_once_still_lose() {
    let mut l1 = world_with_sybils();
    let mut parties = [
        party(LIAR, Some((Fault::Balance, (0, 3))), true),
        party(HONEST, None, true),
    ];
    let mut sybils = crowd(false);
    // Half of them also defend the liar's claims in its own tree (they counter the honest party
    // everywhere): both trees of batch 0 are crowded.
    play_out(&mut l1, &mut parties, &mut sybils);
    assert_honest_outcome(&l1.state, &honest_keys());
    assert_within_bound(&l1.state);
    let r = l1.state.rollup(0).unwrap();
    let crowded = r.trees.iter().filter(|t| t.claims().len() > 50).count();
    assert!(
        crowded >= 2,
        "both the wrong and the right output's trees were crowded"
    );
}

#[test]
fn sybils_that_counter_in_the_last_block_of_their_clocks_still_lose_within_the_bound() {
    let mut l1 = world_with_sybils();
    let mut parties = [
        party(LIAR, Some((Fault::Mint, (0, 0))), true),
        party(HONEST, None, true),
    ];
    let most = play_out(&mut l1, &mut parties, &mut crowd(true));
    assert!(most > 50, "the sybils played: {most} claims");
    assert_honest_outcome(&l1.state, &honest_keys());
    assert_within_bound(&l1.state);
}

#[test]
fn a_liar_that_proposes_a_new_wrong_output_every_block_never_delays_the_honest_one() {
    let mut l1 = world(6);
    let mut parties = [party(HONEST, None, true)];
    let genesis = l1.state.rollup(0).unwrap().header.genesis_output;
    let mut lies = 0u64;
    for _ in 0..MAX_BLOCKS {
        if all_settled(&l1.state) {
            break;
        }
        // A fresh wrong output of batch 0 in every block until it settles.
        let extra = if l1.state.rollup(0).unwrap().header.settled == 0 {
            lies += 1;
            vec![(
                LIAR,
                Action::ProposeOutput {
                    rollup: 0,
                    batch: 0,
                    prior: genesis,
                    output: hash_parts("liar/output", &[&lies.to_le_bytes()]),
                },
            )]
        } else {
            Vec::new()
        };
        let receipts = step_with(&mut l1, &mut parties, extra);
        assert!(
            receipts.iter().all(|(_, r)| r.failure.is_none()),
            "{receipts:?}"
        );
    }
    assert!(lies > WINDOW, "the liar kept proposing: {lies} lies");
    assert_honest_outcome(&l1.state, &honest_keys());
    assert_within_bound(&l1.state);
    let r = l1.state.rollup(0).unwrap();
    let honest = r.chain[0] as usize;
    let settled_at = r.disputes[honest].result.unwrap().height();
    assert!(
        settled_at <= r.proposals[honest].height + r.disputes[honest].rules.bound(),
        "batch 0 settled within the bound of the honest proposal"
    );
    // Every lie was removed, and paid the honest party its bond.
    let removed = r
        .disputes
        .iter()
        .filter(|d| matches!(d.result, Some(basalt_l1::DisputeResult::Removed { .. })))
        .count() as u64;
    let proposed = r
        .proposals
        .iter()
        .filter(|p| p.proposer == key(LIAR as u64).public())
        .count();
    assert_eq!(proposed as u64, lies);
    assert_eq!(
        removed,
        lies,
        "{:?}",
        r.disputes
            .iter()
            .map(|d| (d.proposal, d.result))
            .collect::<Vec<_>>()
    );
}

#[test]
fn an_honest_party_restarted_mid_game_picks_the_game_up_from_the_l1_and_wins() {
    let mut l1 = world_with_sybils();
    let mut parties = [
        party(LIAR, Some((Fault::Mint, (0, 0))), true),
        party(HONEST, None, true),
    ];
    let mut sybils = crowd(false);
    let honest = key(HONEST as u64).public();
    // Play until the honest party is mid-game in a crowded tree ...
    while l1
        .state
        .rollup(0)
        .unwrap()
        .trees
        .iter()
        .all(|t| t.claims().len() < 100)
    {
        let extra = sybil_moves(&l1.state, &mut sybils, &honest);
        step_with(&mut l1, &mut parties, extra);
    }
    // ... then it restarts with nothing but what the L1 holds, and misses a block doing so.
    parties[1] = party(HONEST, None, true);
    l1.block(vec![]);
    play_out(&mut l1, &mut parties, &mut sybils);
    assert_honest_outcome(&l1.state, &honest_keys());
    assert_within_bound(&l1.state);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 8, ..Default::default() })]

    /// Random crowds (any count, in time or late, the liar's fault anywhere): the honest side
    /// wins within the bound.
    #[test]
    fn any_crowd_of_sybils_loses_within_the_bound(
        count in 0u64..60,
        late in proptest::prelude::any::<bool>(),
        fault in 0usize..8,
        from_step in 0u64..12,
    ) {
        let mut l1 = world_with_sybils();
        let mut parties = [
            party(LIAR, Some((Fault::ALL[fault], (0, from_step))), true),
            party(HONEST, None, true),
        ];
        let mut sybils: Vec<Sybil> = (FIRST_SYBIL..FIRST_SYBIL + count)
            .map(|who| Sybil::new(who as usize, late))
            .collect();
        play_out(&mut l1, &mut parties, &mut sybils);
        assert_honest_outcome(&l1.state, &honest_keys());
        assert_within_bound(&l1.state);
    }
}
