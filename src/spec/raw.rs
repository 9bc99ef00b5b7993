//! serde types that mirror the YAML of a spec file, and their validation into checks.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::values::{CommandLine, DurationValue, EnvName, FileType, Mode, Sha256, Skip};
use super::{Spec, SpecError};
use crate::check::command::CommandCheck;
use crate::check::file::FileCheck;
use crate::check::group::GroupCheck;
use crate::check::metadata::MetadataCheck;
use crate::check::package::PackageCheck;
use crate::check::port::{PortCheck, Protocol};
use crate::check::process::ProcessCheck;
use crate::check::user::UserCheck;
use crate::check::{Check, CheckKind};
use crate::matcher::{NumberMatcher, TextMatcher};
use crate::version::VersionMatcher;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSpec {
    image: Option<String>,
    network: Option<String>,
    checks: Spanned<Vec<Spanned<RawCheck>>>,
}

/// Every key any check may have. Which keys apply depends on the kind, decided in
/// [`RawCheck::kind`].
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCheck {
    name: Option<String>,
    tags: Option<Vec<String>>,
    timeout: Option<DurationValue>,
    skip: Option<Skip>,

    command: Option<CommandLine>,
    file: Option<String>,
    package: Option<String>,
    user: Option<String>,
    group: Option<String>,
    packages: Option<Vec<String>>,
    files: Option<Vec<String>>,
    users: Option<Vec<String>>,
    groups: Option<Vec<String>>,

    exit_status: Option<i64>,
    stdout: Option<TextMatcher>,
    stderr: Option<TextMatcher>,
    env: Option<BTreeMap<EnvName, String>>,
    workdir: Option<String>,

    exists: Option<bool>,
    #[serde(rename = "type")]
    file_type: Option<FileType>,
    mode: Option<Mode>,
    owner: Option<String>,
    uid: Option<u32>,
    gid: Option<u32>,
    size: Option<NumberMatcher>,
    link_target: Option<String>,
    contents: Option<TextMatcher>,
    sha256: Option<Sha256>,

    installed: Option<bool>,
    version: Option<VersionMatcher>,

    home: Option<String>,
    shell: Option<String>,

    metadata: Option<MetadataCheck>,

    port: Option<u16>,
    protocol: Option<Protocol>,
    address: Option<String>,
    listening: Option<bool>,

    process: Option<String>,
    running: Option<bool>,
    count: Option<NumberMatcher>,
}

/// Check kinds as written, including the short forms that check several names at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RawKind {
    Command,
    File,
    Package,
    Packages,
    Files,
    User,
    Users,
    Group,
    Groups,
    Metadata,
    Port,
    Process,
}

const COMMON_KEYS: &[&str] = &["name", "tags", "timeout", "skip"];

impl RawKind {
    /// Returns the key that names the kind, for messages.
    fn key(self) -> &'static str {
        match self {
            RawKind::Command => "command",
            RawKind::File => "file",
            RawKind::Package => "package",
            RawKind::Packages => "packages",
            RawKind::Files => "files",
            RawKind::User => "user",
            RawKind::Users => "users",
            RawKind::Group => "group",
            RawKind::Groups => "groups",
            RawKind::Metadata => "metadata",
            RawKind::Port => "port",
            RawKind::Process => "process",
        }
    }

    /// Keys besides [`COMMON_KEYS`] that a check of this kind accepts.
    fn keys(self) -> &'static [&'static str] {
        match self {
            RawKind::Command => &["command", "exit_status", "stdout", "stderr", "env", "user", "workdir"],
            RawKind::File => &[
                "file",
                "exists",
                "type",
                "mode",
                "owner",
                "uid",
                "group",
                "gid",
                "size",
                "link_target",
                "contents",
                "sha256",
            ],
            RawKind::Package => &["package", "installed", "version"],
            RawKind::Packages => &["packages", "installed"],
            RawKind::Files => &["files", "exists"],
            RawKind::User => &["user", "exists", "uid", "gid", "group", "home", "shell", "groups"],
            RawKind::Users => &["users", "exists"],
            RawKind::Group => &["group", "exists", "gid"],
            RawKind::Groups => &["groups", "exists"],
            RawKind::Metadata => &["metadata"],
            RawKind::Port => &["port", "protocol", "address", "listening"],
            RawKind::Process => &["process", "running", "user", "count"],
        }
    }
}

/// Where a check starts in its file, for errors.
struct Position<'a> {
    path: &'a str,
    line: u64,
    column: u64,
}

impl Position<'_> {
    fn error(&self, message: impl Into<String>) -> SpecError {
        SpecError::invalid(self.path, self.line, self.column, message)
    }
}

impl RawSpec {
    pub(super) fn validate(self, path: &str) -> Result<Spec, SpecError> {
        if self.checks.value.is_empty() {
            let location = self.checks.referenced;
            return Err(SpecError::invalid(
                path,
                location.line(),
                location.column(),
                "the spec has no checks: add at least one entry under `checks:`",
            ));
        }
        if let Some(image) = &self.image {
            reject_blank(image, "image").map_err(|message| SpecError::invalid(path, 1, 1, message))?;
        }

        let mut checks = Vec::new();
        for spanned in self.checks.value {
            let position = Position { path, line: spanned.referenced.line(), column: spanned.referenced.column() };
            spanned.value.validate(&position, &mut checks)?;
        }
        Ok(Spec { path: path.to_owned(), image: self.image, network: self.network, checks })
    }
}

impl RawCheck {
    /// Keys present in this check, in declaration order.
    fn present_keys(&self) -> Vec<&'static str> {
        let mut keys = Vec::new();
        let mut note = |present: bool, key: &'static str| {
            if present {
                keys.push(key);
            }
        };
        note(self.name.is_some(), "name");
        note(self.tags.is_some(), "tags");
        note(self.timeout.is_some(), "timeout");
        note(self.skip.is_some(), "skip");
        note(self.command.is_some(), "command");
        note(self.file.is_some(), "file");
        note(self.package.is_some(), "package");
        note(self.user.is_some(), "user");
        note(self.group.is_some(), "group");
        note(self.packages.is_some(), "packages");
        note(self.files.is_some(), "files");
        note(self.users.is_some(), "users");
        note(self.groups.is_some(), "groups");
        note(self.exit_status.is_some(), "exit_status");
        note(self.stdout.is_some(), "stdout");
        note(self.stderr.is_some(), "stderr");
        note(self.env.is_some(), "env");
        note(self.workdir.is_some(), "workdir");
        note(self.exists.is_some(), "exists");
        note(self.file_type.is_some(), "type");
        note(self.mode.is_some(), "mode");
        note(self.owner.is_some(), "owner");
        note(self.uid.is_some(), "uid");
        note(self.gid.is_some(), "gid");
        note(self.size.is_some(), "size");
        note(self.link_target.is_some(), "link_target");
        note(self.contents.is_some(), "contents");
        note(self.sha256.is_some(), "sha256");
        note(self.installed.is_some(), "installed");
        note(self.version.is_some(), "version");
        note(self.home.is_some(), "home");
        note(self.shell.is_some(), "shell");
        note(self.metadata.is_some(), "metadata");
        note(self.port.is_some(), "port");
        note(self.protocol.is_some(), "protocol");
        note(self.address.is_some(), "address");
        note(self.listening.is_some(), "listening");
        note(self.process.is_some(), "process");
        note(self.running.is_some(), "running");
        note(self.count.is_some(), "count");
        keys
    }

    /// Decides the kind. `user`, `group` and `groups` are also properties of other kinds (the
    /// user a command runs as, a file's group, a user's groups), so the more specific kind keys
    /// are tried first.
    fn kind(&self, position: &Position) -> Result<RawKind, SpecError> {
        let kind_keys = [
            (self.command.is_some(), RawKind::Command),
            (self.file.is_some(), RawKind::File),
            (self.package.is_some(), RawKind::Package),
            (self.packages.is_some(), RawKind::Packages),
            (self.files.is_some(), RawKind::Files),
            (self.users.is_some(), RawKind::Users),
            (self.metadata.is_some(), RawKind::Metadata),
            (self.port.is_some(), RawKind::Port),
            (self.process.is_some(), RawKind::Process),
        ];
        let explicit: Vec<RawKind> = kind_keys.iter().filter(|(present, _)| *present).map(|(_, kind)| *kind).collect();
        match explicit[..] {
            [kind] => return Ok(kind),
            [first, second, ..] => {
                return Err(position.error(format!(
                    "a check has exactly one kind, but this one has both `{}` and `{}`: split it into two checks",
                    first.key(),
                    second.key()
                )));
            }
            [] => {}
        }
        if self.user.is_some() {
            Ok(RawKind::User)
        } else if self.group.is_some() {
            Ok(RawKind::Group)
        } else if self.groups.is_some() {
            Ok(RawKind::Groups)
        } else {
            Err(position.error(
                "the check has no kind: add one of command, file, package, user, group, metadata, port, \
                 process, or the short forms packages, files, users, groups",
            ))
        }
    }

    fn validate(self, position: &Position, checks: &mut Vec<Check>) -> Result<(), SpecError> {
        let kind = self.kind(position)?;
        for key in self.present_keys() {
            if !COMMON_KEYS.contains(&key) && !kind.keys().contains(&key) {
                return Err(position.error(format!(
                    "`{key}` does not apply to a {} check; valid keys here are: {}",
                    kind.key(),
                    [COMMON_KEYS, kind.keys()].concat().join(", ")
                )));
            }
        }

        let common = Common {
            name: self.name.clone(),
            tags: self.tags.clone().unwrap_or_default(),
            timeout: self.timeout.map(|timeout| timeout.0),
            skip: match &self.skip {
                Some(Skip::Yes(reason)) => Some(reason.clone().unwrap_or_default()),
                Some(Skip::No) | None => None,
            },
        };
        let kinds = self.build(kind).map_err(|message| position.error(message))?;
        let several = kinds.len() > 1;
        for kind in kinds {
            let name = match &common.name {
                Some(name) if several => format!("{name}: {}", kind.default_name()),
                Some(name) => name.clone(),
                None => kind.default_name(),
            };
            checks.push(Check {
                index: checks.len(),
                line: position.line,
                column: position.column,
                name,
                tags: common.tags.clone(),
                timeout: common.timeout,
                skip: common.skip.clone(),
                kind,
            });
        }
        Ok(())
    }

    /// Builds the typed checks; short forms give one check per name.
    fn build(self, kind: RawKind) -> Result<Vec<CheckKind>, String> {
        let exists = self.exists.unwrap_or(true);
        match kind {
            RawKind::Command => Ok(vec![CheckKind::Command(self.build_command()?)]),
            RawKind::File => Ok(vec![CheckKind::File(self.build_file()?)]),
            RawKind::Package => {
                let name = package_name(self.package.as_deref().unwrap_or_default())?;
                let installed = self.installed.unwrap_or(true);
                if !installed && self.version.is_some() {
                    return Err("`version` cannot be checked on a package that must not be installed".to_owned());
                }
                Ok(vec![CheckKind::Package(PackageCheck { name, installed, version: self.version })])
            }
            RawKind::Packages => {
                let installed = self.installed.unwrap_or(true);
                short_form(self.packages, "packages", |name| {
                    Ok(CheckKind::Package(PackageCheck { name: package_name(&name)?, installed, version: None }))
                })
            }
            RawKind::Files => short_form(self.files, "files", |path| {
                Ok(CheckKind::File(FileCheck { path: absolute_path(&path, "files")?, exists, ..FileCheck::empty() }))
            }),
            RawKind::User => Ok(vec![CheckKind::User(self.build_user()?)]),
            RawKind::Users => short_form(self.users, "users", |name| {
                Ok(CheckKind::User(UserCheck { name: account_name(&name, "user")?, exists, ..UserCheck::empty() }))
            }),
            RawKind::Group => {
                let name = account_name(self.group.as_deref().unwrap_or_default(), "group")?;
                if !exists && self.gid.is_some() {
                    return Err("`gid` cannot be checked on a group that must be absent".to_owned());
                }
                Ok(vec![CheckKind::Group(GroupCheck { name, exists, gid: self.gid })])
            }
            RawKind::Groups => short_form(self.groups, "groups", |name| {
                Ok(CheckKind::Group(GroupCheck { name: account_name(&name, "group")?, exists, gid: None }))
            }),
            RawKind::Metadata => {
                let metadata = self.metadata.unwrap_or_default();
                if metadata.is_empty() {
                    return Err("`metadata` compares nothing: add keys such as env, labels or exposed_ports".to_owned());
                }
                Ok(vec![CheckKind::Metadata(Box::new(metadata))])
            }
            RawKind::Port => {
                let port = self.port.unwrap_or_default();
                if port == 0 {
                    return Err("invalid port 0: write a port from 1 to 65535".to_owned());
                }
                let address = match &self.address {
                    Some(text) => Some(text.parse().map_err(|_| {
                        format!("invalid address {text:?}: write an IPv4 or IPv6 address such as 127.0.0.1 or ::1")
                    })?),
                    None => None,
                };
                let protocol = self.protocol.unwrap_or(Protocol::Tcp);
                let listening = self.listening.unwrap_or(true);
                Ok(vec![CheckKind::Port(PortCheck { port, protocol, address, listening })])
            }
            RawKind::Process => {
                let name = self.process.clone().unwrap_or_default();
                reject_blank(&name, "process")?;
                let running = self.running.unwrap_or(true);
                if !running && (self.user.is_some() || self.count.is_some()) {
                    return Err("a process that must not run cannot have `user` or `count`".to_owned());
                }
                Ok(vec![CheckKind::Process(ProcessCheck { name, running, user: self.user, count: self.count })])
            }
        }
    }

    fn build_command(self) -> Result<CommandCheck, String> {
        let command = self.command.unwrap_or(CommandLine::Shell(String::new()));
        match &command {
            CommandLine::Shell(script) => reject_nul(script, "command")?,
            CommandLine::Argv(argv) => argv.iter().try_for_each(|argument| reject_nul(argument, "command"))?,
        }
        let exit_status = self.exit_status.unwrap_or(0);
        if !(0..=255).contains(&exit_status) {
            return Err(format!("invalid exit_status {exit_status}: exit statuses range from 0 to 255"));
        }
        let mut env = Vec::new();
        for (name, value) in self.env.unwrap_or_default() {
            reject_nul(&value, "env")?;
            env.push((name.0, value));
        }
        if let Some(user) = &self.user {
            reject_blank(user, "user")?;
        }
        if let Some(workdir) = &self.workdir {
            absolute_path(workdir, "workdir")?;
        }
        Ok(CommandCheck {
            command,
            exit_status,
            stdout: self.stdout,
            stderr: self.stderr,
            env,
            user: self.user,
            workdir: self.workdir,
        })
    }

    fn build_file(self) -> Result<FileCheck, String> {
        let path = absolute_path(self.file.as_deref().unwrap_or_default(), "file")?;
        let exists = self.exists.unwrap_or(true);
        let check = FileCheck {
            path,
            exists,
            file_type: self.file_type,
            mode: self.mode,
            owner: self.owner,
            uid: self.uid,
            group: self.group,
            gid: self.gid,
            size: self.size,
            link_target: self.link_target,
            contents: self.contents,
            sha256: self.sha256,
        };
        if !exists && check.has_properties() {
            return Err(
                "a file that must be absent cannot have other properties: remove them or `exists: false`".to_owned()
            );
        }
        if check.link_target.is_some() && check.file_type.is_some_and(|file_type| file_type != FileType::Symlink) {
            return Err("`link_target` needs `type: symlink` (or no type)".to_owned());
        }
        let reads_contents = check.contents.is_some() || check.sha256.is_some();
        if reads_contents && check.file_type.is_some_and(|file_type| file_type != FileType::File) {
            return Err("`contents` and `sha256` need `type: file` (or no type)".to_owned());
        }
        Ok(check)
    }

    fn build_user(self) -> Result<UserCheck, String> {
        let name = account_name(self.user.as_deref().unwrap_or_default(), "user")?;
        let check = UserCheck {
            name,
            exists: self.exists.unwrap_or(true),
            uid: self.uid,
            gid: self.gid,
            group: self.group,
            home: self.home,
            shell: self.shell,
            groups: self.groups.unwrap_or_default(),
        };
        let has_properties = check.uid.is_some()
            || check.gid.is_some()
            || check.group.is_some()
            || check.home.is_some()
            || check.shell.is_some()
            || !check.groups.is_empty();
        if !check.exists && has_properties {
            return Err("a user that must be absent cannot have other properties".to_owned());
        }
        Ok(check)
    }
}

struct Common {
    name: Option<String>,
    tags: Vec<String>,
    timeout: Option<std::time::Duration>,
    skip: Option<String>,
}

fn short_form(
    names: Option<Vec<String>>,
    key: &str,
    build: impl Fn(String) -> Result<CheckKind, String>,
) -> Result<Vec<CheckKind>, String> {
    let names = names.unwrap_or_default();
    if names.is_empty() {
        return Err(format!("`{key}` is empty: list at least one name"));
    }
    names.into_iter().map(build).collect()
}

fn reject_nul(value: &str, key: &str) -> Result<(), String> {
    if value.contains('\0') {
        return Err(format!("`{key}` contains a NUL byte, which no command argument can carry"));
    }
    Ok(())
}

fn reject_blank(value: &str, key: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("`{key}` is empty"));
    }
    reject_nul(value, key)
}

fn absolute_path(path: &str, key: &str) -> Result<String, String> {
    reject_nul(path, key)?;
    if !path.starts_with('/') {
        return Err(format!("invalid path {path:?} in `{key}`: write an absolute path such as /etc/passwd"));
    }
    Ok(path.to_owned())
}

/// Package names as dpkg, rpm and apk accept them: no whitespace, not starting with `-`.
fn package_name(name: &str) -> Result<String, String> {
    reject_blank(name, "package")?;
    if name.starts_with('-') || name.chars().any(|character| character.is_whitespace() || character == '\'') {
        return Err(format!("invalid package name {name:?}: write the name as the package manager lists it"));
    }
    Ok(name.to_owned())
}

fn account_name(name: &str, key: &str) -> Result<String, String> {
    reject_blank(name, key)?;
    if name.contains(':') || name.chars().any(char::is_whitespace) {
        return Err(format!("invalid {key} name {name:?}: names contain no colons or spaces"));
    }
    Ok(name.to_owned())
}

impl FileCheck {
    /// Builds a check for existence only.
    fn empty() -> Self {
        FileCheck {
            path: String::new(),
            exists: true,
            file_type: None,
            mode: None,
            owner: None,
            uid: None,
            group: None,
            gid: None,
            size: None,
            link_target: None,
            contents: None,
            sha256: None,
        }
    }

    fn has_properties(&self) -> bool {
        self.file_type.is_some()
            || self.mode.is_some()
            || self.owner.is_some()
            || self.uid.is_some()
            || self.group.is_some()
            || self.gid.is_some()
            || self.size.is_some()
            || self.link_target.is_some()
            || self.contents.is_some()
            || self.sha256.is_some()
    }
}

impl UserCheck {
    fn empty() -> Self {
        UserCheck {
            name: String::new(),
            exists: true,
            uid: None,
            gid: None,
            group: None,
            home: None,
            shell: None,
            groups: Vec::new(),
        }
    }
}
