//! Seeded workloads: who sends what, and when. One workload runs unchanged through the L1 alone
//! and through every rollup configuration, so that they carry the same transactions.

use basalt_types::Amount;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Duration;

/// A workload: `users` accounts sending `rate` transactions a second in all for `seconds`; a
/// share of them withdrawals to L1, the rest transfers to another user.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Workload {
    /// Accounts that send.
    pub users: usize,
    /// Transactions a second, all users together (offered load).
    pub rate: f64,
    /// How long the load lasts.
    pub seconds: f64,
    /// Percent of transactions that are withdrawals to L1 (on the L1 alone: transfers).
    pub withdraw_percent: u32,
    /// The seed of the mix.
    pub seed: u64,
}

/// What one transaction of the workload does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intent {
    /// Pay `amount` to user `to`.
    Transfer {
        /// The recipient, by user number.
        to: usize,
        /// Base units.
        amount: Amount,
    },
    /// Withdraw `amount` to the sender's own L1 account.
    Withdraw {
        /// Base units.
        amount: Amount,
    },
}

/// One transaction of the plan: when it is sent, from the start of the load, and what it does.
#[derive(Clone, Copy, Debug)]
pub struct Planned {
    /// Its send time.
    pub at: Duration,
    /// What it does.
    pub intent: Intent,
}

impl Workload {
    /// The transactions the workload sends.
    pub fn count(&self) -> usize {
        (self.rate * self.seconds).round() as usize
    }

    /// Each user's transactions in sending order (so in nonce order): evenly spaced in time,
    /// senders, recipients, amounts and kinds drawn from the seed.
    pub fn plan(&self) -> Vec<Vec<Planned>> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut plan = vec![Vec::new(); self.users];
        if self.users < 2 {
            return plan;
        }
        for i in 0..self.count() {
            let at = Duration::from_secs_f64(i as f64 / self.rate);
            let from = rng.gen_range(0..self.users);
            let amount = rng.gen_range(1..=1_000u128) * 1_000_000;
            let intent = if rng.gen_range(0..100) < self.withdraw_percent {
                Intent::Withdraw { amount }
            } else {
                let to = (from + rng.gen_range(1..self.users)) % self.users;
                Intent::Transfer { to, amount }
            };
            plan[from].push(Planned { at, intent });
        }
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workload(seed: u64) -> Workload {
        Workload {
            users: 10,
            rate: 100.0,
            seconds: 2.0,
            withdraw_percent: 10,
            seed,
        }
    }

    #[test]
    fn a_seed_gives_one_plan_and_another_seed_another() {
        let key = |p: &Vec<Vec<Planned>>| {
            p.iter()
                .map(|u| u.iter().map(|t| (t.at, t.intent)).collect::<Vec<_>>())
                .collect::<Vec<_>>()
        };
        assert_eq!(key(&workload(7).plan()), key(&workload(7).plan()));
        assert_ne!(key(&workload(7).plan()), key(&workload(8).plan()));
    }

    #[test]
    fn the_plan_sends_the_count_in_time_order_never_to_oneself() {
        let w = workload(1);
        let plan = w.plan();
        assert_eq!(plan.iter().map(Vec::len).sum::<usize>(), w.count());
        let withdrawals = plan
            .iter()
            .flatten()
            .filter(|t| matches!(t.intent, Intent::Withdraw { .. }))
            .count();
        assert!(
            (5..=40).contains(&withdrawals),
            "{withdrawals} withdrawals of 200"
        );
        for (from, txs) in plan.iter().enumerate() {
            assert!(txs.windows(2).all(|w| w[0].at < w[1].at));
            for t in txs {
                if let Intent::Transfer { to, .. } = t.intent {
                    assert_ne!(to, from);
                }
            }
        }
    }
}
