//! Check kinds: what a spec asks for, the facts each kind needs and how facts become a verdict.
//!
//! [`CheckKind`] lists every kind, so an exhaustive `match` on it marks each place that a new
//! kind must be handled: fact requests here, the script in `script`, evaluation in each module.

pub mod command;
pub mod file;
pub mod group;
pub mod metadata;
pub mod package;
pub mod port;
pub mod process;
pub mod user;

use std::time::Duration;

use crate::facts::{FactNeeds, Facts};
use crate::report::model::{Assertion, CheckResult, CommandOutput, Outcome};

/// One validated check of a spec file.
#[derive(Clone, Debug)]
pub struct Check {
    /// Zero-based position among the checks of its spec, after short forms are expanded.
    pub index: usize,
    /// 1-based line and column of the check in its spec file.
    pub line: u64,
    pub column: u64,
    pub name: String,
    pub tags: Vec<String>,
    pub timeout: Option<Duration>,
    /// `Some(reason)` when the spec marks the check as skipped; the reason may be empty.
    pub skip: Option<String>,
    pub kind: CheckKind,
}

#[derive(Clone, Debug)]
pub enum CheckKind {
    Command(command::CommandCheck),
    File(file::FileCheck),
    Package(package::PackageCheck),
    User(user::UserCheck),
    Group(group::GroupCheck),
    Metadata(Box<metadata::MetadataCheck>),
    Port(port::PortCheck),
    Process(process::ProcessCheck),
}

impl CheckKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            CheckKind::Command(_) => "command",
            CheckKind::File(_) => "file",
            CheckKind::Package(_) => "package",
            CheckKind::User(_) => "user",
            CheckKind::Group(_) => "group",
            CheckKind::Metadata(_) => "metadata",
            CheckKind::Port(_) => "port",
            CheckKind::Process(_) => "process",
        }
    }

    /// Name used when the spec gives none, such as `file /etc/passwd`.
    pub fn default_name(&self) -> String {
        match self {
            CheckKind::Command(check) => format!("command `{}`", check.command.display()),
            CheckKind::File(check) => format!("file {}", check.path),
            CheckKind::Package(check) => format!("package {}", check.name),
            CheckKind::User(check) => format!("user {}", check.name),
            CheckKind::Group(check) => format!("group {}", check.name),
            CheckKind::Metadata(_) => "image metadata".to_owned(),
            CheckKind::Port(check) => format!("port {}/{}", check.port, check.protocol.as_str()),
            CheckKind::Process(check) => format!("process {}", check.name),
        }
    }
}

impl Check {
    /// Records the facts this check needs; command checks are planned one by one elsewhere.
    pub fn request_facts(&self, needs: &mut FactNeeds) {
        match &self.kind {
            CheckKind::Command(_) => {}
            CheckKind::File(check) => check.request_facts(needs),
            CheckKind::Package(check) => check.request_facts(needs),
            CheckKind::User(check) => check.request_facts(needs),
            CheckKind::Group(check) => check.request_facts(needs),
            CheckKind::Metadata(check) => check.request_facts(needs),
            CheckKind::Port(check) => check.request_facts(needs),
            CheckKind::Process(check) => check.request_facts(needs),
        }
    }

    /// Turns gathered facts into this check's result.
    pub fn evaluate(&self, facts: &Facts) -> CheckResult {
        if let Some(reason) = &self.skip {
            let message = (!reason.is_empty()).then(|| reason.clone());
            return self.result(Evaluation::skipped(message), Duration::ZERO);
        }
        let (evaluation, duration) = match &self.kind {
            CheckKind::Command(check) => check.evaluate(self.index, facts),
            CheckKind::File(check) => check.evaluate(facts),
            CheckKind::Package(check) => check.evaluate(facts),
            CheckKind::User(check) => check.evaluate(facts),
            CheckKind::Group(check) => check.evaluate(facts),
            CheckKind::Metadata(check) => check.evaluate(facts),
            CheckKind::Port(check) => check.evaluate(facts),
            CheckKind::Process(check) => check.evaluate(facts),
        };
        self.result(evaluation, duration)
    }

    /// Result for a check that could not be evaluated at all, such as after its container stopped.
    pub fn error_result(&self, message: impl Into<String>) -> CheckResult {
        if self.skip.is_some() {
            return self.evaluate(&Facts::default());
        }
        self.result(Evaluation::error(message), Duration::ZERO)
    }

    fn result(&self, evaluation: Evaluation, duration: Duration) -> CheckResult {
        CheckResult {
            index: self.index,
            name: self.name.clone(),
            kind: self.kind.as_str(),
            line: self.line,
            outcome: evaluation.outcome,
            duration,
            assertions: evaluation.assertions,
            message: evaluation.message,
            output: evaluation.output,
        }
    }
}

/// Verdict under construction: assertions are added one property at a time.
#[derive(Debug, Default)]
pub struct Evaluation {
    outcome: Outcome,
    assertions: Vec<Assertion>,
    message: Option<String>,
    output: Option<CommandOutput>,
}

impl Evaluation {
    pub fn new() -> Self {
        Evaluation::default()
    }

    pub fn error(message: impl Into<String>) -> Self {
        Evaluation { outcome: Outcome::Error, message: Some(message.into()), ..Evaluation::default() }
    }

    pub fn skipped(message: Option<String>) -> Self {
        Evaluation { outcome: Outcome::Skipped, message, ..Evaluation::default() }
    }

    /// Records one compared property; a failed one makes the check fail unless it already errored.
    pub fn assert(&mut self, property: &str, expected: impl Into<String>, actual: impl Into<String>, passed: bool) {
        self.assertions.push(Assertion {
            property: property.to_owned(),
            expected: expected.into(),
            actual: actual.into(),
            passed,
        });
        if !passed && self.outcome == Outcome::Passed {
            self.outcome = Outcome::Failed;
        }
    }

    /// Marks the check as not evaluable; an error outranks a failure.
    pub fn set_error(&mut self, message: impl Into<String>) {
        self.outcome = Outcome::Error;
        self.message = Some(message.into());
    }

    pub fn set_output(&mut self, output: CommandOutput) {
        self.output = Some(output);
    }
}

/// Renders an optional observed value, with `(absent)` for objects that do not exist.
pub fn absent_or<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "(absent)".to_owned(), |value| value.to_string())
}
