//! Command checks: run a command, compare its exit status, stdout and stderr.

use std::time::Duration;

use crate::check::Evaluation;
use crate::facts::Facts;
use crate::matcher::TextMatcher;
use crate::spec::values::CommandLine;

#[derive(Clone, Debug)]
pub struct CommandCheck {
    pub command: CommandLine,
    pub exit_status: i64,
    pub stdout: Option<TextMatcher>,
    pub stderr: Option<TextMatcher>,
    /// Variables exported before the command runs, in spec order.
    pub env: Vec<(String, String)>,
    /// User to run as (name or uid, as `docker exec --user` takes it).
    pub user: Option<String>,
    pub workdir: Option<String>,
}

impl CommandCheck {
    pub fn evaluate(&self, index: usize, facts: &Facts) -> (Evaluation, Duration) {
        let raw = match facts.commands.get(&index) {
            Some(Ok(raw)) => raw,
            Some(Err(message)) => return (Evaluation::error(message.clone()), Duration::ZERO),
            None => return (Evaluation::error("the command did not run"), Duration::ZERO),
        };
        let mut evaluation = Evaluation::new();
        evaluation.set_output(raw.output.clone());

        if raw.workdir_failed {
            let workdir = self.workdir.as_deref().unwrap_or_default();
            let reason = String::from_utf8_lossy(&raw.output.stderr).trim().to_owned();
            evaluation.set_error(format!("cannot enter workdir {workdir:?}: {reason}"));
            return (evaluation, raw.duration);
        }
        if raw.output.timed_out {
            evaluation.set_error("timed out: the command ran past its timeout and was killed");
            return (evaluation, raw.duration);
        }

        let status = raw.output.exit_status.unwrap_or(-1);
        evaluation.assert("exit_status", self.exit_status.to_string(), status.to_string(), status == self.exit_status);
        let streams = [
            ("stdout", &self.stdout, &raw.output.stdout, raw.output.stdout_len),
            ("stderr", &self.stderr, &raw.output.stderr, raw.output.stderr_len),
        ];
        for (property, matcher, captured, full_len) in streams {
            let Some(matcher) = matcher else { continue };
            match matcher.is_match_truncated(captured, full_len) {
                Some(passed) => {
                    evaluation.assert(property, matcher.to_string(), describe_stream(captured, full_len), passed);
                }
                None => evaluation.set_error(format!(
                    "{property} has {full_len} bytes, more than the {} bytes captured, and the verdict \
                     depends on the rest; raise --max-output",
                    captured.len()
                )),
            }
        }
        (evaluation, raw.duration)
    }
}

/// Short rendering of an output stream for the `actual` column; reporters show the full output.
fn describe_stream(captured: &[u8], full_len: u64) -> String {
    if full_len == 0 {
        return "(empty)".to_owned();
    }
    let text = String::from_utf8_lossy(captured);
    let first_line = text.lines().next().unwrap_or_default();
    let mut shown: String = first_line.chars().take(80).collect();
    if shown.len() < text.trim_end().len() {
        shown.push_str(" …");
    }
    format!("{shown:?} ({full_len} bytes)")
}
