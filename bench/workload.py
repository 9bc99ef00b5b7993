#!/usr/bin/env python3
"""Write the specs of the serverspec and tools benchmarks.

All specs come from one list of checks, and the names and expected values in
those checks are read from a container of the fixture image, so every check
passes in every tool. Outputs, relative to --out-dir (default bench/out):

    workload.yml                         specrun spec
    serverspec/spec/spec_helper.rb       serverspec docker backend settings
    serverspec/spec/workload_spec.rb     the same checks as serverspec examples
    testinfra/test_workload.py           the same checks as testinfra tests
    cst/workload.yaml                    the same checks as container-structure-test tests

The serverspec spec reads the container name from the environment variable
BENCH_CONTAINER, so one copy serves every container. Each specrun check
becomes one serverspec `describe` block with one example per asserted
property (see write_serverspec), because serverspec runs one command per
example. write_testinfra and write_cst describe how the checks map to
testinfra and to container-structure-test.

Python 3 (run with 3.11), standard library only. Needs the docker CLI and the
fixture image; the container it starts has no network and is removed on exit.
"""

import argparse
import json
import re
import shlex
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

DEFAULT_IMAGE = "specrun-fixture/debian:bookworm"
DEFAULT_OUT_DIR = Path(__file__).resolve().parent / "out"
CONTAINER_LABEL = "specrun.bench"

# Number of package and group checks. The other kinds get their counts
# from the lists below and from the image.
PACKAGE_COUNT = 80
GROUP_COUNT = 30
MIN_CHECKS = 200

# Docker bind-mounts these files into every container, so their owner and
# mode depend on the engine and not on the image.
DOCKER_MANAGED_FILES = {"/etc/hostname", "/etc/hosts", "/etc/resolv.conf"}

# Directories checked by type, mode and owner, if they exist in the image.
SYSTEM_DIRECTORIES = [
    "/",
    "/etc",
    "/usr",
    "/usr/bin",
    "/usr/local/bin",
    "/var",
    "/var/log",
    "/var/lib/dpkg",
    "/tmp",
    "/root",
    "/home/app",
    "/opt/app",
    "/srv/shared",
    "/srv/setgid-dir",
]

# Regular files whose first line becomes a `contents` check.
CONTENT_FILES = [
    "/usr/lib/os-release",
    "/etc/debian_version",
    "/etc/shells",
    "/opt/app/config.ini",
    "/opt/app/VERSION",
]

# Paths and packages that a hardened image must not have. The script checks
# that each is really absent in the image.
ABSENT_FILES = ["/etc/nologin", "/root/.ssh/authorized_keys"]
ABSENT_PACKAGES = ["openssh-server", "telnetd", "rsh-server"]


@dataclass
class Expectation:
    """An expected command output: `contains` text or a `regex`."""

    text: str
    is_regex: bool = False


@dataclass
class CommandSpec:
    command: str
    exit_status: int = 0
    stdout: Optional[Expectation] = None
    stderr: Optional[Expectation] = None


def contains(text: str) -> Expectation:
    return Expectation(text)


def regex(pattern: str) -> Expectation:
    return Expectation(pattern, is_regex=True)


# Commands with expected results. The script runs each one in the inspected
# container and stops with an error when a result does not match. Regexes use
# only syntax that Python's re, Rust's regex crate and Ruby agree on, and `^`
# matches at every line start in all three as used here.
COMMANDS = [
    CommandSpec("bash --version", stdout=regex(r"GNU bash, version 5\.[0-9]+")),
    CommandSpec("cat /etc/debian_version", stdout=regex(r"^12\.[0-9]+")),
    CommandSpec("uname -s", stdout=contains("Linux")),
    CommandSpec("id -un", stdout=contains("root")),
    CommandSpec("id app", stdout=contains("uid=1001(app) gid=1001(app)")),
    CommandSpec("printenv APP_ENV", stdout=contains("production")),
    CommandSpec("cat /opt/app/VERSION", stdout=regex(r"^1\.2\.[0-9]+")),
    CommandSpec("dpkg --version", stdout=regex(r"package management program version 1\.21\.")),
    CommandSpec("ls --version", stdout=regex(r"^ls \(GNU coreutils\) 9\.")),
    CommandSpec("grep --version", stdout=regex(r"^grep \(GNU grep\) 3\.")),
    CommandSpec("sed --version", stdout=regex(r"^sed \(GNU sed\) 4\.")),
    CommandSpec("tar --version", stdout=regex(r"^tar \(GNU tar\) 1\.")),
    CommandSpec("gzip --version", stdout=regex(r"^gzip 1\.")),
    CommandSpec("apt-get --version", stdout=regex(r"^apt 2\.")),
    CommandSpec("perl -e 'print 6 * 7'", stdout=contains("42")),
    CommandSpec("awk 'BEGIN { print 2 + 3 }'", stdout=regex(r"^5")),
    CommandSpec("stat -c %a /srv/shared", stdout=contains("1777")),
    CommandSpec("readlink /opt/app/current", stdout=contains("/opt/app/config.ini")),
    CommandSpec("getent group deploy", stdout=contains("deploy:x:2000:")),
    CommandSpec("head -n 1 /opt/app/config.ini", stdout=contains("[server]")),
    CommandSpec("grep -c '' /etc/passwd", stdout=regex(r"^[0-9]+")),
    CommandSpec("sha256sum /opt/app/VERSION", stdout=regex(r"^[0-9a-f]{64}  /opt/app/VERSION")),
    CommandSpec("date -u +%Y", stdout=regex(r"^20[0-9][0-9]")),
    CommandSpec("test -u /usr/local/bin/suid-tool"),
    CommandSpec("sh -c 'exit 3'", exit_status=3),
    CommandSpec("ls /nonexistent", exit_status=2, stderr=contains("No such file or directory")),
]


@dataclass
class PackageCheck:
    name: str
    installed: bool = True
    min_version: Optional[str] = None


@dataclass
class FileCheck:
    path: str
    exists: bool = True
    file_type: Optional[str] = None  # "file", "directory" or "symlink"
    mode: Optional[str] = None  # four octal digits, such as "0644"
    owner: Optional[str] = None
    group: Optional[str] = None
    link_target: Optional[str] = None
    contents: Optional[str] = None


@dataclass
class UserCheck:
    name: str
    uid: int
    primary_group: str
    home: str
    shell: str
    groups: List[str] = field(default_factory=list)


@dataclass
class GroupCheck:
    name: str
    gid: int


@dataclass
class Workload:
    packages: List[PackageCheck]
    files: List[FileCheck]
    commands: List[CommandSpec]
    users: List[UserCheck]
    groups: List[GroupCheck]
    # Every user's uid and every group's gid in the image, by name, for
    # container-structure-test, which checks file owners by id.
    user_ids: Dict[str, int] = field(default_factory=dict)
    group_ids: Dict[str, int] = field(default_factory=dict)

    def check_count(self) -> int:
        return (
            len(self.packages) + len(self.files) + len(self.commands) + len(self.users) + len(self.groups)
        )


class WorkloadError(Exception):
    pass


class Container:
    """A running container of the inspected image, removed by close()."""

    def __init__(self, image: str):
        self.name = f"specrun-bench-inspect-{uuid.uuid4().hex[:12]}"
        run(
            [
                "docker", "run", "--detach", "--interactive", "--network", "none",
                "--label", f"{CONTAINER_LABEL}=inspect", "--name", self.name, image,
            ]
        )

    def close(self) -> None:
        subprocess.run(["docker", "rm", "--force", self.name], capture_output=True, check=False)

    def shell(self, script: str, *args: str) -> subprocess.CompletedProcess:
        """Run SCRIPT with `sh -c` in the container, passing ARGS as $1, $2 and so on."""
        return subprocess.run(
            ["docker", "exec", self.name, "sh", "-c", script, "sh", *args],
            capture_output=True,
            text=True,
            check=False,
        )

    def shell_ok(self, script: str, *args: str) -> str:
        result = self.shell(script, *args)
        if result.returncode != 0:
            raise WorkloadError(
                f"command failed in {self.name} with exit status {result.returncode}: "
                f"{script!r} {list(args)}\n{result.stderr}"
            )
        return result.stdout


def run(argv: List[str]) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise WorkloadError(f"{' '.join(argv)} failed with exit status {result.returncode}:\n{result.stderr}")
    return result.stdout


# --- version bounds -------------------------------------------------------


def serverspec_version_key(version: str) -> Tuple[int, List[int]]:
    """Return the sort key of VERSION in serverspec's package version order.

    Serverspec::Type::Package::Version (lib/serverspec/type/package.rb in
    serverspec 2.42.1) compares the epoch, then the rest as a list of digit
    runs (as integers) and single bytes of the other characters. There `~`
    sorts before everything, and the end of the string sorts before any
    element except `~`. This is not dpkg's algorithm, so a bound has to hold
    in both.
    """
    match = re.fullmatch(r"(?:(\d+):)?(\d[0-9a-zA-Z.+:~_-]*)", version)
    if match is None:
        raise WorkloadError(f"serverspec cannot parse the version {version!r}")
    epoch = int(match.group(1) or 0)
    elements: List[int] = []
    for digits, other in re.findall(r"(\d+)|(\D+)", match.group(2)):
        if digits:
            elements.append(int(digits))
        else:
            elements.extend(-2 if char == "~" else ord(char) for char in other)
    elements.append(-1)
    return epoch, elements


def lower_version_bound(version: str) -> str:
    """Return a `>=` bound that VERSION satisfies in dpkg and in serverspec.

    The bound is the epoch and the first two numeric components of the
    upstream version, such as "1:2.38" for "1:2.38.1-5+deb12u3". dpkg orders
    such a prefix at or below the full version unless a `~` follows it
    ("37" is above "37~deb12u1"), and serverspec_version_key must agree too;
    otherwise the bound is the full version.
    """
    match = re.match(r"(?:\d+:)?\d+(?:\.\d+)?", version)
    if match is None:
        return version
    prefix = match.group(0)
    rest = version[len(prefix):]
    if rest.startswith("~"):
        return version
    if serverspec_version_key(version) < serverspec_version_key(prefix):
        return version
    return prefix


# --- inspection -----------------------------------------------------------


def inspect_packages(container: Container) -> List[PackageCheck]:
    output = container.shell_ok("dpkg-query --show --showformat '${Package}\\t${Version}\\t${db:Status-Abbrev}\\n'")
    installed: Dict[str, str] = {}
    for line in output.splitlines():
        name, version, status = line.split("\t")
        if status.strip() == "ii":
            installed[name] = version
    if len(installed) < PACKAGE_COUNT:
        raise WorkloadError(f"the image has {len(installed)} installed packages, fewer than {PACKAGE_COUNT}")

    checks = [
        PackageCheck(name, min_version=lower_version_bound(installed[name]))
        for name in sorted(installed)[:PACKAGE_COUNT]
    ]
    for name in ABSENT_PACKAGES:
        if name in installed:
            raise WorkloadError(f"package {name} is installed in the image, but the workload expects it absent")
        checks.append(PackageCheck(name, installed=False))
    return checks


def parse_passwd(text: str) -> List[List[str]]:
    return [line.split(":") for line in text.splitlines() if line]


def inspect_users_and_groups(
    container: Container,
) -> Tuple[List[UserCheck], List[GroupCheck], Dict[str, int], Dict[str, int]]:
    """Return the user checks, the group checks, and the uid and gid of every name."""
    passwd = parse_passwd(container.shell_ok("getent passwd"))
    group_entries = parse_passwd(container.shell_ok("getent group"))

    group_names = {int(entry[2]): entry[0] for entry in group_entries}
    members: Dict[str, List[str]] = {}
    for name, _password, _gid, member_list in group_entries:
        for member in filter(None, member_list.split(",")):
            members.setdefault(member, []).append(name)

    users = [
        UserCheck(
            name=name,
            uid=int(uid),
            primary_group=group_names[int(gid)],
            home=home,
            shell=shell,
            groups=sorted(members.get(name, [])),
        )
        for name, _password, uid, gid, _gecos, home, shell in passwd
    ]

    # The groups that the fixture adds come first, then the lowest gids.
    fixture_groups = {"app", "deploy", "staff", "users"}
    ordered = sorted(group_entries, key=lambda entry: (entry[0] not in fixture_groups, int(entry[2])))
    groups = [GroupCheck(entry[0], int(entry[2])) for entry in ordered[:GROUP_COUNT]]
    user_ids = {entry[0]: int(entry[2]) for entry in passwd}
    group_ids = {entry[0]: int(entry[2]) for entry in group_entries}
    return users, groups, user_ids, group_ids


# `stat` format: type, mode in octal, owner, group, path, separated by tabs.
STAT_SCRIPT = 'stat --format "%F\t%a\t%U\t%G\t%n" -- "$@"'

FILE_TYPES = {
    "regular file": "file",
    "regular empty file": "file",
    "directory": "directory",
    "symbolic link": "symlink",
}


def find_paths(container: Container, find_arguments: str, limit: int, spread: bool = False) -> List[str]:
    """Return up to LIMIT sorted paths that `find FIND_ARGUMENTS` prints.

    With SPREAD, the paths are taken at even steps through the sorted list
    instead of from its start.
    """
    paths = sorted(container.shell_ok(f"find {find_arguments}").split("\n"))
    paths = [path for path in paths if path and path not in DOCKER_MANAGED_FILES]
    if spread and len(paths) > limit:
        step = len(paths) / limit
        return [paths[int(index * step)] for index in range(limit)]
    return paths[:limit]


def inspect_files(container: Container) -> List[FileCheck]:
    candidates: List[str] = []
    candidates += find_paths(container, "/etc -mindepth 1 -maxdepth 1 -type f", 14)
    candidates += find_paths(container, "/etc -mindepth 1 -maxdepth 1 -type d", 6)
    candidates += find_paths(container, "/usr/bin /usr/sbin /usr/local/bin -maxdepth 1 -type f -perm -4000", 10)
    candidates += find_paths(container, "/usr/bin -maxdepth 1 -type f ! -perm -4000", 10, spread=True)
    candidates += find_paths(container, "/ /etc /opt/app -mindepth 1 -maxdepth 1 -type l", 7)
    existing_directories = container.shell_ok(
        'for path in "$@"; do if test -d "$path"; then echo "$path"; fi; done', *SYSTEM_DIRECTORIES
    )
    candidates += existing_directories.split()
    candidates += [path for path in CONTENT_FILES if path not in candidates]
    candidates = list(dict.fromkeys(candidates))

    checks: List[FileCheck] = []
    for line in container.shell_ok(STAT_SCRIPT, *candidates).splitlines():
        stat_type, mode, owner, group, path = line.split("\t")
        file_type = FILE_TYPES.get(stat_type)
        if file_type is None:
            raise WorkloadError(f"{path} has the file type {stat_type!r}, which the workload does not check")
        if file_type == "symlink":
            target = container.shell_ok('readlink -- "$1"', path).rstrip("\n")
            checks.append(FileCheck(path, file_type=file_type, link_target=target))
        else:
            checks.append(
                FileCheck(path, file_type=file_type, mode=f"{int(mode, 8):04o}", owner=owner, group=group)
            )

    by_path = {check.path: check for check in checks}
    for path in CONTENT_FILES:
        first_line = container.shell_ok('head -n 1 -- "$1"', path).strip()
        if not first_line:
            raise WorkloadError(f"{path} has an empty first line, so it gives no contents check")
        by_path[path].contents = first_line

    absent = container.shell('for path in "$@"; do test -e "$path" && echo "$path"; done; true', *ABSENT_FILES)
    if absent.stdout.strip():
        raise WorkloadError(f"these paths exist in the image, but the workload expects them absent: {absent.stdout}")
    checks += [FileCheck(path, exists=False) for path in ABSENT_FILES]
    return checks


def verify_commands(container: Container) -> None:
    """Run every entry of COMMANDS in the container and raise on a mismatch."""
    for spec in COMMANDS:
        result = container.shell(spec.command)
        problems = []
        if result.returncode != spec.exit_status:
            problems.append(f"exit status {result.returncode}, expected {spec.exit_status}")
        for stream_name, expectation, output in (
            ("stdout", spec.stdout, result.stdout),
            ("stderr", spec.stderr, result.stderr),
        ):
            if expectation is not None and not expectation_matches(expectation, output):
                problems.append(f"{stream_name} {output!r} does not match {expectation}")
        if problems:
            raise WorkloadError(f"command {spec.command!r} in the image: {'; '.join(problems)}")


def expectation_matches(expectation: Expectation, output: str) -> bool:
    if expectation.is_regex:
        return re.search(expectation.text, output, re.MULTILINE) is not None
    return expectation.text in output


def inspect_image(image: str) -> Workload:
    container = Container(image)
    try:
        packages = inspect_packages(container)
        files = inspect_files(container)
        users, groups, user_ids, group_ids = inspect_users_and_groups(container)
        verify_commands(container)
    finally:
        container.close()
    return Workload(
        packages=packages,
        files=files,
        commands=list(COMMANDS),
        users=users,
        groups=groups,
        user_ids=user_ids,
        group_ids=group_ids,
    )


# --- specrun output -------------------------------------------------------


def yaml_string(text: str) -> str:
    # A JSON string is a valid YAML double-quoted scalar with the same value.
    return json.dumps(text)


def yaml_text_matcher(expectation: Expectation) -> str:
    if expectation.is_regex:
        return yaml_string(f"/{expectation.text}/")
    # specrun reads a string that starts with `/` as a regex and one that
    # starts with `!` as a negation, so such text needs the mapping form.
    if expectation.text.startswith(("/", "!")):
        return "{contains: " + yaml_string(expectation.text) + "}"
    return yaml_string(expectation.text)


def specrun_check_lines(workload: Workload) -> List[str]:
    lines: List[str] = []

    for package in workload.packages:
        lines.append(f"  - package: {yaml_string(package.name)}")
        if not package.installed:
            lines.append("    installed: false")
        if package.min_version is not None:
            lines.append(f"    version: {yaml_string('>= ' + package.min_version)}")

    for check in workload.files:
        lines.append(f"  - file: {yaml_string(check.path)}")
        if not check.exists:
            lines.append("    exists: false")
            continue
        optional = [
            ("type", check.file_type),
            ("mode", check.mode),
            ("owner", check.owner),
            ("group", check.group),
            ("link_target", check.link_target),
        ]
        lines += [f"    {key}: {yaml_string(value)}" for key, value in optional if value is not None]
        if check.contents is not None:
            lines.append(f"    contents: {yaml_text_matcher(contains(check.contents))}")

    for command in workload.commands:
        lines.append(f"  - command: {yaml_string(command.command)}")
        lines.append(f"    exit_status: {command.exit_status}")
        if command.stdout is not None:
            lines.append(f"    stdout: {yaml_text_matcher(command.stdout)}")
        if command.stderr is not None:
            lines.append(f"    stderr: {yaml_text_matcher(command.stderr)}")

    for user in workload.users:
        lines.append(f"  - user: {yaml_string(user.name)}")
        lines.append(f"    uid: {user.uid}")
        lines.append(f"    group: {yaml_string(user.primary_group)}")
        lines.append(f"    home: {yaml_string(user.home)}")
        lines.append(f"    shell: {yaml_string(user.shell)}")
        if user.groups:
            lines.append(f"    groups: [{', '.join(yaml_string(name) for name in user.groups)}]")

    for group in workload.groups:
        lines.append(f"  - group: {yaml_string(group.name)}")
        lines.append(f"    gid: {group.gid}")

    return lines


def write_specrun(workload: Workload, path: Path, image: str) -> None:
    header = [
        f"# Generated by bench/workload.py from {image}; do not edit.",
        f"# {workload.check_count()} checks.",
        "checks:",
    ]
    path.write_text("\n".join(header + specrun_check_lines(workload)) + "\n")


# --- serverspec output ----------------------------------------------------

SPEC_HELPER = """\
# Generated by bench/workload.py; do not edit.
require 'serverspec'
require 'docker'

set :backend, :docker
# The local engine socket, set here so that no DOCKER_URL or DOCKER_HOST
# in the environment sends the tests elsewhere.
set :docker_url, 'unix:///var/run/docker.sock'
set :docker_container, ENV.fetch('BENCH_CONTAINER')
"""


def ruby_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def ruby_matcher(expectation: Expectation) -> str:
    if expectation.is_regex:
        return f"match Regexp.new({ruby_string(expectation.text)})"
    return f"include {ruby_string(expectation.text)}"


def serverspec_blocks(workload: Workload) -> List[str]:
    """Return one `describe` block for each check.

    Each property that the specrun check asserts becomes one example, and
    existence is asserted too, as specrun asserts it for every check:
    - package: `be_installed`, and `its(:version) { should be >= ... }`,
      which compares with Serverspec::Type::Package::Version;
    - file: `exist` only when absence is checked, since the type matchers
      fail on a missing file; then the type, `be_mode`, `be_owned_by`,
      `be_grouped_into`, `be_linked_to` and `its(:content)`;
    - command: `its(:exit_status)`, `its(:stdout)` and `its(:stderr)`;
    - user: `exist`, `have_uid`, `belong_to_primary_group`,
      `have_home_directory`, `have_login_shell`, `belong_to_group`;
    - group: `exist` and `have_gid`.
    """
    blocks: List[str] = []

    for package in workload.packages:
        examples = ["it { should be_installed }" if package.installed else "it { should_not be_installed }"]
        if package.min_version is not None:
            examples.append(f"its(:version) {{ should be >= {ruby_string(package.min_version)} }}")
        blocks.append(describe(f"package({ruby_string(package.name)})", examples))

    type_matchers = {"file": "be_file", "directory": "be_directory", "symlink": "be_symlink"}
    for check in workload.files:
        if not check.exists:
            blocks.append(describe(f"file({ruby_string(check.path)})", ["it { should_not exist }"]))
            continue
        examples = []
        if check.file_type is not None:
            examples.append(f"it {{ should {type_matchers[check.file_type]} }}")
        if check.mode is not None:
            # `stat -c %a` prints the mode without leading zeros.
            examples.append(f"it {{ should be_mode {ruby_string(format(int(check.mode, 8), 'o'))} }}")
        if check.owner is not None:
            examples.append(f"it {{ should be_owned_by {ruby_string(check.owner)} }}")
        if check.group is not None:
            examples.append(f"it {{ should be_grouped_into {ruby_string(check.group)} }}")
        if check.link_target is not None:
            examples.append(f"it {{ should be_linked_to {ruby_string(check.link_target)} }}")
        if check.contents is not None:
            examples.append(f"its(:content) {{ should {ruby_matcher(contains(check.contents))} }}")
        blocks.append(describe(f"file({ruby_string(check.path)})", examples))

    for command in workload.commands:
        examples = [f"its(:exit_status) {{ should eq {command.exit_status} }}"]
        if command.stdout is not None:
            examples.append(f"its(:stdout) {{ should {ruby_matcher(command.stdout)} }}")
        if command.stderr is not None:
            examples.append(f"its(:stderr) {{ should {ruby_matcher(command.stderr)} }}")
        blocks.append(describe(f"command({ruby_string(command.command)})", examples))

    for user in workload.users:
        examples = [
            "it { should exist }",
            f"it {{ should have_uid {user.uid} }}",
            f"it {{ should belong_to_primary_group {ruby_string(user.primary_group)} }}",
            f"it {{ should have_home_directory {ruby_string(user.home)} }}",
            f"it {{ should have_login_shell {ruby_string(user.shell)} }}",
        ]
        examples += [f"it {{ should belong_to_group {ruby_string(name)} }}" for name in user.groups]
        blocks.append(describe(f"user({ruby_string(user.name)})", examples))

    for group in workload.groups:
        examples = ["it { should exist }", f"it {{ should have_gid {group.gid} }}"]
        blocks.append(describe(f"group({ruby_string(group.name)})", examples))

    return blocks


def describe(resource: str, examples: List[str]) -> str:
    body = "".join(f"  {example}\n" for example in examples)
    return f"describe {resource} do\n{body}end\n"


def write_serverspec(workload: Workload, spec_dir: Path, image: str) -> int:
    """Write the spec files to SPEC_DIR and return the number of examples."""
    blocks = serverspec_blocks(workload)
    example_count = sum(block.count("\n") - 2 for block in blocks)
    header = (
        f"# Generated by bench/workload.py from {image}; do not edit.\n"
        f"# {len(blocks)} checks, {example_count} examples.\n"
        "require 'spec_helper'\n\n"
    )
    (spec_dir / "spec_helper.rb").write_text(SPEC_HELPER)
    (spec_dir / "workload_spec.rb").write_text(header + "\n".join(blocks))
    return example_count


# --- testinfra output -----------------------------------------------------

# The test functions of test_workload.py. write_testinfra puts the check
# tables in front of them.
TESTINFRA_TESTS = '''

def matches(expectation, text):
    """Return whether TEXT matches EXPECTATION, a ("contains", text) or ("regex", pattern) pair."""
    kind, value = expectation
    if kind == "regex":
        return re.search(value, text, re.MULTILINE) is not None
    return value in text


@pytest.mark.parametrize("name, installed, min_version", PACKAGES, ids=[row[0] for row in PACKAGES])
def test_package(host, name, installed, min_version):
    package = host.package(name)
    assert package.is_installed == installed
    if min_version is not None:
        # Version orders versions as dpkg does.
        assert Version(package.version) >= Version(min_version)


@pytest.mark.parametrize("path, file_type, mode, owner, group, contents", FILES, ids=[row[0] for row in FILES])
def test_file(host, path, file_type, mode, owner, group, contents):
    file = host.file(path)
    # NOTE: is_file and is_directory use `test -f` and `test -d`, which
    # follow symlinks. None of these paths is a symlink in the image.
    if file_type == "directory":
        assert file.is_directory
    else:
        assert file.is_file
    assert file.mode == int(mode, 8)
    assert file.user == owner
    assert file.group == group
    if contents is not None:
        assert contents in file.content_string


@pytest.mark.parametrize("path, target", SYMLINKS, ids=[row[0] for row in SYMLINKS])
def test_symlink(host, path, target):
    assert host.file(path).is_symlink
    # File.linked_to returns the fully resolved path (`realpath`), so the
    # target as written is read with readlink.
    assert host.check_output("readlink -- %s", path) == target


@pytest.mark.parametrize("path", ABSENT_FILES)
def test_absent_file(host, path):
    assert not host.file(path).exists


@pytest.mark.parametrize("command, exit_status, stdout, stderr", COMMANDS, ids=[row[0] for row in COMMANDS])
def test_command(host, command, exit_status, stdout, stderr):
    result = host.run(command)
    assert result.rc == exit_status
    if stdout is not None:
        assert matches(stdout, result.stdout)
    if stderr is not None:
        assert matches(stderr, result.stderr)


@pytest.mark.parametrize("name, uid, primary_group, home, shell, groups", USERS, ids=[row[0] for row in USERS])
def test_user(host, name, uid, primary_group, home, shell, groups):
    user = host.user(name)
    assert user.exists
    assert user.uid == uid
    assert user.group == primary_group
    assert user.home == home
    assert user.shell == shell
    member_of = user.groups
    for group in groups:
        assert group in member_of


@pytest.mark.parametrize("name, gid", GROUPS, ids=[row[0] for row in GROUPS])
def test_group(host, name, gid):
    group = host.group(name)
    assert group.exists
    assert group.gid == gid
'''


def python_table(name: str, comment: str, rows: List[object]) -> str:
    body = "".join(f"    {row!r},\n" for row in rows)
    return f"# {comment}\n{name} = [\n{body}]\n"


def expectation_pair(expectation: Optional[Expectation]) -> Optional[Tuple[str, str]]:
    if expectation is None:
        return None
    return ("regex" if expectation.is_regex else "contains", expectation.text)


def write_testinfra(workload: Workload, path: Path, image: str) -> int:
    """Write the checks as one pytest test per check and host, and return the test count per host.

    Each test asserts every property of its check through testinfra's
    modules, so one test runs several commands, each a `docker exec`:
    - package: `is_installed`, and `version` compared with python-debian's
      Version, which orders versions as dpkg does;
    - file: `is_file` or `is_directory`, `mode`, `user`, `group` and
      `content_string`; a symlink: `is_symlink` and `readlink`; an absent
      path: `exists`;
    - command: `run`, then the exit status and the output matchers;
    - user: `exists`, `uid`, `group`, `home`, `shell` and `groups`;
    - group: `exists` and `gid`.
    """
    packages = [(package.name, package.installed, package.min_version) for package in workload.packages]
    files, symlinks, absent = [], [], []
    for check in workload.files:
        if not check.exists:
            absent.append(check.path)
        elif check.file_type == "symlink":
            symlinks.append((check.path, check.link_target))
        else:
            files.append((check.path, check.file_type, check.mode, check.owner, check.group, check.contents))
    commands = [
        (command.command, command.exit_status, expectation_pair(command.stdout), expectation_pair(command.stderr))
        for command in workload.commands
    ]
    users = [
        (user.name, user.uid, user.primary_group, user.home, user.shell, user.groups) for user in workload.users
    ]
    groups = [(group.name, group.gid) for group in workload.groups]
    test_count = len(packages) + len(files) + len(symlinks) + len(absent) + len(commands) + len(users) + len(groups)

    header = (
        f"# Generated by bench/workload.py from {image}; do not edit.\n"
        f'"""The benchmark workload as testinfra tests: {test_count} tests per host.\n\n'
        "Run with `pytest --hosts=docker://NAME[,docker://NAME...]`. Needs\n"
        "pytest-testinfra and python-debian.\n"
        '"""\n\n'
        "import re\n\n"
        "import pytest\n"
        "from debian.debian_support import Version\n\n"
    )
    tables = [
        python_table("PACKAGES", "name, installed, minimum version or None", packages),
        python_table("FILES", "path, type, mode, owner, group, first line of the contents or None", files),
        python_table("SYMLINKS", "path, target as readlink prints it", symlinks),
        python_table("ABSENT_FILES", "paths that must not exist", absent),
        python_table(
            "COMMANDS",
            'command, exit status, stdout and stderr as ("contains", text) or ("regex", pattern) or None',
            commands,
        ),
        python_table("USERS", "name, uid, primary group, home, shell, groups it must belong to", users),
        python_table("GROUPS", "name, gid", groups),
    ]
    path.write_text(header + "\n".join(tables) + TESTINFRA_TESTS)
    return test_count


# --- container-structure-test output --------------------------------------

# Output of `dpkg-query --status` for an installed package, as in
# "Status: install ok installed" or "Status: hold ok installed".
DPKG_INSTALLED = r"(?m)^Status: \S+ \S+ installed$"


def go_regex_literal(text: str) -> str:
    """Return a Go regexp (RE2) that matches TEXT literally, as regexp.QuoteMeta does."""
    return re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", text)


def go_regex(expectation: Expectation) -> str:
    """Return EXPECTATION as a Go regexp in which `^` and `$` match at line ends, as in the other tools."""
    if expectation.is_regex:
        return f"(?m){expectation.text}"
    return go_regex_literal(expectation.text)


def go_file_mode(file_type: str, mode: str) -> str:
    """Return what Go's fs.FileMode.String prints for a path of FILE_TYPE and octal MODE.

    container-structure-test compares `permissions` with that string. Go
    puts the type letter (`d`, `L`) and then `u`, `g` and `t` for the setuid,
    setgid and sticky bits in front of the nine rwx characters. So mode 1777
    on a directory is "dtrwxrwxrwx", and mode 4755 on a regular file is
    "urwxr-xr-x". A leading "-" appears only when no letter comes first.
    """
    bits = int(mode, 8)
    prefix = {"directory": "d", "symlink": "L"}.get(file_type, "")
    for flag, letter in ((0o4000, "u"), (0o2000, "g"), (0o1000, "t")):
        if bits & flag:
            prefix += letter
    rwx = "".join(char if bits & (1 << (8 - index)) else "-" for index, char in enumerate("rwxrwxrwx"))
    return (prefix or "-") + rwx


def cst_shell_test(name: str, script: str, **fields: object) -> Dict[str, object]:
    """Return a command test that runs SCRIPT with `sh -c`.

    container-structure-test expands `$NAME`, `${NAME}` and `$1` in the
    command and its arguments with the image's environment before it runs
    them, and an unset name becomes empty. So a script may use `$(` but no
    other `$`.
    """
    if re.search(r"\$(?!\()", script):
        raise WorkloadError(f"container-structure-test would expand the $ in this command: {script!r}")
    return {"name": name, "command": "sh", "args": ["-c", script], **fields}


def cst_tests(workload: Workload) -> Tuple[List[Dict[str, object]], List[Dict[str, object]], List[Dict[str, object]]]:
    """Return the command tests, file existence tests and file content tests.

    container-structure-test has no package, user or group tests, so those
    checks become command tests; see write_cst.
    """
    commands: List[Dict[str, object]] = []
    existence: List[Dict[str, object]] = []
    contents: List[Dict[str, object]] = []

    for package in workload.packages:
        name = shlex.quote(package.name)
        if not package.installed:
            commands.append(
                cst_shell_test(
                    f"package {package.name}", f"dpkg-query --status {name} || true", excludedOutput=[DPKG_INSTALLED]
                )
            )
            continue
        script = f"dpkg-query --status {name}"
        if package.min_version is not None:
            script += (
                f' && dpkg --compare-versions "$(dpkg-query --show {name} | cut -f 2)"'
                f" ge {shlex.quote(package.min_version)}"
            )
        commands.append(cst_shell_test(f"package {package.name}", script, expectedOutput=[DPKG_INSTALLED]))

    for check in workload.files:
        if not check.exists:
            existence.append({"name": f"file {check.path}", "path": check.path, "shouldExist": False})
            continue
        if check.file_type == "symlink":
            # A symlink's mode is 0777 on Linux.
            existence.append(
                {
                    "name": f"file {check.path}",
                    "path": check.path,
                    "shouldExist": True,
                    "permissions": go_file_mode("symlink", "0777"),
                }
            )
            commands.append(
                cst_shell_test(
                    f"symlink target {check.path}",
                    f"readlink -- {shlex.quote(check.path)}",
                    expectedOutput=[f"^{go_regex_literal(check.link_target or '')}\n$"],
                )
            )
            continue
        if check.owner not in workload.user_ids or check.group not in workload.group_ids:
            raise WorkloadError(f"{check.path} has the owner {check.owner}:{check.group}, which has no id in the image")
        existence.append(
            {
                "name": f"file {check.path}",
                "path": check.path,
                "shouldExist": True,
                "permissions": go_file_mode(check.file_type or "file", check.mode or "0000"),
                "uid": workload.user_ids[check.owner],
                "gid": workload.group_ids[check.group],
            }
        )
        if check.contents is not None:
            contents.append(
                {
                    "name": f"contents {check.path}",
                    "path": check.path,
                    "expectedContents": [go_regex_literal(check.contents)],
                }
            )

    for command in workload.commands:
        fields: Dict[str, object] = {"exitCode": command.exit_status}
        if command.stdout is not None:
            fields["expectedOutput"] = [go_regex(command.stdout)]
        if command.stderr is not None:
            fields["expectedError"] = [go_regex(command.stderr)]
        commands.append(cst_shell_test(f"command {command.command}", command.command, **fields))

    for user in workload.users:
        name = go_regex_literal(user.name)
        expected = [
            f"(?m)^{name}:[^:]*:{user.uid}:[0-9]+:[^:]*:{go_regex_literal(user.home)}:{go_regex_literal(user.shell)}$",
            f"(?m)^uid={user.uid}\\({name}\\) gid=[0-9]+\\({go_regex_literal(user.primary_group)}\\)( |$)",
        ]
        expected += [f"(?m) groups=([^ ]*,)?[0-9]+\\({go_regex_literal(group)}\\)(,|$)" for group in user.groups]
        quoted = shlex.quote(user.name)
        script = f"getent passwd {quoted} && id {quoted}"
        commands.append(cst_shell_test(f"user {user.name}", script, expectedOutput=expected))

    for group in workload.groups:
        commands.append(
            cst_shell_test(
                f"group {group.name}",
                f"getent group {shlex.quote(group.name)}",
                expectedOutput=[f"^{go_regex_literal(group.name)}:[^:]*:{group.gid}:"],
            )
        )

    return commands, existence, contents


def cst_entry(test: Dict[str, object]) -> str:
    """Return TEST as one item of a YAML sequence."""
    lines = []
    for index, (key, value) in enumerate(test.items()):
        indent = "  - " if index == 0 else "    "
        # A JSON value is a valid YAML flow value with the same meaning.
        lines.append(f"{indent}{key}: {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def write_cst(workload: Workload, path: Path, image: str) -> int:
    """Write the checks as a container-structure-test config and return its test count.

    The mapping, kind by kind:
    - package: a command test of `dpkg-query --status` that expects an
      installed status, and `dpkg --compare-versions ... ge MIN` for the
      version bound, in one `sh -c`;
    - file: a file existence test. `permissions` covers the type and the
      mode, and `uid` and `gid` stand for the owner and group names. A
      symlink also gets a command test of `readlink`, and a `contents`
      check also gets a file content test, so such a check is two tests;
    - command: a command test of `sh -c COMMAND`. Its regexes get `(?m)`, so
      that `^` matches at every line start as in the other tools;
    - user: a command test of `getent passwd NAME && id NAME` with regexes
      for the uid, home, shell, primary group and each group;
    - group: a command test of `getent group NAME` with a regex for the gid.
    """
    commands, existence, contents = cst_tests(workload)
    sections = [
        f"# Generated by bench/workload.py from {image}; do not edit.\n"
        f"# {workload.check_count()} checks as {len(commands) + len(existence) + len(contents)} tests.\n"
        'schemaVersion: "2.0.0"\n',
        "commandTests:\n" + "".join(cst_entry(test) for test in commands),
        "fileExistenceTests:\n" + "".join(cst_entry(test) for test in existence),
        "fileContentTests:\n" + "".join(cst_entry(test) for test in contents),
    ]
    path.write_text("".join(sections))
    return len(commands) + len(existence) + len(contents)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", default=DEFAULT_IMAGE, help=f"image to read the checks from (default {DEFAULT_IMAGE})")
    parser.add_argument(
        "--out-dir", type=Path, default=DEFAULT_OUT_DIR, help="directory for the generated specs (default bench/out)"
    )
    args = parser.parse_args()

    try:
        workload = inspect_image(args.image)
    except WorkloadError as error:
        print(f"workload.py: {error}", file=sys.stderr)
        return 1
    if workload.check_count() < MIN_CHECKS:
        print(f"workload.py: only {workload.check_count()} checks, fewer than {MIN_CHECKS}", file=sys.stderr)
        return 1

    spec_dir = args.out_dir / "serverspec" / "spec"
    testinfra_dir = args.out_dir / "testinfra"
    cst_dir = args.out_dir / "cst"
    for directory in (spec_dir, testinfra_dir, cst_dir):
        directory.mkdir(parents=True, exist_ok=True)
    try:
        write_specrun(workload, args.out_dir / "workload.yml", args.image)
        example_count = write_serverspec(workload, spec_dir, args.image)
        testinfra_count = write_testinfra(workload, testinfra_dir / "test_workload.py", args.image)
        cst_count = write_cst(workload, cst_dir / "workload.yaml", args.image)
    except WorkloadError as error:
        print(f"workload.py: {error}", file=sys.stderr)
        return 1

    print(
        f"checks={workload.check_count()} packages={len(workload.packages)} files={len(workload.files)} "
        f"commands={len(workload.commands)} users={len(workload.users)} groups={len(workload.groups)} "
        f"serverspec_examples={example_count} testinfra_tests={testinfra_count} cst_tests={cst_count}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
