//! Geographic points of `basalt lab trilemma`: the L1's validators placed in cloud regions, each
//! link delayed by the measured round trip between its regions, run on commonware's deterministic
//! runtime and simulated network ([`SimNet`]) in simulated time. One machine cannot hold a
//! hundred `basalt node` processes, nor the Pacific between them; the simulation runs the same
//! validator code (`validator::launch`) with only the network and the clock simulated.

use anyhow::{anyhow, bail, Context as _, Result};
use basalt_l1::{Header, Params, TRANSFER_GAS};
use basalt_node::consensus::application::ProposerFault;
use basalt_node::devnet::{dev_transfer, devnet_genesis, DEV_ACCOUNTS};
use basalt_node::simnet::SimNet;
use basalt_node::validator::Validator;
use basalt_types::Hash;
use commonware_p2p::simulated::Link;
use commonware_runtime::{deterministic, Clock, Runner as _, Spawner as _, Supervisor as _};
use commonware_utils::probability;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, UNIX_EPOCH};
use tokio::sync::broadcast;

mod report;

pub use report::{chart, markdown, relations};

/// Where the round trips come from.
pub const SOURCE: &str = "cloudping.co, AWS inter-region round trips, one-year median (p50), as \
     collected on 2022-04-08 in bc-computing/gus-automation (generate_server_ping_latencies/\
     all_latencies.json)";

/// The regions validators are placed in.
pub const REGIONS: [&str; 9] = [
    "us-east-1",
    "us-east-2",
    "us-west-2",
    "ca-central-1",
    "sa-east-1",
    "eu-west-1",
    "eu-central-1",
    "ap-northeast-1",
    "ap-southeast-2",
];

/// Median round trip in ms from the row's region to the column's, in [`REGIONS`] order.
pub const RTT_MS: [[f64; 9]; 9] = [
    [
        4.98, 13.76, 69.81, 17.14, 116.51, 68.19, 90.81, 146.54, 199.18,
    ],
    [
        15.69, 5.06, 53.11, 28.11, 126.91, 78.44, 101.08, 132.96, 188.77,
    ],
    [
        69.52, 50.69, 2.64, 65.75, 180.09, 124.45, 145.74, 99.07, 140.72,
    ],
    [
        15.74, 25.93, 65.57, 3.22, 126.68, 70.6, 92.05, 144.1, 198.21,
    ],
    [
        116.46, 126.43, 180.49, 127.16, 3.84, 179.02, 205.11, 257.85, 312.95,
    ],
    [
        68.03, 78.02, 124.49, 70.99, 178.67, 2.06, 26.29, 201.76, 257.35,
    ],
    [
        90.42, 100.32, 145.8, 92.82, 205.29, 25.42, 3.16, 224.81, 269.08,
    ],
    [
        146.4, 132.39, 99.33, 144.55, 257.76, 202.18, 225.48, 3.55, 110.87,
    ],
    [
        198.82, 188.3, 140.45, 198.3, 312.9, 257.09, 267.15, 110.66, 3.29,
    ],
];

/// How far apart a chain's validators are: the regions they are dealt to, in turn.
#[derive(Clone, Copy, Debug)]
pub struct Spread {
    /// Its name in reports and on the command line.
    pub name: &'static str,
    /// Indices into [`REGIONS`].
    pub regions: &'static [usize],
}

/// The spreads, from one region to five continents.
pub const SPREADS: [Spread; 4] = [
    Spread {
        name: "one region",
        regions: &[0],
    },
    Spread {
        name: "North America",
        regions: &[0, 1, 2, 3],
    },
    Spread {
        name: "North America and Europe",
        regions: &[0, 2, 5, 6],
    },
    Spread {
        name: "global",
        regions: &[0, 2, 4, 5, 6, 7, 8],
    },
];

/// Each link's jitter, as a share of its latency.
pub const JITTER: f64 = 0.05;

/// How long the runtime's clock advances for each round of ready tasks. Its default (1 ms) adds
/// a millisecond to every hand-off between one validator's own tasks, tens of ms a block.
const CYCLE: Duration = Duration::from_micros(10);

/// Simulated time the chain has to finalize its first block before a point fails.
const START_LIMIT: Duration = Duration::from_secs(60);

/// One geographic point to run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GeoSpec {
    /// How many validators.
    pub validators: usize,
    /// A name from [`SPREADS`].
    pub spread: String,
    /// Target block time.
    pub block_time_ms: u64,
    /// Transfers a second offered, spread over the validators' mempools.
    pub load: f64,
}

impl GeoSpec {
    /// `validators` over `spread`, 200 ms blocks, 250 transfers a second.
    pub fn new(validators: usize, spread: &str) -> GeoSpec {
        GeoSpec {
            validators,
            spread: spread.into(),
            block_time_ms: 200,
            load: 250.0,
        }
    }

    /// Its spread, if the name is known.
    pub fn spread(&self) -> Option<Spread> {
        SPREADS.iter().copied().find(|s| s.name == self.spread)
    }

    /// How it is named in progress and reports.
    pub fn label(&self) -> String {
        format!("{} validators, {}", self.validators, self.spread)
    }
}

/// What one geographic point measured, in simulated time.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GeoPoint {
    /// What was run.
    pub spec: GeoSpec,
    /// Each validator's region.
    pub placement: Vec<String>,
    /// Mean round trip between two validators, ms.
    pub mean_rtt_ms: f64,
    /// Longest round trip between two validators, ms.
    pub max_rtt_ms: f64,
    /// Simulated seconds measured (after the first block).
    pub seconds: f64,
    /// Blocks finalized a second.
    pub blocks_per_s: f64,
    /// Transfers finalized a second.
    pub tps: f64,
    /// Median over validators of each one's mean time from block timestamp to finality, ms.
    pub finality_ms: Option<f64>,
    /// 90th percentile of every validator's times from block timestamp to finality, ms.
    pub finality_p90_ms: Option<f64>,
    /// Whether every validator finalized the same block at every height it reached.
    pub agreed: bool,
    /// Real seconds the simulation took.
    pub wall_s: f64,
}

/// Asks a running point to stop.
#[derive(Clone, Debug, Default)]
pub struct Stop(Arc<AtomicBool>);

impl Stop {
    /// Asks for the stop.
    pub fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// A guard that asks for the stop when dropped (when the sweep is interrupted).
    pub fn on_drop(&self) -> StopOnDrop {
        StopOnDrop(self.clone())
    }
}

/// Sets its [`Stop`] when dropped.
pub struct StopOnDrop(Stop);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.set();
    }
}

/// The region of each of `n` validators over `spread`: dealt in turn.
pub fn placement(spread: Spread, n: usize) -> Vec<usize> {
    (0..n)
        .map(|i| spread.regions[i % spread.regions.len()])
        .collect()
}

/// The round trip between two regions: the mean of both directions' medians.
pub fn rtt_ms(a: usize, b: usize) -> f64 {
    (RTT_MS[a][b] + RTT_MS[b][a]) / 2.0
}

/// The link between validators in regions `a` and `b`: half the round trip, 5% jitter.
fn link(a: usize, b: usize) -> Link {
    let one_way = rtt_ms(a, b) / 2.0;
    Link {
        latency: Duration::from_secs_f64(one_way / 1e3),
        jitter: Duration::from_secs_f64(one_way * JITTER / 1e3),
        success_rate: probability!(1.0),
    }
}

/// The `q` quantile of `v` (nearest rank), if it has any.
fn quantile(mut v: Vec<f64>, q: f64) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    let i = ((v.len() as f64 * q).ceil() as usize).clamp(1, v.len().max(1)) - 1;
    v.get(i).copied()
}

/// One finalized block as a validator saw it.
#[derive(Clone, Copy)]
struct Seen {
    hash: Hash,
    transfers: u64,
    at_ms: u64,
    delay_ms: f64,
}

fn now_ms(context: &deterministic::Context) -> u64 {
    let now = context
        .current()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    now.as_millis() as u64
}

/// Records the blocks `v` finalizes, by height.
fn watch(context: &deterministic::Context, v: &Validator) -> Arc<Mutex<BTreeMap<u64, Seen>>> {
    let seen = Arc::new(Mutex::new(BTreeMap::new()));
    let mut rx = v.finalized.subscribe();
    let out = seen.clone();
    context.child("watch").spawn(move |clock| async move {
        loop {
            let h: Header = match rx.recv().await {
                Ok(h) => h,
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => break,
            };
            let at_ms = now_ms(&clock);
            let seen = Seen {
                hash: h.hash(),
                transfers: h.gas_used / TRANSFER_GAS,
                at_ms,
                delay_ms: at_ms.saturating_sub(h.timestamp_ms) as f64,
            };
            out.lock().expect("watch lock").insert(h.height, seen);
        }
    });
    seen
}

/// Runs `spec` for `seconds` of simulated time after its first block, seeded by `seed`; stops
/// early with an error once `stop` is set.
pub fn measure(spec: &GeoSpec, seconds: f64, seed: u64, stop: &Stop) -> Result<GeoPoint> {
    let spread = spec
        .spread()
        .ok_or_else(|| anyhow!("unknown spread {:?}", spec.spread))?;
    if !(1..=200).contains(&spec.validators) {
        bail!("{}: 1 to 200 validators", spec.label());
    }
    if !(0.5..=600.0).contains(&seconds) {
        bail!("seconds must be 0.5 to 600");
    }
    let regions = placement(spread, spec.validators);
    let pairs: Vec<f64> = (0..regions.len())
        .flat_map(|a| {
            (0..regions.len())
                .filter(move |&b| b != a)
                .map(move |b| (a, b))
        })
        .map(|(a, b)| rtt_ms(regions[a], regions[b]))
        .collect();
    let (spec, stop) = (spec.clone(), stop.clone());
    let wall = Instant::now();
    let run = std::thread::Builder::new()
        .name("geography".into())
        .spawn(move || simulate(&spec, &regions, seconds, seed, &stop).map(|m| (spec, regions, m)))
        .context("starting the simulation thread")?;
    let (spec, regions, m) = run
        .join()
        .map_err(|_| anyhow!("the simulation panicked"))??;
    Ok(GeoPoint {
        placement: regions.iter().map(|&r| REGIONS[r].to_string()).collect(),
        mean_rtt_ms: pairs.iter().sum::<f64>() / pairs.len().max(1) as f64,
        max_rtt_ms: pairs.iter().copied().fold(0.0, f64::max),
        seconds,
        blocks_per_s: m.blocks as f64 / seconds,
        tps: m.transfers as f64 / seconds,
        finality_ms: quantile(m.means, 0.5),
        finality_p90_ms: quantile(m.delays, 0.9),
        agreed: m.agreed,
        wall_s: wall.elapsed().as_secs_f64(),
        spec,
    })
}

/// What a simulation counted over its window.
struct Measured {
    blocks: u64,
    transfers: u64,
    means: Vec<f64>,
    delays: Vec<f64>,
    agreed: bool,
}

fn simulate(
    spec: &GeoSpec,
    regions: &[usize],
    seconds: f64,
    seed: u64,
    stop: &Stop,
) -> Result<Measured> {
    let dir = tempfile::tempdir().context("creating the validators' directory")?;
    let n = spec.validators;
    let params = Params {
        block_time_ms: spec.block_time_ms,
        ..Params::default()
    };
    let genesis = devnet_genesis(n as u64, params, 0);
    let window = Duration::from_secs_f64(seconds);
    let cfg = deterministic::Config::new()
        .with_seed(seed)
        .with_cycle(CYCLE)
        .with_timeout(Some(START_LIMIT + window + Duration::from_secs(60)));
    let (load, path) = (spec.load, dir.path().to_path_buf());
    let regions = regions.to_vec();
    deterministic::Runner::new(cfg).start(|context| async move {
        let net = SimNet::new(&context, n, genesis, &path).await;
        net.link_all(|a, b| link(regions[a], regions[b]))
            .await
            .map_err(|e| anyhow!("linking the validators: {e}"))?;
        let mut vs = Vec::with_capacity(n);
        for i in 0..n {
            let v = net.start(&context, i, ProposerFault::None, 1).await?;
            vs.push(v);
        }
        let seen: Vec<_> = vs.iter().map(|v| watch(&context, v)).collect();
        let height = |i: usize| seen[i].lock().expect("watch lock").keys().last().copied();
        let begun = context.current();
        while (0..n).any(|i| height(i).is_none()) {
            if stop.is_set() {
                bail!("interrupted");
            }
            if context.current().duration_since(begun).unwrap_or_default() > START_LIMIT {
                bail!("no block finalized on every validator within {START_LIMIT:?} (simulated)");
            }
            context.sleep(Duration::from_millis(10)).await;
        }
        let from_ms = now_ms(&context);
        let to_ms = from_ms + window.as_millis() as u64;
        // Load: transfers among the dev accounts, each with its own nonces, handed to the
        // validators' mempools in turn every 10 ms.
        let tick = Duration::from_millis(10);
        let (mut owed, mut sent) = (0.0, 0u64);
        let mut nonces = [0u64; DEV_ACCOUNTS as usize];
        while now_ms(&context) < to_ms {
            if stop.is_set() {
                bail!("interrupted");
            }
            owed += load * tick.as_secs_f64();
            while owed >= 1.0 {
                let from = sent % DEV_ACCOUNTS;
                let tx = dev_transfer(from, nonces[from as usize], (from + 1) % DEV_ACCOUNTS);
                nonces[from as usize] += 1;
                let target = &vs[(sent % n as u64) as usize];
                // A full mempool turns a transfer away; the chain's throughput says how many landed.
                let _ = target.chain.lock().expect("chain lock").submit_local(&tx);
                sent += 1;
                owed -= 1.0;
            }
            context.sleep(tick).await;
        }
        for v in &vs {
            v.abort();
        }
        let seen: Vec<BTreeMap<u64, Seen>> = seen
            .iter()
            .map(|s| s.lock().expect("watch lock").clone())
            .collect();
        Ok(tally(&seen, from_ms, to_ms))
    })
}

/// Counts the window `[from_ms, to_ms)` of what each validator finalized.
fn tally(seen: &[BTreeMap<u64, Seen>], from_ms: u64, to_ms: u64) -> Measured {
    let inside = |s: &Seen| (from_ms..to_ms).contains(&s.at_ms);
    let first = &seen[0];
    let blocks = first.values().filter(|s| inside(s)).count() as u64;
    let transfers = first
        .values()
        .filter(|s| inside(s))
        .map(|s| s.transfers)
        .sum();
    let mut means = Vec::new();
    let mut delays = Vec::new();
    for s in seen {
        let mine: Vec<f64> = s
            .values()
            .filter(|s| inside(s))
            .map(|s| s.delay_ms)
            .collect();
        if !mine.is_empty() {
            means.push(mine.iter().sum::<f64>() / mine.len() as f64);
        }
        delays.extend(mine);
    }
    let mut canon: BTreeMap<u64, Hash> = BTreeMap::new();
    let agreed = seen
        .iter()
        .flat_map(|s| s.iter())
        .all(|(h, b)| *canon.entry(*h).or_insert(b.hash) == b.hash);
    Measured {
        blocks,
        transfers,
        means,
        delays,
        agreed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_round_trips_are_nearly_symmetric_and_shortest_within_a_region() {
        for (a, row) in RTT_MS.iter().enumerate() {
            for (b, &ab) in row.iter().enumerate() {
                let ba = RTT_MS[b][a];
                assert!((ab - ba).abs() <= (ab * 0.1).max(3.0), "{a} {b}: {ab} {ba}");
                if a != b {
                    assert!(row[a] < ab, "{a} {b}");
                }
            }
        }
    }

    #[test]
    fn validators_are_dealt_to_their_spread_in_turn() {
        let global = SPREADS[3];
        let p = placement(global, 9);
        assert_eq!(&p[..7], global.regions);
        assert_eq!(&p[7..], &global.regions[..2]);
        assert!(placement(SPREADS[0], 5).iter().all(|&r| r == 0));
    }

    #[test]
    fn a_global_chain_finalizes_later_than_one_in_one_region() {
        let stop = Stop::default();
        let near = measure(&GeoSpec::new(4, "one region"), 2.0, 1, &stop).unwrap();
        let far = measure(&GeoSpec::new(4, "global"), 2.0, 1, &stop).unwrap();
        for p in [&near, &far] {
            assert!(p.agreed && p.blocks_per_s > 0.0 && p.tps > 0.0, "{p:?}");
        }
        let (a, b) = (near.finality_ms.unwrap(), far.finality_ms.unwrap());
        // Global round trips are 5 to 310 ms, one region's 5 ms.
        assert!(b > a + 50.0, "one region {a} ms, global {b} ms");
        assert!(relations(&[near, far]).iter().all(|r| r.holds));
    }

    #[test]
    fn an_unknown_spread_is_refused() {
        let e = measure(&GeoSpec::new(4, "moon"), 2.0, 1, &Stop::default()).unwrap_err();
        assert!(e.to_string().contains("unknown spread"), "{e}");
    }
}
