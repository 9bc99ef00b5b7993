//! Generation of the POSIX `sh` batch scripts that run many checks in one exec call.
//!
//! A suite's checks become [`Batch`]es. One batch runs as the container's default user and
//! contains every gathering command and the command checks without `user:`. Each other user
//! that command checks name gets its own batch, because the engine sets the user per exec call. Each batch renders to
//! one script; the script runs its items one after another, each with its own timeout, and
//! writes their outputs in the framing that [`framing`] decodes.
//!
//! Every value from a spec reaches the script inside single quotes ([`quote`]), so no path,
//! package name or argument is ever parsed as shell syntax. Only the text of a string `command:`
//! is shell code, and it runs in its own `sh -c`.

pub mod framing;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use crate::check::{Check, CheckKind};
use crate::facts::FactNeeds;
use crate::facts::parse::stat_format;
use crate::spec::values::CommandLine;

/// Largest script passed as one `sh -c` argument. Linux rejects a single argument over
/// 128 KiB (`MAX_ARG_STRLEN`); larger batches are split.
const MAX_SCRIPT_BYTES: usize = 96 * 1024;

/// Purpose of an item's output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemKind {
    Packages,
    Stat,
    LinkTarget(String),
    Contents(String),
    Digests,
    Passwd,
    Groups,
    Sockets,
    Processes,
    /// A command check, by check index.
    Command(usize),
}

impl ItemKind {
    /// Name of the tool for error messages.
    pub fn tool(&self) -> &'static str {
        match self {
            ItemKind::Packages => "package query",
            ItemKind::Stat => "stat",
            ItemKind::LinkTarget(_) => "readlink",
            ItemKind::Contents(_) => "cat",
            ItemKind::Digests => "sha256sum",
            ItemKind::Passwd => "passwd lookup",
            ItemKind::Groups => "group lookup",
            ItemKind::Sockets => "reading /proc/net",
            ItemKind::Processes => "reading /proc",
            ItemKind::Command(_) => "command",
        }
    }
}

/// One command of a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub kind: ItemKind,
    /// Shell text run with `sh -c`.
    pub text: String,
    pub workdir: Option<String>,
    pub timeout: Duration,
    /// Bytes of each output stream sent back.
    pub cap: u64,
}

/// Bytes of output sent back for a gathering command. Their output is parsed, never shown, and
/// cutting it would make present objects look absent, so only a memory bound applies.
const FACT_OUTPUT_CAP: u64 = 256 * 1024 * 1024;

/// Settings of a batch plan: the facts and commands a script gathers, and their limits.
#[derive(Clone, Debug)]
pub struct PlanOptions<'a> {
    /// Facts gathered by the script; facts gathered through the API are left out.
    pub needs: &'a FactNeeds,
    /// Whether command checks run in the script.
    pub commands: bool,
    pub default_timeout: Duration,
    /// Bytes of each output stream sent back for command checks and file contents.
    pub cap: u64,
    pub terminator: &'a str,
}

/// Items that run in one exec call, as one user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    /// User for the exec call; `None` runs as the container's default user.
    pub user: Option<String>,
    pub items: Vec<Item>,
}

impl Batch {
    /// Upper bound on how long the script can run if every item uses its whole timeout: the
    /// timeouts, plus the grace period in which a timed-out item is killed, plus setup time.
    pub fn deadline(&self) -> Duration {
        let per_item: Duration = self.items.iter().map(|item| item.timeout + Duration::from_secs(2)).sum();
        per_item + Duration::from_secs(10)
    }
}

/// Plans the batches for the checks of one suite. Skipped checks gather nothing.
pub fn plan(checks: &[Check], options: &PlanOptions) -> Vec<Batch> {
    let mut default_items = Vec::new();
    let mut user_items: BTreeMap<String, Vec<Item>> = BTreeMap::new();

    for check in checks.iter().filter(|check| options.commands && check.skip.is_none()) {
        let CheckKind::Command(command) = &check.kind else { continue };
        let item = Item {
            kind: ItemKind::Command(check.index),
            text: command_text(&command.command, &command.env),
            workdir: command.workdir.clone(),
            timeout: check.timeout.unwrap_or(options.default_timeout),
            cap: options.cap,
        };
        match &command.user {
            Some(user) => user_items.entry(user.clone()).or_default().push(item),
            None => default_items.push(item),
        }
    }

    let mut items = fact_items(options);
    items.extend(default_items);

    let mut batches = Vec::new();
    push_chunked(&mut batches, None, items);
    for (user, items) in user_items {
        push_chunked(&mut batches, Some(user), items);
    }
    batches
}

/// Splits items into batches whose scripts stay under [`MAX_SCRIPT_BYTES`].
fn push_chunked(batches: &mut Vec<Batch>, user: Option<String>, items: Vec<Item>) {
    let mut current = Vec::new();
    let mut size = PRELUDE.len();
    for item in items {
        let item_size = item.text.len() + item.workdir.as_ref().map_or(0, String::len) + 64;
        if !current.is_empty() && size + item_size > MAX_SCRIPT_BYTES {
            batches.push(Batch { user: user.clone(), items: std::mem::take(&mut current) });
            size = PRELUDE.len();
        }
        size += item_size;
        current.push(item);
    }
    if !current.is_empty() {
        batches.push(Batch { user, items: current });
    }
}

/// Builds the gathering commands: one per fact type, one per link target or contents path.
fn fact_items(options: &PlanOptions) -> Vec<Item> {
    let needs = options.needs;
    let terminator = options.terminator;
    let mut items = Vec::new();
    let mut push = |kind: ItemKind, text: String| {
        let cap = if matches!(kind, ItemKind::Contents(_)) { options.cap } else { FACT_OUTPUT_CAP };
        items.push(Item { kind, text, workdir: None, timeout: options.default_timeout, cap });
    };

    // BusyBox ships `dpkg` and `rpm` applets without a package database, so a manager counts
    // only where its database exists.
    if !needs.packages.is_empty() {
        let names = quote_all(&needs.packages);
        let text = format!(
            "if command -v dpkg-query >/dev/null 2>&1 && [ -f /var/lib/dpkg/status ]; then echo dpkg; \
             exec dpkg-query -W -f '${{Package}}\\t${{Status}}\\t${{Version}}\\n' {names}; \
             elif command -v rpm >/dev/null 2>&1 && {{ [ -d /var/lib/rpm ] || [ -d /usr/lib/sysimage/rpm ]; }}; \
             then echo rpm; \
             exec rpm -q --qf '%{{NAME}}\\t%{{EPOCHNUM}}:%{{VERSION}}-%{{RELEASE}}\\n' {names}; \
             elif [ -f /lib/apk/db/installed ]; then echo apk; exec cat /lib/apk/db/installed; \
             else echo none; fi"
        );
        push(ItemKind::Packages, text);
    }
    if !needs.stat_paths.is_empty() {
        let format = quote(&stat_format(terminator));
        push(ItemKind::Stat, format!("exec stat -c {format} -- {}", quote_all(&needs.stat_paths)));
    }
    for path in &needs.link_paths {
        push(ItemKind::LinkTarget(path.clone()), format!("exec readlink -- {}", quote(path)));
    }
    for path in &needs.content_paths {
        push(ItemKind::Contents(path.clone()), format!("exec cat -- {}", quote(path)));
    }
    if !needs.digest_paths.is_empty() {
        push(ItemKind::Digests, format!("exec sha256sum -- {}", quote_all(&needs.digest_paths)));
    }
    if !needs.users.is_empty() {
        let text = format!(
            "if command -v getent >/dev/null 2>&1; then exec getent passwd {}; else exec cat /etc/passwd; fi",
            quote_all(&needs.users)
        );
        push(ItemKind::Passwd, text);
    }
    if needs.groups {
        let text = "if command -v getent >/dev/null 2>&1; then exec getent group; else exec cat /etc/group; fi";
        push(ItemKind::Groups, text.to_owned());
    }
    // Both read /proc with shell builtins, so a container with hundreds of processes costs one
    // `cat` per process and nothing per socket.
    if needs.sockets {
        let text = "for t in tcp tcp6 udp udp6; do echo \"== $t\"; \
                    if [ -r /proc/net/$t ]; then while IFS= read -r l; do echo \"$l\"; done </proc/net/$t; fi; done";
        push(ItemKind::Sockets, text.to_owned());
    }
    if needs.processes {
        let text = format!(
            "for d in /proc/[0-9]*; do c=; read -r c <\"$d/comm\" 2>/dev/null || continue; u=; p=; \
             while read -r k v r; do case $k in Uid:) u=$v;; PPid:) p=$v;; esac; done <\"$d/status\" 2>/dev/null; \
             printf '%s\\t%s\\t%s\\t%s\\t' \"${{d#/proc/}}\" \"$p\" \"$u\" \"$c\"; \
             cat \"$d/cmdline\" 2>/dev/null; printf '\\n%s\\n' {}; done",
            quote(terminator)
        );
        push(ItemKind::Processes, text);
    }
    items
}

/// Builds the shell text for a command check: exports, then the command. A string command is
/// shell code and runs as written. An argv list is quoted word by word and run with `exec`, so
/// each element reaches the program unchanged.
fn command_text(command: &CommandLine, env: &[(String, String)]) -> String {
    let mut text = String::new();
    for (name, value) in env {
        let _ = writeln!(text, "export {name}={}", quote(value));
    }
    match command {
        CommandLine::Shell(script) => text.push_str(script),
        CommandLine::Argv(argv) => {
            text.push_str("exec ");
            text.push_str(&quote_all(argv));
        }
    }
    text
}

/// Quotes a value for POSIX `sh`: inside single quotes nothing is special, and a single quote
/// is written as `'\''`.
pub fn quote(value: &str) -> String {
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push('\'');
    for character in value.chars() {
        if character == '\'' {
            quoted.push_str("'\\''");
        } else {
            quoted.push(character);
        }
    }
    quoted.push('\'');
    quoted
}

fn quote_all<'a>(values: impl IntoIterator<Item = &'a String>) -> String {
    values.into_iter().map(|value| quote(value)).collect::<Vec<_>>().join(" ")
}

/// Script setup and the `sr_run` function. `sr_run ID TIMEOUT CAP WORKDIR TEXT` runs TEXT with
/// `sh -c` in a new session (through `setsid` where present, so a timeout can kill the whole
/// process group), output to files, then writes the framed record.
///
/// Each item writes to its own files, because a process that a command left running in the
/// background may keep writing to them. `head -c` sends exactly the measured bytes, so such late
/// writes cannot break the framing. The files stay until the exit trap removes the directory,
/// which saves one `rm` process per item. The watchdog's `sleep` runs in the background so that
/// the watchdog's TERM trap can end it, and no `sleep` outlives its item.
const PRELUDE: &str = r#"
for sr_tool in cat head wc rm mktemp sleep; do
  if ! command -v "$sr_tool" >/dev/null 2>&1; then
    echo "specrun: the batch script needs '$sr_tool', which is not in the container's PATH" >&2
    printf '%s fatal\n' "$N"; exit 0
  fi
done
T=$(mktemp -d 2>/dev/null) || T=
if [ -z "$T" ]; then
  echo "specrun: cannot create a temporary directory with mktemp -d (is /tmp writable?)" >&2
  printf '%s fatal\n' "$N"; exit 0
fi
trap 'rm -rf "$T"' EXIT
SR_SETSID=
if command -v setsid >/dev/null 2>&1; then SR_SETSID=setsid; fi
sr_run() {
  sr_id=$1
  sr_t0=0; read sr_t0 sr_rest </proc/uptime 2>/dev/null
  sr_cap=$3
  ( if [ -n "$4" ]; then cd -- "$4" || { : >"$T/wd"; exit 125; }; fi
    exec $SR_SETSID sh -c "$5" ) >"$T/o$sr_id" 2>"$T/e$sr_id" </dev/null &
  sr_pid=$!
  sr_dog=
  if [ "$2" != 0 ]; then
    ( trap 'kill "$sr_nap" 2>/dev/null; exit 0' TERM
      sleep "$2" & sr_nap=$!; wait "$sr_nap"; : >"$T/to"
      kill -s TERM -- "-$sr_pid" 2>/dev/null || kill -s TERM "$sr_pid" 2>/dev/null
      sleep 1
      kill -s KILL -- "-$sr_pid" 2>/dev/null || kill -s KILL "$sr_pid" 2>/dev/null
    ) </dev/null >/dev/null 2>&1 &
    sr_dog=$!
  fi
  wait "$sr_pid"; sr_rc=$?
  if [ -n "$sr_dog" ]; then kill "$sr_dog" 2>/dev/null; wait "$sr_dog" 2>/dev/null; fi
  if [ -e "$T/to" ]; then sr_rc=T; rm -f "$T/to"; fi
  if [ -e "$T/wd" ]; then sr_rc=W; rm -f "$T/wd"; fi
  sr_t1=0; read sr_t1 sr_rest </proc/uptime 2>/dev/null
  set -- $(cd "$T" && wc -c "o$sr_id" "e$sr_id")
  sr_ol=$1; sr_el=$3
  sr_os=$sr_ol; if [ "$sr_os" -gt "$sr_cap" ]; then sr_os=$sr_cap; fi
  sr_es=$sr_el; if [ "$sr_es" -gt "$sr_cap" ]; then sr_es=$sr_cap; fi
  printf '%s %s %s %s %s %s %s %s %s\n' "$N" "$sr_id" "$sr_rc" "$sr_ol" "$sr_os" "$sr_el" "$sr_es" "$sr_t0" "$sr_t1"
  head -c "$sr_os" "$T/o$sr_id"
  head -c "$sr_es" "$T/e$sr_id"
}
"#;

/// Renders a batch to its script. `nonce` opens every frame header.
pub fn render(batch: &Batch, nonce: &str) -> String {
    let mut script = format!("N={nonce}\n");
    script.push_str(PRELUDE);
    for (id, item) in batch.items.iter().enumerate() {
        let timeout = format_seconds(item.timeout);
        let workdir = quote(item.workdir.as_deref().unwrap_or(""));
        let _ = writeln!(script, "sr_run {id} {timeout} {} {workdir} {}", item.cap, quote(&item.text));
    }
    let _ = writeln!(script, "printf '%s end\\n' \"$N\"");
    script
}

/// Seconds for `sleep`, with millisecond precision (GNU and BusyBox `sleep` accept fractions).
fn format_seconds(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis.is_multiple_of(1000) {
        (millis / 1000).to_string()
    } else {
        format!("{}.{:03}", millis / 1000, millis % 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_escapes_single_quotes() {
        assert_eq!(quote("plain"), "'plain'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote("$(rm -rf /); `x` \"y\" \\"), "'$(rm -rf /); `x` \"y\" \\'");
        assert_eq!(quote(""), "''");
    }

    #[test]
    fn argv_commands_are_quoted_words() {
        let command = CommandLine::Argv(vec!["printf".into(), "%s\n".into(), "a b'c".into()]);
        let env = vec![("GREETING".to_owned(), "hello world".to_owned())];
        assert_eq!(command_text(&command, &env), "export GREETING='hello world'\nexec 'printf' '%s\n' 'a b'\\''c'");
    }

    #[test]
    fn shell_commands_stay_shell_code() {
        let command = CommandLine::Shell("echo $HOME | wc -c".into());
        assert_eq!(command_text(&command, &[]), "echo $HOME | wc -c");
    }

    #[test]
    fn seconds_format_for_sleep() {
        assert_eq!(format_seconds(Duration::from_secs(30)), "30");
        assert_eq!(format_seconds(Duration::from_millis(1500)), "1.500");
        assert_eq!(format_seconds(Duration::from_millis(50)), "0.050");
    }

    #[test]
    fn render_places_items_in_order() {
        let batch = Batch {
            user: None,
            items: vec![
                Item {
                    kind: ItemKind::Stat,
                    text: "exec stat x".into(),
                    workdir: None,
                    timeout: Duration::from_secs(5),
                    cap: 7,
                },
                Item {
                    kind: ItemKind::Command(3),
                    text: "pwd".into(),
                    workdir: Some("/tmp".into()),
                    timeout: Duration::from_millis(250),
                    cap: 1024,
                },
            ],
        };
        let script = render(&batch, "abc123");
        assert!(script.starts_with("N=abc123\n"));
        let first = script.find("sr_run 0 5 7 '' 'exec stat x'").unwrap();
        let second = script.find("sr_run 1 0.250 1024 '/tmp' 'pwd'").unwrap();
        assert!(first < second);
        assert!(script.ends_with("printf '%s end\\n' \"$N\"\n"));
    }

    #[test]
    fn large_batches_are_split() {
        let items: Vec<Item> = (0..400)
            .map(|index| Item {
                kind: ItemKind::Command(index),
                text: "x".repeat(1000),
                workdir: None,
                timeout: Duration::from_secs(1),
                cap: 1,
            })
            .collect();
        let mut batches = Vec::new();
        push_chunked(&mut batches, None, items);
        assert!(batches.len() >= 4);
        assert_eq!(batches.iter().map(|batch| batch.items.len()).sum::<usize>(), 400);
        for batch in &batches {
            assert!(render(batch, "n").len() <= MAX_SCRIPT_BYTES + 4096);
        }
    }
}
