//! CPU time of the engine's processes and of the whole host, read from Linux's /proc.
//!
//! A [`CpuSnapshot`] records the clock ticks that `dockerd`, `containerd` and the
//! `containerd-shim` processes of the benchmark containers have used so far, plus the host
//! counters from `/proc/stat`. [`CpuSnapshot::usage_since`] turns two snapshots into the CPU
//! seconds used between them. Field positions follow proc(5).

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

/// Process names as `/proc/PID/comm` shows them. The kernel truncates `comm` to 15 bytes, so
/// `containerd-shim-runc-v2` appears as `containerd-shim`.
const DOCKERD_COMM: &str = "dockerd";
const CONTAINERD_COMM: &str = "containerd";
const SHIM_COMM: &str = "containerd-shim";

/// Clock ticks per second assumed when `sysconf(_SC_CLK_TCK)` fails. It is Linux's USER_HZ,
/// which is 100 on x86 and Arm.
const FALLBACK_CLOCK_TICKS: u64 = 100;

/// The engine process that a CPU figure belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Dockerd,
    Containerd,
    /// A `containerd-shim` of one of the benchmark containers.
    Shim,
}

/// CPU clock ticks of one process, from fields 14 to 17 and 22 of `/proc/PID/stat`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcessTicks {
    pub user: u64,
    pub system: u64,
    /// User time of waited-for children, such as the `runc` and exec processes a shim reaps.
    pub children_user: u64,
    pub children_system: u64,
    /// Clock ticks from boot until the process started; with the pid it identifies a process
    /// even when the pid is reused.
    pub start_time: u64,
}

impl ProcessTicks {
    /// Ticks that count for `role`: a shim's reaped children are the `runc` calls and the exec
    /// processes it started, so they count as shim work. For `dockerd` and `containerd` only
    /// their own time counts.
    fn counted(&self, role: Role) -> u64 {
        match role {
            Role::Shim => self.user + self.system + self.children_user + self.children_system,
            Role::Dockerd | Role::Containerd => self.user + self.system,
        }
    }
}

/// Host-wide clock ticks from the `cpu` line of `/proc/stat`, summed over all CPUs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HostTicks {
    /// Ticks spent in user, nice, system, irq, softirq and steal time.
    pub busy: u64,
    /// Busy ticks plus idle and iowait ticks.
    pub total: u64,
}

/// CPU counters at one instant.
#[derive(Clone, Debug, Default)]
pub struct CpuSnapshot {
    processes: HashMap<(u32, u64), (Role, ProcessTicks)>,
    host: HostTicks,
}

/// CPU seconds used between two snapshots. A process figure is `None` when no such process
/// was found in either snapshot. `dockerd` and `containerd` serve every client of the engine,
/// so their figures include work for other clients during the window.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct CpuUsage {
    pub dockerd_seconds: Option<f64>,
    pub containerd_seconds: Option<f64>,
    /// Shims of the benchmark containers, including the `runc` and exec processes they reaped.
    pub shim_seconds: Option<f64>,
    /// Busy CPU seconds of the whole host, summed over all CPUs.
    pub host_busy_seconds: f64,
    /// Busy share of all CPUs of the host, from 0 to 100.
    pub host_busy_percent: f64,
}

/// Reads engine and host CPU counters from a /proc file system.
#[derive(Clone, Debug)]
pub struct CpuProbe {
    proc_root: std::path::PathBuf,
    /// Full ids of the benchmark containers; only their shims are counted.
    container_ids: Vec<String>,
    clock_ticks: u64,
}

impl CpuProbe {
    /// Creates a probe of `/proc` when the engine runs on this host, else returns `None`. The engine is taken
    /// as local when `DOCKER_HOST` is unset, empty or a `unix://` address and `/proc/stat` is
    /// readable.
    ///
    /// NOTE: a local `DOCKER_HOST` socket may still belong to an engine in another PID
    /// namespace or virtual machine. Then no `dockerd` process is found and only the host
    /// figures are reported.
    pub fn local(container_ids: Vec<String>) -> Option<CpuProbe> {
        let host = std::env::var("DOCKER_HOST").unwrap_or_default();
        let local = host.is_empty() || host.starts_with("unix://");
        let probe = CpuProbe { proc_root: "/proc".into(), container_ids, clock_ticks: clock_ticks_per_second() };
        (local && probe.read_host().is_some()).then_some(probe)
    }

    /// Creates a probe of a /proc tree at `proc_root`, for tests on captured files.
    pub fn with_root(proc_root: &Path, container_ids: Vec<String>, clock_ticks: u64) -> CpuProbe {
        CpuProbe { proc_root: proc_root.to_owned(), container_ids, clock_ticks }
    }

    pub fn clock_ticks(&self) -> u64 {
        self.clock_ticks
    }

    /// Number of `cpuN` lines in `/proc/stat`.
    pub fn host_cpus(&self) -> Option<usize> {
        let text = std::fs::read_to_string(self.proc_root.join("stat")).ok()?;
        Some(count_cpus(&text))
    }

    /// Reads the current counters. Processes that exit while they are read are skipped.
    pub fn snapshot(&self) -> CpuSnapshot {
        let mut processes = HashMap::new();
        let Ok(entries) = std::fs::read_dir(&self.proc_root) else {
            return CpuSnapshot { processes, host: self.read_host().unwrap_or_default() };
        };
        for entry in entries.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|name| name.parse::<u32>().ok()) else {
                continue;
            };
            let Some(role) = self.role_of(&entry.path()) else {
                continue;
            };
            let Some(ticks) = std::fs::read_to_string(entry.path().join("stat")).ok().and_then(|t| parse_pid_stat(&t))
            else {
                continue;
            };
            processes.insert((pid, ticks.start_time), (role, ticks));
        }
        CpuSnapshot { processes, host: self.read_host().unwrap_or_default() }
    }

    fn read_host(&self) -> Option<HostTicks> {
        let text = std::fs::read_to_string(self.proc_root.join("stat")).ok()?;
        parse_host_stat(&text)
    }

    /// Returns the role of the process in `directory`, or `None` when it is not counted.
    fn role_of(&self, directory: &Path) -> Option<Role> {
        let comm = std::fs::read_to_string(directory.join("comm")).ok()?;
        match comm.trim_end_matches('\n') {
            DOCKERD_COMM => Some(Role::Dockerd),
            CONTAINERD_COMM => Some(Role::Containerd),
            SHIM_COMM => {
                let cmdline = std::fs::read(directory.join("cmdline")).ok()?;
                shim_serves(&cmdline, &self.container_ids).then_some(Role::Shim)
            }
            _ => None,
        }
    }
}

impl CpuSnapshot {
    /// CPU seconds used from `earlier` until this snapshot.
    ///
    /// A process in both snapshots counts with its difference and a process that started in
    /// between counts in full. A process that exited in between is missing from this snapshot,
    /// so its time in the window is not counted.
    pub fn usage_since(&self, earlier: &CpuSnapshot, clock_ticks: u64) -> CpuUsage {
        let mut ticks: HashMap<Role, u64> = HashMap::new();
        for (key, (role, now)) in &self.processes {
            let before = earlier.processes.get(key).map_or(0, |(_, before)| before.counted(*role));
            *ticks.entry(*role).or_default() += now.counted(*role).saturating_sub(before);
        }
        for (role, _) in earlier.processes.values() {
            ticks.entry(*role).or_default();
        }

        let seconds = |role| ticks.get(&role).map(|&t| t as f64 / clock_ticks as f64);
        let busy = self.host.busy.saturating_sub(earlier.host.busy);
        let total = self.host.total.saturating_sub(earlier.host.total);
        CpuUsage {
            dockerd_seconds: seconds(Role::Dockerd),
            containerd_seconds: seconds(Role::Containerd),
            shim_seconds: seconds(Role::Shim),
            host_busy_seconds: busy as f64 / clock_ticks as f64,
            host_busy_percent: if total == 0 { 0.0 } else { 100.0 * busy as f64 / total as f64 },
        }
    }
}

/// Parses `/proc/PID/stat`. The command name in field 2 may contain spaces and parentheses,
/// so the fields are counted from its last closing parenthesis.
pub fn parse_pid_stat(text: &str) -> Option<ProcessTicks> {
    let (_, rest) = text.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `fields[0]` is field 3 (state), so field N of proc(5) is `fields[N - 3]`.
    let field = |number: usize| fields.get(number - 3).and_then(|value| value.parse::<u64>().ok());
    Some(ProcessTicks {
        user: field(14)?,
        system: field(15)?,
        children_user: field(16)?,
        children_system: field(17)?,
        start_time: field(22)?,
    })
}

/// Parses the aggregate `cpu` line of `/proc/stat`: user, nice, system, idle, iowait, irq,
/// softirq, steal, then guest and guest_nice. Guest time is already part of user and nice
/// time, so it is not added again.
pub fn parse_host_stat(text: &str) -> Option<HostTicks> {
    let line = text.lines().find(|line| line.split_whitespace().next() == Some("cpu"))?;
    let values: Vec<u64> = line.split_whitespace().skip(1).map(|value| value.parse().ok()).collect::<Option<_>>()?;
    let [user, nice, system, idle, iowait, irq, softirq, steal, ..] = values[..] else {
        return None;
    };
    let busy = user + nice + system + irq + softirq + steal;
    Some(HostTicks { busy, total: busy + idle + iowait })
}

fn count_cpus(stat: &str) -> usize {
    stat.lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| name.strip_prefix("cpu").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())))
        .count()
}

/// Returns true when a shim's NUL-separated command line carries `-id ID` for one of
/// `container_ids`.
fn shim_serves(cmdline: &[u8], container_ids: &[String]) -> bool {
    let arguments: Vec<&[u8]> = cmdline.split(|&byte| byte == 0).collect();
    arguments.windows(2).any(|pair| pair[0] == b"-id" && container_ids.iter().any(|id| id.as_bytes() == pair[1]))
}

/// Clock ticks per second from `sysconf(_SC_CLK_TCK)`, or 100 when that fails.
pub fn clock_ticks_per_second() -> u64 {
    // SAFETY: sysconf reads a system constant; it takes no pointers and has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(ticks).ok().filter(|&ticks| ticks > 0).unwrap_or(FALLBACK_CLOCK_TICKS)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured from Debian's docker.io 20.10.24 on Linux 6.18.
    const DOCKERD_STAT: &str = "1425 (dockerd) S 1 1424 1424 0 -1 4194560 65345 1815969 18 112 3911 3596 \
        938 949 20 0 27 0 3361 2111770624 38171 18446744073709551615 94284332457984 9";
    const SHIM_STAT: &str = "24749 (containerd-shim) S 1 24749 1442 0 -1 4194304 4336 1574638 0 82 86 92 \
        1399 853 20 0 12 0 128433 1574490112 3634 18446744073709551615 6234112 109";
    const HOST_STAT: &str = "cpu  117867 0 63282 144053 1584 0 524 315 0 0\n\
        cpu0 56248 0 30472 76463 383 0 37 158 0 0\n\
        cpu1 61618 0 32809 67589 1200 0 487 157 0 0\n\
        intr 9023744 0 9 0\n\
        ctxt 18733467\n";

    #[test]
    fn pid_stat_fields() {
        let ticks = parse_pid_stat(DOCKERD_STAT).unwrap();
        assert_eq!(ticks.user, 3911);
        assert_eq!(ticks.system, 3596);
        assert_eq!(ticks.children_user, 938);
        assert_eq!(ticks.children_system, 949);
        assert_eq!(ticks.start_time, 3361);
    }

    #[test]
    fn shim_counts_reaped_children() {
        let shim = parse_pid_stat(SHIM_STAT).unwrap();
        assert_eq!(shim.counted(Role::Shim), 86 + 92 + 1399 + 853);
        let dockerd = parse_pid_stat(DOCKERD_STAT).unwrap();
        assert_eq!(dockerd.counted(Role::Dockerd), 3911 + 3596);
    }

    #[test]
    fn pid_stat_name_with_parentheses() {
        let text = DOCKERD_STAT.replace("(dockerd)", "(a) b (c))");
        let ticks = parse_pid_stat(&text).unwrap();
        assert_eq!(ticks.user, 3911);
        assert_eq!(ticks.start_time, 3361);
    }

    #[test]
    fn pid_stat_truncated() {
        assert_eq!(parse_pid_stat("1425 (dockerd) S 1 1424"), None);
        assert_eq!(parse_pid_stat("no parenthesis"), None);
    }

    #[test]
    fn host_stat_busy_and_total() {
        let host = parse_host_stat(HOST_STAT).unwrap();
        assert_eq!(host.busy, 117867 + 63282 + 524 + 315);
        assert_eq!(host.total, host.busy + 144053 + 1584);
        assert_eq!(count_cpus(HOST_STAT), 2);
    }

    #[test]
    fn host_stat_without_cpu_line() {
        assert_eq!(parse_host_stat("cpu0 1 2 3 4 5 6 7 8\n"), None);
        assert_eq!(parse_host_stat("cpu 1 2 3\n"), None);
    }

    #[test]
    fn shim_matched_by_container_id() {
        let cmdline = b"/usr/bin/containerd-shim-runc-v2\0-namespace\0moby\0-id\0abc123\0-address\0/run/c.sock\0";
        assert!(shim_serves(cmdline, &["abc123".to_owned()]));
        assert!(!shim_serves(cmdline, &["abc".to_owned()]));
        assert!(!shim_serves(cmdline, &[]));
    }

    /// Writes a fake /proc tree with dockerd, containerd, two shims and an unrelated process.
    fn fake_proc(root: &Path, dockerd_user: u64, shim_children: u64, host_busy: u64, host_idle: u64) {
        let process = |pid: u32, comm: &str, cmdline: &[u8], user: u64, children: u64| {
            let directory = root.join(pid.to_string());
            std::fs::create_dir_all(&directory).unwrap();
            std::fs::write(directory.join("comm"), format!("{comm}\n")).unwrap();
            std::fs::write(directory.join("cmdline"), cmdline).unwrap();
            let stat = format!("{pid} ({comm}) S 1 1 1 0 -1 0 0 0 0 0 {user} 10 {children} 0 20 0 1 0 500 0 0");
            std::fs::write(directory.join("stat"), stat).unwrap();
        };
        process(10, "dockerd", b"/usr/sbin/dockerd\0", dockerd_user, 7);
        process(11, "containerd", b"containerd\0", 50, 0);
        process(12, "containerd-shim", b"shim\0-id\0ours\0", 5, shim_children);
        process(13, "containerd-shim", b"shim\0-id\0theirs\0", 900, 900);
        process(14, "bash", b"bash\0", 999, 0);
        std::fs::write(root.join("stat"), format!("cpu  {host_busy} 0 0 {host_idle} 0 0 0 0 0 0\ncpu0 0 0 0 0\n"))
            .unwrap();
    }

    #[test]
    fn usage_between_snapshots() {
        let directory = tempfile::tempdir().unwrap();
        let probe = CpuProbe::with_root(directory.path(), vec!["ours".to_owned()], 100);

        fake_proc(directory.path(), 100, 20, 300, 1000);
        let before = probe.snapshot();
        fake_proc(directory.path(), 250, 70, 800, 1500);
        let after = probe.snapshot();
        let usage = after.usage_since(&before, probe.clock_ticks());

        assert_eq!(usage.dockerd_seconds, Some(1.5));
        assert_eq!(usage.containerd_seconds, Some(0.0));
        assert_eq!(usage.shim_seconds, Some(0.5));
        assert_eq!(usage.host_busy_seconds, 5.0);
        assert_eq!(usage.host_busy_percent, 50.0);
        assert_eq!(probe.host_cpus(), Some(1));
    }

    #[test]
    fn usage_without_engine_processes() {
        let directory = tempfile::tempdir().unwrap();
        std::fs::write(directory.path().join("stat"), "cpu  10 0 0 30 0 0 0 0 0 0\n").unwrap();
        let probe = CpuProbe::with_root(directory.path(), Vec::new(), 100);
        let snapshot = probe.snapshot();
        let usage = snapshot.usage_since(&snapshot, 100);
        assert_eq!(usage.dockerd_seconds, None);
        assert_eq!(usage.shim_seconds, None);
        assert_eq!(usage.host_busy_percent, 0.0);
    }

    #[test]
    fn clock_ticks_positive() {
        assert!(clock_ticks_per_second() > 0);
    }
}
