//! Short `specrun --bench` runs against the real Docker engine and the BusyBox fixture image.
//! They check the report's shape and sanity, never its speed.

mod common;

use std::process::Command;

use common::*;

/// Runs `specrun --bench ... --format json` and returns the exit status, the report and stderr.
fn bench_report(args: &[&str]) -> (Option<i32>, serde_json::Value, String) {
    let mut all = vec!["--bench"];
    all.extend_from_slice(args);
    all.extend(["--format", "json"]);
    let output = specrun(&all);
    let report = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("stdout is not JSON ({error}); stderr: {}", stderr(&output)));
    (output.status.code(), report, stderr(&output))
}

/// Names of all containers, running or not, labelled with the run id of `report`.
fn containers_of_run(report: &serde_json::Value) -> Vec<String> {
    let run_id = report["run_id"].as_str().expect("run_id is a string");
    assert!(!run_id.is_empty());
    let filter = format!("label=specrun.run={run_id}");
    let output = Command::new("docker")
        .args(["ps", "-a", "--filter", &filter, "--format", "{{.Names}}"])
        .output()
        .expect("the docker CLI runs");
    assert!(output.status.success(), "docker ps failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).lines().map(str::to_owned).collect()
}

/// Checks what every level of every operation must satisfy and returns the operations.
fn assert_levels_sane(report: &serde_json::Value, operations: &[&str], levels: &[u64]) -> Vec<serde_json::Value> {
    let reported = report["operations"].as_array().expect("operations is an array").clone();
    let names: Vec<&str> = reported.iter().map(|operation| operation["operation"].as_str().unwrap()).collect();
    assert_eq!(names, operations);

    for operation in &reported {
        let name = &operation["operation"];
        let measured = operation["levels"].as_array().expect("levels is an array");
        let concurrency: Vec<u64> = measured.iter().map(|level| level["concurrency"].as_u64().unwrap()).collect();
        assert_eq!(concurrency, levels, "{name}");
        for level in measured {
            assert!(level["operations"].as_u64().unwrap() > 0, "{name}: no operation counted: {level}");
            assert_eq!(level["errors"], 0, "{name}: {level}");
            assert!(level["ops_per_second"].as_f64().unwrap() > 0.0, "{name}: {level}");
            let latency = &level["latency_ms"];
            let (p50, p95, p99) =
                (latency["p50"].as_f64().unwrap(), latency["p95"].as_f64().unwrap(), latency["p99"].as_f64().unwrap());
            assert!(p50 > 0.0, "{name}: {level}");
            assert!(p50 <= p95, "{name}: {level}");
            assert!(p95 <= p99, "{name}: {level}");
            assert!(p99 <= latency["max"].as_f64().unwrap(), "{name}: {level}");
        }
    }
    reported
}

#[test]
fn bench_engine_calls_report_and_plot() {
    let directory = tempfile::tempdir().unwrap();
    let plot = directory.path().join("plot.svg");
    let plot_arg = plot.display().to_string();
    let (status, report, stderr) = bench_report(&[
        "--image",
        BUSYBOX,
        "--ops",
        "exec,version,info,ping",
        "--concurrency",
        "1,2",
        "--duration",
        "1s",
        "--warmup",
        "200ms",
        "--plot",
        &plot_arg,
    ]);

    assert_eq!(status, Some(0), "stderr: {stderr}");
    assert_eq!(report["version"], 1);
    assert_eq!(report["cancelled"], false);
    assert_eq!(report["settings"]["image"], BUSYBOX);
    assert_eq!(report["settings"]["containers"].as_array().unwrap().len(), 1);
    let operations = assert_levels_sane(&report, &["exec", "version", "info", "ping"], &[1, 2]);

    for level in operations[0]["levels"].as_array().unwrap() {
        for phase in ["create", "start", "inspect"] {
            let p50 = level["phases_ms"][phase]["p50"].as_f64();
            assert!(p50.is_some_and(|p50| p50 > 0.0), "exec phase {phase}: {level}");
        }
    }
    for operation in &operations[1..] {
        assert!(operation["levels"][0]["phases_ms"].is_null(), "{operation}");
    }

    let svg = std::fs::read_to_string(&plot).expect("the plot file exists");
    assert!(svg.contains("<svg"), "not an SVG file: {}", &svg[..svg.len().min(200)]);
    assert!(svg.contains("exec: throughput and p99 latency"));

    let left = containers_of_run(&report);
    assert!(left.is_empty(), "containers left behind: {left:?}");
}

#[test]
fn bench_checks_of_a_spec() {
    let (status, report, stderr) = bench_report(&[
        "--image",
        BUSYBOX,
        "--ops",
        "checks",
        "--spec",
        "specs/busybox/busybox.yml",
        "--concurrency",
        "1,2",
        "--duration",
        "1s",
        "--warmup",
        "200ms",
    ]);

    assert_eq!(status, Some(0), "stderr: {stderr}");
    assert_eq!(report["settings"]["spec"], "specs/busybox/busybox.yml");
    let operations = assert_levels_sane(&report, &["checks"], &[1, 2]);
    for level in operations[0]["levels"].as_array().unwrap() {
        let runs = level["ops_per_second"].as_f64().unwrap();
        let checks = level["checks_per_second"].as_f64().unwrap();
        let exec_calls = level["exec_calls_per_second"].as_f64().unwrap();
        assert!(checks > runs, "a run of the spec evaluates several checks: {level}");
        assert!(exec_calls >= runs, "a run makes at least one exec call: {level}");
    }

    let left = containers_of_run(&report);
    assert!(left.is_empty(), "containers left behind: {left:?}");
}

#[test]
fn bench_missing_image_is_an_infrastructure_error() {
    let output = specrun(&["--bench", "--image", "specrun-fixture/missing:latest", "--ops", "exec"]);
    assert_eq!(output.status.code(), Some(3), "stderr: {}", stderr(&output));
    assert!(stderr(&output).contains("image specrun-fixture/missing:latest not found"), "{}", stderr(&output));
}

#[test]
fn csv_without_bench_is_a_usage_error() {
    let output = specrun(&["specs/busybox/busybox.yml", "--format", "csv"]);
    assert_eq!(output.status.code(), Some(2), "stderr: {}", stderr(&output));
    assert!(stderr(&output).contains("--format csv is available only with --bench"), "{}", stderr(&output));
}

#[test]
fn bench_option_without_bench_is_a_usage_error() {
    let output = specrun(&["specs/busybox/busybox.yml", "--concurrency", "1,2"]);
    assert_eq!(output.status.code(), Some(2), "stderr: {}", stderr(&output));
    assert!(stderr(&output).contains("--bench"), "{}", stderr(&output));
}

#[test]
fn bench_csv_rows() {
    let output = specrun(&[
        "--bench",
        "--ops",
        "ping",
        "--concurrency",
        "1-2",
        "--duration",
        "300ms",
        "--warmup",
        "0",
        "--format",
        "csv",
    ]);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("operation,concurrency,operations,errors,"), "{text}");
    assert!(lines[1].starts_with("ping,1,"), "{text}");
    assert!(lines[2].starts_with("ping,2,"), "{text}");
    let columns = lines[0].split(',').count();
    assert!(lines.iter().all(|line| line.split(',').count() == columns), "{text}");
}
