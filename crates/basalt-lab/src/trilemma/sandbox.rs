//! Validators' own hosts on one machine: a network namespace each, joined by a bridge through a
//! veth pair, with an optional bandwidth cap (`tc tbf` on both ends of the pair) and CPU quota (a
//! cgroup v1 `cpu` group). Everything is named after the lab's process id and removed when the
//! [`Sandbox`] drops, on success, on a failed point and on Ctrl-C alike; what a killed lab left
//! behind is removed by the next one ([`clean_stale`]).

use anyhow::{bail, Context, Result};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every name the lab creates starts with this, then the lab's process id.
pub const PREFIX: &str = "bsl";

/// The cgroup v1 `cpu` hierarchy.
const CPU_CGROUP: &str = "/sys/fs/cgroup/cpu";

/// The CFS period quotas are expressed in, microseconds.
const CPU_PERIOD_US: u64 = 100_000;

/// A validator's limits; none means uncapped.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Caps {
    /// Percent of one of this machine's cores it may use.
    pub cpu_percent: Option<u32>,
    /// Its bandwidth each way, megabits a second.
    pub mbit: Option<u32>,
}

/// Whether this process may build sandboxes, or why not.
pub fn privileges() -> std::result::Result<(), String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Err("not running as root".into());
    }
    if !Path::new(CPU_CGROUP).join("cgroup.procs").exists() {
        return Err(format!("no cgroup v1 cpu hierarchy at {CPU_CGROUP}"));
    }
    match Command::new("ip").args(["netns", "list"]).output() {
        Ok(o) if o.status.success() => {}
        Ok(o) => return Err(format!("`ip netns` fails: {}", stderr(&o))),
        Err(e) => return Err(format!("no `ip` command (iproute2): {e}")),
    }
    match Command::new("tc").arg("-V").output() {
        Ok(_) => Ok(()),
        Err(e) => Err(format!("no `tc` command (iproute2): {e}")),
    }
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).trim().to_string()
}

/// Runs `program args`, failing with its stderr.
fn run(program: &str, args: &[&str]) -> Result<()> {
    let o = Command::new(program)
        .args(args)
        .output()
        .with_context(|| format!("running {program}"))?;
    if !o.status.success() {
        bail!("`{program} {}` failed: {}", args.join(" "), stderr(&o));
    }
    Ok(())
}

/// The names of one lab's objects.
#[derive(Clone, Debug)]
struct Names {
    tag: String,
}

impl Names {
    fn of(pid: u32) -> Names {
        Names {
            tag: format!("{PREFIX}{pid}"),
        }
    }
    fn bridge(&self) -> String {
        format!("{}br", self.tag)
    }
    fn netns(&self, i: usize) -> String {
        format!("{}n{i}", self.tag)
    }
    fn host_end(&self, i: usize) -> String {
        format!("{}h{i}", self.tag)
    }
    fn node_end(&self, i: usize) -> String {
        format!("{}p{i}", self.tag)
    }
    fn cgroup(&self, i: usize) -> PathBuf {
        Path::new(CPU_CGROUP).join(self.netns(i))
    }
}

/// Validators' hosts: one network namespace each, on a bridge of the lab's own.
pub struct Sandbox {
    names: Names,
    subnet: [u8; 3],
    caps: Vec<Caps>,
    made_bridge: bool,
    made: Vec<usize>,
    cgroups: Vec<PathBuf>,
}

impl Sandbox {
    /// Builds a namespace for each of `caps`, with its limits.
    pub fn create(caps: &[Caps]) -> Result<Sandbox> {
        anyhow::ensure!(caps.len() <= 200, "at most 200 sandboxed validators");
        let pid = std::process::id();
        // A /24 of 10/8 of this lab's own, so that concurrent labs do not collide.
        let subnet = [10, 100 + ((pid >> 8) % 150) as u8, (pid & 0xff) as u8];
        let mut sb = Sandbox {
            names: Names::of(pid),
            subnet,
            caps: caps.to_vec(),
            made_bridge: false,
            made: Vec::new(),
            cgroups: Vec::new(),
        };
        sb.build()
            .context("building the validators' network namespaces")?;
        Ok(sb)
    }

    fn build(&mut self) -> Result<()> {
        let br = self.names.bridge();
        run("ip", &["link", "add", &br, "type", "bridge"])?;
        self.made_bridge = true;
        let host = format!("{}/24", self.host_ip());
        run("ip", &["addr", "add", &host, "dev", &br])?;
        run("ip", &["link", "set", &br, "up"])?;
        for i in 0..self.caps.len() {
            let (ns, h, p) = (
                self.names.netns(i),
                self.names.host_end(i),
                self.names.node_end(i),
            );
            run("ip", &["netns", "add", &ns])?;
            self.made.push(i);
            run(
                "ip",
                &["link", "add", &h, "type", "veth", "peer", "name", &p],
            )?;
            run("ip", &["link", "set", &p, "netns", &ns])?;
            run("ip", &["link", "set", &h, "master", &br, "up"])?;
            let addr = format!("{}/24", self.ip(i));
            run("ip", &["-n", &ns, "addr", "add", &addr, "dev", &p])?;
            run("ip", &["-n", &ns, "link", "set", &p, "up"])?;
            run("ip", &["-n", &ns, "link", "set", "lo", "up"])?;
            let caps = self.caps[i];
            if let Some(mbit) = caps.mbit {
                // Egress of the host end is what the node downloads; of the node end, what it
                // uploads. The bucket holds 10 ms of traffic (at least 64 KiB) and the queue
                // 200 ms, as a home router's would.
                let rate = format!("{mbit}mbit");
                let burst = format!("{}", (u64::from(mbit) * 1_250).max(65_536));
                let tbf = [
                    "root", "tbf", "rate", &rate, "burst", &burst, "latency", "200ms",
                ];
                let mut a = vec!["qdisc", "add", "dev", &h];
                a.extend(tbf);
                run("tc", &a)?;
                let mut a = vec!["-n", &ns, "qdisc", "add", "dev", &p];
                a.extend(tbf);
                run("tc", &a)?;
            }
            if let Some(pct) = caps.cpu_percent {
                let dir = self.names.cgroup(i);
                std::fs::create_dir(&dir)
                    .with_context(|| format!("creating cgroup {}", dir.display()))?;
                self.cgroups.push(dir.clone());
                let quota = CPU_PERIOD_US * u64::from(pct.max(1)) / 100;
                std::fs::write(dir.join("cpu.cfs_period_us"), CPU_PERIOD_US.to_string())?;
                std::fs::write(dir.join("cpu.cfs_quota_us"), quota.to_string())
                    .with_context(|| format!("setting the CPU quota of {}", dir.display()))?;
            }
        }
        Ok(())
    }

    /// Validator `i`'s address.
    pub fn ip(&self, i: usize) -> IpAddr {
        let [a, b, c] = self.subnet;
        IpAddr::V4(Ipv4Addr::new(a, b, c, i as u8 + 1))
    }

    /// The lab's own address on the bridge.
    pub fn host_ip(&self) -> IpAddr {
        let [a, b, c] = self.subnet;
        IpAddr::V4(Ipv4Addr::new(a, b, c, 254))
    }

    /// A command that runs `program` inside validator `i`'s namespace.
    pub fn command(&self, i: usize, program: &Path) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.names.netns(i)]).arg(program);
        c
    }

    /// Puts process `pid` (and its threads) under validator `i`'s CPU quota, if it has one.
    pub fn limit(&self, i: usize, pid: u32) -> Result<()> {
        if self.caps[i].cpu_percent.is_none() {
            return Ok(());
        }
        let procs = self.names.cgroup(i).join("cgroup.procs");
        std::fs::write(&procs, pid.to_string())
            .with_context(|| format!("moving process {pid} into {}", procs.display()))
    }

    /// Bytes validator `i` has received and sent, read off the host end of its link.
    pub fn bytes(&self, i: usize) -> Result<(u64, u64)> {
        let stat = |name: &str| -> Result<u64> {
            let p = Path::new("/sys/class/net")
                .join(self.names.host_end(i))
                .join("statistics")
                .join(name);
            Ok(std::fs::read_to_string(&p)
                .with_context(|| format!("reading {}", p.display()))?
                .trim()
                .parse()?)
        };
        // What the host end sends, the node receives, and the other way round.
        Ok((stat("tx_bytes")?, stat("rx_bytes")?))
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for &i in &self.made {
            // The host end first: deleting a namespace frees its links only later, in the
            // background, and a test that looks at once must find them gone.
            let _ = run("ip", &["link", "del", &self.names.host_end(i)]);
            let _ = run("ip", &["netns", "del", &self.names.netns(i)]);
        }
        if self.made_bridge {
            let _ = run("ip", &["link", "del", &self.names.bridge()]);
        }
        for dir in &self.cgroups {
            remove_cgroup(dir);
        }
    }
}

/// Removes a cgroup, waiting a little for its killed processes to leave it.
fn remove_cgroup(dir: &Path) {
    for _ in 0..50 {
        if std::fs::remove_dir(dir).is_ok() || !dir.exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The network namespaces, links and cgroups of the lab with process id `pid` that exist now.
pub fn leftovers(pid: u32) -> Vec<String> {
    let tag = Names::of(pid).tag;
    everything()
        .into_iter()
        .filter(|(_, owner)| *owner == pid)
        .map(|(name, _)| name)
        .filter(|n| n.contains(&tag))
        .collect()
}

/// Every lab object on this machine, with the process id of the lab that made it.
fn everything() -> Vec<(String, u32)> {
    let mut out = Vec::new();
    let owner = |name: &str| -> Option<u32> {
        let rest = name.strip_prefix(PREFIX)?;
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        digits.parse().ok()
    };
    if let Ok(o) = Command::new("ip").args(["netns", "list"]).output() {
        for line in String::from_utf8_lossy(&o.stdout).lines() {
            let name = line.split_whitespace().next().unwrap_or_default();
            if let Some(pid) = owner(name) {
                out.push((format!("netns {name}"), pid));
            }
        }
    }
    if let Ok(dir) = std::fs::read_dir("/sys/class/net") {
        for e in dir.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if let Some(pid) = owner(&name) {
                out.push((format!("link {name}"), pid));
            }
        }
    }
    if let Ok(dir) = std::fs::read_dir(CPU_CGROUP) {
        for e in dir.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if let Some(pid) = owner(&name) {
                out.push((format!("cgroup {CPU_CGROUP}/{name}"), pid));
            }
        }
    }
    out
}

/// Removes what labs no longer running left behind (a lab killed with SIGKILL cannot clean
/// up), the processes still in their namespaces included; what it removed.
pub fn clean_stale() -> Vec<String> {
    let alive = |pid: u32| Path::new("/proc").join(pid.to_string()).exists();
    let mut removed = Vec::new();
    for (what, pid) in everything() {
        if alive(pid) {
            continue;
        }
        let (kind, name) = what.split_once(' ').unwrap_or_default();
        let done = match kind {
            "netns" => {
                // Its validators outlived their lab; they go with their namespace.
                if let Ok(o) = Command::new("ip").args(["netns", "pids", name]).output() {
                    for pid in String::from_utf8_lossy(&o.stdout).split_whitespace() {
                        if let Ok(pid) = pid.parse::<libc::pid_t>() {
                            // SAFETY: kill has no memory-safety preconditions.
                            unsafe { libc::kill(pid, libc::SIGKILL) };
                        }
                    }
                }
                run("ip", &["netns", "del", name]).is_ok()
            }
            "link" => run("ip", &["link", "del", name]).is_ok(),
            _ => {
                remove_cgroup(Path::new(name));
                !Path::new(name).exists()
            }
        };
        if done {
            removed.push(what);
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sandbox_removes_its_namespaces_links_and_cgroups_when_dropped() {
        if let Err(why) = privileges() {
            eprintln!("skipped: cannot build sandboxes here ({why})");
            return;
        }
        let pid = std::process::id();
        let capped = Caps {
            cpu_percent: Some(20),
            mbit: Some(10),
        };
        {
            let sb = Sandbox::create(&[Caps::default(), capped]).unwrap();
            let made = leftovers(pid);
            assert!(made.iter().any(|m| m.starts_with("netns")), "{made:?}");
            assert!(made.iter().any(|m| m.starts_with("cgroup")), "{made:?}");
            assert!(made.iter().any(|m| m.ends_with("br")), "{made:?}");
            // The node end lives in its namespace, reachable from the lab over the bridge.
            let o = sb
                .command(1, Path::new("ip"))
                .args(["-o", "addr", "show"])
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&o.stdout);
            assert!(text.contains(&sb.ip(1).to_string()), "{text}");
            let quota = std::fs::read_to_string(Names::of(pid).cgroup(1).join("cpu.cfs_quota_us"));
            assert_eq!(quota.unwrap().trim(), "20000");
            assert!(sb.bytes(0).is_ok());
        }
        assert_eq!(leftovers(pid), Vec::<String>::new());
    }
}
