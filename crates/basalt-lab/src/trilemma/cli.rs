//! `basalt lab trilemma`: its options, and the run that prints the report.

use super::sandbox::Caps;
use super::{run, Options, TrilemmaReport};
use crate::report::Report;
use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;

/// Options of `basalt lab trilemma`.
#[derive(Args, Debug)]
pub struct TrilemmaArgs {
    /// The small sweep: 4 validators, two block sizes and one point with a capped home node,
    /// and two simulated geographic points (about a minute).
    #[arg(long)]
    pub quick: bool,
    /// Seeds the load's accounts.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where the report goes (report.json, report.md, SVG and PNG plots).
    #[arg(long, default_value = "lab-reports/trilemma")]
    pub out: PathBuf,
    /// Seconds of load a point (default 10; quick 3).
    #[arg(long)]
    pub seconds: Option<f64>,
    /// Accounts that send (default 256; quick 16).
    #[arg(long)]
    pub users: Option<usize>,
    /// A home node's CPU quota, percent of one core of this machine.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=800))]
    pub home_cpu_percent: u32,
    /// A home node's bandwidth each way, Mbit/s.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub home_mbit: u32,
    /// Run every validator on 127.0.0.1 without namespaces or caps, even as root (the
    /// home-node points are skipped and traffic is not measured).
    #[arg(long)]
    pub no_sandbox: bool,
    /// The `basalt` binary the validators run (default: this one).
    #[arg(long)]
    pub binary: Option<PathBuf>,
    /// Simulated seconds a geographic point (default 10; quick 2).
    #[arg(long)]
    pub geo_seconds: Option<f64>,
    /// Run only the points of these levers (comma-separated: block-size, block-time,
    /// validators, threads, home-validators, geography). The geography points place 4 to 100
    /// validators in cloud regions on a simulated network; at 100 they take minutes each.
    #[arg(long, value_delimiter = ',')]
    pub lever: Vec<String>,
    /// Keep each point's validator files (configs, data, node logs) under --out/points/N.
    #[arg(long)]
    pub keep: bool,
    /// Run nothing: rewrite report.md and the plots from the report.json in --out.
    #[arg(long)]
    pub replot: bool,
}

/// The `--lever` of the geographic points.
const GEOGRAPHY: &str = "geography";

/// Runs `basalt lab trilemma`.
pub async fn trilemma(args: TrilemmaArgs) -> Result<()> {
    if args.replot {
        TrilemmaReport::read(&args.out)?.write(&args.out)?;
        println!("rewrote {}/report.md and the plots", args.out.display());
        return Ok(());
    }
    let binary = match args.binary {
        Some(b) => b,
        None => std::env::current_exe().context("finding the basalt binary")?,
    };
    let mut opts = Options::new(args.quick, args.seed, args.out, binary);
    if let Some(s) = args.seconds {
        opts.seconds = s;
    }
    if let Some(u) = args.users {
        opts.users = u;
    }
    opts.home = Caps {
        cpu_percent: Some(args.home_cpu_percent),
        mbit: Some(args.home_mbit),
    };
    if args.no_sandbox {
        opts.sandboxed = Some(false);
    }
    opts.keep = args.keep;
    if let Some(s) = args.geo_seconds {
        anyhow::ensure!(
            (0.5..=600.0).contains(&s),
            "--geo-seconds must be 0.5 to 600"
        );
        opts.geo_seconds = s;
    }
    if !args.lever.is_empty() {
        let mut known: Vec<String> = opts
            .specs
            .iter()
            .map(|s| s.lever.replace(' ', "-"))
            .collect();
        known.push(GEOGRAPHY.into());
        for l in &args.lever {
            anyhow::ensure!(
                known.contains(l),
                "--lever {l}: not a lever of this sweep (block-size, block-time, validators, \
                 threads, home-validators, geography)"
            );
        }
        opts.specs
            .retain(|s| args.lever.contains(&s.lever.replace(' ', "-")));
        if !args.lever.iter().any(|l| l == GEOGRAPHY) {
            opts.geo.clear();
        }
    }
    eprintln!(
        "basalt lab trilemma: {} points, each a chain of separate `basalt node` processes, then \
         {} geographic points on a simulated network; report in {}",
        opts.specs.len(),
        opts.geo.len(),
        opts.out.display()
    );
    let report = run(&opts).await?;
    println!("{}", std::fs::read_to_string(opts.out.join("report.md"))?);
    let failed = report.relations.iter().filter(|r| !r.holds).count();
    if failed > 0 {
        eprintln!("{failed} relation(s) did not hold on this run: see report.md");
    }
    Ok(())
}
