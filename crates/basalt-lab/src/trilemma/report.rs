//! The trilemma report: `report.json` (everything measured), `report.md` (tables and what they
//! show) and the plots.

use super::geography as geo;
use super::profiles::{self, Profile};
use super::sandbox::Caps;
use super::{GeoPoint, Options, Point};
use crate::plot::{Chart, Series};
use crate::report::Report;
use crate::scaling::Relation;
use serde::{Deserialize, Serialize};

/// Everything `basalt lab trilemma` measured, and how.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrilemmaReport {
    /// `trilemma`.
    pub experiment: String,
    /// The load's seed.
    pub seed: u64,
    /// Whether this was the small sweep.
    pub quick: bool,
    /// The machine it ran on.
    pub machine: String,
    /// Whether validators ran in sandboxes (caps applied, traffic measured).
    pub sandboxed: bool,
    /// Why not, if they did not.
    pub no_sandbox_reason: Option<String>,
    /// A home node's CPU quota, percent of one core of this machine.
    pub home_cpu_percent: Option<u32>,
    /// A home node's bandwidth each way, Mbit/s.
    pub home_mbit: Option<u32>,
    /// Seconds of load a point.
    pub seconds: f64,
    /// Accounts that sent.
    pub users: usize,
    /// The points, in the order run.
    pub points: Vec<Point>,
    /// The reference node profiles the points are judged against.
    #[serde(default = "profiles::reference")]
    pub profiles: Vec<Profile>,
    /// Simulated seconds a geographic point.
    #[serde(default)]
    pub geo_seconds: f64,
    /// The geographic points, in the order run.
    #[serde(default)]
    pub geography: Vec<GeoPoint>,
    /// Relations checked on the points.
    pub relations: Vec<Relation>,
}

impl TrilemmaReport {
    /// The report of `points`, run with `opts`.
    pub fn new(
        opts: &Options,
        sandboxed: bool,
        no_sandbox_reason: Option<String>,
        points: Vec<Point>,
        geography: Vec<GeoPoint>,
    ) -> TrilemmaReport {
        let Caps { cpu_percent, mbit } = opts.home;
        TrilemmaReport {
            experiment: "trilemma".into(),
            seed: opts.seed,
            quick: opts.quick,
            machine: crate::scaling::machine(),
            sandboxed,
            no_sandbox_reason,
            home_cpu_percent: cpu_percent,
            home_mbit: mbit,
            seconds: opts.seconds,
            users: opts.users,
            relations: relations(&points)
                .into_iter()
                .chain(geo::relations(&geography))
                .collect(),
            points,
            geo_seconds: opts.geo_seconds,
            geography,
            profiles: profiles::reference(),
        }
    }

    fn of<'a>(&'a self, lever: &'a str) -> impl Iterator<Item = &'a Point> + 'a {
        self.points.iter().filter(move |p| p.spec.lever == lever)
    }

    /// One line over the points of `lever`, x and y read off each.
    fn line(
        &self,
        name: &str,
        lever: &str,
        x: impl Fn(&Point) -> f64,
        y: impl Fn(&Point) -> Option<f64>,
    ) -> Series {
        Series {
            name: name.into(),
            points: self
                .of(lever)
                .filter_map(|p| y(p).map(|v| (x(p), v)))
                .collect(),
        }
    }
}

impl Report for TrilemmaReport {
    const EXPERIMENT: &'static str = "trilemma";

    fn charts(&self) -> Vec<(&'static str, Chart<'static>)> {
        let size = |p: &Point| p.spec.txs_per_block as f64;
        let time = |p: &Point| p.spec.block_time_ms as f64;
        let cap = |p: &Point| p.capacity_tps;
        let pace = |p: &Point| Some(profiles::share(&self.profiles, p, profiles::keeps_pace));
        let all = |p: &Point| Some(profiles::share(&self.profiles, p, profiles::keeps_up));
        let count = |p: &Point| p.spec.validators as f64;
        let cpu = |p: &Point| p.peer_mean(|v| Some(v.cpu_per_s * 1_000.0));
        let kb = |f: fn(&super::ValidatorUse) -> Option<f64>| {
            move |p: &Point| p.peer_mean(|v| f(v).map(|b| b / 1_000.0))
        };
        let quota = self.home_cpu_percent.map(|q| f64::from(q) / 100.0);
        let home_cpu = |p: &Point| {
            let mean = p.home_mean(|v| Some(v.cpu_per_s))?;
            quota.map(|q| mean / q * 100.0)
        };
        let home_votes = |p: &Point| p.home_mean(|v| v.votes_certified).map(|s| s * 100.0);
        let home_lag = |p: &Point| {
            p.validators
                .iter()
                .filter(|v| v.home)
                .map(|v| v.lag_blocks as f64)
                .reduce(f64::max)
        };
        let chart = |title, x, y, series, log_x| Chart {
            title,
            x,
            y,
            series,
            log_x,
            log_y: false,
        };
        vec![
            (
                "throughput-block-size",
                chart(
                    "Throughput against block size (200 ms blocks)",
                    "transfers a block",
                    "transfers a second",
                    vec![
                        self.line("finalized", "block size", size, |p| Some(p.tps)),
                        self.line("capacity", "block size", size, |p| Some(p.capacity_tps)),
                    ],
                    true,
                ),
            ),
            (
                "finality-block-size",
                chart(
                    "Finality latency against block size",
                    "transfers a block",
                    "seconds from block timestamp to finality",
                    vec![
                        self.line("4 validators", "block size", size, |p| p.finality_s),
                        self.line("a third home nodes", "home validators", size, |p| {
                            p.finality_s
                        }),
                    ],
                    true,
                ),
            ),
            (
                "block-time",
                chart(
                    "Throughput and finality against block time (200 transfers a block)",
                    "block time, ms",
                    "transfers a second / ms to finality",
                    vec![
                        self.line("finalized tx/s", "block time", time, |p| Some(p.tps)),
                        self.line("finality, ms", "block time", time, |p| {
                            p.finality_s.map(|s| s * 1_000.0)
                        }),
                    ],
                    true,
                ),
            ),
            (
                "validator-cost",
                chart(
                    "What a validator must sustain, against block size",
                    "transfers a block",
                    "CPU ms / KB received / KB sent / KB stored, a second",
                    vec![
                        self.line("CPU ms/s", "block size", size, cpu),
                        self.line("KB/s in", "block size", size, kb(|v| v.in_bytes_per_s)),
                        self.line("KB/s out", "block size", size, kb(|v| v.out_bytes_per_s)),
                        self.line(
                            "KB/s stored",
                            "block size",
                            size,
                            kb(|v| Some(v.disk_bytes_per_s)),
                        ),
                    ],
                    true,
                ),
            ),
            (
                "finality-validators",
                chart(
                    "Finality latency against validator count (one machine)",
                    "validators",
                    "seconds from block timestamp to finality",
                    vec![
                        self.line("finality", "block size", count, |p| {
                            (p.spec.txs_per_block == 200)
                                .then_some(p.finality_s)
                                .flatten()
                        }),
                        self.line("finality", "validators", count, |p| p.finality_s),
                    ],
                    false,
                ),
            ),
            (
                "keep-up",
                chart(
                    "Share of the reference node profiles that keep up",
                    "capacity, transfers a second (block size or block time varied)",
                    "share of profiles",
                    vec![
                        self.line("block size: CPU and link", "block size", cap, pace),
                        self.line("block size: and a year on disk", "block size", cap, all),
                        self.line("block time: CPU and link", "block time", cap, pace),
                        self.line("block time: and a year on disk", "block time", cap, all),
                    ],
                    true,
                ),
            ),
            (
                "home-nodes",
                chart(
                    "A third of the validators are capped home nodes (6 validators, 2 capped)",
                    "transfers a block",
                    "percent / blocks",
                    vec![
                        self.line("finalized, % of capacity", "home validators", size, |p| {
                            Some(p.tps / p.capacity_tps * 100.0)
                        }),
                        self.line(
                            "home nodes' CPU, % of quota",
                            "home validators",
                            size,
                            home_cpu,
                        ),
                        self.line("home nodes' lag, blocks", "home validators", size, home_lag),
                        self.line(
                            "home nodes' votes in certificates, %",
                            "home validators",
                            size,
                            home_votes,
                        ),
                    ],
                    true,
                ),
            ),
            ("geography", geo::chart(&self.geography)),
        ]
    }

    fn markdown(&self, charts: &[(&str, Chart<'_>)]) -> String {
        let mut md = format!(
            "# basalt lab trilemma{}\n\nMachine: {}. Seed {}. {} s of load a point from {} \
             accounts, sent to validator 0's JSON-RPC; the chain's base fee stays at its floor \
             (DEVNET ONLY parameters).\n\n",
            if self.quick { " (quick)" } else { "" },
            self.machine,
            self.seed,
            self.seconds,
            self.users
        );
        md += &match (
            &self.no_sandbox_reason,
            self.home_cpu_percent,
            self.home_mbit,
        ) {
            (Some(why), _, _) => format!(
                "**Uncapped only**: no sandboxes ({why}). Every validator ran on 127.0.0.1; \
                 traffic was not measured and the home-node points were skipped.\n\n"
            ),
            (None, cpu, mbit) => format!(
                "Each validator ran as its own `basalt node` process in its own network \
                 namespace. A home node is capped at {}% of one core (cgroup v1 CPU quota) and \
                 {} Mbit/s each way (`tc tbf` on its veth pair).\n\n",
                cpu.map_or("no".into(), |c| c.to_string()),
                mbit.map_or("no".into(), |m| m.to_string())
            ),
        };
        md += "A validator's costs are the mean over the validators that are neither home nodes \
               nor validator 0 (which also answered the load's JSON-RPC calls). Finality is the \
               median over the non-home validators of their mean time from a block's timestamp \
               to its finalization. *Votes in certificates* is the share of the finalization \
               certificates validator 0 learned during the load that carry a validator's vote \
               (home nodes, and in brackets the others but validator 0): a certificate holds the \
               first quorum of votes to arrive, so a validator too slow to vote in time is left \
               out.\n\n";
        md += "| lever | validators (home) | tx/block | block ms | threads | offered tx/s | \
               finalized tx/s | capacity | finality ms | CPU ms/s | KB/s in | KB/s out | \
               MB stored/day | home lag (blocks) | votes in certificates, home (others) |\n";
        md += "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
        let opt =
            |v: Option<f64>, scale: f64| v.map_or("-".into(), |v| format!("{:.1}", v * scale));
        for p in &self.points {
            let s = &p.spec;
            let lags: Vec<String> = p
                .validators
                .iter()
                .filter(|v| v.home)
                .map(|v| v.lag_blocks.to_string())
                .collect();
            let share = |s: Option<f64>| s.map_or("-".into(), |s| format!("{:.0}%", s * 100.0));
            md += &format!(
                "| {} | {} ({}) | {} | {} | {} | {:.0} | {:.0} | {:.0} | {} | {} | {} | {} | {} | {} | {} ({}) |\n",
                s.lever,
                s.validators,
                s.home,
                s.txs_per_block,
                s.block_time_ms,
                s.threads,
                s.load,
                p.tps,
                p.capacity_tps,
                opt(p.finality_s, 1_000.0),
                opt(p.peer_mean(|v| Some(v.cpu_per_s)), 1_000.0),
                opt(p.peer_mean(|v| v.in_bytes_per_s), 1e-3),
                opt(p.peer_mean(|v| v.out_bytes_per_s), 1e-3),
                opt(p.peer_mean(|v| Some(v.disk_bytes_per_s)), 86_400.0 / 1e6),
                if lags.is_empty() { "-".into() } else { lags.join(", ") },
                share(p.home_mean(|v| v.votes_certified)),
                share(p.peer_mean(|v| v.votes_certified)),
            );
        }
        md += &self.keep_up_table();
        md += &geo::markdown(&self.geography, self.geo_seconds);
        md += "\n## Relations\n\n";
        for r in &self.relations {
            md += &format!(
                "- [{}] {} ({}): {}\n",
                if r.holds { "x" } else { " " },
                r.claim,
                if r.by_construction {
                    "by construction"
                } else {
                    "observed on this run"
                },
                r.detail
            );
        }
        md += "\n## Plots\n\n";
        for (stem, c) in charts {
            md += &format!("![{}]({stem}.png)\n\n", c.title);
        }
        md
    }
}

impl TrilemmaReport {
    /// Which profile keeps up with which point, and what stops the others.
    fn keep_up_table(&self) -> String {
        let mut md = format!(
            "\n## Who keeps up\n\nA validator keeps up when what a validator used at the point, scaled \
             by its CPU factor, fits in {:.0}% of its cores and of each direction of its link, and a \
             year of the point's storage growth fits on its disk.\n\n| profile | CPU | factor | cores | \
             Mbit/s down / up | disk GB |\n|---|---|---|---|---|---|\n",
            profiles::HEADROOM * 100.0
        );
        for p in &self.profiles {
            md += &format!(
                "| {} | {} | {:.2} | {} | {} / {} | {} |\n",
                p.name, p.cpu, p.cpu_factor, p.cores, p.down_mbit, p.up_mbit, p.disk_gb
            );
        }
        md += &format!(
            "\nSources: {}\n\nThe share counts the profiles that keep pace (CPU and link) and, \
             in brackets, those that also store a year of the chain's growth (Basalt does not \
             prune history yet).\n\n| point | share |",
            profiles::SOURCES
        );
        for p in &self.profiles {
            md += &format!(" {} |", p.name);
        }
        md += &format!("\n|---|---|{}\n", "---|".repeat(self.profiles.len()));
        for pt in &self.points {
            md += &format!(
                "| {} | {:.0}% ({:.0}%) |",
                pt.spec.label(),
                profiles::share(&self.profiles, pt, profiles::keeps_pace) * 100.0,
                profiles::share(&self.profiles, pt, profiles::keeps_up) * 100.0
            );
            for p in &self.profiles {
                md += &match profiles::keeps_up(p, pt) {
                    Ok(()) => " keeps up |".to_string(),
                    Err(why) => format!(" no ({why}) |"),
                };
            }
            md += "\n";
        }
        md += &self.sustainable_table();
        md
    }

    /// The throughput each profile sustains, from lines fitted to the block-size points.
    fn sustainable_table(&self) -> String {
        let sizes: Vec<&Point> = self.of("block size").collect();
        let Some(costs) = profiles::Costs::of(&sizes) else {
            return String::new();
        };
        let mut md = format!(
            "\nWhat each profile would sustain, from straight lines fitted to the block-size points \
             (a validator's cost a second = fixed + per transfer x transfers a second: CPU {:.1} ms \
             + {:.1} us a transfer; storage {:.0} bytes a transfer). It extrapolates beyond the \
             loads this machine could offer, for {} validators; upload grows with the validator \
             count.\n\n| profile | CPU | download | upload | a year on disk | bound by |\n\
             |---|---|---|---|---|---|\n",
            costs.cpu.fixed * 1e3,
            costs.cpu.per_tx * 1e6,
            costs.disk.per_tx,
            sizes.first().map_or(0, |p| p.spec.validators)
        );
        let names = ["CPU", "download", "upload", "disk"];
        let show = |v: f64| match v.is_finite() {
            true => format!("{v:.0} tx/s"),
            false => "-".into(),
        };
        for p in &self.profiles {
            let s = profiles::sustainable(p, &costs);
            let (i, _) = s
                .iter()
                .enumerate()
                .fold((0, f64::INFINITY), |(bi, bv), (i, &v)| match v < bv {
                    true => (i, v),
                    false => (bi, bv),
                });
            md += &format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                p.name,
                show(s[0]),
                show(s[1]),
                show(s[2]),
                show(s[3]),
                names[i]
            );
        }
        md
    }
}

fn relations(points: &[Point]) -> Vec<Relation> {
    let mut out = Vec::new();
    let over: Vec<String> = points
        .iter()
        .filter(|p| p.max_block_txs > p.spec.txs_per_block)
        .map(|p| p.spec.label())
        .collect();
    out.push(Relation {
        claim: "no block holds more transfers than its gas limit allows".into(),
        holds: over.is_empty(),
        by_construction: true,
        detail: match over.is_empty() {
            true => format!("{} points", points.len()),
            false => format!("over the limit at: {}", over.join("; ")),
        },
    });
    let stalled: Vec<String> = points
        .iter()
        .filter(|p| p.blocks == 0)
        .map(|p| p.spec.label())
        .collect();
    out.push(Relation {
        claim: "the chain finalized blocks under load at every point".into(),
        holds: stalled.is_empty(),
        by_construction: false,
        detail: match stalled.is_empty() {
            true => "every point".into(),
            false => format!("no block at: {}", stalled.join("; ")),
        },
    });
    let sizes: Vec<&Point> = points
        .iter()
        .filter(|p| p.spec.lever == "block size")
        .collect();
    if let (Some(small), Some(big)) = (
        sizes.iter().min_by_key(|p| p.spec.txs_per_block),
        sizes.iter().max_by_key(|p| p.spec.txs_per_block),
    ) {
        let cpu = |p: &Point| p.peer_mean(|v| Some(v.cpu_per_s)).unwrap_or(0.0);
        out.push(Relation {
            claim: "bigger blocks ask each validator for more CPU a second".into(),
            holds: big.spec.txs_per_block > small.spec.txs_per_block && cpu(big) > cpu(small),
            by_construction: false,
            detail: format!(
                "{:.0} ms/s at {} transfers a block, {:.0} ms/s at {}",
                cpu(small) * 1e3,
                small.spec.txs_per_block,
                cpu(big) * 1e3,
                big.spec.txs_per_block
            ),
        });
    }
    out
}
