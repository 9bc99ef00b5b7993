//! Run reports shared by the reporter tests: one representative run with fixed durations for the
//! snapshots, and one whose text fields hold bytes that break terminals and XML.

use std::time::Duration;

use super::model::{Assertion, CheckResult, CommandOutput, Outcome, RunReport, SuiteResult, Target};

pub(crate) fn assertion(property: &str, expected: &str, actual: &str, passed: bool) -> Assertion {
    Assertion { property: property.to_owned(), expected: expected.to_owned(), actual: actual.to_owned(), passed }
}

pub(crate) fn output(exit_status: Option<i64>, stdout: &[u8], stderr: &[u8]) -> CommandOutput {
    CommandOutput {
        exit_status,
        stdout: stdout.to_vec(),
        stderr: stderr.to_vec(),
        stdout_len: stdout.len() as u64,
        stderr_len: stderr.len() as u64,
        timed_out: false,
    }
}

pub(crate) fn check(index: usize, name: &str, kind: &'static str, outcome: Outcome, millis: u64) -> CheckResult {
    CheckResult {
        index,
        name: name.to_owned(),
        kind,
        line: 3 + 6 * index as u64,
        outcome,
        duration: Duration::from_millis(millis),
        assertions: Vec::new(),
        message: None,
        output: None,
    }
}

pub(crate) fn debian_target() -> Target {
    Target { image: Some("specrun-fixture/debian:bookworm".to_owned()), container: "specrun-3f2a1c-0".to_owned() }
}

/// Builds a run with one check of each outcome: a passed command, a failed file check (mode and
/// owner), a failed command with output, an errored package check and a skipped user check.
pub(crate) fn representative_report() -> RunReport {
    let mut passed = check(0, "uname reports Linux", "command", Outcome::Passed, 12);
    passed.assertions =
        vec![assertion("exit_status", "0", "0", true), assertion("stdout", "contains \"Linux\"", "Linux", true)];
    passed.output = Some(output(Some(0), b"Linux\n", b""));

    let mut failed_file = check(1, "file /etc/hosts", "file", Outcome::Failed, 3);
    failed_file.assertions = vec![
        assertion("exists", "true", "true", true),
        assertion("mode", "0644", "0600", false),
        assertion("owner", "root", "nobody", false),
    ];

    let mut failed_command = check(2, "dpkg verifies installed files", "command", Outcome::Failed, 230);
    failed_command.assertions = vec![assertion("exit_status", "0", "2", false)];
    failed_command.output = Some(output(
        Some(2),
        b"??5?????? c /etc/ssh/sshd_config\nmissing     /usr/share/doc/base-files/README\n",
        b"dpkg: warning: files list file for package 'libfoo1:amd64' missing\n",
    ));

    let mut errored = check(3, "package openssl", "package", Outcome::Error, 1);
    errored.message = Some("dpkg-query not found in container".to_owned());

    let mut skipped = check(4, "user postgres", "user", Outcome::Skipped, 0);
    skipped.message = Some("skip: true in the spec".to_owned());

    let suite = SuiteResult {
        spec: "specs/debian.yml".to_owned(),
        target: debian_target(),
        checks: vec![passed, failed_file, failed_command, errored, skipped],
        duration: Duration::from_millis(1_520),
        exec_calls: 4,
    };
    RunReport::new(vec![suite], 1, Duration::from_millis(1_840))
}

/// Bytes that terminals act on or that XML 1.0 does not allow, with markup characters, invalid
/// UTF-8 and a line longer than any display limit.
pub(crate) fn nasty_bytes() -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"nul \x00 esc \x1b[31mred\x1b[0m \x1b]0;title\x07 form feed \x0c del \x7f\n");
    bytes.extend_from_slice(b"invalid utf-8 \xff\xfe \xc3 end\n");
    bytes.extend_from_slice(b"cdata end ]]> markup <script>&amp;\"'</script>\n");
    bytes.extend_from_slice("noncharacters \u{fffe}\u{ffff} c1 \u{9b}2J bidi \u{202e}txt\n".as_bytes());
    bytes.extend_from_slice(b"crlf line\r\nprogress 50%\r100%\n\ttabbed\n");
    bytes.extend(std::iter::repeat_n(b'x', 5_000));
    bytes.push(b'\n');
    bytes.extend(0u8..=255);
    bytes
}

/// Text with the same hazards as [`nasty_bytes`], for the `String` fields of the model.
pub(crate) fn nasty_text() -> String {
    "a\0b \x1b[2J\x0c ]]> <tag attr=\"x\">&amp;' \u{ffff}\u{fffe} \u{9b}c \u{202e}d\r\ne\tf".to_owned()
}

/// Builds a run whose every text field carries hostile content.
pub(crate) fn nasty_report() -> RunReport {
    let text = nasty_text();
    let bytes = nasty_bytes();

    let mut failed = check(0, &format!("command {text}"), "command", Outcome::Failed, 7);
    failed.assertions = vec![
        assertion(&text, &text, &text, false),
        assertion("stdout", "contains \"ok\"", &String::from_utf8_lossy(&bytes), false),
    ];
    failed.message = Some(text.clone());
    let mut capped = output(None, &bytes, &bytes);
    capped.stdout_len = 1 << 20;
    capped.timed_out = true;
    failed.output = Some(capped);

    let mut errored = check(1, &text, "file", Outcome::Error, 2);
    errored.message = Some(text.clone());
    errored.output = Some(output(Some(126), &bytes, b""));

    let mut skipped = check(2, &text, "user", Outcome::Skipped, 0);
    skipped.message = Some(text.clone());

    let mut passed = check(3, &text, "command", Outcome::Passed, 1);
    passed.assertions = vec![assertion(&text, &text, &text, true)];
    passed.output = Some(output(Some(0), &bytes, &bytes));

    let suite = SuiteResult {
        spec: format!("specs/{text}.yml"),
        target: Target { image: Some(text.clone()), container: text.clone() },
        checks: vec![failed, errored, skipped, passed],
        duration: Duration::from_millis(10),
        exec_calls: 3,
    };
    let no_image = SuiteResult {
        spec: "specs/plain.yml".to_owned(),
        target: Target { image: None, container: text },
        checks: vec![check(0, "empty output", "command", Outcome::Failed, 1)],
        duration: Duration::ZERO,
        exec_calls: 0,
    };
    RunReport::new(vec![suite, no_image], 2, Duration::from_millis(25))
}
