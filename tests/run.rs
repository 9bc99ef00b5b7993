//! End-to-end runs of the `specrun` binary against the real Docker engine and the fixture
//! images. `fixtures/build.sh` must have built the images first (`.ci/run` does).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn fixture_specs() -> Vec<String> {
    let mut specs: Vec<String> = std::fs::read_dir(repo_path("specs"))
        .expect("specs/ exists")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "yml"))
        .map(|path| path.strip_prefix(repo_path("")).expect("inside the repository").display().to_string())
        .collect();
    specs.sort();
    specs
}

#[test]
fn fixture_specs_pass_and_junit_validates() {
    let directory = tempfile::tempdir().unwrap();
    let junit = directory.path().join("report.xml");
    let junit_arg = junit.display().to_string();
    let specs = fixture_specs();
    let mut args: Vec<&str> = specs.iter().map(String::as_str).collect();
    args.extend(["--image", DEBIAN, "--junit", &junit_arg]);
    let (output, report) = json_report(&args);

    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    let checks = checks(&report);
    assert!(checks.len() >= 200, "only {} checks", checks.len());
    for kind in ["command", "file", "package", "user", "group"] {
        assert!(checks.iter().any(|(_, _, check)| check["kind"] == kind), "no {kind} check ran");
    }
    let not_passed: Vec<_> =
        checks.iter().filter(|(_, outcome, _)| outcome != "passed" && outcome != "skipped").collect();
    assert!(not_passed.is_empty(), "checks did not pass: {not_passed:?}");
    assert_eq!(report["summary"]["containers"], specs.len());

    let validation = Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(repo_path("fixtures/junit.xsd"))
        .arg(&junit)
        .output()
        .expect("xmllint (Debian's libxml2-utils) is installed");
    assert!(
        validation.status.success(),
        "xmllint rejected the report: {}",
        String::from_utf8_lossy(&validation.stderr)
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase").count(), checks.len());
    for name in containers(&report) {
        assert_removed(&name);
    }
}

#[test]
fn every_deliberate_failure_fails() {
    let (output, report) = json_report(&["tests/specs/failures.yml"]);
    assert_eq!(output.status.code(), Some(1), "stderr: {}", stderr(&output));
    let checks = checks(&report);
    assert_eq!(checks.len(), 33);
    for (name, outcome, check) in &checks {
        assert_eq!(outcome, "failed", "{name}: {check}");
        let failed = check["assertions"].as_array().unwrap().iter().filter(|assertion| assertion["passed"] == false);
        assert_eq!(failed.count(), 1, "{name} should fail on exactly one property: {check}");
    }
    assert_removed(&containers(&report)[0]);
}

#[test]
fn failures_show_expected_and_actual() {
    let output = specrun(&["tests/specs/failures.yml"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains("FAIL"), "{text}");
    assert!(text.contains("mode: expected 0600, got 0644"), "{text}");
    assert!(text.contains("mode: expected 0755, got 4755"), "{text}");
    assert!(text.contains("owner: expected root, got app"), "{text}");
    assert!(text.contains("link_target: expected /etc/passwd, got /opt/app/config.ini"), "{text}");
    assert!(text.contains("exit_status: expected 0, got 1"), "{text}");
    assert!(text.contains("stdout: expected contains \"goodbye\""), "{text}");
    assert!(text.contains("version: expected >= 6, got 5.2"), "{text}");
    assert!(text.contains("33 checks: 0 passed, 33 failed"), "{text}");
}

#[test]
fn unevaluable_checks_are_errors() {
    let (output, report) = json_report(&["tests/specs/errors.yml", "tests/specs/busybox-errors.yml"]);
    assert_eq!(output.status.code(), Some(1), "stderr: {}", stderr(&output));
    let checks = checks(&report);
    let outcome = |wanted: &str| -> (String, serde_json::Value) {
        let (_, outcome, check) = checks.iter().find(|(name, _, _)| name == wanted).expect(wanted);
        (outcome.clone(), check.clone())
    };

    let (timed_out, check) = outcome("timed out");
    assert_eq!(timed_out, "error");
    assert!(check["message"].as_str().unwrap().contains("timed out"));
    assert!(check["output"]["timed_out"].as_bool().unwrap());
    assert_eq!(outcome("after the timeout").0, "passed");

    let (workdir, check) = outcome("missing workdir");
    assert_eq!(workdir, "error");
    assert!(check["message"].as_str().unwrap().contains("/does/not/exist"));

    let (user, check) = outcome("unknown user");
    assert_eq!(user, "error");
    assert!(check["message"].as_str().unwrap().contains("nosuchuser"), "{check}");

    assert_eq!(outcome("contents of a directory").0, "error");

    let (package, check) = outcome("package busybox");
    assert_eq!(package, "error");
    assert!(check["message"].as_str().unwrap().contains("no package manager"), "{check}");
    assert_eq!(outcome("command `echo ok`").0, "passed");
}

#[test]
fn timeout_does_not_hold_the_run() {
    let (_directory, spec) = temp_spec(
        "checks:\n  - command: sleep 300\n    timeout: 1s\n  - command: sh -c 'sleep 300 & sleep 300'\n    timeout: 1s\n  - command: echo done\n    stdout: done\n",
    );
    let started = Instant::now();
    let (output, report) = json_report(&[spec.to_str().unwrap(), "--image", DEBIAN]);
    assert!(started.elapsed() < Duration::from_secs(30), "the run took {:?}", started.elapsed());
    assert_eq!(output.status.code(), Some(1));
    let outcomes: Vec<String> = checks(&report).into_iter().map(|(_, outcome, _)| outcome).collect();
    assert_eq!(outcomes, ["error", "error", "passed"]);
}

#[test]
fn framing_survives_hostile_output() {
    let nonce_like = "0123456789abcdef0123456789abcdef";
    let spec_text = format!(
        "checks:\n\
         \x20 - command: printf '{nonce_like} 0 0 5 5 0 0 1.00 1.00\\nhello{nonce_like} end\\n'\n\
         \x20   stdout: hello\n\
         \x20 - command: printf '\\000\\001\\377]]>\\r\\n'\n\
         \x20   stdout: {{not: {{empty: true}}}}\n\
         \x20 - command: head -c 100000 /dev/urandom\n\
         \x20 - command: printf 'no final newline'\n\
         \x20   stdout: {{equals: 'no final newline'}}\n\
         \x20 - command: echo after\n\
         \x20   stdout: {{equals: \"after\\n\"}}\n"
    );
    let (_directory, spec) = temp_spec(&spec_text);
    let directory = tempfile::tempdir().unwrap();
    let junit = directory.path().join("hostile.xml");
    let (output, report) =
        json_report(&[spec.to_str().unwrap(), "--image", BUSYBOX, "--junit", junit.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", serde_json::to_string_pretty(&report).unwrap());
    let validation = Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(repo_path("fixtures/junit.xsd"))
        .arg(&junit)
        .output()
        .expect("xmllint runs");
    assert!(validation.status.success(), "{}", String::from_utf8_lossy(&validation.stderr));
}

#[test]
fn capped_output_keeps_decidable_verdicts() {
    let (_directory, spec) = temp_spec(
        "checks:\n\
         \x20 - name: decided by the prefix\n\
         \x20   command: seq 1 100000\n\
         \x20   stdout: /^1$/\n\
         \x20 - name: length decides equality\n\
         \x20   command: seq 1 100000\n\
         \x20   stdout: {equals: \"1\\n\"}\n\
         \x20 - name: needs the missing part\n\
         \x20   command: seq 1 100000\n\
         \x20   stdout: \"99999\"\n",
    );
    let (output, report) = json_report(&[spec.to_str().unwrap(), "--image", BUSYBOX, "--max-output", "1000"]);
    assert_eq!(output.status.code(), Some(1));
    let checks = checks(&report);
    assert_eq!(checks[0].1, "passed");
    assert_eq!(checks[1].1, "failed");
    assert_eq!(checks[2].1, "error");
    assert!(checks[2].2["message"].as_str().unwrap().contains("--max-output"));
    assert_eq!(checks[0].2["output"]["stdout_len"], 588895);
}

#[test]
fn running_container_is_left_running() {
    let container = TestContainer::start(DEBIAN, "existing", &[]);
    let output = specrun(&["specs/accounts.yml", "--container", &container.name]);
    assert_eq!(output.status.code(), Some(0), "{}{}", stdout(&output), stderr(&output));
    assert!(stdout(&output).contains(&format!("container {}", container.name)));
    assert!(container.is_running(), "specrun must not stop a container it did not create");
}

#[test]
fn stopped_container_is_an_infrastructure_error() {
    let container = TestContainer::start(BUSYBOX, "stopped", &[]);
    container.stop();
    let output = specrun(&["specs/busybox/busybox.yml", "--container", &container.name]);
    assert_eq!(output.status.code(), Some(3));
    assert!(stderr(&output).contains("is not running"), "{}", stderr(&output));
}

#[test]
fn missing_image_is_an_infrastructure_error() {
    let output = specrun(&["specs/accounts.yml", "--image", "specrun-fixture/absent:latest"]);
    assert_eq!(output.status.code(), Some(3));
    let message = stderr(&output);
    assert!(message.contains("specrun-fixture/absent:latest not found"), "{message}");
    assert!(message.contains("build or pull it"), "{message}");
}

#[test]
fn container_that_cannot_start_is_removed() {
    let (output, report) = json_report(&["specs/busybox/busybox.yml", "--image", NOSHELL]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let outcomes: Vec<String> = checks(&report).into_iter().map(|(_, outcome, _)| outcome).collect();
    assert!(outcomes.iter().all(|outcome| outcome == "error"), "{outcomes:?}");
    assert_removed(&containers(&report)[0]);
}

#[test]
fn unreachable_engine_is_an_infrastructure_error() {
    let output = specrun_with_env(&["specs/accounts.yml"], &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")]);
    assert_eq!(output.status.code(), Some(3));
    let message = stderr(&output);
    assert!(message.contains("cannot connect to the Docker engine at unix:///nonexistent/docker.sock"), "{message}");
}

#[test]
fn invalid_spec_exits_before_the_engine() {
    let (_directory, spec) = temp_spec("checks:\n  - file: /etc/passwd\n    mode: \"0999\"\n");
    // An unreachable engine proves that validation happens before any engine call.
    let output = specrun_with_env(&[spec.to_str().unwrap()], &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("spec.yml:3:11:"), "{message}");
    assert!(message.contains("invalid mode \"0999\""), "{message}");
}

#[test]
fn spec_without_image_needs_a_target() {
    let (_directory, spec) = temp_spec("checks:\n  - file: /etc/passwd\n");
    let output = specrun(&[spec.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("names no image"), "{}", stderr(&output));
}

#[test]
fn every_spec_runs_on_every_image() {
    let (output, report) = json_report(&["specs/busybox/busybox.yml", "--image", BUSYBOX, "--image", BUSYBOX]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(report["suites"].as_array().unwrap().len(), 2);
    assert_eq!(report["summary"]["containers"], 2);
}

/// Starts specrun on a slow spec, waits for its container, sends `signal` and returns the exit
/// status and the container name.
fn interrupt_run(signal: &str) -> (Option<i32>, String) {
    let (_directory, spec) = temp_spec("checks:\n  - command: sleep 120\n    timeout: 200s\n");
    let mut child = Command::new(env!("CARGO_BIN_EXE_specrun"))
        .args([spec.to_str().unwrap(), "--image", DEBIAN])
        .env("SPECRUN_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("specrun starts");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let container = loop {
        let line = lines.next().expect("specrun logs the container start").unwrap();
        if let Some(rest) = line.split("container=").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    std::thread::sleep(Duration::from_millis(500));
    let killed = Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let started = Instant::now();
    let status = child.wait().unwrap();
    assert!(started.elapsed() < Duration::from_secs(30), "cleanup took {:?}", started.elapsed());
    (status.code(), container)
}

#[test]
fn sigint_removes_containers() {
    let (code, container) = interrupt_run("-INT");
    assert_eq!(code, Some(130));
    assert!(containers_named(&container).is_empty(), "{container} was left behind");
}

#[test]
fn sigterm_removes_containers() {
    let (code, container) = interrupt_run("-TERM");
    assert_eq!(code, Some(143));
    assert!(containers_named(&container).is_empty(), "{container} was left behind");
}

#[test]
fn spec_values_are_never_run_as_shell() {
    let (_directory, spec) = temp_spec(
        "checks:\n\
         \x20 - file: \"/tmp/x'$(touch /tmp/pwned-path)'`touch /tmp/pwned-tick`\"\n\
         \x20   exists: false\n\
         \x20 - user: \"x$(touch${IFS}/tmp/pwned-user)\"\n\
         \x20   exists: false\n\
         \x20 - command: [echo, \"$(touch /tmp/pwned-argv)\"]\n\
         \x20   stdout: {equals: \"$(touch /tmp/pwned-argv)\\n\"}\n\
         \x20 - command: printenv EVIL\n\
         \x20   env: {EVIL: \"'; touch /tmp/pwned-env; '\"}\n\
         \x20   stdout: pwned-env\n\
         \x20 - command: pwd\n\
         \x20   workdir: \"/tmp/$(touch /tmp/pwned-workdir)\"\n\
         \x20 - name: nothing was created\n\
         \x20   command: ls /tmp\n\
         \x20   stdout: \"!pwned\"\n",
    );
    let (_, report) = json_report(&[spec.to_str().unwrap(), "--image", DEBIAN]);
    let outcomes: Vec<(String, String)> =
        checks(&report).into_iter().map(|(name, outcome, _)| (name, outcome)).collect();
    assert_eq!(outcomes[0].1, "passed", "{outcomes:?}");
    assert_eq!(outcomes[1].1, "passed", "{outcomes:?}");
    assert_eq!(outcomes[2].1, "passed", "{outcomes:?}");
    assert_eq!(outcomes[3].1, "passed", "{outcomes:?}");
    assert_eq!(outcomes[4].1, "error", "a workdir that does not exist is an error: {outcomes:?}");
    assert_eq!(outcomes[5], ("nothing was created".to_owned(), "passed".to_owned()));
}

#[test]
fn tcp_docker_host_is_honoured() {
    // socat forwards a loopback TCP port to the engine's Unix socket, so the tcp:// code path
    // runs against the real engine without changing its configuration.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut forwarder = Command::new("socat")
        .args([format!("TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork"), "UNIX-CONNECT:/var/run/docker.sock".into()])
        .spawn()
        .expect("socat (Debian package socat) is installed");
    let host = format!("tcp://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = specrun_with_env(&["specs/busybox/busybox.yml"], &[("DOCKER_HOST", &host)]);
    let _ = forwarder.kill();
    let _ = forwarder.wait();
    assert_eq!(output.status.code(), Some(0), "{}{}", stdout(&output), stderr(&output));
}
