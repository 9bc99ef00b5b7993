//! Result data that the runner produces and every reporter reads.
//!
//! A failed check is data here, never an error: reporters render these values and the binary
//! maps [`RunReport::all_passed`] to an exit status.

use std::time::Duration;

use serde::Serialize;

/// Verdict of one check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    #[default]
    Passed,
    Failed,
    /// The check could not be evaluated: a missing tool, a stopped container, a failed exec or a
    /// timeout. Never counted as passed.
    Error,
    Skipped,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::Error => "error",
            Outcome::Skipped => "skipped",
        }
    }
}

/// One property that a check compared, such as `mode` or `stdout`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Assertion {
    /// Property name as written in the spec (`exit_status`, `stdout`, `mode`, `version`, ...).
    pub property: String,
    /// The expectation, rendered for people (`contains "1.2"`, `0644`, `>= 5.0`).
    pub expected: String,
    /// The observed value, rendered for people; `(absent)` when the object does not exist.
    pub actual: String,
    pub passed: bool,
}

/// Captured result of a command that a check ran.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CommandOutput {
    /// Exit status of the command; `None` when it was killed after its timeout.
    pub exit_status: Option<i64>,
    #[serde(serialize_with = "serialize_lossy")]
    pub stdout: Vec<u8>,
    #[serde(serialize_with = "serialize_lossy")]
    pub stderr: Vec<u8>,
    /// Full byte length of stdout before capping; larger than `stdout.len()` when capped.
    pub stdout_len: u64,
    /// Full byte length of stderr before capping; larger than `stderr.len()` when capped.
    pub stderr_len: u64,
    pub timed_out: bool,
}

impl CommandOutput {
    pub fn stdout_truncated(&self) -> bool {
        self.stdout_len > self.stdout.len() as u64
    }

    pub fn stderr_truncated(&self) -> bool {
        self.stderr_len > self.stderr.len() as u64
    }
}

fn serialize_lossy<S: serde::Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&String::from_utf8_lossy(bytes))
}

/// Result of one check on one target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    /// Zero-based position of the check in its spec file.
    pub index: usize,
    /// Readable name: the spec's `name`, or one derived from the check (`file /etc/passwd`).
    pub name: String,
    /// Check kind: `command`, `file`, `package`, `user` or `group`.
    pub kind: &'static str,
    /// 1-based line of the check in its spec file.
    pub line: u64,
    pub outcome: Outcome,
    #[serde(serialize_with = "serialize_seconds")]
    pub duration: Duration,
    /// Every property compared, passed or not, in spec order.
    pub assertions: Vec<Assertion>,
    /// Reason the check errored or was skipped.
    pub message: Option<String>,
    /// Output of the command that produced the facts, when there is one worth showing.
    pub output: Option<CommandOutput>,
}

/// Image and container that a suite ran against.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Target {
    /// Image reference when specrun created the container from an image.
    pub image: Option<String>,
    /// Container name or id as the user gave it, or the created container's name.
    pub container: String,
}

impl Target {
    /// Label for headers and JUnit suite names: the image when there is one, else the container.
    pub fn label(&self) -> &str {
        self.image.as_deref().unwrap_or(&self.container)
    }
}

/// Results of one spec file against one target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SuiteResult {
    /// Spec file path as given on the command line.
    pub spec: String,
    pub target: Target,
    pub checks: Vec<CheckResult>,
    #[serde(serialize_with = "serialize_seconds")]
    pub duration: Duration,
    /// Exec calls that this suite made.
    pub exec_calls: u64,
}

impl SuiteResult {
    pub fn count(&self, outcome: Outcome) -> usize {
        self.checks.iter().filter(|check| check.outcome == outcome).count()
    }
}

/// Totals over a whole run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
    pub skipped: usize,
    pub containers: usize,
    pub exec_calls: u64,
    #[serde(serialize_with = "serialize_seconds")]
    pub wall_time: Duration,
}

impl Summary {
    pub fn total(&self) -> usize {
        self.passed + self.failed + self.errors + self.skipped
    }

    /// Checks evaluated per second of wall time; zero for an instant run.
    pub fn checks_per_second(&self) -> f64 {
        let seconds = self.wall_time.as_secs_f64();
        if seconds > 0.0 { self.total() as f64 / seconds } else { 0.0 }
    }
}

/// Everything a run produced, in spec-file then target order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RunReport {
    pub suites: Vec<SuiteResult>,
    pub summary: Summary,
}

impl RunReport {
    /// Builds the report and its totals from finished suites.
    pub fn new(suites: Vec<SuiteResult>, containers: usize, wall_time: Duration) -> Self {
        let mut summary = Summary { containers, wall_time, ..Summary::default() };
        for suite in &suites {
            summary.exec_calls += suite.exec_calls;
            for check in &suite.checks {
                match check.outcome {
                    Outcome::Passed => summary.passed += 1,
                    Outcome::Failed => summary.failed += 1,
                    Outcome::Error => summary.errors += 1,
                    Outcome::Skipped => summary.skipped += 1,
                }
            }
        }
        RunReport { suites, summary }
    }

    /// True when every check passed or was skipped.
    pub fn all_passed(&self) -> bool {
        self.summary.failed == 0 && self.summary.errors == 0
    }
}

fn serialize_seconds<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    // Dividing the nanoseconds keeps values such as 1.84 s exact in decimal output.
    serializer.serialize_f64(duration.as_nanos() as f64 / 1e9)
}
