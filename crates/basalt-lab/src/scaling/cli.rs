//! `basalt lab scaling`: its options, and the run that prints the report.

use super::{run, Options, ScalingReport};
use crate::report::Report;
use anyhow::{ensure, Result};
use clap::Args;
use std::path::PathBuf;

/// Options of `basalt lab scaling`.
#[derive(Args, Debug)]
pub struct ScalingArgs {
    /// The small sweep: two loads, one and two optimistic rollups, a 2-slot ZK rollup (about
    /// a minute, plus a one-time setup of the 2-slot development keys).
    #[arg(long)]
    pub quick: bool,
    /// Seeds the workload's mix and the lab's keys: the same seed sends the same transactions.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where the report goes (report.json, report.md, SVG and PNG plots).
    #[arg(long, default_value = "lab-reports/scaling")]
    pub out: PathBuf,
    /// Offered loads for the L1 and the optimistic rollups, transactions a second,
    /// comma-separated (default: 100,300,1000,3000; quick: 40,160).
    #[arg(long, value_delimiter = ',')]
    pub loads: Option<Vec<f64>>,
    /// How many optimistic rollups share the L1, one configuration each (default: 1,2,4,8;
    /// quick: 1,2).
    #[arg(long, value_delimiter = ',')]
    pub rollups: Option<Vec<usize>>,
    /// Seconds of load a point (default 10; quick 3).
    #[arg(long)]
    pub seconds: Option<f64>,
    /// Users of each configuration but the ZK one (default 256; quick 16).
    #[arg(long)]
    pub users: Option<usize>,
    /// Leave the ZK rollup out.
    #[arg(long)]
    pub no_zk: bool,
    /// Where the ZK rollup's development proving keys are cached (DEVNET ONLY keys; `basalt
    /// up` caches its own there too).
    #[arg(long, default_value = "./.basalt/zk-keys")]
    pub zk_keys: PathBuf,
    /// Run nothing: rewrite report.md and the plots from the report.json in --out.
    #[arg(long)]
    pub replot: bool,
}

/// Runs `basalt lab scaling`.
pub async fn scaling(args: ScalingArgs) -> Result<()> {
    if args.replot {
        ScalingReport::read(&args.out)?.write(&args.out)?;
        println!("rewrote {}/report.md and the plots", args.out.display());
        return Ok(());
    }
    let mut opts = Options::new(args.quick, args.seed, args.out, args.zk_keys);
    if let Some(l) = args.loads {
        opts.loads = l;
    }
    if let Some(r) = args.rollups {
        opts.rollup_counts = r;
    }
    if let Some(s) = args.seconds {
        opts.seconds = s;
    }
    if let Some(u) = args.users {
        opts.users = u;
    }
    if args.no_zk {
        opts.zk_loads.clear();
    }
    ensure!(!opts.points().is_empty(), "nothing to run: give --loads");
    std::fs::create_dir_all(&opts.zk_keys)?;
    eprintln!(
        "basalt lab scaling: {} points on an in-process L1 (100 ms blocks) with its rollups; report in {}",
        opts.points().len(),
        opts.out.display()
    );
    let report = run(&opts).await?;
    let md = opts.out.join("report.md");
    println!("{}", std::fs::read_to_string(&md)?);
    let failed: Vec<_> = report.relations.iter().filter(|r| !r.holds).collect();
    if !failed.is_empty() {
        eprintln!(
            "{} relation(s) did not hold on this run: see report.md",
            failed.len()
        );
    }
    Ok(())
}
