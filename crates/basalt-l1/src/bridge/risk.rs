//! A rollup's risks, computed from its registered parameters and the L1's, never typed in by hand:
//! L2BEAT's five categories (state validation, data availability, exit window, sequencer failure,
//! proposer failure) and a stage, 0 to 2, with the first requirement the rollup does not meet.
//!
//! The words are for people (RPC and CLI); nothing here is consensus data.

use super::{RollupKind, RollupParams};
use crate::params::Params;

/// How a category stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RiskLevel {
    /// No trust beyond the L1 and one honest party.
    Good,
    /// A trust assumption or delay a user should know.
    Warning,
    /// Users can lose funds or be stuck without recourse.
    Bad,
}

impl RiskLevel {
    /// Lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            RiskLevel::Good => "good",
            RiskLevel::Warning => "warning",
            RiskLevel::Bad => "bad",
        }
    }
}

/// One category of risk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskCategory {
    /// Stable identifier, e.g. `sequencer_failure`.
    pub id: &'static str,
    /// How it stands.
    pub level: RiskLevel,
    /// Why, with the numbers it comes from.
    pub summary: String,
}

/// A rollup's risk view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupRisk {
    /// The five categories, in L2BEAT's order.
    pub categories: Vec<RiskCategory>,
    /// The stage reached: 0, 1 or 2.
    pub stage: u8,
    /// The first requirement of the next stage the rollup does not meet (`None` at stage 2).
    pub next_requirement: Option<&'static str>,
    /// Every stage requirement the rollup does not meet, with the stage that asks it, in order.
    pub unmet: Vec<(u8, &'static str)>,
}

/// Blocks in `days` days at `block_time_ms`.
fn days_in_blocks(days: u64, block_time_ms: u64) -> u64 {
    days * 86_400_000 / block_time_ms.max(1)
}

/// `blocks` as a duration at `block_time_ms`, e.g. "50 blocks (10 s)".
fn span(blocks: u64, block_time_ms: u64) -> String {
    let secs = blocks.saturating_mul(block_time_ms) / 1000;
    let t = match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 7_200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3_600),
        s => format!("{} days", s / 86_400),
    };
    match blocks {
        1 => format!("1 block ({t})"),
        n => format!("{n} blocks ({t})"),
    }
}

/// Stage 1 asks an optimistic rollup's challenge window to be at least this long: the OP Stack's
/// and Arbitrum's, time for an honest challenger to get its move in past any L1 censorship.
pub const STAGE1_CHALLENGE_DAYS: u64 = 7;

/// The risk view of a rollup registered with `p`, on an L1 with `l1`'s parameters.
pub fn rollup_risk(p: &RollupParams, l1: &Params) -> RollupRisk {
    let bt = l1.block_time_ms;
    let bound = p.dispute_horizon();
    let state_validation = match &p.kind {
        RollupKind::Optimistic => RiskCategory {
            id: "state_validation",
            level: RiskLevel::Good,
            summary: format!(
                "fraud proofs, permissionless: anyone who bonds {} tokens proposes an output, and anyone who bonds {} tokens a claim counters one; every claim tree resolves within {} of its proposal, however many play, and an output waits {} unchallenged",
                crate::format_tokens(p.proposer_bond),
                crate::format_tokens(p.dispute_bond),
                span(bound, bt),
                span(p.challenge_window, bt)
            ),
        },
        RollupKind::Zk(z) => RiskCategory {
            id: "state_validation",
            level: RiskLevel::Warning,
            summary: format!(
                "validity proofs (Groth16, {} slots, verifying key {}): anyone may prove a batch, final at its proof; sound only if the key's trusted setup was honest, which the L1 cannot see (a DEVELOPMENT setup is not)",
                z.slots,
                z.verifying_key_hash()
            ),
        },
    };
    let data_availability = RiskCategory {
        id: "data_availability",
        level: RiskLevel::Good,
        summary: format!(
            "every batch is an L1 blob, kept {}: longer than a dispute needs ({} from post to resolution); an exit needs the state rebuilt from every batch since genesis, so older data must be kept by someone (an L2 node, an archive)",
            span(l1.blob_retention_blocks, bt),
            span(bound + p.challenge_window, bt)
        ),
    };
    let exit_window = RiskCategory {
        id: "exit_window",
        level: RiskLevel::Good,
        summary: "none needed: the rules cannot change (parameters fixed at registration, no upgrade keys)".into(),
    };
    let sequencer_failure = RiskCategory {
        id: "sequencer_failure",
        level: RiskLevel::Good,
        summary: format!(
            "self-sequence: a deposit, or an L2 transaction forced in through the L1, must be applied within {}, after which anyone may post the next batch",
            span(p.force_inclusion_blocks, bt)
        ),
    };
    let who = match p.kind {
        RollupKind::Optimistic => "anyone bonded may propose an output",
        RollupKind::Zk(_) => "anyone may prove a batch",
    };
    let proposer_failure = RiskCategory {
        id: "proposer_failure",
        level: RiskLevel::Good,
        summary: format!(
            "{who}; if nothing settles for {} while the rollup owes something, it freezes and every user exits on L1 with a proof of their settled balance",
            span(p.escape_blocks, bt)
        ),
    };
    let mut unmet = Vec::new();
    if p.kind == RollupKind::Optimistic
        && p.challenge_window < days_in_blocks(STAGE1_CHALLENGE_DAYS, bt)
    {
        unmet.push((1, "a challenge window of at least 7 days"));
    }
    if let RollupKind::Zk(_) = p.kind {
        unmet.push((1, "a verifying key from a public trusted-setup ceremony"));
    }
    let (stage, next_requirement) = match unmet.first() {
        Some((next, why)) => (*next - 1, Some(*why)),
        None => (2, None),
    };
    RollupRisk {
        categories: vec![
            state_validation,
            data_availability,
            exit_window,
            sequencer_failure,
            proposer_failure,
        ],
        stage,
        next_requirement,
        unmet,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bridge::ZkParams;
    use basalt_types::zk::BabyKeypair;
    use basalt_types::Keypair;

    fn l1() -> Params {
        Params {
            block_time_ms: 200,
            blob_retention_blocks: 50_000,
            ..Params::default()
        }
    }

    fn optimistic(window: u64, extension: u64, force: u64, escape: u64) -> RollupParams {
        RollupParams {
            name: "r".into(),
            kind: RollupKind::Optimistic,
            sequencer: Keypair::from_secret([1; 32]).public(),
            challenge_window: window,
            proposer_bond: 10 * crate::ONE_TOKEN,
            min_fee: 1,
            clock_extension: extension,
            dispute_bond: 20 * crate::ONE_TOKEN,
            slash_reward_percent: 50,
            force_inclusion_blocks: force,
            escape_blocks: escape,
            fee_model: crate::FeeModel::Fixed,
        }
    }

    fn levels(r: &RollupRisk) -> Vec<(&'static str, &'static str)> {
        r.categories
            .iter()
            .map(|c| (c.id, c.level.name()))
            .collect()
    }

    /// The devnet's alpha, beta and gamma, and a rollup forcing deposits in after one block,
    /// against what their parameters say by hand.
    #[test]
    fn the_risk_view_of_each_devnet_rollup_follows_from_its_parameters() {
        let alpha = rollup_risk(&optimistic(50, 10, 150, 500), &l1());
        assert_eq!(
            levels(&alpha),
            vec![
                ("state_validation", "good"),
                ("data_availability", "good"),
                ("exit_window", "good"),
                ("sequencer_failure", "good"),
                ("proposer_failure", "good"),
            ]
        );
        let s = &alpha.categories;
        // 2 * 50 + 16 * 10 blocks of 200 ms.
        assert!(
            s[0].summary.contains("260 blocks (52 s)"),
            "{}",
            s[0].summary
        );
        assert!(
            s[0].summary.contains("bonds 10 tokens") && s[0].summary.contains("bonds 20 tokens"),
            "{}",
            s[0].summary
        );
        assert!(
            s[1].summary.contains("50000 blocks (2 h)"),
            "{}",
            s[1].summary
        );
        assert!(
            s[3].summary.contains("150 blocks (30 s)"),
            "{}",
            s[3].summary
        );
        assert!(
            s[4].summary.contains("500 blocks (100 s)"),
            "{}",
            s[4].summary
        );
        // Devnet windows are seconds long: a week is the stage 1 requirement it misses.
        assert_eq!(alpha.stage, 0);
        assert_eq!(
            alpha.next_requirement,
            Some("a challenge window of at least 7 days")
        );

        let beta = rollup_risk(&optimistic(150, 20, 150, 850), &l1());
        assert!(beta.categories[0].summary.contains("620 blocks (2 min)"));
        assert!(beta.categories[4].summary.contains("850 blocks (2 min)"));
        assert_eq!(beta.stage, 0);

        let mut gamma = optimistic(50, 10, 150, 250);
        gamma.kind = RollupKind::Zk(ZkParams {
            fee_key: BabyKeypair::dev(b"risk/fees").public(),
            slots: 6,
            verifying_key: vec![7; 360],
        });
        let g = rollup_risk(&gamma, &l1());
        assert_eq!(g.categories[0].level, RiskLevel::Warning);
        assert!(g.categories[0].summary.contains("6 slots"));
        assert!(g.categories[0].summary.contains("trusted setup"));
        assert!(g.categories[4]
            .summary
            .starts_with("anyone may prove a batch"));
        // Its L2 transactions can be forced in; only the ceremony it cannot show keeps it at 0.
        assert_eq!(g.categories[3].level, RiskLevel::Good);
        assert!(g.categories[3].summary.contains("forced in"));
        assert_eq!(g.stage, 0);
        assert_eq!(
            g.next_requirement,
            Some("a verifying key from a public trusted-setup ceremony")
        );
        assert_eq!(g.unmet.len(), 1, "{:?}", g.unmet);

        let fast = rollup_risk(&optimistic(50, 10, 1, 500), &l1());
        assert!(
            fast.categories[3].summary.contains("within 1 block (0 s)"),
            "{}",
            fast.categories[3].summary
        );
        assert_eq!(fast.categories[3].level, RiskLevel::Good);
    }

    #[test]
    fn a_week_long_challenge_window_meets_its_stage_one_requirement() {
        let week = days_in_blocks(7, 200);
        assert_eq!(week, 3_024_000);
        let window = "a challenge window of at least 7 days";
        let short = rollup_risk(&optimistic(week - 1, 10, 50, 10_000_000), &l1());
        let long = rollup_risk(&optimistic(week, 10, 50, 10_000_000), &l1());
        assert!(short.unmet.contains(&(1, window)));
        assert!(!long.unmet.contains(&(1, window)));
        assert_eq!(long.stage, 2, "{:?}", long.unmet);
        assert_eq!(long.next_requirement, None);
    }
}
