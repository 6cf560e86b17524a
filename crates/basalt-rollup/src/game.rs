//! Playing the dispute game, and the faults a dishonest party injects (for tests and demos).
//!
//! An honest party and a dishonest one play with the same code: each has a view of a batch's trace
//! (the output after each transaction), and [`plan_move`] picks the segment of the opponent's
//! claims where that view first disagrees and posts the view's claims. A dishonest party's view is
//! the true one with one [`Fault`] injected at one step, so the games it plays are real games that
//! it loses at that step.

use crate::derive::Derivation;
use basalt_l1::{midpoint, Action, Choice, Dispute, Game, Side};
use basalt_l2::{
    Access, Account, DepositEntry, DepositWindow, Deposits, L2State, L2Tx, Optimistic, Outcome,
    SigCheck, TxFailure, Withdrawal, FEE_ACCOUNT,
};
use basalt_types::{Amount, Encode, Hash, PublicKey};

type P = Optimistic;

/// Tokens (in base units) a minting or stealing fault conjures: a million tokens.
pub const FAULT_AMOUNT: Amount = 1_000_000 * 1_000_000_000_000_000_000;

/// A way of being wrong about a batch. A faulty proposer posts the output its faulty view gives;
/// a faulty challenger disputes the true one. Some faults need the batch to hold a transaction
/// only a faulty sequencer posts (see [`Fault::needs_sequencer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// A transfer's amount lands on the fee account instead of its recipient.
    Balance,
    /// A deposit in the batch is not applied.
    SkipDeposit,
    /// A deposit credits the next deposit's recipient and amount instead of its own.
    ReorderDeposits,
    /// A transaction with a bad signature is applied (the sequencer posts a forged transfer).
    BadSignature,
    /// A transaction with a used nonce is applied again (the sequencer posts a replay).
    Replay,
    /// The fee account is credited a million tokens from nothing.
    Mint,
    /// A withdrawal is followed by a forged one of a million tokens to the same L1 account.
    WithdrawalsRoot,
    /// The sequencer posts data that does not decode, and the output claims it applied something.
    Undecodable,
}

impl Fault {
    /// Every fault, in documentation order.
    pub const ALL: [Fault; 8] = [
        Fault::Balance,
        Fault::SkipDeposit,
        Fault::ReorderDeposits,
        Fault::BadSignature,
        Fault::Replay,
        Fault::Mint,
        Fault::WithdrawalsRoot,
        Fault::Undecodable,
    ];

    /// The name `--fault` takes.
    pub fn name(self) -> &'static str {
        match self {
            Fault::Balance => "balance",
            Fault::SkipDeposit => "skip-deposit",
            Fault::ReorderDeposits => "reorder-deposits",
            Fault::BadSignature => "bad-signature",
            Fault::Replay => "replay",
            Fault::Mint => "mint",
            Fault::WithdrawalsRoot => "withdrawals-root",
            Fault::Undecodable => "undecodable",
        }
    }

    /// Parses a `--fault` name.
    pub fn parse(s: &str) -> Option<Fault> {
        Fault::ALL.into_iter().find(|f| f.name() == s)
    }

    /// Whether the fault needs the node to be the sequencer (it posts the data the fault misreads).
    pub fn needs_sequencer(self) -> bool {
        matches!(
            self,
            Fault::BadSignature | Fault::Replay | Fault::Undecodable
        )
    }

    /// Applies `tx` to `state` the faulty way if the fault fits this transaction (`None`);
    /// otherwise applies it honestly and returns its outcome. The caller commits.
    pub fn apply(
        self,
        state: &mut L2State<P>,
        window: &DepositWindow<'_, P>,
        tx: &L2Tx<P>,
    ) -> Option<Outcome> {
        if let L2Tx::Deposit { index } = tx {
            let next = state.next_deposit();
            let fits = *index == next && window.get(next).is_some();
            match self {
                Fault::SkipDeposit if fits => return None,
                Fault::ReorderDeposits if fits && window.get(next + 1).is_some() => {
                    let swapped = Swapped { window, at: next };
                    state.apply(&swapped, tx, SigCheck::Verify);
                    return None;
                }
                _ => {}
            }
        }
        let outcome = state.apply(window, tx, SigCheck::Verify);
        let faulted = match (self, tx, outcome) {
            (
                Fault::Balance,
                L2Tx::Transfer {
                    from, to, amount, ..
                },
                Outcome::Applied,
            ) if *to != FEE_ACCOUNT && to != from && *amount > 0 => {
                credit(state, *to, |b| b - amount);
                credit(state, FEE_ACCOUNT, |b| b + amount);
                true
            }
            (Fault::Mint, _, Outcome::Applied) => {
                credit(state, FEE_ACCOUNT, |b| b.saturating_add(FAULT_AMOUNT));
                true
            }
            (Fault::BadSignature, _, Outcome::Failed(TxFailure::BadSignature)) => {
                state.apply(window, tx, SigCheck::Known(true));
                true
            }
            (
                Fault::Replay,
                L2Tx::Transfer { from, .. } | L2Tx::Withdraw { from, .. },
                Outcome::Failed(TxFailure::BadNonce { expected, got }),
            ) if got < expected => {
                set_nonce(state, *from, got);
                let replayed = state.apply(window, tx, SigCheck::Verify);
                set_nonce(state, *from, expected);
                if replayed != Outcome::Applied {
                    // Replaying failed for another reason (the balance): nothing changed after all.
                    return Some(outcome);
                }
                true
            }
            (Fault::WithdrawalsRoot, L2Tx::Withdraw { recipient, .. }, Outcome::Applied) => {
                state
                    .push_withdrawal(Withdrawal {
                        recipient: *recipient,
                        amount: FAULT_AMOUNT,
                    })
                    .expect("a full state covers every index");
                true
            }
            _ => false,
        };
        (!faulted).then_some(outcome)
    }
}

fn credit(state: &mut L2State<P>, index: u32, f: impl FnOnce(Amount) -> Amount) {
    let mut a: Account<P> = *state.get(index).expect("an allocated account");
    a.balance = f(a.balance);
    state
        .set_account(index, a)
        .expect("a full state covers every index");
}

fn set_nonce(state: &mut L2State<P>, index: u32, nonce: u64) {
    let mut a: Account<P> = *state.get(index).expect("an allocated account");
    a.nonce = nonce;
    state
        .set_account(index, a)
        .expect("a full state covers every index");
}

/// A deposit window with entries `at` and `at + 1` swapped.
struct Swapped<'a, 'w> {
    window: &'a DepositWindow<'w, P>,
    at: u64,
}

impl Deposits<P> for Swapped<'_, '_> {
    fn get(&self, index: u64) -> Option<DepositEntry<P>> {
        let source = if index == self.at {
            self.at + 1
        } else if index == self.at + 1 {
            self.at
        } else {
            index
        };
        self.window.get(source)
    }
}

/// A move a party decides to make in a game.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlannedMove {
    /// Bisect the chosen segment with these claims.
    Bisect {
        /// The segment disputed.
        choice: Choice,
        /// The claim at its midpoint.
        mid: Hash,
        /// The claim at its end.
        end: Hash,
    },
    /// Prove step `step` of the batch (the segment `step..step + 1`).
    OneStep {
        /// The segment disputed.
        choice: Choice,
        /// The step to re-execute.
        step: u64,
    },
}

/// The move a party whose view of the batch's trace is `trace` (positions `0..=steps`) makes in
/// `game` when it is its turn: it disputes the segment where its view first departs from the
/// opponent's claims. `None` if the trace does not fit the game (a view of another batch).
pub fn plan_move(game: &Game, trace: &[Hash]) -> Option<PlannedMove> {
    let at = |pos: u64| trace.get(usize::try_from(pos).ok()?).copied();
    let choice = match game.mid {
        None => Choice::Whole,
        Some(mid) if at(midpoint(game.a, game.b))? == mid => Choice::Right,
        Some(_) => Choice::Left,
    };
    let seg = game.segment(choice).ok()?;
    if seg.b - seg.a == 1 {
        return Some(PlannedMove::OneStep {
            choice,
            step: seg.a,
        });
    }
    Some(PlannedMove::Bisect {
        choice,
        mid: at(midpoint(seg.a, seg.b))?,
        end: at(seg.b)?,
    })
}

/// A live output that has not settled, as the L1 lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveOutput {
    /// The batch it follows.
    pub batch: u64,
    /// The output it builds on.
    pub prior: Hash,
    /// The output.
    pub output: Hash,
    /// Challenges are accepted before this L1 block.
    pub challenge_until: u64,
}

/// The dispute actions a party with key `me` and view `view` sends at L1 height `height`: a move
/// in every game where it is on turn, a defence of every disputed output its view agrees with, and
/// a challenge of the first live output it disagrees with. It only plays over batches whose prior
/// output its view agrees with: an output built on a wrong one goes when that one is removed.
pub fn dispute_actions(
    rollup: u32,
    me: &PublicKey,
    view: &Derivation,
    outputs: &[LiveOutput],
    disputes: &[Dispute],
    height: u64,
) -> Vec<Action> {
    let mut actions = Vec::new();
    let agrees_before = |batch: u64, prior: &Hash| view.prior(batch) == Some(*prior);
    for d in disputes.iter().filter(|d| d.result.is_none()) {
        if !agrees_before(d.batch, &d.prior) {
            continue;
        }
        let Some(mine) = view.output(d.batch) else {
            continue; // not derived yet
        };
        if !d.is_party(me) {
            let (side, until) = if mine == d.output {
                (Side::Defender, d.defend_until)
            } else {
                (Side::Challenger, d.challenge_until)
            };
            if height < until {
                actions.push(join(side, rollup, d.batch, d.output));
            }
            continue;
        }
        // Built once per dispute, and only when this party owes a move: a long batch's trace
        // costs a state root per step.
        let mut trace = None;
        for (index, g) in d.games.iter().enumerate() {
            if !g.ongoing() || d.party(g.turn, g.player(g.turn)).key != *me {
                continue;
            }
            let Some(trace) = trace.get_or_insert_with(|| view.trace(d.batch)) else {
                continue;
            };
            let game = index as u32;
            match plan_move(g, trace) {
                Some(PlannedMove::Bisect { choice, mid, end }) => actions.push(Action::Bisect {
                    rollup,
                    dispute: d.id,
                    game,
                    choice,
                    mid,
                    end,
                }),
                Some(PlannedMove::OneStep { choice, step }) => {
                    if let Some(w) = view.witness(d.batch, step) {
                        actions.push(Action::OneStepProof {
                            rollup,
                            dispute: d.id,
                            game,
                            choice,
                            witness: w.to_bytes(),
                        });
                    }
                }
                None => {}
            }
        }
    }
    let disputed = |batch: u64| {
        disputes
            .iter()
            .any(|d| d.batch == batch && d.result.is_none())
    };
    let first_wrong = outputs.iter().find(|o| {
        agrees_before(o.batch, &o.prior)
            && view.output(o.batch).is_some_and(|mine| mine != o.output)
    });
    if let Some(o) = first_wrong {
        if !disputed(o.batch) && height < o.challenge_until {
            actions.push(join(Side::Challenger, rollup, o.batch, o.output));
        }
    }
    actions
}

fn join(side: Side, rollup: u32, batch: u64, output: Hash) -> Action {
    match side {
        Side::Challenger => Action::Challenge {
            rollup,
            batch,
            output,
        },
        Side::Defender => Action::Defend {
            rollup,
            batch,
            output,
        },
    }
}
