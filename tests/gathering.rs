//! Image metadata, port and process checks, and fact gathering through the archive API for
//! images without a shell, against the real engine and the fixture images.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::*;

const STATES: &str = "specrun-fixture/debian-states:bookworm";

/// Outcomes by check name.
fn outcomes(report: &serde_json::Value) -> BTreeMap<String, String> {
    checks(report).into_iter().map(|(name, outcome, _)| (name, outcome)).collect()
}

/// Asserts that the checks named in `failing` failed and every other check passed, so each spec
/// shows both verdicts.
fn assert_verdicts(report: &serde_json::Value, failing: &[&str]) {
    for (name, outcome, check) in checks(report) {
        let expected = if failing.contains(&name.as_str()) { "failed" } else { "passed" };
        assert_eq!(outcome, expected, "{name}: {check}");
    }
    for name in failing {
        assert!(outcomes(report).contains_key(*name), "no check named {name}");
    }
}

const STATES_FAILING: &[&str] = &[
    "removed package fails as installed",
    "version too new fails",
    "all bits are not 0777",
    "relative link target as written",
    "orphan owner has no name",
    "file /opt/app/config.ini",
    "missing user",
];

#[test]
fn package_states_and_special_files_by_shell() {
    let (output, report) = json_report(&["tests/specs/api/states.yml", "--gather", "shell"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_verdicts(&report, STATES_FAILING);
    assert_eq!(report["summary"]["exec_calls"], 1);
}

#[test]
fn package_states_and_special_files_by_api() {
    let (output, report) = json_report(&["tests/specs/api/states.yml", "--gather", "api"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_verdicts(&report, STATES_FAILING);
    assert_eq!(report["summary"]["exec_calls"], 0, "API gathering must not exec");
}

#[test]
fn shell_and_api_agree() {
    let (_, by_shell) = json_report(&["tests/specs/api/states.yml", "--gather", "shell"]);
    let (_, by_api) = json_report(&["tests/specs/api/states.yml", "--gather", "api"]);
    let strip = |report: &serde_json::Value| -> Vec<(String, String, serde_json::Value)> {
        checks(report).into_iter().map(|(name, outcome, check)| (name, outcome, check["assertions"].clone())).collect()
    };
    assert_eq!(strip(&by_shell), strip(&by_api));
}

#[test]
fn image_metadata_both_verdicts() {
    let (output, report) = json_report(&["tests/specs/api/metadata.yml"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let outcomes = outcomes(&report);
    assert_eq!(outcomes["declared metadata"], "passed", "{}", serde_json::to_string_pretty(&report).unwrap());
    let failed = outcomes.iter().filter(|(_, outcome)| *outcome == "failed").count();
    assert_eq!(failed, outcomes.len() - 1, "{outcomes:?}");
    assert_eq!(report["summary"]["exec_calls"], 0);
}

#[test]
fn metadata_of_a_running_container() {
    let container = TestContainer::start(STATES, "metadata", &[]);
    let (output, report) = json_report(&["tests/specs/api/metadata.yml", "--container", &container.name]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(outcomes(&report)["declared metadata"], "passed");
}

#[test]
fn ports_and_processes_both_verdicts() {
    let (output, report) = json_report(&["tests/specs/api/service.yml"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_verdicts(
        &report,
        &[
            "port 1234 fails",
            "wrong address fails",
            "missing process fails",
            "wrong owner fails",
            "wrong count fails",
            "running process fails as absent",
        ],
    );
}

#[test]
fn image_without_shell_is_tested_through_the_api() {
    let (output, report) = json_report(&["tests/specs/api/noshell.yml"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_verdicts(
        &report,
        &["package not installed fails", "version fails", "contents fail", "owner fails", "user fails"],
    );
    assert_eq!(report["summary"]["exec_calls"], 0);
}

#[test]
fn shell_command_without_shell_is_an_error() {
    // The busybox fixture runs; removing its /bin/sh link leaves a running container without a
    // shell, whose other applets still work.
    let container = TestContainer::start(BUSYBOX, "noshell", &[]);
    let removed = Command::new("docker").args(["exec", &container.name, "rm", "/bin/sh"]).status().unwrap();
    assert!(removed.success());
    let (_directory, spec) = temp_spec(
        "checks:\n\
         \x20 - name: string command\n\
         \x20   command: echo hi\n\
         \x20 - name: argv command\n\
         \x20   command: [/bin/busybox, echo, hi]\n\
         \x20   stdout: {equals: \"hi\\n\"}\n\
         \x20 - name: argv command fails\n\
         \x20   command: [/bin/busybox, \"false\"]\n\
         \x20 - name: port check\n\
         \x20   port: 80\n\
         \x20 - name: process check\n\
         \x20   process: sh\n\
         \x20 - name: file check\n\
         \x20   file: /bin/busybox\n\
         \x20   mode: \"0755\"\n",
    );
    let (output, report) = json_report(&[spec.to_str().unwrap(), "--container", &container.name]);
    assert_eq!(output.status.code(), Some(1));
    let checks = checks(&report);
    let find = |wanted: &str| checks.iter().find(|(name, _, _)| name == wanted).expect(wanted).clone();

    let (_, outcome, check) = find("string command");
    assert_eq!(outcome, "error");
    assert!(check["message"].as_str().unwrap().contains("has no /bin/sh"), "{check}");
    assert_eq!(find("argv command").1, "passed");
    assert_eq!(find("argv command fails").1, "failed");
    let (_, outcome, check) = find("port check");
    assert_eq!(outcome, "error");
    assert!(check["message"].as_str().unwrap().contains("needs a shell"), "{check}");
    assert_eq!(find("process check").1, "error");
    assert_eq!(find("file check").1, "passed");
}
