//! JUnit XML report for CI systems, written with the `quick-junit` crate.
//!
//! Layout: one `<testsuite>` per spec file and target, named `{spec} on {target}`, and one
//! `<testcase>` per check, whose classname is `{spec}[{target}]`. The target is the image when
//! there is one, else the container. A failed check gets a `<failure>`, an errored check an
//! `<error>` and a skipped check a `<skipped>` element. Captured command output goes into the
//! test case's `<system-out>` and `<system-err>`.
//!
//! Every string is escaped before it reaches the crate (see [`escape`](super::escape)), so the
//! document is valid XML 1.0 for any command output. Tabs and carriage returns are written as
//! `\t` and `\r`, because quick-junit 0.8 drops both from text (its `XmlString` strips terminal
//! escape sequences and control characters). Newlines stay as they are in element text and
//! become `\n` in attributes, where XML parsers would turn them into spaces.

use std::io::Write;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::escape::{self, Keep};
use super::model::{CheckResult, CommandOutput, Outcome, RunReport, SuiteResult};

/// Name of the `<testsuites>` root element.
pub const REPORT_NAME: &str = "specrun";

/// Maximum bytes of a `message` attribute. The element text contains the full details.
pub const MAX_MESSAGE_BYTES: usize = 1_000;

/// Newlines are kept in element text, and tabs are escaped because quick-junit would drop them.
const ELEMENT_TEXT: Keep = Keep { newline: true, tab: false };

/// Error from [`write_junit`]: writing to the output failed.
#[derive(Debug, thiserror::Error)]
#[error("failed to write the JUnit XML report")]
pub struct JunitError(#[from] quick_junit::SerializeError);

/// Writes `report` as a JUnit XML document, ending with a newline.
///
/// # Errors
///
/// Returns [`JunitError`] when writing to `out` fails.
pub fn write_junit(out: &mut impl Write, report: &RunReport) -> Result<(), JunitError> {
    let mut junit = Report::new(REPORT_NAME);
    junit.set_time(report.summary.wall_time);
    for suite in &report.suites {
        junit.add_test_suite(test_suite(suite));
    }
    junit.serialize(out)?;
    Ok(())
}

fn test_suite(suite: &SuiteResult) -> TestSuite {
    let label = suite.target.label();
    let mut test_suite = TestSuite::new(attribute(&format!("{} on {label}", suite.spec)));
    test_suite.set_time(suite.duration);
    if let Some(image) = &suite.target.image {
        test_suite.add_property(Property::new("image", attribute(image)));
    }
    test_suite.add_property(Property::new("container", attribute(&suite.target.container)));

    let classname = attribute(&format!("{}[{label}]", suite.spec));
    for check in &suite.checks {
        test_suite.add_test_case(test_case(check, &classname));
    }
    test_suite
}

fn test_case(check: &CheckResult, classname: &str) -> TestCase {
    let mut test_case = TestCase::new(attribute(&check.name), status(check));
    test_case.set_classname(classname);
    test_case.set_time(check.duration);

    if let Some(output) = &check.output {
        if !output.stdout.is_empty() {
            test_case.set_system_out(element_text(&String::from_utf8_lossy(&output.stdout)));
        }
        if !output.stderr.is_empty() {
            test_case.set_system_err(element_text(&String::from_utf8_lossy(&output.stderr)));
        }
    }
    test_case
}

fn status(check: &CheckResult) -> TestCaseStatus {
    let mut status = match check.outcome {
        Outcome::Passed => return TestCaseStatus::success(),
        Outcome::Skipped => {
            let mut status = TestCaseStatus::skipped();
            if let Some(message) = &check.message {
                status.set_message(message_attribute(message));
            }
            return status;
        }
        Outcome::Failed => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(message_attribute(&failure_message(check)));
            status
        }
        Outcome::Error => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            let message = check.message.as_deref().unwrap_or("check could not be evaluated");
            status.set_message(message_attribute(message));
            status
        }
    };

    status.set_type(attribute(check.kind));
    let details = details(check);
    if !details.is_empty() {
        status.set_description(element_text(&details));
    }
    status
}

/// Returns the failed assertions on one line, such as
/// `mode: expected 0644, got 0600; owner: expected root, got nobody`.
fn failure_message(check: &CheckResult) -> String {
    let failed: Vec<String> = check
        .assertions
        .iter()
        .filter(|assertion| !assertion.passed)
        .map(|assertion| format!("{}: expected {}, got {}", assertion.property, assertion.expected, assertion.actual))
        .collect();
    if !failed.is_empty() {
        return failed.join("; ");
    }
    check.message.clone().unwrap_or_else(|| "check failed".to_owned())
}

/// Returns the text of a `<failure>` or `<error>` element: the message, the expected and actual
/// value of each failed assertion, and the command's exit status.
fn details(check: &CheckResult) -> String {
    let mut lines = Vec::new();
    if let Some(message) = &check.message {
        lines.push(format!("message: {message}"));
    }
    for assertion in check.assertions.iter().filter(|assertion| !assertion.passed) {
        lines.push(format!("{}:", assertion.property));
        lines.push(format!("  expected: {}", assertion.expected));
        lines.push(format!("  actual: {}", assertion.actual));
    }
    if let Some(output) = &check.output {
        lines.extend(output_notes(output));
    }
    lines.join("\n")
}

fn output_notes(output: &CommandOutput) -> Vec<String> {
    let mut notes = Vec::new();
    let status = output.exit_status.map_or_else(|| "none".to_owned(), |status| status.to_string());
    let timed_out = if output.timed_out { " (timed out)" } else { "" };
    notes.push(format!("exit status: {status}{timed_out}"));

    if output.stdout_truncated() {
        notes.push(format!("stdout was capped at {} of {} bytes", output.stdout.len(), output.stdout_len));
    }
    if output.stderr_truncated() {
        notes.push(format!("stderr was capped at {} of {} bytes", output.stderr.len(), output.stderr_len));
    }
    notes
}

/// Escapes text for element content.
fn element_text(text: &str) -> String {
    escape::escape(text, ELEMENT_TEXT)
}

/// Escapes text for an attribute value, on one line.
fn attribute(text: &str) -> String {
    escape::escape(text, Keep::NOTHING)
}

/// Escapes a message for the `message` attribute and shortens it to [`MAX_MESSAGE_BYTES`].
fn message_attribute(message: &str) -> String {
    let escaped = attribute(message);
    let (shown, left_off) = escape::truncate(&escaped, MAX_MESSAGE_BYTES);
    if left_off == 0 {
        return escaped;
    }
    format!("{shown}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::SuiteResult;
    use crate::report::test_reports::{self, check, output};
    use std::path::PathBuf;
    use std::process::{Command, Stdio};
    use std::time::Duration;

    fn render(report: &RunReport) -> String {
        let mut buffer = Vec::new();
        write_junit(&mut buffer, report).expect("writing to a Vec cannot fail");
        String::from_utf8(buffer).expect("quick-junit writes UTF-8")
    }

    fn schema_path() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/junit.xsd")
    }

    /// Runs `xmllint --noout --schema fixtures/junit.xsd -` on `xml` and returns its complaints.
    ///
    /// Panics when the schema or xmllint is missing, so that a machine without them fails the
    /// test instead of skipping the check.
    fn validate(xml: &str) -> Result<(), String> {
        let schema = schema_path();
        assert!(schema.is_file(), "JUnit schema not found at {}: the XML validation needs it", schema.display());

        let mut child = Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(&schema)
            .arg("-")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("failed to run xmllint (Debian package libxml2-utils): {error}"));

        let mut stdin = child.stdin.take().expect("stdin is piped");
        stdin.write_all(xml.as_bytes()).expect("failed to write the document to xmllint");
        drop(stdin);

        let result = child.wait_with_output().expect("failed to wait for xmllint");
        if result.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&result.stderr).into_owned()) }
    }

    fn report_with(checks: Vec<CheckResult>) -> RunReport {
        let suite = SuiteResult {
            spec: "specs/x.yml".to_owned(),
            target: test_reports::debian_target(),
            checks,
            duration: Duration::from_millis(5),
            exec_calls: 1,
        };
        RunReport::new(vec![suite], 1, Duration::from_millis(5))
    }

    fn parse(xml: &str) -> Report {
        Report::deserialize_from_str(xml).expect("quick-junit reads back what it wrote")
    }

    #[test]
    fn snapshot_representative() {
        insta::assert_snapshot!("junit", render(&test_reports::representative_report()));
    }

    #[test]
    fn representative_report_matches_schema() {
        assert_eq!(validate(&render(&test_reports::representative_report())), Ok(()));
    }

    #[test]
    fn validation_rejects_malformed_xml() {
        let malformed =
            "<?xml version=\"1.0\"?>\n<testsuites><testsuite name=\"a\" tests=\"0\">]]></testsuite></testsuites>\n";
        assert!(validate(malformed).is_err());
    }

    #[test]
    fn validation_rejects_unknown_element() {
        let invalid = "<?xml version=\"1.0\"?>\n<testsuites><unknown/></testsuites>\n";
        assert!(validate(invalid).is_err());
    }

    #[test]
    fn nasty_report_matches_schema() {
        assert_eq!(validate(&render(&test_reports::nasty_report())), Ok(()));
    }

    #[test]
    fn every_byte_value_matches_schema() {
        let checks = (0u8..=255)
            .map(|byte| {
                let mut failed = check(usize::from(byte), &char::from(byte).to_string(), "command", Outcome::Failed, 1);
                failed.message = Some(format!("byte {}", char::from(byte)));
                failed.output = Some(output(Some(1), &[b'a', byte, b'b'], &[byte]));
                failed
            })
            .collect();
        assert_eq!(validate(&render(&report_with(checks))), Ok(()));
    }

    #[test]
    fn nasty_output_survives_as_escapes() {
        let xml = render(&test_reports::nasty_report());
        let parsed = parse(&xml);
        let test_case = &parsed.test_suites[0].test_cases[0];
        let system_out = test_case.system_out.as_deref().expect("stdout is written");

        assert!(
            system_out.starts_with("nul \\x00 esc \\x1b[31mred\\x1b[0m \\x1b]0;title\\x07 form feed \\x0c del \\x7f\n")
        );
        assert!(system_out.contains("\ninvalid utf-8 \u{fffd}\u{fffd} \u{fffd} end\n"), "{system_out}");
        assert!(system_out.contains("\ncdata end ]]> markup <script>&amp;\"'</script>\n"), "{system_out}");
        assert!(
            system_out.contains("\nnoncharacters \\u{fffe}\\u{ffff} c1 \\u{9b}2J bidi \\u{202e}txt\n"),
            "{system_out}"
        );
        assert!(system_out.contains("\ncrlf line\\r\nprogress 50%\\r100%\n\\ttabbed\n"), "{system_out}");
        assert!(system_out.contains(&"x".repeat(5_000)), "long line is cut");
    }

    #[test]
    fn nasty_names_survive_on_one_line() {
        let parsed = parse(&render(&test_reports::nasty_report()));
        let escaped =
            "a\\x00b \\x1b[2J\\x0c ]]> <tag attr=\"x\">&amp;' \\u{ffff}\\u{fffe} \\u{9b}c \\u{202e}d\\r\\ne\\tf";
        let suite = &parsed.test_suites[0];

        assert_eq!(suite.name.as_str(), format!("specs/{escaped}.yml on {escaped}"));
        assert_eq!(suite.test_cases[1].name.as_str(), escaped);
        let classname = suite.test_cases[1].classname.as_deref();
        assert_eq!(classname, Some(format!("specs/{escaped}.yml[{escaped}]").as_str()));
    }

    #[test]
    fn suite_without_image_uses_container() {
        let parsed = parse(&render(&test_reports::nasty_report()));
        let suite = &parsed.test_suites[1];
        assert!(suite.name.starts_with("specs/plain.yml on a\\x00b"), "{}", suite.name.as_str());
        assert_eq!(suite.properties.len(), 1);
        assert_eq!(suite.properties[0].name.as_str(), "container");
    }

    #[test]
    fn failure_lists_failed_assertions() {
        let parsed = parse(&render(&test_reports::representative_report()));
        let file_check = &parsed.test_suites[0].test_cases[1];
        let TestCaseStatus::NonSuccess { kind, message, ty, description, .. } = &file_check.status else {
            panic!("file check is not a failure: {:?}", file_check.status);
        };

        assert_eq!(*kind, NonSuccessKind::Failure);
        assert_eq!(message.as_deref(), Some("mode: expected 0644, got 0600; owner: expected root, got nobody"));
        assert_eq!(ty.as_deref(), Some("file"));
        let description = description.as_deref().expect("failure has a description");
        assert_eq!(description, "mode:\n  expected: 0644\n  actual: 0600\nowner:\n  expected: root\n  actual: nobody");
    }

    #[test]
    fn error_and_skip_carry_messages() {
        let parsed = parse(&render(&test_reports::representative_report()));
        let test_cases = &parsed.test_suites[0].test_cases;

        let TestCaseStatus::NonSuccess { kind, message, .. } = &test_cases[3].status else {
            panic!("package check is not an error: {:?}", test_cases[3].status);
        };
        assert_eq!(*kind, NonSuccessKind::Error);
        assert_eq!(message.as_deref(), Some("dpkg-query not found in container"));

        let TestCaseStatus::Skipped { message, .. } = &test_cases[4].status else {
            panic!("user check is not skipped: {:?}", test_cases[4].status);
        };
        assert_eq!(message.as_deref(), Some("skip: true in the spec"));
    }

    #[test]
    fn long_message_is_shortened() {
        let mut errored = check(0, "long", "command", Outcome::Error, 1);
        errored.message = Some("é".repeat(MAX_MESSAGE_BYTES));
        let parsed = parse(&render(&report_with(vec![errored])));
        let TestCaseStatus::NonSuccess { message, description, .. } = &parsed.test_suites[0].test_cases[0].status
        else {
            panic!("check is not an error");
        };

        let message = message.as_deref().expect("error has a message");
        assert_eq!(message, format!("{}…", "é".repeat(MAX_MESSAGE_BYTES / 2)));
        let description = description.as_deref().expect("error has a description");
        assert!(description.contains(&"é".repeat(MAX_MESSAGE_BYTES)), "full message is lost");
    }

    #[test]
    fn timed_out_and_capped_output_noted() {
        let parsed = parse(&render(&test_reports::nasty_report()));
        let TestCaseStatus::NonSuccess { description, .. } = &parsed.test_suites[0].test_cases[0].status else {
            panic!("check is not a failure");
        };
        let description = description.as_deref().expect("failure has a description");
        let stdout_len = test_reports::nasty_bytes().len();

        assert!(description.contains("\nexit status: none (timed out)"), "{description}");
        assert!(
            description.contains(&format!("\nstdout was capped at {stdout_len} of 1048576 bytes")),
            "{description}"
        );
    }

    #[test]
    fn empty_output_writes_no_element() {
        let mut passed = check(0, "quiet", "command", Outcome::Passed, 1);
        passed.output = Some(output(Some(0), b"", b""));
        let xml = render(&report_with(vec![passed]));
        assert!(!xml.contains("system-out"), "{xml}");
        assert!(!xml.contains("system-err"), "{xml}");
    }

    #[test]
    fn counts_match_checks() {
        let parsed = parse(&render(&test_reports::representative_report()));
        assert_eq!(parsed.tests, 5);
        assert_eq!(parsed.failures, 2);
        assert_eq!(parsed.errors, 1);
        assert_eq!(parsed.skipped, 1);
        assert_eq!(parsed.test_suites[0].test_cases.len(), 5);
    }
}
