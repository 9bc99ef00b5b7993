#!/usr/bin/env python3
"""Write the specrun and serverspec specs of the serverspec benchmark.

Both specs come from one list of checks, and the names and expected values in
those checks are read from a container of the fixture image, so every check
passes in both tools. Outputs, relative to --out-dir (default bench/out):

    workload.yml                         specrun spec
    serverspec/spec/spec_helper.rb       serverspec docker backend settings
    serverspec/spec/workload_spec.rb     the same checks as serverspec examples

The serverspec spec reads the container name from the environment variable
BENCH_CONTAINER, so one copy serves every container. Each specrun check
becomes one serverspec `describe` block with one example per asserted
property (see write_serverspec), because serverspec runs one command per
example.

Python 3 (run with 3.11), standard library only. Needs the docker CLI and the
fixture image; the container it starts has no network and is removed on exit.
"""

import argparse
import json
import re
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


def inspect_users_and_groups(container: Container) -> Tuple[List[UserCheck], List[GroupCheck]]:
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
    return users, groups


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
        users, groups = inspect_users_and_groups(container)
        verify_commands(container)
    finally:
        container.close()
    return Workload(packages=packages, files=files, commands=list(COMMANDS), users=users, groups=groups)


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
    spec_dir.mkdir(parents=True, exist_ok=True)
    write_specrun(workload, args.out_dir / "workload.yml", args.image)
    example_count = write_serverspec(workload, spec_dir, args.image)

    print(
        f"checks={workload.check_count()} packages={len(workload.packages)} files={len(workload.files)} "
        f"commands={len(workload.commands)} users={len(workload.users)} groups={len(workload.groups)} "
        f"serverspec_examples={example_count}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
