//! Facts that checks need from a container, and the parsers that turn tool output into them.
//!
//! Checks of one kind share one gathering command: one `dpkg-query` serves every package
//! check, one `stat` every file check, one `getent passwd` every user check. [`FactNeeds`]
//! collects what a suite's checks ask for; the script module turns it into commands; the
//! parsers here read the outputs back into [`Facts`].

pub mod api;
pub mod parse;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use crate::report::model::CommandOutput;

pub use parse::{FileStat, GroupEntry, PackageDb, PackageInfo, PasswdEntry};

/// Facts that the checks of one suite need, deduplicated and sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FactNeeds {
    pub packages: BTreeSet<String>,
    /// Paths to `stat` (without following a final symlink).
    pub stat_paths: BTreeSet<String>,
    /// Paths whose owner and group are compared; the archive API needs a tar header for them.
    pub owner_paths: BTreeSet<String>,
    /// Paths whose symlink target is read.
    pub link_paths: BTreeSet<String>,
    /// Paths whose contents are read.
    pub content_paths: BTreeSet<String>,
    /// Paths whose SHA-256 digest is computed.
    pub digest_paths: BTreeSet<String>,
    /// User names looked up in the passwd database.
    pub users: BTreeSet<String>,
    /// Whether the whole group database is read (group checks and user group membership).
    pub groups: bool,
    /// Whether the image configuration is read (metadata checks).
    pub image_metadata: bool,
    /// Whether the `/proc/net` socket tables are read (port checks).
    pub sockets: bool,
    /// Whether the process list is read (process checks).
    pub processes: bool,
}

impl FactNeeds {
    pub fn is_empty(&self) -> bool {
        self == &FactNeeds::default()
    }

    /// True when gathering needs a process in the container, which the archive API cannot
    /// replace: `/proc` exists only while the container runs.
    pub fn needs_running_container(&self) -> bool {
        self.sockets || self.processes
    }
}

/// Output of one command that the batch script ran, as decoded from its framing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawOutput {
    pub output: CommandOutput,
    pub duration: Duration,
    /// The command could not start because its working directory is missing or not accessible.
    pub workdir_failed: bool,
}

impl RawOutput {
    /// Describes how a gathering command failed, for error messages.
    pub fn failure_text(&self, tool: &str) -> String {
        let stderr = String::from_utf8_lossy(&self.output.stderr);
        let stderr = stderr.trim();
        match self.output.exit_status {
            _ if self.output.timed_out => format!("{tool} timed out"),
            Some(127) => format!("{tool} not found in the container (exit status 127: {stderr})"),
            Some(status) if stderr.is_empty() => format!("{tool} failed with exit status {status}"),
            Some(status) => format!("{tool} failed with exit status {status}: {stderr}"),
            None => format!("{tool} was killed"),
        }
    }
}

/// A gathered fact, or why it could not be gathered, with the time its command took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gathered<T> {
    pub value: Result<T, String>,
    pub duration: Duration,
}

impl<T> Gathered<T> {
    pub fn new(value: Result<T, String>, duration: Duration) -> Self {
        Gathered { value, duration }
    }
}

/// Everything gathered for one suite. A fact that was not requested is `None`.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub packages: Option<Gathered<PackageDb>>,
    pub stats: Option<Gathered<BTreeMap<String, Result<FileStat, String>>>>,
    /// Symlink targets; `Ok(None)` when the path is not a symlink or does not exist.
    pub link_targets: HashMap<String, Gathered<Option<String>>>,
    pub contents: HashMap<String, Gathered<CommandOutput>>,
    pub digests: Option<Gathered<BTreeMap<String, String>>>,
    pub passwd: Option<Gathered<BTreeMap<String, PasswdEntry>>>,
    pub groups: Option<Gathered<Vec<GroupEntry>>>,
    pub image_metadata: Option<Gathered<crate::check::metadata::ImageMetadata>>,
    pub sockets: Option<Gathered<Vec<crate::check::port::Socket>>>,
    pub processes: Option<Gathered<Vec<crate::check::process::ProcessInfo>>>,
    /// Outputs of command checks by check index; `Err` when the command did not report.
    pub commands: HashMap<usize, Result<RawOutput, String>>,
}

/// Builds [`Facts`] from the outputs of a suite's items. `terminator` is the record terminator
/// used in the `stat` format. An `Err` output means the item never reported (its batch failed).
pub fn assemble(
    outputs: Vec<(crate::script::ItemKind, Result<RawOutput, String>)>,
    needs: &FactNeeds,
    terminator: &str,
    own_marker: &str,
) -> Facts {
    let mut facts = Facts::default();
    assemble_into(&mut facts, outputs, needs, terminator, own_marker);
    facts
}

/// Adds the facts parsed from `outputs` to `facts`.
pub fn assemble_into(
    facts: &mut Facts,
    outputs: Vec<(crate::script::ItemKind, Result<RawOutput, String>)>,
    needs: &FactNeeds,
    terminator: &str,
    own_marker: &str,
) {
    use crate::script::ItemKind;

    for (kind, output) in outputs {
        let tool = kind.tool();
        match kind {
            ItemKind::Packages => {
                facts.packages = Some(gather(&output, tool, |raw| parse::parse_packages(&raw.output.stdout)));
            }
            ItemKind::Stat => {
                facts.stats = Some(gather(&output, tool, |raw| {
                    Ok(parse::parse_stat(&raw.output.stdout, &raw.output.stderr, terminator, &needs.stat_paths))
                }));
            }
            ItemKind::LinkTarget(path) => {
                let gathered = gather(&output, tool, |raw| {
                    let is_link = raw.output.exit_status == Some(0);
                    Ok(is_link.then(|| parse::parse_link_target(&raw.output.stdout)))
                });
                facts.link_targets.insert(path, gathered);
            }
            ItemKind::Contents(path) => {
                let gathered = gather(&output, tool, |raw| match raw.output.exit_status {
                    Some(0) => Ok(raw.output.clone()),
                    _ => Err(raw.failure_text("reading the file")),
                });
                facts.contents.insert(path, gathered);
            }
            ItemKind::Digests => {
                facts.digests = Some(gather(&output, tool, |raw| Ok(parse::parse_digests(&raw.output.stdout))));
            }
            ItemKind::Passwd => {
                facts.passwd =
                    Some(gather(&output, tool, |raw| Ok(parse::parse_passwd(&raw.output.stdout, &needs.users))));
            }
            ItemKind::Groups => {
                facts.groups = Some(gather(&output, tool, |raw| {
                    if raw.output.exit_status != Some(0) && raw.output.stdout.is_empty() {
                        return Err(raw.failure_text(tool));
                    }
                    Ok(parse::parse_groups(&raw.output.stdout))
                }));
            }
            ItemKind::Sockets => {
                facts.sockets = Some(gather(&output, tool, |raw| {
                    Ok(crate::check::port::parse_sockets(&String::from_utf8_lossy(&raw.output.stdout)))
                }));
            }
            ItemKind::Processes => {
                facts.processes = Some(gather(&output, tool, |raw| {
                    Ok(crate::check::process::parse_processes(&raw.output.stdout, terminator, own_marker))
                }));
            }
            ItemKind::Command(index) => {
                facts.commands.insert(index, output);
            }
        }
    }
}

/// Parses one gathering output. A missing tool (exit status 127), a timeout or a batch that
/// never reported makes the fact an error.
fn gather<T>(
    output: &Result<RawOutput, String>,
    tool: &str,
    parse: impl FnOnce(&RawOutput) -> Result<T, String>,
) -> Gathered<T> {
    match output {
        Ok(raw) if raw.output.timed_out || raw.output.exit_status == Some(127) => {
            Gathered::new(Err(raw.failure_text(tool)), raw.duration)
        }
        Ok(raw) => Gathered::new(parse(raw), raw.duration),
        Err(message) => Gathered::new(Err(message.clone()), Duration::ZERO),
    }
}
