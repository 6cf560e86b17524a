//! `basalt lab trilemma`: what the L1's scaling levers (block size, block time, validator count,
//! execution threads) cost the validators that must keep up, measured on separate `basalt node`
//! processes, each in its own network namespace, some of them capped "home" nodes with a
//! bandwidth cap (`tc tbf`) and a CPU quota (cgroup v1). Without root, the points run uncapped
//! on 127.0.0.1, their traffic unmeasured, and the report says so. Its geographic points
//! place validators in cloud regions on a simulated network ([`geography`]).

mod cli;
mod cluster;
pub mod geography;
mod point;
pub mod profiles;
mod report;
pub mod sandbox;

pub use cli::{trilemma, TrilemmaArgs};
pub use geography::{GeoPoint, GeoSpec};
pub use point::{Point, Spec, ValidatorUse};
pub use report::TrilemmaReport;

use crate::report::Report;
use anyhow::{bail, ensure, Context as _, Result};
use basalt_types::Keypair;
use sandbox::Caps;
use std::path::PathBuf;
use std::time::Instant;

/// What to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// Seeds the load's accounts.
    pub seed: u64,
    /// The small sweep.
    pub quick: bool,
    /// Where the report goes.
    pub out: PathBuf,
    /// The `basalt` binary the validators run.
    pub binary: PathBuf,
    /// The points, in order.
    pub specs: Vec<Spec>,
    /// Seconds of load a point.
    pub seconds: f64,
    /// Accounts that send.
    pub users: usize,
    /// A home node's limits.
    pub home: Caps,
    /// Whether to use sandboxes; none means decide from the privileges this process has.
    pub sandboxed: Option<bool>,
    /// Keep each point's validator files (configs, data, logs) under `out/points/`.
    pub keep: bool,
    /// The geographic points, run after the others.
    pub geo: Vec<GeoSpec>,
    /// Simulated seconds a geographic point.
    pub geo_seconds: f64,
}

/// The home node of the capped points: a tenth of one of this machine's cores (a third of a
/// Raspberry Pi 4 core, by the profiles' CPU factors) and 10 Mbit/s each way, a small machine
/// at home sharing its CPU and a slow uplink.
pub const HOME: Caps = Caps {
    cpu_percent: Some(10),
    mbit: Some(10),
};

/// A point of `lever`, from the base setting with `f` applied; the load offered is 1.5 times
/// what the chain can carry, at most `max_load`.
fn spec(lever: &str, max_load: f64, f: impl FnOnce(&mut Spec)) -> Spec {
    let mut s = Spec {
        lever: lever.into(),
        validators: 4,
        txs_per_block: 200,
        block_time_ms: 200,
        threads: 1,
        home: 0,
        load: 0.0,
    };
    f(&mut s);
    s.load = (s.capacity() * 1.5).min(max_load);
    s
}

impl Options {
    /// The full sweep, or with `quick` the small one.
    pub fn new(quick: bool, seed: u64, out: PathBuf, binary: PathBuf) -> Options {
        let specs = match quick {
            // The capped point first, so that an interrupted quick run has a cgroup to remove.
            true => vec![
                spec("home validators", 600.0, |s| {
                    s.txs_per_block = 100;
                    s.home = 1;
                }),
                spec("block size", 600.0, |s| s.txs_per_block = 20),
                spec("block size", 600.0, |s| s.txs_per_block = 100),
            ],
            false => {
                let max = 4_000.0;
                let mut v = Vec::new();
                for t in [50, 100, 200, 400, 800] {
                    v.push(spec("block size", max, |s| s.txs_per_block = t));
                }
                for ms in [100, 400, 1_000] {
                    v.push(spec("block time", max, |s| s.block_time_ms = ms));
                }
                for n in [7, 10, 13] {
                    v.push(spec("validators", max, |s| s.validators = n));
                }
                for th in [1, 2] {
                    v.push(spec("threads", max, |s| {
                        s.txs_per_block = 800;
                        s.threads = th;
                    }));
                }
                // A third of the validators are home nodes: 2 of 6, one more than a 6-validator
                // chain tolerates (quorum 5).
                for t in [50, 200, 800] {
                    v.push(spec("home validators", max, |s| {
                        s.validators = 6;
                        s.txs_per_block = t;
                        s.home = 2;
                    }));
                }
                v
            }
        };
        let geo = match quick {
            true => vec![GeoSpec::new(4, "one region"), GeoSpec::new(4, "global")],
            false => FULL_GEO_COUNTS
                .iter()
                .flat_map(|&n| {
                    geography::SPREADS
                        .iter()
                        .map(move |s| GeoSpec::new(n, s.name))
                })
                .collect(),
        };
        Options {
            geo,
            geo_seconds: if quick { 2.0 } else { 10.0 },
            seed,
            quick,
            out,
            binary,
            specs,
            seconds: if quick { 3.0 } else { 10.0 },
            users: if quick { 16 } else { 256 },
            home: HOME,
            sandboxed: None,
            keep: false,
        }
    }

    /// The load's accounts (DEVNET ONLY keys, derived from the seed).
    pub fn user_keys(&self) -> Vec<Keypair> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(self.seed);
        (0..self.users)
            .map(|_| Keypair::from_secret(rng.gen()))
            .collect()
    }
}

/// The validator counts of the full sweep's geographic points.
pub const FULL_GEO_COUNTS: [usize; 5] = [4, 10, 25, 50, 100];

/// Whether the points run in sandboxes, and if not, why.
pub fn sandboxing(wanted: Option<bool>) -> Result<(bool, Option<String>)> {
    let can = sandbox::privileges();
    match (wanted, can) {
        (Some(false), _) => Ok((false, Some("--no-sandbox was given".into()))),
        (Some(true), Err(why)) => bail!("--sandbox needs privileges: {why}"),
        (_, Ok(())) => Ok((true, None)),
        (None, Err(why)) => Ok((false, Some(why))),
    }
}

/// Runs the sweep, printing progress on stderr, and writes the report into `opts.out`. Ctrl-C
/// (or SIGTERM) stops it with every validator stopped and every sandbox removed.
pub async fn run(opts: &Options) -> Result<TrilemmaReport> {
    ensure!(opts.users >= 2, "at least 2 users");
    ensure!(
        (0.5..=600.0).contains(&opts.seconds),
        "seconds must be 0.5 to 600"
    );
    ensure!(
        !opts.specs.is_empty() || !opts.geo.is_empty(),
        "no points to run"
    );
    for g in &opts.geo {
        ensure!(g.spread().is_some(), "{}: unknown spread", g.label());
    }
    for s in &opts.specs {
        ensure!(
            (1..=64).contains(&s.validators) && s.home < s.validators,
            "{}: 1 to 64 validators, fewer home nodes than validators",
            s.label()
        );
        ensure!(
            s.txs_per_block >= 1 && (10..=60_000).contains(&s.block_time_ms),
            "{}: at least 1 transfer a block and 10 ms to 60 s a block",
            s.label()
        );
    }
    ensure!(
        opts.specs.is_empty() || opts.binary.exists(),
        "no basalt binary at {}",
        opts.binary.display()
    );
    let (sandboxed, why_not) = sandboxing(opts.sandboxed)?;
    if sandboxed {
        for left in sandbox::clean_stale() {
            eprintln!("removed {left}, left behind by a lab that was killed");
        }
    }
    let specs: Vec<Spec> = opts
        .specs
        .iter()
        .filter(|s| sandboxed || s.home == 0)
        .cloned()
        .collect();
    if let (true, false, Some(why)) = (specs.is_empty(), opts.specs.is_empty(), &why_not) {
        bail!("every point asked for has home nodes, which need sandboxes ({why}): run as root");
    }
    if let (false, Some(why)) = (opts.specs.is_empty(), &why_not) {
        eprintln!(
            "basalt lab trilemma: no sandboxes ({why}): every validator runs uncapped on \
             127.0.0.1, traffic is not measured, and the {} home-node point(s) are skipped; \
             run as root for the capped points",
            opts.specs.len() - specs.len()
        );
    }
    std::fs::create_dir_all(&opts.out)?;
    let users = opts.user_keys();
    let started = Instant::now();
    let sweep = async {
        let mut points = Vec::new();
        for (i, s) in specs.iter().enumerate() {
            let head = format!("[{}/{}] {}", i + 1, specs.len(), s.label());
            let say = |what: String| {
                eprintln!("{:>6.1} s  {head}: {what}", started.elapsed().as_secs_f64());
            };
            let env = point::Env {
                binary: &opts.binary,
                sandboxed,
                home: opts.home,
                seconds: opts.seconds,
                users: &users,
                keep: opts
                    .keep
                    .then(|| opts.out.join("points").join((i + 1).to_string())),
                say: &say,
            };
            let p = point::measure(s, &env).await?;
            say(format!(
                "{:.0} tx/s finalized of {:.0} sent; a validator used {:.0} ms CPU a second",
                p.tps,
                p.sent_tps,
                p.peer_mean(|v| Some(v.cpu_per_s)).unwrap_or(0.0) * 1_000.0
            ));
            points.push(p);
        }
        let mut geo = Vec::new();
        for (i, g) in opts.geo.iter().enumerate() {
            let head = format!("[geography {}/{}] {}", i + 1, opts.geo.len(), g.label());
            eprintln!(
                "{:>6.1} s  {head}: simulating",
                started.elapsed().as_secs_f64()
            );
            let stop = geography::Stop::default();
            // Dropped when the sweep is interrupted: the simulation thread then ends.
            let _guard = stop.on_drop();
            let (g, seconds, seed) = (g.clone(), opts.geo_seconds, opts.seed);
            let p =
                tokio::task::spawn_blocking(move || geography::measure(&g, seconds, seed, &stop))
                    .await?
                    .with_context(|| head.clone())?;
            eprintln!(
                "{:>6.1} s  {head}: finality {} ms, {:.1} blocks/s, {:.0} s real",
                started.elapsed().as_secs_f64(),
                p.finality_ms.map_or("-".into(), |f| format!("{f:.0}")),
                p.blocks_per_s,
                p.wall_s
            );
            geo.push(p);
        }
        anyhow::Ok((points, geo))
    };
    let (points, geo) = interruptible(sweep).await?;
    let report = TrilemmaReport::new(opts, sandboxed, why_not, points, geo);
    report.write(&opts.out)?;
    eprintln!(
        "{:>6.1} s  wrote {}/report.md, report.json and the plots",
        started.elapsed().as_secs_f64(),
        opts.out.display()
    );
    Ok(report)
}

/// Runs `work` until it ends or Ctrl-C or SIGTERM arrives; then `work` is dropped, and with it
/// the running point's validators and sandboxes.
async fn interruptible<T>(work: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::select! {
        r = work => r,
        _ = int.recv() => bail!("interrupted: the validators were stopped and their sandboxes removed"),
        _ = term.recv() => bail!("terminated: the validators were stopped and their sandboxes removed"),
    }
}
