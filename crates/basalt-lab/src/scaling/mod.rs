//! `basalt lab scaling`: one seeded workload through the L1 alone, through each kind of rollup,
//! and through K optimistic rollups sharing one L1, at rising offered load; what each costs the
//! L1's validator (measured in it) and what its users get.

mod cli;
mod point;
mod report;
mod setup;
mod track;

pub use cli::{scaling, ScalingArgs};
pub use point::{Latency, Point};
pub(crate) use report::machine;
pub use report::{Relation, ScalingReport};
pub use setup::{Setup, LAB_L2_FEE, LAB_WINDOW};

use crate::report::Report;
use crate::workload::Workload;
use anyhow::{ensure, Result};
use basalt_l1::Params;
use std::path::PathBuf;
use std::time::Instant;

/// What to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// Seeds the workload and the lab's keys.
    pub seed: u64,
    /// The small sweep (about a minute).
    pub quick: bool,
    /// Where the report goes.
    pub out: PathBuf,
    /// Where the ZK rollup's development proving keys are cached.
    pub zk_keys: PathBuf,
    /// The ZK rollup's circuit slots (transactions a proof).
    pub zk_slots: usize,
    /// Offered loads for the L1 and the optimistic rollups, transactions a second.
    pub loads: Vec<f64>,
    /// Offered loads for the ZK rollup (its prover is the limit).
    pub zk_loads: Vec<f64>,
    /// How many optimistic rollups share the L1, a configuration each.
    pub rollup_counts: Vec<usize>,
    /// Seconds of load a point.
    pub seconds: f64,
    /// Users of each configuration but the ZK one.
    pub users: usize,
    /// Users of the ZK configuration (each deposit fills a proof slot).
    pub zk_users: usize,
    /// Percent of transactions that are withdrawals.
    pub withdraw_percent: u32,
}

impl Options {
    /// The full sweep, or with `quick` the small one, writing to `out`.
    pub fn new(quick: bool, seed: u64, out: PathBuf, zk_keys: PathBuf) -> Options {
        match quick {
            true => Options {
                seed,
                quick,
                out,
                zk_keys,
                zk_slots: 2,
                loads: vec![40.0, 160.0],
                zk_loads: vec![4.0],
                rollup_counts: vec![1, 2],
                seconds: 3.0,
                users: 16,
                zk_users: 2,
                withdraw_percent: 5,
            },
            false => Options {
                seed,
                quick,
                out,
                zk_keys,
                zk_slots: 6,
                loads: vec![100.0, 300.0, 1_000.0, 3_000.0],
                zk_loads: vec![1.0, 3.0],
                rollup_counts: vec![1, 2, 4, 8],
                seconds: 10.0,
                users: 256,
                zk_users: 12,
                withdraw_percent: 2,
            },
        }
    }

    /// The configurations and loads it runs, in order.
    pub fn points(&self) -> Vec<(Setup, f64)> {
        let mut out: Vec<(Setup, f64)> = self.loads.iter().map(|&l| (Setup::L1, l)).collect();
        for &k in &self.rollup_counts {
            out.extend(self.loads.iter().map(|&l| (Setup::Optimistic(k), l)));
        }
        out.extend(self.zk_loads.iter().map(|&l| (Setup::Zk(self.zk_slots), l)));
        out
    }

    fn workload(&self, setup: Setup, rate: f64) -> Workload {
        Workload {
            users: if setup.zk() {
                self.zk_users
            } else {
                self.users
            },
            rate,
            seconds: self.seconds,
            withdraw_percent: self.withdraw_percent,
            seed: self.seed,
        }
    }
}

/// The lab L1: 100 ms blocks and a small block, so that the L1 alone saturates at about 3,000
/// transfers a second, within what one 2-core machine can offer it; fees that start at their
/// floors, so that they rise only with load. DEVNET ONLY parameters.
pub fn lab_params() -> Params {
    Params {
        block_time_ms: 100,
        block_gas_limit: 6_300_000,
        block_gas_target: 3_150_000,
        initial_base_fee: 1_000_000,
        min_base_fee: 1_000_000,
        blob_max_bytes_per_block: 262_144,
        blob_target_bytes_per_block: 131_072,
        max_blob_bytes: 131_072,
        initial_blob_base_fee: 1_000,
        min_blob_base_fee: 1_000,
        ..Params::default()
    }
}

/// Runs the sweep, printing progress on stderr, and writes the report into `opts.out`.
pub async fn run(opts: &Options) -> Result<ScalingReport> {
    ensure!(opts.users >= 4, "at least 4 users");
    ensure!(opts.zk_users >= 2, "at least 2 ZK users");
    ensure!(
        opts.rollup_counts
            .iter()
            .all(|&k| (1..=16).contains(&k) && opts.users >= 2 * k),
        "each rollup count must be 1 to 16, with at least 2 users a rollup"
    );
    ensure!(
        opts.loads
            .iter()
            .chain(&opts.zk_loads)
            .all(|&l| l > 0.0 && l <= 20_000.0),
        "loads must be above 0 and at most 20,000 transactions a second"
    );
    ensure!(
        (0.5..=600.0).contains(&opts.seconds),
        "seconds must be 0.5 to 600"
    );
    std::fs::create_dir_all(&opts.out)?;
    let started = Instant::now();
    let todo = opts.points();
    let mut points = Vec::new();
    for (i, (setup, rate)) in todo.iter().enumerate() {
        let head = format!(
            "[{}/{}] {} at {rate} tx/s",
            i + 1,
            todo.len(),
            setup.label()
        );
        let say = |what: String| {
            eprintln!("{:>6.1} s  {head}: {what}", started.elapsed().as_secs_f64());
        };
        let w = opts.workload(*setup, *rate);
        let p = point::measure(*setup, &w, lab_params(), &opts.zk_keys, &say).await?;
        say(format!(
            "{:.0} tx/s carried, {:.0} L1 bytes and {:.1} validator CPU us a transaction",
            p.tps, p.l1_bytes_per_tx, p.validator_cpu_us_per_tx
        ));
        points.push(p);
    }
    let report = ScalingReport::new(opts, lab_params(), points);
    report.write(&opts.out)?;
    eprintln!(
        "{:>6.1} s  wrote {}/report.md, report.json and the plots",
        started.elapsed().as_secs_f64(),
        opts.out.display()
    );
    Ok(report)
}
