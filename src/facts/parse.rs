//! Parsers for the output of the gathering commands: `dpkg-query`, `rpm`, apk's installed
//! database, `stat`, `getent` (or the files it reads), `readlink` and `sha256sum`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::version::VersionScheme;

/// Installed packages as one package manager reports them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageDb {
    /// `dpkg`, `rpm` or `apk`.
    pub manager: &'static str,
    pub scheme: VersionScheme,
    pub packages: HashMap<String, PackageInfo>,
}

/// One package record. Packages the manager does not know are absent from [`PackageDb`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageInfo {
    pub version: String,
    /// The manager's status text, such as dpkg's `install ok installed` or
    /// `deinstall ok config-files`.
    pub status: String,
    pub installed: bool,
}

/// Parses the package gathering output: a first line naming the manager, then its output.
///
/// `dpkg` lines are `name<TAB>status<TAB>version`; `rpm` lines are `name<TAB>epoch:version-release`
/// (other lines are its "not installed" notices); `apk` output is the installed database itself.
pub fn parse_packages(stdout: &[u8]) -> Result<PackageDb, String> {
    let text = String::from_utf8_lossy(stdout);
    let (manager, body) = text.split_once('\n').unwrap_or((text.as_ref(), ""));
    match manager.trim() {
        "dpkg" => Ok(parse_dpkg(body)),
        "rpm" => Ok(parse_rpm(body)),
        "apk" => Ok(parse_apk(body)),
        "none" => Err("no package manager found in the container (looked for dpkg-query, rpm and \
                       /lib/apk/db/installed)"
            .to_owned()),
        other => Err(format!("unexpected package query output {other:?}")),
    }
}

fn parse_dpkg(body: &str) -> PackageDb {
    let mut packages = HashMap::new();
    for line in body.lines() {
        let mut fields = line.split('\t');
        let (Some(name), Some(status), Some(version)) = (fields.next(), fields.next(), fields.next()) else {
            continue;
        };
        // The third word of the status is the package state; `installed` is the only state in
        // which the package's files are all present and configured.
        let installed = status.split_whitespace().nth(2) == Some("installed");
        let info = PackageInfo { version: version.to_owned(), status: status.to_owned(), installed };
        // A package installed for two architectures appears twice; an installed record wins.
        let keep_existing = packages.get(name).is_some_and(|existing: &PackageInfo| existing.installed);
        if !keep_existing {
            packages.insert(name.to_owned(), info);
        }
    }
    PackageDb { manager: "dpkg", scheme: VersionScheme::Debian, packages }
}

fn parse_rpm(body: &str) -> PackageDb {
    let mut packages = HashMap::new();
    for line in body.lines() {
        if let Some((name, version)) = line.split_once('\t') {
            let version = version.strip_prefix("0:").unwrap_or(version).to_owned();
            let info = PackageInfo { version, status: "installed".to_owned(), installed: true };
            packages.insert(name.to_owned(), info);
        }
    }
    PackageDb { manager: "rpm", scheme: VersionScheme::Rpm, packages }
}

fn parse_apk(body: &str) -> PackageDb {
    let mut packages = HashMap::new();
    for record in body.split("\n\n") {
        let mut name = None;
        let mut version = None;
        for line in record.lines() {
            if let Some(value) = line.strip_prefix("P:") {
                name = Some(value);
            } else if let Some(value) = line.strip_prefix("V:") {
                version = Some(value);
            }
        }
        if let (Some(name), Some(version)) = (name, version) {
            let info = PackageInfo { version: version.to_owned(), status: "installed".to_owned(), installed: true };
            packages.insert(name.to_owned(), info);
        }
    }
    PackageDb { manager: "apk", scheme: VersionScheme::Apk, packages }
}

/// One file's `stat` record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileStat {
    /// Full `st_mode`: type bits and permission bits.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    /// Owner and group names; `None` when the id has no entry (`stat` prints `UNKNOWN`).
    pub owner: Option<String>,
    pub group: Option<String>,
}

/// Builds the `stat -c` format that [`parse_stat`] reads. `terminator` ends each record, so
/// file names containing newlines cannot split one.
pub fn stat_format(terminator: &str) -> String {
    format!("%f:%u:%g:%s:%U:%G:%n{terminator}")
}

/// Parses `stat` output for the requested paths. A path that does not exist is absent from the
/// map; a path that `stat` could not read for another reason maps to that reason.
pub fn parse_stat(
    stdout: &[u8],
    stderr: &[u8],
    terminator: &str,
    requested: &BTreeSet<String>,
) -> BTreeMap<String, Result<FileStat, String>> {
    let text = String::from_utf8_lossy(stdout);
    let mut stats = BTreeMap::new();
    for record in text.split(&format!("{terminator}\n")) {
        let mut fields = record.splitn(7, ':');
        let parsed = (|| {
            let mode = u32::from_str_radix(fields.next()?, 16).ok()?;
            let uid = fields.next()?.parse().ok()?;
            let gid = fields.next()?.parse().ok()?;
            let size = fields.next()?.parse().ok()?;
            let owner = known_name(fields.next()?);
            let group = known_name(fields.next()?);
            let path = fields.next()?;
            Some((path.to_owned(), FileStat { mode, uid, gid, size, owner, group }))
        })();
        if let Some((path, stat)) = parsed {
            stats.insert(path, Ok(stat));
        }
    }

    // `stat` reports unreadable paths on stderr, one line each, quoting the path.
    let errors = String::from_utf8_lossy(stderr);
    for path in requested {
        if stats.contains_key(path) {
            continue;
        }
        let quoted = [format!("'{path}'"), format!("\u{2018}{path}\u{2019}"), format!("\"{path}\"")];
        let line = errors.lines().find(|line| quoted.iter().any(|quoted| line.contains(quoted.as_str())));
        if let Some(line) = line {
            let missing = line.contains("No such file or directory") || line.contains("Not a directory");
            if !missing {
                stats.insert(path.clone(), Err(line.trim().to_owned()));
            }
        }
    }
    stats
}

fn known_name(name: &str) -> Option<String> {
    (name != "UNKNOWN" && !name.is_empty()).then(|| name.to_owned())
}

/// One passwd entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswdEntry {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
    pub shell: String,
}

/// Parses passwd lines (`name:password:uid:gid:gecos:home:shell`), keeping the requested names.
pub fn parse_passwd(stdout: &[u8], requested: &BTreeSet<String>) -> BTreeMap<String, PasswdEntry> {
    let text = String::from_utf8_lossy(stdout);
    let mut entries = BTreeMap::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(':').collect();
        let [name, _, uid, gid, _, home, shell] = fields[..] else { continue };
        let (Ok(uid), Ok(gid)) = (uid.parse(), gid.parse()) else { continue };
        if requested.contains(name) && !entries.contains_key(name) {
            let entry = PasswdEntry { name: name.to_owned(), uid, gid, home: home.to_owned(), shell: shell.to_owned() };
            entries.insert(name.to_owned(), entry);
        }
    }
    entries
}

/// Parses every passwd entry, for mapping uids to names.
pub fn parse_passwd_all(stdout: &[u8]) -> BTreeMap<String, PasswdEntry> {
    let text = String::from_utf8_lossy(stdout);
    let names: BTreeSet<String> = text.lines().filter_map(|line| line.split(':').next()).map(str::to_owned).collect();
    parse_passwd(stdout, &names)
}

/// One group entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupEntry {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
}

/// Parses group lines (`name:password:gid:member,member`).
pub fn parse_groups(stdout: &[u8]) -> Vec<GroupEntry> {
    let text = String::from_utf8_lossy(stdout);
    let mut entries = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(':').collect();
        let [name, _, gid, members] = fields[..] else { continue };
        let Ok(gid) = gid.parse() else { continue };
        let members = members.split(',').filter(|member| !member.is_empty()).map(str::to_owned).collect();
        entries.push(GroupEntry { name: name.to_owned(), gid, members });
    }
    entries
}

/// Parses `sha256sum` lines (`digest  path`) into digests by path.
pub fn parse_digests(stdout: &[u8]) -> BTreeMap<String, String> {
    let text = String::from_utf8_lossy(stdout);
    let mut digests = BTreeMap::new();
    for line in text.lines() {
        if let Some((digest, path)) = line.split_once("  ") {
            // GNU sha256sum prefixes the line with a backslash when it escapes the file name.
            let digest = digest.trim_start_matches('\\').to_ascii_lowercase();
            digests.insert(path.to_owned(), digest);
        }
    }
    digests
}

/// Parses `readlink` output: the target followed by one newline.
pub fn parse_link_target(stdout: &[u8]) -> String {
    let target = stdout.strip_suffix(b"\n").unwrap_or(stdout);
    String::from_utf8_lossy(target).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|name| name.to_string()).collect()
    }

    #[test]
    fn dpkg_states_decide_installed() {
        let output = b"dpkg\nbash\tinstall ok installed\t5.2.15-2+b2\n\
                       telnet\tdeinstall ok config-files\t0.17+2.4-2\n\
                       vim\thold ok installed\t2:9.0.1378-2\n";
        let db = parse_packages(output).unwrap();
        assert_eq!(db.manager, "dpkg");
        assert!(db.packages["bash"].installed);
        assert_eq!(db.packages["bash"].version, "5.2.15-2+b2");
        assert!(!db.packages["telnet"].installed);
        assert!(db.packages["vim"].installed);
        assert!(!db.packages.contains_key("absent"));
    }

    #[test]
    fn dpkg_prefers_installed_architecture() {
        let output = b"dpkg\nlibc6\tinstall ok installed\t2.36-9\nlibc6\tdeinstall ok config-files\t2.36-8\n";
        let db = parse_packages(output).unwrap();
        assert!(db.packages["libc6"].installed);
        assert_eq!(db.packages["libc6"].version, "2.36-9");
    }

    #[test]
    fn rpm_and_apk_records() {
        let rpm = parse_packages(b"rpm\nbash\t0:5.1.8-6.el9\npackage nope is not installed\n").unwrap();
        assert_eq!(rpm.packages["bash"].version, "5.1.8-6.el9");
        assert_eq!(rpm.packages.len(), 1);

        let apk = parse_packages(b"apk\nC:Q1abc\nP:musl\nV:1.2.4-r2\n\nP:busybox\nV:1.36.1-r5\nA:x86_64\n").unwrap();
        assert_eq!(apk.packages["musl"].version, "1.2.4-r2");
        assert_eq!(apk.packages["busybox"].version, "1.36.1-r5");
    }

    #[test]
    fn missing_package_manager_is_an_error() {
        assert!(parse_packages(b"none\n").unwrap_err().contains("no package manager"));
    }

    #[test]
    fn stat_records_and_errors() {
        let terminator = "Z9";
        let stdout = b"81a4:0:0:1234:root:root:/etc/passwdZ9\n\
                       41ed:1001:1001:4096:UNKNOWN:app:/odd\nnameZ9\n";
        let stderr = b"stat: cannot statx '/missing': No such file or directory\n\
                       stat: cannot statx '/secret/x': Permission denied\n";
        let requested = names(&["/etc/passwd", "/odd\nname", "/missing", "/secret/x"]);
        let stats = parse_stat(stdout, stderr, terminator, &requested);

        let passwd = stats["/etc/passwd"].as_ref().unwrap();
        assert_eq!(passwd.mode, 0o100644);
        assert_eq!(passwd.size, 1234);
        assert_eq!(passwd.owner.as_deref(), Some("root"));

        let odd = stats["/odd\nname"].as_ref().unwrap();
        assert_eq!(odd.mode & 0o7777, 0o755);
        assert_eq!(odd.owner, None);

        assert!(!stats.contains_key("/missing"));
        assert!(stats["/secret/x"].as_ref().unwrap_err().contains("Permission denied"));
    }

    #[test]
    fn passwd_and_groups() {
        let passwd = b"root:x:0:0:root:/root:/bin/bash\napp:x:1001:1001::/home/app:/bin/bash\nbroken line\n";
        let entries = parse_passwd(passwd, &names(&["app", "nobody"]));
        assert_eq!(entries.len(), 1);
        assert_eq!(entries["app"].uid, 1001);
        assert_eq!(entries["app"].home, "/home/app");

        let groups = parse_groups(b"staff:x:50:app,other\nusers:x:100:\n");
        assert_eq!(groups[0].members, vec!["app", "other"]);
        assert!(groups[1].members.is_empty());
    }

    #[test]
    fn digests_and_links() {
        let digests = parse_digests(b"ABCDEF  /etc/hosts\n\\0123  /odd\\nname\n");
        assert_eq!(digests["/etc/hosts"], "abcdef");
        assert_eq!(digests["/odd\\nname"], "0123");
        assert_eq!(parse_link_target(b"/opt/app/config.ini\n"), "/opt/app/config.ini");
        assert_eq!(parse_link_target(b"x"), "x");
    }
}
