//! Parsing and validation of spec files: every kind, short forms and the located errors.

use super::*;
use crate::check::CheckKind;
use crate::spec::values::{CommandLine, FileType, Mode};

fn parse_ok(text: &str) -> Spec {
    match parse("test.yml", text) {
        Ok(spec) => spec,
        Err(error) => panic!("spec should parse, got: {error}"),
    }
}

fn parse_err(text: &str) -> String {
    match parse("test.yml", text) {
        Ok(spec) => panic!("spec should be rejected, got {} checks", spec.checks.len()),
        Err(error) => error.to_string(),
    }
}

#[test]
fn every_kind_parses() {
    let spec = parse_ok(
        "image: debian:bookworm\n\
         checks:\n\
         \x20 - command: bash --version\n\
         \x20   stdout: GNU bash\n\
         \x20 - file: /etc/passwd\n\
         \x20   mode: \"0644\"\n\
         \x20   type: file\n\
         \x20 - package: bash\n\
         \x20   version: \">= 5.0\"\n\
         \x20 - user: app\n\
         \x20   uid: 1001\n\
         \x20   groups: [staff]\n\
         \x20 - group: deploy\n\
         \x20   gid: 2000\n",
    );
    assert_eq!(spec.image.as_deref(), Some("debian:bookworm"));
    let kinds: Vec<&str> = spec.checks.iter().map(|check| check.kind.as_str()).collect();
    assert_eq!(kinds, ["command", "file", "package", "user", "group"]);
    assert_eq!(spec.checks[1].line, 5);
    let CheckKind::File(file) = &spec.checks[1].kind else { panic!("expected a file check") };
    assert_eq!(file.mode, Some(Mode(0o644)));
    assert_eq!(file.file_type, Some(FileType::File));
    let CheckKind::User(user) = &spec.checks[3].kind else { panic!("expected a user check") };
    assert_eq!(user.groups, ["staff"]);
}

#[test]
fn argv_command_and_options() {
    let spec = parse_ok(
        "checks:\n  - command: [ls, -l, /etc]\n    exit_status: 2\n    env: {LANG: C}\n    user: app\n    workdir: /tmp\n",
    );
    let CheckKind::Command(command) = &spec.checks[0].kind else { panic!("expected a command check") };
    assert_eq!(command.command, CommandLine::Argv(vec!["ls".into(), "-l".into(), "/etc".into()]));
    assert_eq!(command.exit_status, 2);
    assert_eq!(command.env, vec![("LANG".to_owned(), "C".to_owned())]);
    assert_eq!(command.user.as_deref(), Some("app"));
    assert_eq!(command.workdir.as_deref(), Some("/tmp"));
}

#[test]
fn short_forms_expand_per_name() {
    let spec = parse_ok(
        "checks:\n  - packages: [bash, dpkg]\n  - files: [/etc/hosts]\n  - users: [root]\n  - groups: [root, staff]\n    exists: true\n",
    );
    assert_eq!(spec.checks.len(), 6);
    assert_eq!(spec.checks[0].name, "package bash");
    assert_eq!(spec.checks[5].name, "group staff");
    let indexes: Vec<usize> = spec.checks.iter().map(|check| check.index).collect();
    assert_eq!(indexes, [0, 1, 2, 3, 4, 5]);
}

#[test]
fn names_tags_skip_and_timeout() {
    let spec = parse_ok(
        "checks:\n  - name: shell exists\n    tags: [smoke]\n    skip: not on arm\n    timeout: 500ms\n    file: /bin/sh\n",
    );
    let check = &spec.checks[0];
    assert_eq!(check.name, "shell exists");
    assert_eq!(check.tags, ["smoke"]);
    assert_eq!(check.skip.as_deref(), Some("not on arm"));
    assert_eq!(check.timeout, Some(std::time::Duration::from_millis(500)));
}

#[test]
fn unknown_key_names_line_and_column() {
    let message = parse_err("checks:\n  - file: /etc/passwd\n    colour: red\n");
    assert!(message.starts_with("test.yml:3:5:"), "{message}");
    assert!(message.contains("colour"), "{message}");
}

#[test]
fn wrong_type_is_located() {
    let message = parse_err("checks:\n  - user: app\n    uid: many\n");
    assert!(message.starts_with("test.yml:3:10:"), "{message}");
}

#[test]
fn bad_mode_is_located() {
    let message = parse_err("checks:\n  - file: /etc/passwd\n    mode: \"0989\"\n");
    assert!(message.starts_with("test.yml:3:11:"), "{message}");
    assert!(message.contains("0989"), "{message}");
}

#[test]
fn key_of_another_kind_is_rejected() {
    let message = parse_err("checks:\n  - package: bash\n    mode: \"0644\"\n");
    assert!(message.starts_with("test.yml:2:5:"), "{message}");
    assert!(message.contains("`mode` does not apply to a package check"), "{message}");
}

#[test]
fn two_kinds_in_one_check_are_rejected() {
    let message = parse_err("checks:\n  - file: /etc/passwd\n    package: bash\n");
    assert!(message.contains("both `file` and `package`"), "{message}");
}

#[test]
fn check_without_kind_is_rejected() {
    let message = parse_err("checks:\n  - name: nothing\n");
    assert!(message.contains("has no kind"), "{message}");
}

#[test]
fn impossible_combinations_are_rejected() {
    let absent_with_mode = parse_err("checks:\n  - file: /x\n    exists: false\n    mode: \"0644\"\n");
    assert!(absent_with_mode.contains("must be absent"), "{absent_with_mode}");
    let absent_with_version = parse_err("checks:\n  - package: x\n    installed: false\n    version: \"1.0\"\n");
    assert!(absent_with_version.contains("must not be installed"), "{absent_with_version}");
    let exit = parse_err("checks:\n  - command: \"true\"\n    exit_status: 300\n");
    assert!(exit.contains("300"), "{exit}");
    let relative = parse_err("checks:\n  - file: etc/passwd\n");
    assert!(relative.contains("absolute path"), "{relative}");
    let link_on_file = parse_err("checks:\n  - file: /x\n    type: file\n    link_target: /y\n");
    assert!(link_on_file.contains("type: symlink"), "{link_on_file}");
}

#[test]
fn empty_spec_and_empty_lists_are_rejected() {
    assert!(parse_err("checks: []\n").contains("no checks"));
    assert!(parse_err("checks:\n  - packages: []\n").contains("empty"));
    assert!(parse_err("checks:\n  - command: \"\"\n").contains("empty command"));
    assert!(parse_err("checks:\n  - command: []\n").contains("empty argument list"));
}

#[test]
fn invalid_values_are_rejected() {
    assert!(parse_err("checks:\n  - command: env\n    env: {1BAD: x}\n").contains("1BAD"));
    assert!(parse_err("checks:\n  - file: /x\n    sha256: abc\n").contains("sha256"));
    assert!(parse_err("checks:\n  - file: /x\n    type: folder\n").contains("folder"));
    assert!(parse_err("checks:\n  - command: x\n    timeout: soon\n").contains("soon"));
    assert!(parse_err("checks:\n  - package: \"bad name\"\n").contains("bad name"));
    assert!(parse_err("checks:\n  - command: \"a\\0b\"\n").contains("NUL"));
}

#[test]
fn broken_yaml_is_located() {
    let message = parse_err("checks:\n  - file: [unclosed\n");
    assert!(message.starts_with("test.yml:"), "{message}");
}

#[test]
fn unknown_top_level_key_is_rejected() {
    let message = parse_err("image: x\nchecks:\n  - file: /x\nextra: 1\n");
    assert!(message.contains("extra"), "{message}");
}

#[test]
fn unquoted_tag_is_rejected() {
    let message = parse_err("checks:\n  - command: echo ok\n    stdout: !ok\n");
    assert!(message.starts_with("test.yml:3:"), "{message}");
    assert!(message.contains("must be quoted"), "{message}");
}

#[test]
fn unquoted_leading_zero_mode_is_octal() {
    let spec = parse_ok("checks:\n  - file: /etc/passwd\n    mode: 0644\n");
    let CheckKind::File(file) = &spec.checks[0].kind else { panic!("expected a file check") };
    assert_eq!(file.mode, Some(Mode(0o644)));
}

#[test]
fn new_kinds_parse() {
    let spec = parse_ok(
        "checks:\n\
         \x20 - port: 8080\n\
         \x20   protocol: udp\n\
         \x20   address: 127.0.0.1\n\
         \x20 - process: httpd\n\
         \x20   user: nobody\n\
         \x20   count: \">= 1\"\n\
         \x20 - metadata:\n\
         \x20     env: {A: \"b=c\", GONE: null}\n\
         \x20     exposed_ports: [8080/tcp, 53/udp, 9000]\n\
         \x20     labels: {version: \"/^1\\\\./\"}\n\
         \x20     cmd: [bash]\n\
         \x20     entrypoint: null\n",
    );
    let kinds: Vec<&str> = spec.checks.iter().map(|check| check.kind.as_str()).collect();
    assert_eq!(kinds, ["port", "process", "metadata"]);
    let CheckKind::Process(process) = &spec.checks[1].kind else { panic!("expected a process check") };
    assert_eq!(process.user.as_deref(), Some("nobody"));
}

#[test]
fn new_kinds_reject_bad_values() {
    assert!(parse_err("checks:\n  - port: 0\n").contains("port 0"));
    assert!(parse_err("checks:\n  - port: 80\n    address: localhost\n").contains("localhost"));
    assert!(parse_err("checks:\n  - port: 80\n    protocol: icmp\n").contains("icmp"));
    assert!(parse_err("checks:\n  - metadata: {}\n").contains("compares nothing"));
    assert!(parse_err("checks:\n  - metadata:\n      exposed_ports: [99999/tcp]\n").contains("99999"));
    assert!(parse_err("checks:\n  - metadata:\n      colour: red\n").contains("colour"));
    assert!(parse_err("checks:\n  - process: x\n    running: false\n    count: 1\n").contains("must not run"));
}
