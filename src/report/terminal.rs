//! Human-readable report for a terminal: one header per suite, one line per check, details under
//! each check that did not pass, and a closing summary line.
//!
//! ```text
//! specs/debian.yml on specrun-fixture/debian:bookworm (container specrun-3f2a1c-0)
//!   PASS    12ms  uname reports Linux
//!   FAIL     3ms  file /etc/hosts
//!     mode: expected 0644, got 0600
//!   ERROR    1ms  package openssl
//!     error: dpkg-query not found in container
//! ```
//!
//! Every text that comes from a spec, an image or a container is escaped first (see
//! [`escape`](super::escape)), so command output cannot move the cursor or change colors. Colors
//! are ANSI SGR sequences written directly, without a styling crate.

use std::io::{self, Write};
use std::time::Duration;

use super::escape::{self, Keep};
use super::model::{Assertion, CheckResult, CommandOutput, Outcome, SuiteResult, Summary};

/// Maximum lines of one output stream shown under a check.
pub const MAX_OUTPUT_LINES: usize = 20;

/// Maximum bytes of one output stream shown under a check.
pub const MAX_OUTPUT_BYTES: usize = 2_000;

/// Maximum bytes of an expected or actual value shown on an assertion line.
pub const MAX_VALUE_BYTES: usize = 500;

/// Output options for the terminal reporter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TerminalStyle {
    /// Whether to write ANSI color sequences.
    pub color: bool,
}

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const BOLD_RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[33m";

/// Indent of the lines under a check.
const DETAIL_INDENT: &str = "    ";

/// Indent of command output lines.
const OUTPUT_INDENT: &str = "      ";

/// Escape mode for output lines: tabs stay, and newlines never reach it because lines are split first.
const BLOCK: Keep = Keep { newline: true, tab: true };

impl TerminalStyle {
    fn paint(self, out: &mut impl Write, sgr: &str, text: &str) -> io::Result<()> {
        if self.color { write!(out, "{sgr}{text}{RESET}") } else { out.write_all(text.as_bytes()) }
    }
}

/// Writes the header and one line per check of `suite`, with details under every check that did
/// not pass.
///
/// With `verbose`, every check also lists all its assertions, passed ones included. The output
/// ends with a newline and has no blank line after it, so the caller decides how to separate suites.
///
/// # Errors
///
/// Returns the error from `out` when a write fails.
pub fn write_suite(out: &mut impl Write, suite: &SuiteResult, style: TerminalStyle, verbose: bool) -> io::Result<()> {
    let header = suite_header(suite);
    style.paint(out, BOLD, &header)?;
    writeln!(out)?;

    for check in &suite.checks {
        write_check(out, check, style, verbose)?;
    }
    Ok(())
}

/// Writes the closing line of a run, for example
/// `244 checks: 240 passed, 2 failed, 1 error, 1 skipped in 1.84 s (132.6 checks/s); 4
/// containers, 9 exec calls`.
///
/// With color on, only the nonzero outcome counts are colored. The rate is left out when the
/// wall time is zero.
///
/// # Errors
///
/// Returns the error from `out` when a write fails.
pub fn write_summary(out: &mut impl Write, summary: &Summary, style: TerminalStyle) -> io::Result<()> {
    let total = summary.total();
    write!(out, "{total} {}: ", noun_form(total, "check", "checks"))?;

    write_count(out, summary.passed, "passed", GREEN, style)?;
    out.write_all(b", ")?;
    write_count(out, summary.failed, "failed", RED, style)?;
    out.write_all(b", ")?;
    let errors = noun_form(summary.errors, "error", "errors");
    write_count(out, summary.errors, errors, BOLD_RED, style)?;
    out.write_all(b", ")?;
    write_count(out, summary.skipped, "skipped", YELLOW, style)?;

    write!(out, " in {:.2} s", summary.wall_time.as_secs_f64())?;
    if !summary.wall_time.is_zero() {
        write!(out, " ({:.1} checks/s)", summary.checks_per_second())?;
    }

    let containers = noun_form(summary.containers, "container", "containers");
    let exec_calls = noun_form(usize::try_from(summary.exec_calls).unwrap_or(usize::MAX), "exec call", "exec calls");
    writeln!(out, "; {} {containers}, {} {exec_calls}", summary.containers, summary.exec_calls)
}

fn write_count(out: &mut impl Write, count: usize, label: &str, sgr: &str, style: TerminalStyle) -> io::Result<()> {
    if count > 0 {
        style.paint(out, sgr, &count.to_string())?;
    } else {
        write!(out, "{count}")?;
    }
    write!(out, " {label}")
}

fn noun_form<'a>(count: usize, singular: &'a str, plural: &'a str) -> &'a str {
    if count == 1 { singular } else { plural }
}

fn suite_header(suite: &SuiteResult) -> String {
    let spec = escape::escape(&suite.spec, Keep::NOTHING);
    let container = escape::escape(&suite.target.container, Keep::NOTHING);
    match &suite.target.image {
        Some(image) => {
            let image = escape::escape(image, Keep::NOTHING);
            format!("{spec} on {image} (container {container})")
        }
        None => format!("{spec} on container {container}"),
    }
}

fn write_check(out: &mut impl Write, check: &CheckResult, style: TerminalStyle, verbose: bool) -> io::Result<()> {
    let (word, sgr) = match check.outcome {
        Outcome::Passed => ("PASS", GREEN),
        Outcome::Failed => ("FAIL", RED),
        Outcome::Error => ("ERROR", BOLD_RED),
        Outcome::Skipped => ("SKIP", YELLOW),
    };
    out.write_all(b"  ")?;
    style.paint(out, sgr, word)?;
    let padding = " ".repeat(5 - word.len());
    let duration = format_duration(check.duration);
    let name = escape::escape(&check.name, Keep::NOTHING);
    writeln!(out, "{padding} {duration:>6}  {name}")?;

    match check.outcome {
        Outcome::Passed => {
            if verbose {
                write_assertions(out, &check.assertions, true)?;
            }
        }
        Outcome::Failed => {
            write_assertions(out, &check.assertions, verbose)?;
            if let Some(message) = &check.message {
                write_detail(out, "message", message)?;
            }
            if let Some(output) = &check.output {
                write_output(out, check.kind, output)?;
            }
        }
        Outcome::Error => {
            let message = check.message.as_deref().unwrap_or("(no message)");
            write_detail(out, "error", message)?;
            write_assertions(out, &check.assertions, verbose)?;
            if let Some(output) = &check.output {
                write_output(out, check.kind, output)?;
            }
        }
        Outcome::Skipped => {
            if let Some(message) = &check.message {
                write_detail(out, "skipped", message)?;
            }
            if verbose {
                write_assertions(out, &check.assertions, true)?;
            }
        }
    }
    Ok(())
}

/// Formats a check's duration in at most 6 characters below one minute: `12ms`, `1.25s`, `2m05s`.
fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis < 1_000 {
        format!("{millis}ms")
    } else if millis < 60_000 {
        format!("{:.2}s", duration.as_secs_f64())
    } else {
        let seconds = duration.as_secs();
        format!("{}m{:02}s", seconds / 60, seconds % 60)
    }
}

fn write_detail(out: &mut impl Write, label: &str, message: &str) -> io::Result<()> {
    let message = escape::escape(message, Keep::NOTHING);
    writeln!(out, "{DETAIL_INDENT}{label}: {message}")
}

/// Writes the failed assertions, or every assertion when `all` is set.
fn write_assertions(out: &mut impl Write, assertions: &[Assertion], all: bool) -> io::Result<()> {
    for assertion in assertions {
        let property = escape::escape(&assertion.property, Keep::NOTHING);
        let expected = inline_value(&assertion.expected);
        let actual = inline_value(&assertion.actual);
        if !assertion.passed {
            writeln!(out, "{DETAIL_INDENT}{property}: expected {expected}, got {actual}")?;
        } else if all {
            writeln!(out, "{DETAIL_INDENT}{property}: passed (expected {expected}, got {actual})")?;
        }
    }
    Ok(())
}

/// Escapes a value onto one line and shortens it to [`MAX_VALUE_BYTES`].
fn inline_value(value: &str) -> String {
    let (shown, left_off) = escape::truncate(value, MAX_VALUE_BYTES);
    let mut line = escape::escape(shown, Keep::NOTHING);
    if left_off > 0 {
        line = format!("{line}… ({left_off} more bytes)");
    }
    line
}

/// Writes a command's exit status and streams. For other kinds, such as a file whose `contents`
/// failed, the output is the file's text, so only that is shown.
fn write_output(out: &mut impl Write, kind: &str, output: &CommandOutput) -> io::Result<()> {
    if kind != "command" {
        return write_stream(out, "contents", &output.stdout, output.stdout_len, output.stdout_truncated());
    }
    let status = match output.exit_status {
        Some(status) => status.to_string(),
        None => "none".to_owned(),
    };
    let timed_out = if output.timed_out { " (timed out)" } else { "" };
    writeln!(out, "{DETAIL_INDENT}exit status: {status}{timed_out}")?;

    write_stream(out, "stdout", &output.stdout, output.stdout_len, output.stdout_truncated())?;
    write_stream(out, "stderr", &output.stderr, output.stderr_len, output.stderr_truncated())
}

/// Writes one captured stream, cut to [`MAX_OUTPUT_LINES`] and [`MAX_OUTPUT_BYTES`].
///
/// `full_len` is the stream's length before the runner capped it.
fn write_stream(out: &mut impl Write, label: &str, bytes: &[u8], full_len: u64, capped: bool) -> io::Result<()> {
    let full_len = full_len.max(bytes.len() as u64);
    if full_len == 0 {
        return writeln!(out, "{DETAIL_INDENT}{label}: (empty)");
    }

    writeln!(out, "{DETAIL_INDENT}{label}:")?;
    let excerpt = Excerpt::of(bytes, MAX_OUTPUT_LINES, MAX_OUTPUT_BYTES);
    for line in &excerpt.lines {
        writeln!(out, "{OUTPUT_INDENT}{line}")?;
    }

    let left_off = full_len.saturating_sub(excerpt.shown_bytes as u64);
    if left_off > 0 {
        writeln!(out, "{OUTPUT_INDENT}… ({left_off} more bytes)")?;
    }
    if capped {
        writeln!(out, "{OUTPUT_INDENT}(output was capped at {} bytes)", bytes.len())?;
    }
    Ok(())
}

/// The first lines of a byte stream, decoded lossily and escaped.
#[derive(Debug, PartialEq, Eq)]
struct Excerpt {
    lines: Vec<String>,
    /// Bytes of the input that the lines cover, newlines included.
    shown_bytes: usize,
}

impl Excerpt {
    /// Takes whole characters from `bytes` until `max_lines` lines or `max_bytes` bytes are used.
    ///
    /// Each invalid UTF-8 sequence becomes one U+FFFD, as in `String::from_utf8_lossy`, and counts
    /// with its own length in bytes. A final newline does not start another line.
    fn of(bytes: &[u8], max_lines: usize, max_bytes: usize) -> Excerpt {
        let mut lines = Vec::new();
        let mut line = String::new();
        let mut shown_bytes = 0;

        'chunks: for chunk in bytes.utf8_chunks() {
            let invalid = (!chunk.invalid().is_empty()).then_some(('\u{fffd}', chunk.invalid().len()));
            let valid = chunk.valid().chars().map(|character| (character, character.len_utf8()));
            for (character, len) in valid.chain(invalid) {
                if shown_bytes + len > max_bytes {
                    break 'chunks;
                }
                shown_bytes += len;
                if character == '\n' {
                    lines.push(std::mem::take(&mut line));
                    if lines.len() == max_lines {
                        break 'chunks;
                    }
                } else {
                    escape::push_escaped(&mut line, character, BLOCK);
                }
            }
        }

        if !line.is_empty() {
            lines.push(line);
        }
        Excerpt { lines, shown_bytes }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_reports::{self, assertion, check, output};
    use std::time::Duration;

    const PLAIN: TerminalStyle = TerminalStyle { color: false };
    const COLOR: TerminalStyle = TerminalStyle { color: true };

    fn render_run(report: &crate::report::model::RunReport, style: TerminalStyle, verbose: bool) -> String {
        let mut buffer = Vec::new();
        for suite in &report.suites {
            write_suite(&mut buffer, suite, style, verbose).expect("writing to a Vec cannot fail");
        }
        write_summary(&mut buffer, &report.summary, style).expect("writing to a Vec cannot fail");
        String::from_utf8(buffer).expect("the terminal reporter writes UTF-8")
    }

    fn render_check(check: CheckResult, verbose: bool) -> String {
        let suite = SuiteResult {
            spec: "specs/x.yml".to_owned(),
            target: test_reports::debian_target(),
            checks: vec![check],
            duration: Duration::ZERO,
            exec_calls: 0,
        };
        let mut buffer = Vec::new();
        write_suite(&mut buffer, &suite, PLAIN, verbose).expect("writing to a Vec cannot fail");
        String::from_utf8(buffer).expect("the terminal reporter writes UTF-8")
    }

    fn summary(passed: usize, failed: usize, errors: usize, skipped: usize, millis: u64) -> Summary {
        Summary {
            passed,
            failed,
            errors,
            skipped,
            containers: 4,
            exec_calls: 9,
            wall_time: Duration::from_millis(millis),
        }
    }

    fn render_summary(summary: &Summary, style: TerminalStyle) -> String {
        let mut buffer = Vec::new();
        write_summary(&mut buffer, summary, style).expect("writing to a Vec cannot fail");
        String::from_utf8(buffer).expect("the terminal reporter writes UTF-8")
    }

    /// Returns the characters a terminal acts on, other than newline and tab.
    fn unsafe_characters(text: &str) -> Vec<char> {
        text.chars()
            .filter(|&character| {
                (character.is_control() && character != '\n' && character != '\t')
                    || matches!(character, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
            })
            .collect()
    }

    #[test]
    fn snapshot_plain() {
        let report = test_reports::representative_report();
        insta::assert_snapshot!("terminal_plain", render_run(&report, PLAIN, false));
    }

    #[test]
    fn snapshot_color() {
        // U+241B SYMBOL FOR ESCAPE keeps the snapshot file free of raw escape bytes.
        let rendered = render_run(&test_reports::representative_report(), COLOR, false);
        insta::assert_snapshot!("terminal_color", rendered.replace('\x1b', "␛"));
    }

    #[test]
    fn snapshot_verbose() {
        let report = test_reports::representative_report();
        insta::assert_snapshot!("terminal_verbose", render_run(&report, PLAIN, true));
    }

    #[test]
    fn header_without_image_names_container() {
        let mut suite = test_reports::representative_report().suites.remove(0);
        suite.target.image = None;
        suite.checks.clear();
        let mut buffer = Vec::new();
        write_suite(&mut buffer, &suite, PLAIN, false).expect("writing to a Vec cannot fail");
        assert_eq!(String::from_utf8_lossy(&buffer), "specs/debian.yml on container specrun-3f2a1c-0\n");
    }

    #[test]
    fn summary_matches_documented_line() {
        let line = render_summary(&summary(240, 2, 1, 1, 1_840), PLAIN);
        assert_eq!(
            line,
            "244 checks: 240 passed, 2 failed, 1 error, 1 skipped in 1.84 s (132.6 checks/s); 4 containers, 9 exec calls\n"
        );
    }

    #[test]
    fn summary_uses_singular_forms() {
        let mut one = summary(1, 0, 0, 0, 500);
        one.containers = 1;
        one.exec_calls = 1;
        let line = render_summary(&one, PLAIN);
        assert_eq!(
            line,
            "1 check: 1 passed, 0 failed, 0 errors, 0 skipped in 0.50 s (2.0 checks/s); 1 container, 1 exec call\n"
        );
    }

    #[test]
    fn summary_omits_rate_for_zero_time() {
        let line = render_summary(&summary(0, 0, 0, 0, 0), PLAIN);
        assert_eq!(line, "0 checks: 0 passed, 0 failed, 0 errors, 0 skipped in 0.00 s; 4 containers, 9 exec calls\n");
    }

    #[test]
    fn summary_colors_only_nonzero_counts() {
        let line = render_summary(&summary(3, 0, 2, 1, 1_000), COLOR);
        assert_eq!(
            line,
            "6 checks: \x1b[32m3\x1b[0m passed, 0 failed, \x1b[1;31m2\x1b[0m errors, \x1b[33m1\x1b[0m skipped \
             in 1.00 s (6.0 checks/s); 4 containers, 9 exec calls\n"
        );
    }

    #[test]
    fn duration_formats() {
        assert_eq!(format_duration(Duration::ZERO), "0ms");
        assert_eq!(format_duration(Duration::from_micros(12_900)), "12ms");
        assert_eq!(format_duration(Duration::from_millis(999)), "999ms");
        assert_eq!(format_duration(Duration::from_millis(1_250)), "1.25s");
        assert_eq!(format_duration(Duration::from_secs(125)), "2m05s");
    }

    #[test]
    fn passed_check_is_one_line() {
        let mut passed = check(0, "ok", "command", Outcome::Passed, 5);
        passed.assertions = vec![assertion("exit_status", "0", "0", true)];
        passed.output = Some(output(Some(0), b"hello\n", b""));
        assert_eq!(render_check(passed, false).lines().count(), 2);
    }

    #[test]
    fn verbose_lists_passed_assertions() {
        let mut passed = check(0, "ok", "command", Outcome::Passed, 5);
        passed.assertions = vec![assertion("exit_status", "0", "0", true)];
        let rendered = render_check(passed, true);
        assert!(rendered.ends_with("\n    exit_status: passed (expected 0, got 0)\n"), "{rendered}");
    }

    #[test]
    fn error_without_message_shows_placeholder() {
        let errored = check(0, "broken", "file", Outcome::Error, 5);
        assert!(render_check(errored, false).ends_with("    error: (no message)\n"));
    }

    #[test]
    fn skip_without_message_is_one_line() {
        let skipped = check(0, "later", "user", Outcome::Skipped, 0);
        assert_eq!(render_check(skipped, false).lines().count(), 2);
    }

    #[test]
    fn timed_out_command_shows_status() {
        let mut errored = check(0, "sleep", "command", Outcome::Error, 10_000);
        errored.message = Some("command timed out after 10 s".to_owned());
        errored.output = Some(CommandOutput { timed_out: true, ..CommandOutput::default() });
        let rendered = render_check(errored, false);
        assert!(rendered.contains("\n    exit status: none (timed out)\n"), "{rendered}");
        assert!(rendered.contains("\n    stdout: (empty)\n    stderr: (empty)\n"), "{rendered}");
    }

    #[test]
    fn long_output_cut_at_line_limit() {
        let stdout: String = (1..=25).map(|number| format!("line {number}\n")).collect();
        let mut failed = check(0, "many lines", "command", Outcome::Failed, 1);
        failed.output = Some(output(Some(1), stdout.as_bytes(), b""));
        let rendered = render_check(failed, false);

        assert!(rendered.contains("      line 20\n"), "{rendered}");
        assert!(!rendered.contains("line 21"), "{rendered}");
        let left_off = (21..=25).map(|number| format!("line {number}\n").len()).sum::<usize>();
        assert!(rendered.contains(&format!("      … ({left_off} more bytes)\n")), "{rendered}");
    }

    #[test]
    fn long_line_cut_at_byte_limit() {
        let stdout = "y".repeat(3_000);
        let mut failed = check(0, "long line", "command", Outcome::Failed, 1);
        failed.output = Some(output(Some(1), stdout.as_bytes(), b""));
        let rendered = render_check(failed, false);

        assert!(rendered.contains(&format!("      {}\n", "y".repeat(MAX_OUTPUT_BYTES))), "{rendered}");
        assert!(!rendered.contains(&"y".repeat(MAX_OUTPUT_BYTES + 1)), "{rendered}");
        assert!(rendered.contains("      … (1000 more bytes)\n"), "{rendered}");
    }

    #[test]
    fn capped_output_shows_cap_note() {
        let mut failed = check(0, "capped", "command", Outcome::Failed, 1);
        let mut capped = output(Some(0), b"abc", b"");
        capped.stdout_len = 10;
        failed.output = Some(capped);
        let rendered = render_check(failed, false);
        assert!(
            rendered.contains("    stdout:\n      abc\n      … (7 more bytes)\n      (output was capped at 3 bytes)\n"),
            "{rendered}"
        );
    }

    #[test]
    fn excerpt_keeps_multibyte_characters_whole() {
        let excerpt = Excerpt::of("aé日".as_bytes(), 20, 4);
        assert_eq!(excerpt, Excerpt { lines: vec!["aé".to_owned()], shown_bytes: 3 });
    }

    #[test]
    fn excerpt_replaces_invalid_utf8() {
        let excerpt = Excerpt::of(b"a\xff\xfeb\xc3", 20, 100);
        assert_eq!(excerpt.lines, vec!["a\u{fffd}\u{fffd}b\u{fffd}".to_owned()]);
        assert_eq!(excerpt.shown_bytes, 5);
    }

    #[test]
    fn excerpt_keeps_blank_lines() {
        let excerpt = Excerpt::of(b"a\n\nb\n", 20, 100);
        assert_eq!(excerpt.lines, vec!["a".to_owned(), String::new(), "b".to_owned()]);
        assert_eq!(excerpt.shown_bytes, 5);
    }

    #[test]
    fn output_escapes_terminal_controls() {
        let mut failed = check(0, "escapes", "command", Outcome::Failed, 1);
        failed.output = Some(output(Some(1), b"\x1b[2Jred\r\n\tx\x00\x07", b""));
        let rendered = render_check(failed, false);
        assert!(rendered.contains("      \\x1b[2Jred\\r\n      \tx\\x00\\x07\n"), "{rendered}");
    }

    #[test]
    fn nasty_report_writes_no_terminal_controls() {
        let report = test_reports::nasty_report();
        for verbose in [false, true] {
            let rendered = render_run(&report, PLAIN, verbose);
            assert_eq!(unsafe_characters(&rendered), Vec::<char>::new(), "verbose {verbose}");
        }
    }

    #[test]
    fn nasty_report_colored_writes_only_own_sequences() {
        let rendered = render_run(&test_reports::nasty_report(), COLOR, true);
        let mut stripped = rendered.clone();
        for sgr in [BOLD_RED, RESET, BOLD, GREEN, RED, YELLOW] {
            stripped = stripped.replace(sgr, "");
        }
        assert_ne!(stripped, rendered, "color output has no color sequences");
        assert_eq!(unsafe_characters(&stripped), Vec::<char>::new());
    }

    #[test]
    fn nasty_report_keeps_one_line_per_assertion() {
        let rendered = render_run(&test_reports::nasty_report(), PLAIN, false);
        let assertion_lines: Vec<&str> = rendered.lines().filter(|line| line.contains(": expected ")).collect();
        assert_eq!(assertion_lines.len(), 2, "{rendered}");
        assert!(assertion_lines[1].contains("… ("), "long value is not shortened: {}", assertion_lines[1]);
    }
}
