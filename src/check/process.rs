//! Process checks: whether processes with a name run, read from `/proc/PID/{comm,cmdline,status}`
//! inside the container, so no `ps` is needed.

use std::time::Duration;

use crate::check::Evaluation;
use crate::facts::{FactNeeds, Facts};
use crate::matcher::NumberMatcher;

/// One process as read from `/proc`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessInfo {
    pub pid: u32,
    pub ppid: u32,
    pub uid: u32,
    /// Kernel name of the process, cut to 15 bytes.
    pub comm: String,
    /// Arguments; empty for kernel threads and zombies.
    pub argv: Vec<String>,
}

impl ProcessInfo {
    /// Matches `comm`, or the file name of `argv[0]`, which keeps names longer than 15 bytes.
    /// A script run by an interpreter has the interpreter in `argv[0]` and the script's name,
    /// cut to 15 bytes, in `comm`. Then a later argument whose file name is `name` matches.
    pub fn has_name(&self, name: &str) -> bool {
        let file_name = |argument: &String| argument.rsplit('/').next().unwrap_or(argument).to_owned();
        if self.comm == name || self.argv.first().map(file_name).as_deref() == Some(name) {
            return true;
        }
        let truncated = name.len() > 15 && !self.comm.is_empty() && name.starts_with(&self.comm);
        truncated && self.argv.iter().skip(1).any(|argument| file_name(argument) == name)
    }
}

#[derive(Clone, Debug)]
pub struct ProcessCheck {
    pub name: String,
    pub running: bool,
    /// Owner as a user name or a numeric uid.
    pub user: Option<String>,
    pub count: Option<NumberMatcher>,
}

impl ProcessCheck {
    pub fn request_facts(&self, needs: &mut FactNeeds) {
        needs.processes = true;
        if let Some(user) = &self.user
            && user.parse::<u32>().is_err()
        {
            needs.users.insert(user.clone());
        }
    }

    pub fn evaluate(&self, facts: &Facts) -> (Evaluation, Duration) {
        let Some(gathered) = &facts.processes else {
            return (Evaluation::error("the process list was not gathered"), Duration::ZERO);
        };
        let processes = match &gathered.value {
            Ok(processes) => processes,
            Err(message) => return (Evaluation::error(message.clone()), gathered.duration),
        };
        let mut evaluation = Evaluation::new();
        let uid = match self.expected_uid(facts) {
            Ok(uid) => uid,
            Err(message) => return (Evaluation::error(message), gathered.duration),
        };

        let named: Vec<&ProcessInfo> = processes.iter().filter(|process| process.has_name(&self.name)).collect();
        let expected = if self.running { "running" } else { "not running" };
        let actual = if named.is_empty() { "not running".to_owned() } else { format!("running ({})", pids(&named)) };
        evaluation.assert("running", expected, actual, named.is_empty() != self.running);

        if let Some(uid) = uid {
            let owned: Vec<&ProcessInfo> = named.iter().copied().filter(|process| process.uid == uid).collect();
            let uids: Vec<String> = named.iter().map(|process| process.uid.to_string()).collect();
            let shown = format!("uid {}", if uids.is_empty() { "(none)".to_owned() } else { uids.join(", ") });
            let user = self.user.as_deref().unwrap_or_default();
            evaluation.assert("user", format!("{user} (uid {uid})"), shown, !owned.is_empty() || named.is_empty());
        }
        if let Some(count) = &self.count {
            let matching = named.iter().filter(|process| uid.is_none_or(|uid| process.uid == uid)).count();
            evaluation.assert("count", count.to_string(), matching.to_string(), count.is_match(matching as i64));
        }
        (evaluation, gathered.duration)
    }

    fn expected_uid(&self, facts: &Facts) -> Result<Option<u32>, String> {
        let Some(user) = &self.user else { return Ok(None) };
        if let Ok(uid) = user.parse() {
            return Ok(Some(uid));
        }
        let passwd = facts.passwd.as_ref().ok_or("user facts were not gathered")?;
        let entries = passwd.value.as_ref().map_err(Clone::clone)?;
        match entries.get(user) {
            Some(entry) => Ok(Some(entry.uid)),
            None => Err(format!("user {user:?} has no passwd entry in the container; write a numeric uid instead")),
        }
    }
}

fn pids(processes: &[&ProcessInfo]) -> String {
    let pids: Vec<String> = processes.iter().map(|process| format!("pid {}", process.pid)).collect();
    pids.join(", ")
}

/// Parses process records `pid<TAB>ppid<TAB>uid<TAB>comm<TAB>cmdline` each followed by
/// `\n<terminator>\n`, where cmdline separates arguments with NUL bytes. Processes that descend
/// from a process whose command line contains `own_marker` (the batch script itself) are left
/// out, so the gathering commands never count as the processes under test.
pub fn parse_processes(output: &[u8], terminator: &str, own_marker: &str) -> Vec<ProcessInfo> {
    let separator = format!("\n{terminator}\n").into_bytes();
    let mut processes = Vec::new();
    let mut own = Vec::new();
    for record in split_bytes(output, &separator) {
        let mut fields = record.splitn(5, |&byte| byte == b'\t');
        let parsed = (|| {
            let pid = std::str::from_utf8(fields.next()?).ok()?.parse().ok()?;
            let ppid = std::str::from_utf8(fields.next()?).ok()?.parse().ok()?;
            let uid = std::str::from_utf8(fields.next()?).ok()?.parse().ok()?;
            let comm = String::from_utf8_lossy(fields.next()?).into_owned();
            let cmdline = fields.next().unwrap_or_default();
            Some((pid, ppid, uid, comm, cmdline))
        })();
        let Some((pid, ppid, uid, comm, cmdline)) = parsed else { continue };
        if contains(cmdline, own_marker.as_bytes()) {
            own.push(pid);
        }
        let argv = cmdline
            .split(|&byte| byte == 0)
            .filter(|argument| !argument.is_empty())
            .map(|argument| String::from_utf8_lossy(argument).into_owned())
            .collect();
        processes.push(ProcessInfo { pid, ppid, uid, comm, argv });
    }

    // Children of the script's processes (such as `cat` reading a cmdline, or a watchdog's
    // `sleep`) are the script's own too.
    loop {
        let before = own.len();
        for process in &processes {
            if own.contains(&process.ppid) && !own.contains(&process.pid) {
                own.push(process.pid);
            }
        }
        if own.len() == before {
            break;
        }
    }
    processes.retain(|process| !own.contains(&process.pid));
    processes
}

fn split_bytes<'a>(data: &'a [u8], separator: &'a [u8]) -> impl Iterator<Item = &'a [u8]> {
    let mut rest = data;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match rest.windows(separator.len()).position(|window| window == separator) {
            Some(position) => {
                let record = &rest[..position];
                rest = &rest[position + separator.len()..];
                Some(record)
            }
            None => {
                let record = rest;
                rest = &[];
                Some(record)
            }
        }
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_records_and_drops_own_processes() {
        let term = "<n0nce>";
        let mut output = Vec::new();
        let mut record = |pid: &str, ppid: &str, uid: &str, comm: &str, cmdline: &[u8]| {
            output.extend_from_slice(format!("{pid}\t{ppid}\t{uid}\t{comm}\t").as_bytes());
            output.extend_from_slice(cmdline);
            output.extend_from_slice(format!("\n{term}\n").as_bytes());
        };
        record("1", "0", "0", "sh", b"sh\0");
        record("7", "1", "65534", "long-running-wo", b"long-running-worker-process\x00100\x00");
        record("20", "0", "0", "sh", b"/bin/sh\0-c\0script <n0nce>\0");
        record("21", "20", "0", "cat", b"cat\0/proc/21/cmdline\0");
        record("22", "21", "0", "sleep", b"sleep\x001\0");
        let processes = parse_processes(&output, term, "n0nce");
        let pids: Vec<u32> = processes.iter().map(|process| process.pid).collect();
        assert_eq!(pids, [1, 7]);
        assert_eq!(processes[1].argv, ["long-running-worker-process", "100"]);
        assert!(processes[1].has_name("long-running-worker-process"));
        assert!(processes[1].has_name("long-running-wo"));
        assert!(!processes[1].has_name("long-running"));

        let script = ProcessInfo {
            pid: 10,
            ppid: 1,
            uid: 65534,
            comm: "long-running-wo".into(),
            argv: vec!["/bin/sh".into(), "/usr/local/bin/long-running-worker-process".into()],
        };
        assert!(script.has_name("long-running-worker-process"));
        assert!(!script.has_name("sh-worker-process-other"));
        assert!(script.has_name("sh"));
        assert_eq!(processes[1].uid, 65534);
    }
}
