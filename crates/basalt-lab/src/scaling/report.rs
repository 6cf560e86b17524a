//! The scaling report: `report.json` (everything measured), `report.md` (tables and what they
//! show) and the plots.

use super::{Options, Point};
use crate::plot::{Chart, Series};
use crate::report::Report;
use basalt_l1::Params;
use serde::{Deserialize, Serialize};

/// A relation the report checks on its own data.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Relation {
    /// What should hold.
    pub claim: String,
    /// Whether it did.
    pub holds: bool,
    /// Whether it holds by the protocol's construction (and so must hold on every run), or is
    /// an observation of this run.
    pub by_construction: bool,
    /// The numbers it was judged on.
    pub detail: String,
}

/// Everything `basalt lab scaling` measured, and how.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScalingReport {
    /// `scaling`.
    pub experiment: String,
    /// The workload's seed.
    pub seed: u64,
    /// Whether this was the small sweep.
    pub quick: bool,
    /// The machine it ran on.
    pub machine: String,
    /// The lab L1's parameters.
    pub l1: Params,
    /// Users a configuration (the ZK one: `zk_users`).
    pub users: usize,
    /// Users of the ZK configuration.
    pub zk_users: usize,
    /// Seconds of load a point.
    pub seconds: f64,
    /// Percent of transactions that are withdrawals.
    pub withdraw_percent: u32,
    /// The points, configuration by configuration.
    pub points: Vec<Point>,
    /// Relations checked on the points.
    pub relations: Vec<Relation>,
}

/// "model, N cores" of this machine.
pub(crate) fn machine() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{model}, {cores} cores")
}

impl ScalingReport {
    /// The report of `points`, run with `opts` on an L1 with `l1`.
    pub fn new(opts: &Options, l1: Params, points: Vec<Point>) -> ScalingReport {
        let relations = relations(&points);
        ScalingReport {
            experiment: "scaling".into(),
            seed: opts.seed,
            quick: opts.quick,
            machine: machine(),
            l1,
            users: opts.users,
            zk_users: opts.zk_users,
            seconds: opts.seconds,
            withdraw_percent: opts.withdraw_percent,
            points,
            relations,
        }
    }

    /// The configurations, in the order first measured.
    pub fn setups(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for p in &self.points {
            if !out.iter().any(|(k, _)| *k == p.setup) {
                out.push((p.setup.clone(), p.label.clone()));
            }
        }
        out
    }

    fn series(&self, y: impl Fn(&Point) -> f64) -> Vec<Series> {
        self.setups()
            .into_iter()
            .map(|(key, name)| Series {
                name,
                points: self
                    .points
                    .iter()
                    .filter(|p| p.setup == key && p.carried > 0)
                    .map(|p| (p.tps, y(p)))
                    .collect(),
            })
            .collect()
    }
}

impl Report for ScalingReport {
    const EXPERIMENT: &'static str = "scaling";

    fn charts(&self) -> Vec<(&'static str, Chart<'static>)> {
        let chart = |title, y, series, log_y| Chart {
            title,
            x: "transactions per second reaching L1 finality",
            y,
            series,
            log_x: true,
            log_y,
        };
        vec![
            (
                "validator-cpu",
                chart(
                    "What carrying the load costs an L1 validator",
                    "validator CPU, ms per second",
                    self.series(|p| p.validator_cpu_share * 1_000.0),
                    true,
                ),
            ),
            (
                "l1-bytes",
                chart(
                    "L1 bytes a transaction",
                    "bytes on L1 per transaction",
                    self.series(|p| p.l1_bytes_per_tx),
                    true,
                ),
            ),
            (
                "fees",
                chart(
                    "What a transaction paid the L1",
                    "L1 fee per transaction, tokens",
                    self.series(|p| p.l1_cost_per_tx),
                    true,
                ),
            ),
            (
                "user-fee",
                chart(
                    "What a user paid for a transfer",
                    "fee per transfer, tokens",
                    self.series(|p| p.transfer_fee),
                    true,
                ),
            ),
            (
                "latency",
                chart(
                    "Median time to L1 finality",
                    "ms from sending",
                    self.series(|p| p.latency.l1_final_ms.unwrap_or(f64::NAN)),
                    false,
                ),
            ),
        ]
    }

    fn markdown(&self, charts: &[(&str, Chart<'_>)]) -> String {
        let mut md = String::new();
        let p = &self.l1;
        md += &format!(
            "# basalt lab scaling{}\n\nMachine: {}. Seed {}. Lab L1: {} ms blocks, {} gas a block \
             (target {}), {} blob bytes a block (target {}), base fee floor {} a gas, blob base \
             fee floor {} a byte (DEVNET ONLY). Load: {} users ({} on the ZK rollup) sending for \
             {} s a point, {}% of them withdrawals.\n\n",
            if self.quick { " (quick)" } else { "" },
            self.machine,
            self.seed,
            p.block_time_ms,
            p.block_gas_limit,
            p.block_gas_target,
            p.blob_max_bytes_per_block,
            p.blob_target_bytes_per_block,
            p.min_base_fee,
            p.min_blob_base_fee,
            self.users,
            self.zk_users,
            self.seconds,
            self.withdraw_percent,
        );
        md += "| configuration | offered tx/s | carried tx/s | L1 bytes/tx | of which blob | L1 gas/tx | validator CPU us/tx | validator CPU ms/s | bandwidth KB/s | storage KB/s | L1 fee/tx (tokens) | user fee (tokens) | transfer fee (tokens) | L1 base fee / blob base fee | soft / posted / L1-final / settled p50 (ms) | L1-final p99 (ms) | withdrawal to L1 (s) |\n";
        md +=
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|\n";
        let ms = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.0}"));
        for p in &self.points {
            md += &format!(
                "| {} | {} | {:.0}{} | {:.0} | {:.0} | {:.0} | {:.1} | {:.1} | {:.1} | {:.1} | {:.2e} | {:.2e} | {:.2e} | {:.2e} / {:.0} | {} / {} / {} / {} | {} | {} |\n",
                p.label,
                p.offered_tps,
                p.tps,
                if p.drained { "" } else { " (not all carried)" },
                p.l1_bytes_per_tx,
                p.blob_bytes_per_tx,
                p.l1_gas_per_tx,
                p.validator_cpu_us_per_tx,
                p.validator_cpu_share * 1_000.0,
                p.bandwidth_bytes_per_s / 1_000.0,
                p.storage_bytes_per_s / 1_000.0,
                p.l1_cost_per_tx,
                p.user_fee,
                p.transfer_fee,
                p.base_fee,
                p.blob_base_fee,
                ms(p.latency.soft_ms),
                ms(p.latency.posted_ms),
                ms(p.latency.l1_final_ms),
                ms(p.latency.settled_ms),
                ms(p.l1_final_p99_ms),
                p.withdrawal_s.map_or("-".into(), |s| format!("{s:.1}")),
            );
        }
        md += "\n## Relations checked on these numbers\n\n";
        for r in &self.relations {
            md += &format!(
                "- {} ({}): **{}**, {}\n",
                r.claim,
                if r.by_construction {
                    "by construction"
                } else {
                    "observed"
                },
                if r.holds { "holds" } else { "does not hold" },
                r.detail
            );
        }
        md += "\n## Plots\n\n";
        for (stem, c) in charts {
            md += &format!("![{}]({stem}.svg)\n\n", c.title);
        }
        md += "How each number is measured, and its limits: docs/lab.md.\n";
        md
    }
}

/// The relations judged on the data. By construction: a rollup's batch data a transaction is
/// smaller than an L1 transaction (no envelope, compressed), and a ZK rollup's smaller than an
/// optimistic one's (no signatures). Observed: whether a rollup's whole L1 footprint a
/// transaction, its fixed costs a batch included, is smaller than the L1's, which depends on how
/// full its batches are.
fn relations(points: &[Point]) -> Vec<Relation> {
    let mean = |setup: &dyn Fn(&str) -> bool, v: fn(&Point) -> f64| {
        let xs: Vec<f64> = points
            .iter()
            .filter(|p| setup(&p.setup) && p.carried > 0)
            .map(v)
            .collect();
        (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
    };
    let bytes = |p: &Point| p.l1_bytes_per_tx;
    let blob = |p: &Point| p.blob_bytes_per_tx;
    let mut out = Vec::new();
    let Some(l1) = mean(&|s| s == "l1", bytes) else {
        return out;
    };
    let mut setups: Vec<(&str, &str)> = Vec::new();
    for p in points.iter().filter(|p| p.setup != "l1") {
        if !setups.iter().any(|(k, _)| *k == p.setup) {
            setups.push((&p.setup, &p.label));
        }
    }
    for (key, label) in setups {
        let is = |s: &str| s == key;
        if let (Some(d), Some(all)) = (mean(&is, blob), mean(&is, bytes)) {
            out.push(Relation {
                claim: format!("{label}: batch data a transaction below an L1 transaction"),
                holds: d < l1,
                by_construction: true,
                detail: format!("{d:.0} against {l1:.0} bytes (means over the loads)"),
            });
            out.push(Relation {
                claim: format!("{label}: all its L1 bytes a transaction below an L1 transaction"),
                holds: all < l1,
                by_construction: false,
                detail: format!(
                    "{all:.0} against {l1:.0} bytes, its fixed costs a batch (the post, outputs or proofs) included"
                ),
            });
        }
    }
    let opt = mean(&|s| s.starts_with("optimistic"), blob);
    let zk = mean(&|s| s == "zk", blob);
    if let (Some(o), Some(z)) = (opt, zk) {
        out.push(Relation {
            claim: "ZK batch data a transaction below optimistic batch data (no signatures)".into(),
            holds: z < o,
            by_construction: true,
            detail: format!("{z:.0} against {o:.0} bytes"),
        });
    }
    out
}
