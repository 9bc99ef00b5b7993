//! Fact gathering through the Engine API alone, for images without a shell and for containers
//! that were created but never started.
//!
//! Paths are stated with the archive API's `HEAD` (type, mode, size, link target). Owner ids,
//! contents and digests come from the archive `GET`, read as a tar stream that stops once the
//! first entry's header, or the captured part of its contents, has arrived. Package databases
//! and `/etc/passwd` and `/etc/group` are read the same way and parsed here.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use super::parse::{self, FileStat, PackageDb, PackageInfo};
use super::{FactNeeds, Facts, Gathered};
use crate::engine::Engine;
use crate::report::model::CommandOutput;
use crate::version::VersionScheme;

/// Bytes read for a tar header: the 512-byte header, a possible PAX header with its data, and
/// the end of the archive. Long names push a PAX record well past 512 bytes.
const HEADER_LIMIT: usize = 16 * 1024;

/// Largest file read whole for a digest or a database.
// NOTE: a digest of a file above this limit is reported as an error rather than streamed.
const WHOLE_FILE_LIMIT: usize = 256 * 1024 * 1024;

/// Gathers every fact in `needs` except command outputs, sockets and processes, which need a
/// process in the container.
pub async fn gather(engine: &Engine, container: &str, needs: &FactNeeds, cap: u64) -> Facts {
    let mut facts = Facts::default();
    let reader = Reader { engine, container };

    if !needs.users.is_empty() || !needs.owner_paths.is_empty() {
        let started = Instant::now();
        let passwd = reader.read_file("/etc/passwd", WHOLE_FILE_LIMIT).await;
        // Owner names of files need every entry, not only the users that checks name.
        let value = passwd.map(|contents| {
            let contents = contents.unwrap_or_default();
            if needs.owner_paths.is_empty() {
                parse::parse_passwd(&contents, &needs.users)
            } else {
                parse::parse_passwd_all(&contents)
            }
        });
        facts.passwd = Some(Gathered::new(value, started.elapsed()));
    }
    if needs.groups || !needs.owner_paths.is_empty() {
        let started = Instant::now();
        let groups = reader.read_file("/etc/group", WHOLE_FILE_LIMIT).await;
        let value = groups.map(|contents| parse::parse_groups(&contents.unwrap_or_default()));
        facts.groups = Some(Gathered::new(value, started.elapsed()));
    }
    if !needs.stat_paths.is_empty() {
        let started = Instant::now();
        let value = reader.stat_paths(needs, &facts).await;
        facts.stats = Some(Gathered::new(value, started.elapsed()));
    }
    // The archive stat resolves a relative link target to an absolute path, so the target as
    // written comes from the tar header instead.
    let links = concurrently(&needs.link_paths, |path| async move {
        let started = Instant::now();
        let value = match reader.archive(&path, HEADER_LIMIT).await {
            Ok(Some(archive)) => first_entry(&archive, 0).map(|entry| entry.link_target),
            Ok(None) => Ok(None),
            Err(message) => Err(message),
        };
        (path, Gathered::new(value, started.elapsed()))
    })
    .await;
    facts.link_targets.extend(links);

    let contents = concurrently(&needs.content_paths, |path| async move {
        let started = Instant::now();
        let value = reader.read_contents(&path, cap).await;
        (path, Gathered::new(value, started.elapsed()))
    })
    .await;
    facts.contents.extend(contents);

    if !needs.digest_paths.is_empty() {
        let started = Instant::now();
        let digests = concurrently(&needs.digest_paths, |path| async move {
            let contents = reader.read_file(&path, WHOLE_FILE_LIMIT).await;
            (path, contents)
        })
        .await;
        let digests = digests
            .into_iter()
            .filter_map(|(path, contents)| Some((path, hex::encode(Sha256::digest(contents.ok()??)))))
            .collect();
        facts.digests = Some(Gathered::new(Ok(digests), started.elapsed()));
    }
    if !needs.packages.is_empty() {
        let started = Instant::now();
        let value = reader.package_db().await;
        facts.packages = Some(Gathered::new(value, started.elapsed()));
    }
    if needs.sockets {
        let message = "port checks read /proc/net inside the container, which needs a shell; this image has no /bin/sh";
        facts.sockets = Some(Gathered::new(Err(message.to_owned()), Duration::ZERO));
    }
    if needs.processes {
        let message = "process checks read /proc inside the container, which needs a shell; this image has no /bin/sh";
        facts.processes = Some(Gathered::new(Err(message.to_owned()), Duration::ZERO));
    }
    facts
}

/// Archive requests in flight at once for one suite; the engine serves them in parallel.
const CONCURRENT_REQUESTS: usize = 16;

/// Runs `task` for every path with up to [`CONCURRENT_REQUESTS`] in flight.
async fn concurrently<F, Fut, R>(paths: &std::collections::BTreeSet<String>, task: F) -> Vec<R>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = R>,
{
    let paths: Vec<String> = paths.iter().cloned().collect();
    futures_util::stream::iter(paths.into_iter().map(task)).buffer_unordered(CONCURRENT_REQUESTS).collect().await
}

/// Symlinks followed when reading contents, as `cat` follows them.
const MAX_SYMLINK_HOPS: usize = 8;

#[derive(Clone, Copy)]
struct Reader<'a> {
    engine: &'a Engine,
    container: &'a str,
}

impl Reader<'_> {
    /// Reads a regular file's contents whole, following symlinks; `Ok(None)` when it does not
    /// exist.
    async fn read_file(&self, path: &str, limit: usize) -> Result<Option<Vec<u8>>, String> {
        let Some(entry) = self.read_entry(path, limit, usize::MAX).await? else { return Ok(None) };
        if !entry.regular {
            return Err(format!("{path} is not a regular file"));
        }
        if entry.size as usize > entry.contents.len() {
            return Err(format!("{path} is larger than {limit} bytes, the most specrun reads through the archive API"));
        }
        Ok(Some(entry.contents))
    }

    /// Reads the first tar entry of `path`, following symlinks as the kernel would.
    async fn read_entry(&self, path: &str, limit: usize, cap: usize) -> Result<Option<Entry>, String> {
        let mut current = path.to_owned();
        for _ in 0..=MAX_SYMLINK_HOPS {
            let Some(archive) = self.archive(&current, limit).await? else { return Ok(None) };
            let entry = first_entry(&archive, cap)?;
            match &entry.link_target {
                Some(target) if entry.symlink => current = resolve_link(&current, target),
                _ => return Ok(Some(entry)),
            }
        }
        Err(format!("{path}: more than {MAX_SYMLINK_HOPS} levels of symbolic links"))
    }

    async fn read_contents(&self, path: &str, cap: u64) -> Result<CommandOutput, String> {
        let cap = usize::try_from(cap).unwrap_or(usize::MAX);
        let limit = cap.saturating_add(HEADER_LIMIT);
        let entry = self.read_entry(path, limit, cap).await?;
        let entry = entry.ok_or_else(|| format!("reading the file failed: {path} does not exist"))?;
        if !entry.regular {
            return Err(format!("reading the file failed: {path} is not a regular file"));
        }
        Ok(CommandOutput {
            exit_status: Some(0),
            stdout: entry.contents,
            stdout_len: entry.size,
            ..CommandOutput::default()
        })
    }

    async fn archive(&self, path: &str, limit: usize) -> Result<Option<Vec<u8>>, String> {
        self.engine.read_archive(self.container, path, limit).await.map_err(|error| error.to_string())
    }

    async fn stat_paths(
        &self,
        needs: &FactNeeds,
        facts: &Facts,
    ) -> Result<BTreeMap<String, Result<FileStat, String>>, String> {
        let users = names_by_id(
            facts
                .passwd
                .as_ref()
                .and_then(|passwd| passwd.value.as_ref().ok())
                .map(|entries| entries.values().map(|entry| (entry.uid, entry.name.clone())).collect::<Vec<_>>()),
        );
        let groups = names_by_id(
            facts
                .groups
                .as_ref()
                .and_then(|groups| groups.value.as_ref().ok())
                .map(|entries| entries.iter().map(|entry| (entry.gid, entry.name.clone())).collect::<Vec<_>>()),
        );

        let (users, groups) = (&users, &groups);
        let results = concurrently(&needs.stat_paths, |path| async move {
            let stat = match self.engine.path_stat(self.container, &path).await {
                Ok(Some(stat)) => stat,
                Ok(None) => return (path, None),
                Err(error) => return (path, Some(Err(error.to_string()))),
            };
            let mut file = FileStat { mode: stat.mode, uid: 0, gid: 0, size: stat.size, owner: None, group: None };
            if needs.owner_paths.contains(&path) {
                let entry = match self.archive(&path, HEADER_LIMIT).await {
                    Ok(Some(archive)) => first_entry(&archive, 0),
                    Ok(None) => return (path, None),
                    Err(message) => Err(message),
                };
                match entry {
                    Ok(entry) => {
                        file.uid = entry.uid;
                        file.gid = entry.gid;
                        file.owner = users.get(&entry.uid).cloned();
                        file.group = groups.get(&entry.gid).cloned();
                    }
                    Err(message) => return (path, Some(Err(message))),
                }
            }
            (path, Some(Ok(file)))
        })
        .await;
        Ok(results.into_iter().filter_map(|(path, stat)| Some((path, stat?))).collect())
    }

    /// Reads dpkg's status file, else the `status.d/` directory that distroless images use, else
    /// apk's installed database.
    async fn package_db(&self) -> Result<PackageDb, String> {
        if let Some(status) = self.read_file("/var/lib/dpkg/status", WHOLE_FILE_LIMIT).await? {
            return Ok(parse_dpkg_status(&[status]));
        }
        if let Some(archive) = self.archive("/var/lib/dpkg/status.d", WHOLE_FILE_LIMIT).await? {
            let files = all_files(&archive)?;
            let paragraphs: Vec<Vec<u8>> = files
                .into_iter()
                .filter(|(name, _)| !name.ends_with(".md5sums"))
                .map(|(_, contents)| contents)
                .collect();
            return Ok(parse_dpkg_status(&paragraphs));
        }
        if let Some(installed) = self.read_file("/lib/apk/db/installed", WHOLE_FILE_LIMIT).await? {
            let mut output = b"apk\n".to_vec();
            output.extend_from_slice(&installed);
            return parse::parse_packages(&output);
        }
        Err("no package database found in the container (looked for /var/lib/dpkg/status, \
             /var/lib/dpkg/status.d and /lib/apk/db/installed)"
            .to_owned())
    }
}

fn names_by_id(pairs: Option<Vec<(u32, String)>>) -> HashMap<u32, String> {
    let mut names = HashMap::new();
    for (id, name) in pairs.unwrap_or_default() {
        names.entry(id).or_insert(name);
    }
    names
}

/// Header fields and captured contents of a tar entry.
struct Entry {
    regular: bool,
    symlink: bool,
    /// Target of a symlink or hard link, as written in the header.
    link_target: Option<String>,
    uid: u32,
    gid: u32,
    size: u64,
    contents: Vec<u8>,
}

/// Parses the first entry of a possibly cut-off tar stream, capturing at most `cap` bytes of it.
fn first_entry(archive: &[u8], cap: usize) -> Result<Entry, String> {
    let mut tar = tar::Archive::new(archive);
    let mut entries = tar.entries().map_err(|error| format!("invalid archive from the engine: {error}"))?;
    let mut entry = match entries.next() {
        Some(Ok(entry)) => entry,
        Some(Err(error)) => return Err(format!("invalid archive from the engine: {error}")),
        None => return Err("the engine returned an empty archive".to_owned()),
    };
    let header = entry.header();
    let regular = header.entry_type().is_file();
    let symlink = header.entry_type().is_symlink();
    let link_target = entry.link_name().ok().flatten().map(|target| target.display().to_string());
    let uid = header.uid().ok().and_then(|uid| u32::try_from(uid).ok()).unwrap_or(0);
    let gid = header.gid().ok().and_then(|gid| u32::try_from(gid).ok()).unwrap_or(0);
    let size = entry.size();
    let mut contents = Vec::new();
    if regular && cap > 0 {
        // A cut-off stream ends the read early; what arrived is the captured prefix.
        let _ = entry.by_ref().take(cap as u64).read_to_end(&mut contents);
    }
    Ok(Entry { regular, symlink, link_target, uid, gid, size, contents })
}

/// Resolves a symlink target against the directory of the link.
fn resolve_link(link: &str, target: &str) -> String {
    if target.starts_with('/') {
        return target.to_owned();
    }
    let directory = link.rsplit_once('/').map_or("", |(directory, _)| directory);
    let mut parts: Vec<&str> = directory.split('/').filter(|part| !part.is_empty()).collect();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Lists every regular file of a complete tar archive, by path.
fn all_files(archive: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut tar = tar::Archive::new(archive);
    let mut files = Vec::new();
    let entries = tar.entries().map_err(|error| format!("invalid archive from the engine: {error}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|error| format!("invalid archive from the engine: {error}"))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry.path().map(|path| path.display().to_string()).unwrap_or_default();
        let mut contents = Vec::new();
        entry.read_to_end(&mut contents).map_err(|error| format!("invalid archive from the engine: {error}"))?;
        files.push((name, contents));
    }
    Ok(files)
}

/// Parses dpkg status paragraphs (`Package:`, `Status:`, `Version:` fields) from one or more
/// files, as in `/var/lib/dpkg/status` or the one-package files of `status.d/`.
pub fn parse_dpkg_status(files: &[Vec<u8>]) -> PackageDb {
    let mut packages: HashMap<String, PackageInfo> = HashMap::new();
    for file in files {
        let text = String::from_utf8_lossy(file);
        for paragraph in text.split("\n\n") {
            let field = |name: &str| {
                paragraph.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(':').map(str::trim))
            };
            let Some(name) = field("Package") else { continue };
            // Files in status.d have no Status field: their presence means installed.
            let status = field("Status").unwrap_or("install ok installed").to_owned();
            let installed = status.split_whitespace().nth(2) == Some("installed");
            let version = field("Version").unwrap_or_default().to_owned();
            if packages.get(name).is_some_and(|existing| existing.installed) {
                continue;
            }
            packages.insert(name.to_owned(), PackageInfo { version, status, installed });
        }
    }
    PackageDb { manager: "dpkg", scheme: VersionScheme::Debian, packages }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_resolve_against_their_directory() {
        assert_eq!(resolve_link("/etc/os-release", "../usr/lib/os-release"), "/usr/lib/os-release");
        assert_eq!(resolve_link("/opt/app/current", "config.ini"), "/opt/app/config.ini");
        assert_eq!(resolve_link("/bin", "usr/bin"), "/usr/bin");
        assert_eq!(resolve_link("/a/b", "/abs/x"), "/abs/x");
        assert_eq!(resolve_link("/a/b", "./c/../d"), "/a/d");
    }

    #[test]
    fn dpkg_status_paragraphs() {
        let status = b"Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b2\nDescription: x\n multi\n\n\
                       Package: telnet\nStatus: deinstall ok config-files\nVersion: 0.17\n\n\
                       Package: vim\nStatus: hold ok installed\nVersion: 2:9.0\n"
            .to_vec();
        let db = parse_dpkg_status(&[status]);
        assert!(db.packages["bash"].installed);
        assert_eq!(db.packages["bash"].version, "5.2.15-2+b2");
        assert!(!db.packages["telnet"].installed);
        assert_eq!(db.packages["telnet"].status, "deinstall ok config-files");
        assert!(db.packages["vim"].installed);
    }

    #[test]
    fn status_d_files_without_status_are_installed() {
        let files = vec![b"Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n".to_vec()];
        let db = parse_dpkg_status(&files);
        assert!(db.packages["tzdata"].installed);
        assert_eq!(db.packages["tzdata"].version, "2024a-0+deb12u1");
    }

    fn tar_with(name: &str, contents: &[u8], mode: u32, uid: u64) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(contents.len() as u64);
        header.set_mode(mode);
        header.set_uid(uid);
        header.set_gid(uid + 1);
        header.set_cksum();
        builder.append_data(&mut header, name, contents).unwrap();
        builder.into_inner().unwrap()
    }

    #[test]
    fn first_entry_reads_header_and_capped_contents() {
        let archive = tar_with("config.ini", b"[server]\nport = 8080\n", 0o640, 1001);
        let entry = first_entry(&archive, 8).unwrap();
        assert!(entry.regular);
        assert_eq!(entry.uid, 1001);
        assert_eq!(entry.gid, 1002);
        assert_eq!(entry.size, 21);
        assert_eq!(entry.contents, b"[server]");
    }

    #[test]
    fn cut_off_archive_still_gives_the_header() {
        let archive = tar_with("big", &vec![b'x'; 10_000], 0o644, 0);
        let entry = first_entry(&archive[..2048], 100_000).unwrap();
        assert_eq!(entry.size, 10_000);
        assert!(entry.contents.len() < 10_000);
    }
}
