//! Helpers for integration tests that run the real `specrun` binary against the real engine and
//! the fixture images that `fixtures/build.sh` builds.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const DEBIAN: &str = "specrun-fixture/debian:bookworm";
pub const BUSYBOX: &str = "specrun-fixture/busybox:latest";
pub const NOSHELL: &str = "specrun-fixture/noshell:latest";

/// Path of a file in the repository.
pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// Runs specrun with `args` from the repository root.
pub fn specrun(args: &[&str]) -> Output {
    specrun_with_env(args, &[])
}

pub fn specrun_with_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_specrun"));
    command.args(args).current_dir(env!("CARGO_MANIFEST_DIR")).env("NO_COLOR", "1");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("the specrun binary runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs specrun with `--format json` and returns the parsed report.
pub fn json_report(args: &[&str]) -> (Output, serde_json::Value) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let output = specrun(&all);
    let report = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("stdout is not JSON ({error}); stderr: {}", stderr(&output)));
    (output, report)
}

/// Lists every check of a JSON report as (name, outcome, check object).
pub fn checks(report: &serde_json::Value) -> Vec<(String, String, serde_json::Value)> {
    let mut all = Vec::new();
    for suite in report["suites"].as_array().expect("suites is an array") {
        for check in suite["checks"].as_array().expect("checks is an array") {
            let name = check["name"].as_str().expect("name").to_owned();
            let outcome = check["outcome"].as_str().expect("outcome").to_owned();
            all.push((name, outcome, check.clone()));
        }
    }
    all
}

/// Container names that a JSON report's suites ran in.
pub fn containers(report: &serde_json::Value) -> Vec<String> {
    report["suites"]
        .as_array()
        .expect("suites is an array")
        .iter()
        .map(|suite| suite["target"]["container"].as_str().expect("container").to_owned())
        .collect()
}

fn docker(args: &[&str]) -> Output {
    Command::new("docker").args(args).output().expect("the docker CLI runs")
}

/// Names of all containers, running or not, whose name starts with `prefix`.
pub fn containers_named(prefix: &str) -> Vec<String> {
    let output = docker(&["ps", "-a", "--format", "{{.Names}}"]);
    String::from_utf8_lossy(&output.stdout).lines().filter(|name| name.starts_with(prefix)).map(str::to_owned).collect()
}

/// Asserts that no container of the run that created `container` is left.
pub fn assert_removed(container: &str) {
    let run_prefix = container.rsplit_once('-').map_or(container, |(prefix, _)| prefix);
    let left = containers_named(run_prefix);
    assert!(left.is_empty(), "containers left behind: {left:?}");
}

/// A container started for a test, removed when dropped.
pub struct TestContainer {
    pub name: String,
}

impl TestContainer {
    /// Starts `image` with stdin open, as `docker run -d -i`, without a network.
    pub fn start(image: &str, name: &str, extra: &[&str]) -> TestContainer {
        let name = format!("specrun-test-{name}-{}", std::process::id());
        let _ = docker(&["rm", "-f", &name]);
        let mut args = vec!["run", "-d", "-i", "--network", "none", "--label", "specrun.test=1", "--name", &name];
        args.extend_from_slice(extra);
        args.push(image);
        let output = docker(&args);
        assert!(output.status.success(), "docker run failed: {}", String::from_utf8_lossy(&output.stderr));
        TestContainer { name }
    }

    pub fn is_running(&self) -> bool {
        let output = docker(&["inspect", "-f", "{{.State.Running}}", &self.name]);
        String::from_utf8_lossy(&output.stdout).trim() == "true"
    }

    pub fn stop(&self) {
        let _ = docker(&["kill", &self.name]);
    }
}

impl Drop for TestContainer {
    fn drop(&mut self) {
        let _ = docker(&["rm", "-f", &self.name]);
    }
}

/// Writes `text` to a spec file in a new temporary directory.
pub fn temp_spec(text: &str) -> (tempfile::TempDir, PathBuf) {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let path = directory.path().join("spec.yml");
    std::fs::write(&path, text).expect("the spec is written");
    (directory, path)
}
