//! Who can keep up: reference node profiles, each with a CPU factor relative to one core of the
//! lab's machine, the cores it gives the node, its bandwidth and its disk, and for each measured
//! point whether a validator on it would keep up. The share of profiles that keep up is the
//! trilemma's decentralization axis.

use super::Point;
use serde::{Deserialize, Serialize};

/// A kind of machine someone might run a validator on.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Profile {
    /// Its name.
    pub name: String,
    /// The CPU it stands for.
    pub cpu: String,
    /// Ed25519 verifications a second on one of its cores over one core of the reference (an
    /// AMD EPYC Zen 3 at 2.45 GHz, the machine this lab was built on).
    pub cpu_factor: f64,
    /// Cores it gives the validator.
    pub cores: f64,
    /// Download, Mbit/s.
    pub down_mbit: f64,
    /// Upload, Mbit/s.
    pub up_mbit: f64,
    /// Disk it gives the chain, GB.
    pub disk_gb: f64,
}

/// Where the profiles' figures come from.
pub const SOURCES: &str = "CPU factors: single-core Ed25519 verification cycles of lib25519's speed table \
    (lib25519.cr.yp.to/speed.html, the 2026-06-14 release), over the clock: Zen 3 127,996 cycles at \
    2.45 GHz (the reference); Raspberry Pi 4 (Cortex-A72) 288,050 at 1.8 GHz; an i5-1235U-class laptop \
    P-core (Golden Cove) 96,327 at 3.0 GHz sustained; Ryzen 9 7950X (Zen 4) 123,236 at 4.5 GHz base. \
    With OpenSSL's Ed25519 instead, the Pi's factor doubles and the x86 ones barely move. Home broadband: \
    Ofcom's UK Home Broadband Performance report (2023), median 69.4 Mbit/s down, 18.4 up; full fibre \
    149.2 down. Data center: AWS caps one flow at 5 Gbit/s (EC2 instance network bandwidth). Disk sizes \
    and the cores each machine gives its validator are assumptions.";

/// The four reference profiles.
pub fn reference() -> Vec<Profile> {
    let p = |name: &str, cpu: &str, cpu_factor, cores, down_mbit, up_mbit, disk_gb| Profile {
        name: name.into(),
        cpu: cpu.into(),
        cpu_factor,
        cores,
        down_mbit,
        up_mbit,
        disk_gb,
    };
    vec![
        p(
            "single-board computer",
            "Raspberry Pi 4, Cortex-A72 1.8 GHz",
            0.33,
            4.0,
            69.4,
            18.4,
            128.0,
        ),
        p(
            "home laptop",
            "i5-1235U class, 3.0 GHz sustained",
            1.63,
            2.0,
            69.4,
            18.4,
            500.0,
        ),
        p(
            "workstation",
            "Ryzen 9 7950X, 4.5 GHz",
            1.9,
            8.0,
            149.2,
            50.0,
            2_000.0,
        ),
        p(
            "data-center server",
            "EPYC Zen 3, 2.45 GHz",
            1.0,
            16.0,
            5_000.0,
            5_000.0,
            8_000.0,
        ),
    ]
}

/// Of its cores and links, the share a validator may use and still keep up through bursts.
pub const HEADROOM: f64 = 0.5;

/// Days of chain history a validator's disk must hold.
pub const HISTORY_DAYS: f64 = 365.0;

/// Whether a validator on `profile` keeps pace with `point` (its CPU and its link), and if not,
/// what stops it.
pub fn keeps_pace(profile: &Profile, point: &Point) -> Result<(), String> {
    let cpu = point.peer_mean(|v| Some(v.cpu_per_s)).unwrap_or(0.0);
    let need_cores = cpu / profile.cpu_factor;
    if need_cores > profile.cores * HEADROOM {
        return Err(format!(
            "CPU: needs {need_cores:.2} of its cores, has {:.1} to spare",
            profile.cores * HEADROOM
        ));
    }
    let mbit = |b: Option<f64>| b.map(|b| b * 8.0 / 1e6);
    if let Some(down) = mbit(point.peer_mean(|v| v.in_bytes_per_s)) {
        if down > profile.down_mbit * HEADROOM {
            return Err(format!("download: needs {down:.1} Mbit/s"));
        }
    }
    if let Some(up) = mbit(point.peer_mean(|v| v.out_bytes_per_s)) {
        if up > profile.up_mbit * HEADROOM {
            return Err(format!("upload: needs {up:.1} Mbit/s"));
        }
    }
    Ok(())
}

/// Whether a validator on `profile` keeps pace with `point` and can store a year of its growth
/// (Basalt does not prune history yet), and if not, what stops it.
pub fn keeps_up(profile: &Profile, point: &Point) -> Result<(), String> {
    keeps_pace(profile, point)?;
    let disk = point.peer_mean(|v| Some(v.disk_bytes_per_s)).unwrap_or(0.0);
    let gb = disk * 86_400.0 * HISTORY_DAYS / 1e9;
    if gb > profile.disk_gb {
        return Err(format!("disk: a year's history is {gb:.0} GB"));
    }
    Ok(())
}

/// The share of `profiles` that pass `test` at `point`.
pub fn share(
    profiles: &[Profile],
    point: &Point,
    test: fn(&Profile, &Point) -> Result<(), String>,
) -> f64 {
    let ok = profiles.iter().filter(|p| test(p, point).is_ok()).count();
    ok as f64 / profiles.len().max(1) as f64
}

/// A straight line fitted to a cost against throughput: `fixed + per_tx * tps`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fit {
    /// The cost at no load, a second.
    pub fixed: f64,
    /// The cost of one more transfer a second.
    pub per_tx: f64,
}

/// The least-squares line through `(tps, cost)` pairs; none with fewer than two distinct loads.
pub fn fit(pairs: &[(f64, f64)]) -> Option<Fit> {
    let n = pairs.len() as f64;
    let (sx, sy) = pairs
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    let (mx, my) = (sx / n, sy / n);
    let sxx: f64 = pairs.iter().map(|(x, _)| (x - mx) * (x - mx)).sum();
    let sxy: f64 = pairs.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    if pairs.len() < 2 || sxx <= 0.0 {
        return None;
    }
    let per_tx = sxy / sxx;
    Some(Fit {
        fixed: my - per_tx * mx,
        per_tx,
    })
}

/// What a validator's costs grow by with throughput: CPU (cores of this machine), bytes in and
/// out, and bytes stored, each a second.
#[derive(Clone, Copy, Debug)]
pub struct Costs {
    /// CPU, cores of the reference machine.
    pub cpu: Fit,
    /// Bytes received.
    pub down: Option<Fit>,
    /// Bytes sent.
    pub up: Option<Fit>,
    /// Bytes stored.
    pub disk: Fit,
}

impl Costs {
    /// The lines through `points` (one validator count, rising block size).
    pub fn of(points: &[&Point]) -> Option<Costs> {
        let pairs = |f: &dyn Fn(&Point) -> Option<f64>| -> Vec<(f64, f64)> {
            points
                .iter()
                .filter_map(|p| f(p).map(|y| (p.tps, y)))
                .collect()
        };
        let line = |f: &dyn Fn(&Point) -> Option<f64>| fit(&pairs(f));
        Some(Costs {
            cpu: line(&|p| p.peer_mean(|v| Some(v.cpu_per_s)))?,
            down: line(&|p| p.peer_mean(|v| v.in_bytes_per_s)),
            up: line(&|p| p.peer_mean(|v| v.out_bytes_per_s)),
            disk: line(&|p| p.peer_mean(|v| Some(v.disk_bytes_per_s)))?,
        })
    }
}

/// The transfers a second at which `cost` reaches `budget` (infinite if it does not grow).
fn reach(cost: Fit, budget: f64) -> f64 {
    match cost.per_tx > 0.0 {
        true => ((budget - cost.fixed) / cost.per_tx).max(0.0),
        false => f64::INFINITY,
    }
}

/// The throughput a validator on `profile` sustains by each resource: CPU, download, upload
/// (within [`HEADROOM`]) and a year on its disk, in that order.
pub fn sustainable(profile: &Profile, costs: &Costs) -> [f64; 4] {
    let link = |mbit: f64| mbit * 1e6 / 8.0 * HEADROOM;
    let opt = |f: Option<Fit>, budget: f64| f.map_or(f64::INFINITY, |f| reach(f, budget));
    [
        reach(costs.cpu, profile.cores * HEADROOM * profile.cpu_factor),
        opt(costs.down, link(profile.down_mbit)),
        opt(costs.up, link(profile.up_mbit)),
        reach(
            costs.disk,
            profile.disk_gb * 1e9 / (86_400.0 * HISTORY_DAYS),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_through_exact_points_is_found_and_a_single_load_has_none() {
        let f = fit(&[(100.0, 30.0), (200.0, 50.0), (400.0, 90.0)]).unwrap();
        assert!((f.fixed - 10.0).abs() < 1e-9 && (f.per_tx - 0.2).abs() < 1e-9);
        assert_eq!(fit(&[(100.0, 30.0), (100.0, 40.0)]), None);
        assert!((reach(f, 90.0) - 400.0).abs() < 1e-6);
        assert_eq!(
            reach(
                Fit {
                    fixed: 1.0,
                    per_tx: 0.0
                },
                5.0
            ),
            f64::INFINITY
        );
    }
}
