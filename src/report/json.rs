//! Machine-readable report: the whole [`RunReport`] as pretty-printed JSON.

use std::io::{self, Write};

use serde::Serialize;

use super::model::RunReport;

/// Version of the JSON document shape, written as the top-level `version` field.
///
/// It changes only when a field is removed, renamed or changes its type. Adding a field keeps it.
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// Document written by [`write_json`]: the schema version, then the report's own fields.
#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    #[serde(flatten)]
    report: &'a RunReport,
}

/// Writes `report` as one pretty-printed JSON object followed by a newline.
///
/// Shape (durations are seconds as floating-point numbers):
///
/// ```text
/// {
///   "version": 1,
///   "suites": [
///     {
///       "spec": "specs/debian.yml",
///       "target": { "image": "specrun-fixture/debian:bookworm" or null, "container": "specrun-3f2a1c-0" },
///       "checks": [
///         {
///           "index": 0,                  // position in the spec file, from 0
///           "name": "file /etc/hosts",
///           "kind": "command" | "file" | "package" | "user" | "group",
///           "line": 8,                   // line in the spec file, from 1
///           "outcome": "passed" | "failed" | "error" | "skipped",
///           "duration": 0.003,
///           "assertions": [ { "property": "mode", "expected": "0644", "actual": "0600", "passed": false } ],
///           "message": null or "dpkg-query not found in container",
///           "output": null or {
///             "exit_status": 2 or null,  // null when the command was killed after its timeout
///             "stdout": "...",           // captured bytes, invalid UTF-8 replaced by U+FFFD
///             "stderr": "...",
///             "stdout_len": 1048576,     // length before capping; larger than the capture when capped
///             "stderr_len": 0,
///             "timed_out": false
///           }
///         }
///       ],
///       "duration": 1.52,
///       "exec_calls": 4
///     }
///   ],
///   "summary": {
///     "passed": 1, "failed": 2, "errors": 1, "skipped": 1,
///     "containers": 1, "exec_calls": 4, "wall_time": 1.84
///   }
/// }
/// ```
///
/// Control characters in strings are written as JSON escapes (`\u001b`), so the document is valid
/// JSON for any command output.
///
/// # Errors
///
/// Returns the error from `out` when a write fails.
pub fn write_json(out: &mut impl Write, report: &RunReport) -> io::Result<()> {
    let document = Document { version: JSON_SCHEMA_VERSION, report };
    serde_json::to_writer_pretty(&mut *out, &document).map_err(io::Error::from)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_reports;
    use serde_json::Value;

    fn render(report: &RunReport) -> String {
        let mut buffer = Vec::new();
        write_json(&mut buffer, report).expect("writing to a Vec cannot fail");
        String::from_utf8(buffer).expect("serde_json writes UTF-8")
    }

    #[test]
    fn snapshot_representative() {
        insta::assert_snapshot!("json", render(&test_reports::representative_report()));
    }

    #[test]
    fn version_is_first_field() {
        let rendered = render(&RunReport::default());
        assert!(rendered.starts_with("{\n  \"version\": 1,\n"), "{rendered}");
        assert!(rendered.ends_with("}\n"), "{rendered}");
    }

    #[test]
    fn nasty_report_parses_back() {
        let report = test_reports::nasty_report();
        let rendered = render(&report);
        let document: Value = serde_json::from_str(&rendered).expect("the output is valid JSON");

        let check = &document["suites"][0]["checks"][0];
        let stdout = check["output"]["stdout"].as_str().expect("stdout is a string");
        let expected = String::from_utf8_lossy(&test_reports::nasty_bytes()).into_owned();
        assert_eq!(stdout, expected);
        assert_eq!(check["output"]["stdout_len"], Value::from(1u64 << 20));
        assert_eq!(check["output"]["exit_status"], Value::Null);
        assert_eq!(check["name"].as_str(), Some(format!("command {}", test_reports::nasty_text()).as_str()));
        assert_eq!(document["suites"][1]["target"]["image"], Value::Null);
    }

    #[test]
    fn nasty_report_has_no_raw_c0_controls() {
        // JSON requires escapes for U+0000 to U+001F only, and serde_json writes DEL and C1 as is.
        let rendered = render(&test_reports::nasty_report());
        let raw_controls: Vec<char> = rendered.chars().filter(|c| *c < ' ' && *c != '\n').collect();
        assert_eq!(raw_controls, Vec::<char>::new());
    }

    #[test]
    fn summary_fields_present() {
        let rendered = render(&test_reports::representative_report());
        let document: Value = serde_json::from_str(&rendered).expect("the output is valid JSON");
        let summary = &document["summary"];
        assert_eq!(summary["passed"], 1);
        assert_eq!(summary["failed"], 2);
        assert_eq!(summary["errors"], 1);
        assert_eq!(summary["skipped"], 1);
        assert_eq!(summary["wall_time"], 1.84);
    }
}
