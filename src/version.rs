//! Package version ordering for Debian, RPM and Alpine (apk) packages, and
//! the version matchers written in spec files.
//!
//! [`compare`] orders two version strings by the rules of one packaging
//! scheme. [`VersionMatcher`] stores conditions such as `">= 5.0, < 6"` and
//! checks an installed version against them with that ordering, so equality
//! follows the scheme too: for Debian, `1.0` equals `0:1.0`.
//!
//! The comparisons accept any input without panicking. Input that breaks a
//! scheme's syntax is still ordered by the best-effort rules described on
//! each function.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::matcher::{CompareOp, Comparison, write_conditions};

/// Hint appended to version condition errors.
const VERSION_CONDITION_HINT: &str =
    "write a version such as \"1.2-3\", or comparisons joined by commas such as \">= 5.0, < 6\"";

/// A packaging scheme, which fixes how version strings are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VersionScheme {
    /// dpkg versions: `[epoch:]upstream[-revision]`.
    Debian,
    /// RPM versions: `[epoch:]version[-release]`.
    Rpm,
    /// Alpine apk versions: `1.2.3[letter][_suffix[N]]...[-rN]`.
    Apk,
}

impl fmt::Display for VersionScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            VersionScheme::Debian => "debian",
            VersionScheme::Rpm => "rpm",
            VersionScheme::Apk => "apk",
        };
        f.write_str(name)
    }
}

/// Orders the versions `a` and `b` by the rules of `scheme`.
pub fn compare(scheme: VersionScheme, a: &str, b: &str) -> Ordering {
    match scheme {
        VersionScheme::Debian => compare_debian(a, b),
        VersionScheme::Rpm => compare_rpm(a, b),
        VersionScheme::Apk => compare_apk(a, b),
    }
}

/// Compares two strings of ASCII digits as unbounded non-negative integers.
///
/// Leading zeros are ignored and an empty string counts as 0. After the
/// zeros are stripped, the longer string is the larger number, and strings
/// of equal length compare byte by byte, so no length overflows.
fn compare_digits(a: &[u8], b: &[u8]) -> Ordering {
    let a = strip_leading_zeros(a);
    let b = strip_leading_zeros(b);
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn strip_leading_zeros(digits: &[u8]) -> &[u8] {
    let zeros = digits.iter().take_while(|&&byte| byte == b'0').count();
    &digits[zeros..]
}

/// Splits `bytes` after the longest prefix whose bytes satisfy `keep`.
fn split_while(bytes: &[u8], keep: impl Fn(u8) -> bool) -> (&[u8], &[u8]) {
    let len = bytes.iter().take_while(|&&byte| keep(byte)).count();
    bytes.split_at(len)
}

// --- Debian ---

/// The three fields of a Debian version.
struct DebianVersion<'a> {
    /// The digits before the first `:`, or empty for the default epoch 0.
    epoch: &'a str,
    upstream: &'a str,
    /// The text after the last `-`, or empty when there is no `-`.
    revision: &'a str,
}

/// Splits a Debian version into epoch, upstream version and revision.
///
/// Surrounding whitespace is ignored, as dpkg ignores it. When the text
/// before the first `:` is not all digits, the version is taken to have no
/// epoch and the `:` stays in the upstream version.
fn split_debian(version: &str) -> DebianVersion<'_> {
    let version = version.trim();
    let (epoch, rest) = match version.split_once(':') {
        Some((epoch, rest)) if epoch.bytes().all(|byte| byte.is_ascii_digit()) => (epoch, rest),
        _ => ("", version),
    };
    let (upstream, revision) = rest.rsplit_once('-').unwrap_or((rest, ""));
    DebianVersion { epoch, upstream, revision }
}

/// Orders two Debian versions by the rules of Debian Policy §5.6.12.
///
/// The epochs are compared as numbers (absent means 0), then the upstream
/// versions, then the revisions. An absent revision compares as empty, which
/// equals `0`, so `1.0` equals `1.0-0`, as `dpkg --compare-versions` has it.
pub fn compare_debian(a: &str, b: &str) -> Ordering {
    let a = split_debian(a);
    let b = split_debian(b);
    compare_digits(a.epoch.as_bytes(), b.epoch.as_bytes())
        .then_with(|| compare_debian_part(a.upstream.as_bytes(), b.upstream.as_bytes()))
        .then_with(|| compare_debian_part(a.revision.as_bytes(), b.revision.as_bytes()))
}

/// Compares an upstream version or a revision.
///
/// Both strings are consumed as alternating runs: a run of non-digits,
/// compared by [`compare_debian_text`], then a run of digits, compared as
/// numbers with an empty run counting as 0. The first difference decides.
fn compare_debian_part(mut a: &[u8], mut b: &[u8]) -> Ordering {
    while !a.is_empty() || !b.is_empty() {
        let (a_text, a_rest) = split_while(a, |byte| !byte.is_ascii_digit());
        let (b_text, b_rest) = split_while(b, |byte| !byte.is_ascii_digit());
        let ordering = compare_debian_text(a_text, b_text);
        if ordering != Ordering::Equal {
            return ordering;
        }

        let (a_number, a_rest) = split_while(a_rest, |byte| byte.is_ascii_digit());
        let (b_number, b_rest) = split_while(b_rest, |byte| byte.is_ascii_digit());
        let ordering = compare_digits(a_number, b_number);
        if ordering != Ordering::Equal {
            return ordering;
        }

        a = a_rest;
        b = b_rest;
    }
    Ordering::Equal
}

/// Compares two runs of non-digits character by character.
///
/// The order is: `~` first, then the end of the run, then letters in ASCII
/// order, then all other characters in ASCII order. So `1.0~rc1 < 1.0`
/// (`~` before the end), `1.0 < 1.0a` (end before a letter) and
/// `1.0a < 1.0+` (letters before other characters).
fn compare_debian_text(a: &[u8], b: &[u8]) -> Ordering {
    let len = a.len().max(b.len());
    for index in 0..len {
        let ordering = debian_char_weight(a.get(index)).cmp(&debian_char_weight(b.get(index)));
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    Ordering::Equal
}

/// Returns the sort weight of one character of a non-digit run, `None`
/// standing for the end of the run.
fn debian_char_weight(byte: Option<&u8>) -> i32 {
    match byte {
        None => 0,
        Some(b'~') => -1,
        Some(&letter) if letter.is_ascii_alphabetic() => i32::from(letter),
        Some(&other) => i32::from(other) + 256,
    }
}

/// Checks the structure of a Debian version.
///
/// It rejects an empty version, whitespace inside it, an epoch that is not
/// a number, an empty upstream version or revision, and characters outside
/// `A-Za-z0-9.+~-:` (upstream) or `A-Za-z0-9.+~` (revision). An upstream
/// version that does not start with a digit is accepted, because dpkg only
/// warns about it. dpkg 1.21 also only warns about invalid characters, which
/// this function rejects.
pub fn validate_debian(version: &str) -> Result<(), String> {
    const HINT: &str = "write [epoch:]upstream[-revision], for example 1:2.36-9+deb12u4";

    let trimmed = version.trim();
    if trimmed.is_empty() {
        return Err(format!("invalid Debian version {version:?}: it is empty; {HINT}"));
    }
    if trimmed.chars().any(char::is_whitespace) {
        return Err(format!("invalid Debian version {version:?}: it contains whitespace; {HINT}"));
    }

    let rest = match trimmed.split_once(':') {
        Some(("", _)) => {
            return Err(format!("invalid Debian version {version:?}: the epoch before \":\" is empty; {HINT}"));
        }
        Some((epoch, rest)) => {
            if !epoch.bytes().all(|byte| byte.is_ascii_digit()) {
                return Err(format!(
                    "invalid Debian version {version:?}: the epoch {epoch:?} is not a number; \
                     {HINT}"
                ));
            }
            rest
        }
        None => trimmed,
    };

    let (upstream, revision) = match rest.rsplit_once('-') {
        Some((upstream, revision)) => (upstream, Some(revision)),
        None => (rest, None),
    };
    if upstream.is_empty() {
        return Err(format!("invalid Debian version {version:?}: the upstream version is empty; {HINT}"));
    }
    if let Some(bad) = upstream.chars().find(|&c| !(c.is_ascii_alphanumeric() || ".+~-:".contains(c))) {
        return Err(format!(
            "invalid Debian version {version:?}: the upstream version contains {bad:?}, \
             but only letters, digits and . + ~ - : are allowed; {HINT}"
        ));
    }

    if let Some(revision) = revision {
        if revision.is_empty() {
            return Err(format!(
                "invalid Debian version {version:?}: the revision after the last \"-\" is empty; \
                 {HINT}"
            ));
        }
        if let Some(bad) = revision.chars().find(|&c| !(c.is_ascii_alphanumeric() || ".+~".contains(c))) {
            return Err(format!(
                "invalid Debian version {version:?}: the revision contains {bad:?}, \
                 but only letters, digits and . + ~ are allowed; {HINT}"
            ));
        }
    }
    Ok(())
}

// --- RPM ---

/// Orders two RPM versions of the form `[epoch:]version[-release]`.
///
/// The epochs are compared as numbers (absent means 0), then the versions
/// and then the releases with [`compare_rpm_segments`]. The release is the
/// text after the last `-`. An absent release compares as empty, so `1.0`
/// sorts before `1.0-1`, as `rpm.vercmp` in rpm 4.18 orders them. To accept
/// version 1.0 with any release, a spec uses a range such as
/// `">= 1.0, < 1.0.1"`.
pub fn compare_rpm(a: &str, b: &str) -> Ordering {
    let (a_epoch, a_version, a_release) = split_rpm(a);
    let (b_epoch, b_version, b_release) = split_rpm(b);
    compare_digits(a_epoch.as_bytes(), b_epoch.as_bytes())
        .then_with(|| compare_rpm_segments(a_version, b_version))
        .then_with(|| compare_rpm_segments(a_release, b_release))
}

/// Splits an RPM version into epoch digits, version and release.
///
/// When the text before the first `:` is not all digits, the version is
/// taken to have no epoch.
fn split_rpm(version: &str) -> (&str, &str, &str) {
    let version = version.trim();
    let (epoch, rest) = match version.split_once(':') {
        Some((epoch, rest)) if epoch.bytes().all(|byte| byte.is_ascii_digit()) => (epoch, rest),
        _ => ("", version),
    };
    let (version, release) = rest.rsplit_once('-').unwrap_or((rest, ""));
    (epoch, version, release)
}

/// Orders two RPM version or release strings by rpm's segment rules.
///
/// Each string is read as segments of digits or of ASCII letters. Any other
/// character except `~` and `^` only separates segments. At each step:
///
/// - `~` sorts before everything, including the end of the string, so
///   `1.0~rc1 < 1.0`.
/// - `^` sorts after the end of the string but before any segment, so
///   `1.0 < 1.0^git1 < 1.0.1`.
/// - A digit segment is newer than a letter segment.
/// - Digit segments compare as numbers without leading zeros, and letter
///   segments compare as ASCII strings.
///
/// When all shared segments are equal, the string with segments left over
/// is newer. Separators alone do not count, so `1.0` equals `1.0.` and
/// `1_0` equals `1.0`.
pub fn compare_rpm_segments(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let mut a = a.as_bytes();
    let mut b = b.as_bytes();

    loop {
        a = skip_rpm_separators(a);
        b = skip_rpm_separators(b);

        match (a.first(), b.first()) {
            (Some(b'~'), Some(b'~')) => {
                a = &a[1..];
                b = &b[1..];
                continue;
            }
            (Some(b'~'), _) => return Ordering::Less,
            (_, Some(b'~')) => return Ordering::Greater,
            _ => {}
        }

        match (a.first(), b.first()) {
            (Some(b'^'), Some(b'^')) => {
                a = &a[1..];
                b = &b[1..];
                continue;
            }
            (Some(b'^'), None) => return Ordering::Greater,
            (Some(b'^'), Some(_)) => return Ordering::Less,
            (None, Some(b'^')) => return Ordering::Less,
            (Some(_), Some(b'^')) => return Ordering::Greater,
            _ => {}
        }

        let (Some(&a_first), Some(_)) = (a.first(), b.first()) else {
            break;
        };

        let numeric = a_first.is_ascii_digit();
        let in_segment = |byte: u8| {
            if numeric { byte.is_ascii_digit() } else { byte.is_ascii_alphabetic() }
        };
        let (a_segment, a_rest) = split_while(a, in_segment);
        let (b_segment, b_rest) = split_while(b, in_segment);

        // b's segment is of the other kind: the digit segment is newer.
        if b_segment.is_empty() {
            return if numeric { Ordering::Greater } else { Ordering::Less };
        }

        let ordering = if numeric { compare_digits(a_segment, b_segment) } else { a_segment.cmp(b_segment) };
        if ordering != Ordering::Equal {
            return ordering;
        }

        a = a_rest;
        b = b_rest;
    }

    match (a.is_empty(), b.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, _) => Ordering::Greater,
    }
}

fn skip_rpm_separators(bytes: &[u8]) -> &[u8] {
    let (_, rest) = split_while(bytes, |byte| !(byte.is_ascii_alphanumeric() || byte == b'~' || byte == b'^'));
    rest
}

// --- Alpine apk ---

/// The rank of "no suffix" among the apk suffixes.
const APK_NO_SUFFIX_RANK: u8 = 4;

/// Returns the rank of an apk suffix name, or `None` for an unknown name.
/// Pre-release suffixes rank below [`APK_NO_SUFFIX_RANK`] and post-release
/// suffixes above it.
fn apk_suffix_rank(name: &[u8]) -> Option<u8> {
    let rank = match name {
        b"alpha" => 0,
        b"beta" => 1,
        b"pre" => 2,
        b"rc" => 3,
        b"cvs" => 5,
        b"svn" => 6,
        b"git" => 7,
        b"hg" => 8,
        b"p" => 9,
        _ => return None,
    };
    Some(rank)
}

/// An apk version split into its parts.
struct ApkVersion<'a> {
    /// The dot-separated numeric components, as digit strings.
    numbers: Vec<&'a [u8]>,
    /// The optional single lowercase letter after the numbers.
    letter: Option<u8>,
    /// The suffixes as (rank, digits), the digits empty when absent.
    suffixes: Vec<(u8, &'a [u8])>,
    /// The digits of `-rN`, empty when absent.
    revision: &'a [u8],
    /// Whatever does not fit the grammar, from the first unexpected byte on.
    unparsed: &'a [u8],
}

/// Splits an apk version by the grammar
/// `N(.N)*[a-z](_suffix[N])*[-rN]`.
///
/// Parsing stops at the first byte that does not fit, and the rest is kept
/// in `unparsed`. A version that does not start with a digit is all
/// `unparsed`.
fn parse_apk(version: &str) -> ApkVersion<'_> {
    let mut rest = version.trim().as_bytes();
    let mut parsed =
        ApkVersion { numbers: Vec::new(), letter: None, suffixes: Vec::new(), revision: b"", unparsed: b"" };

    let (first, after) = split_while(rest, |byte| byte.is_ascii_digit());
    if first.is_empty() {
        parsed.unparsed = rest;
        return parsed;
    }
    parsed.numbers.push(first);
    rest = after;

    while let [b'.', after_dot @ ..] = rest {
        let (number, after_number) = split_while(after_dot, |byte| byte.is_ascii_digit());
        if number.is_empty() {
            break;
        }
        parsed.numbers.push(number);
        rest = after_number;
    }

    if let [letter, after_letter @ ..] = rest
        && letter.is_ascii_lowercase()
    {
        parsed.letter = Some(*letter);
        rest = after_letter;
    }

    while let [b'_', after_underscore @ ..] = rest {
        let (name, after_name) = split_while(after_underscore, |byte| byte.is_ascii_lowercase());
        let Some(rank) = apk_suffix_rank(name) else {
            break;
        };
        let (number, after_number) = split_while(after_name, |byte| byte.is_ascii_digit());
        parsed.suffixes.push((rank, number));
        rest = after_number;
    }

    if let [b'-', b'r', after_r @ ..] = rest {
        let (number, after_number) = split_while(after_r, |byte| byte.is_ascii_digit());
        if !number.is_empty() {
            parsed.revision = number;
            rest = after_number;
        }
    }

    parsed.unparsed = rest;
    parsed
}

/// Orders two Alpine apk versions.
///
/// The parts are compared in this order, and the first difference decides:
///
/// 1. The numeric components, pairwise as numbers. When all shared ones are
///    equal, the version with more components is newer (`1.2.1 > 1.2`).
/// 2. The letter after the numbers, none sorting first (`1.2 < 1.2a`).
/// 3. The suffixes pairwise, by the order
///    `_alpha < _beta < _pre < _rc < (none) < _cvs < _svn < _git < _hg < _p`,
///    then by their numbers (absent means 0). A suffix that the other
///    version lacks is compared with "none", so `1.0_rc1 < 1.0 < 1.0_p1`.
/// 4. The `-rN` revision as a number (absent means 0).
/// 5. Any text that does not fit the grammar, byte by byte.
///
/// NOTE: this does not cover the `~hash` commit suffix of apk-tools, nor
/// the apk-tools rule that compares a numeric component with a leading zero
/// (`1.01`) as a decimal fraction. Both are ordered by the rules above, which
/// can disagree with `apk version -t`. Invalid versions are ordered by step
/// 5 instead of being rejected as apk does.
pub fn compare_apk(a: &str, b: &str) -> Ordering {
    let a = parse_apk(a);
    let b = parse_apk(b);

    compare_apk_numbers(&a.numbers, &b.numbers)
        .then_with(|| a.letter.cmp(&b.letter))
        .then_with(|| compare_apk_suffixes(&a.suffixes, &b.suffixes))
        .then_with(|| compare_digits(a.revision, b.revision))
        .then_with(|| a.unparsed.cmp(b.unparsed))
}

fn compare_apk_numbers(a: &[&[u8]], b: &[&[u8]]) -> Ordering {
    for (a_number, b_number) in a.iter().zip(b) {
        let ordering = compare_digits(a_number, b_number);
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    a.len().cmp(&b.len())
}

fn compare_apk_suffixes(a: &[(u8, &[u8])], b: &[(u8, &[u8])]) -> Ordering {
    let len = a.len().max(b.len());
    for index in 0..len {
        let ordering = match (a.get(index), b.get(index)) {
            (Some((a_rank, a_number)), Some((b_rank, b_number))) => {
                a_rank.cmp(b_rank).then_with(|| compare_digits(a_number, b_number))
            }
            (Some((a_rank, _)), None) => a_rank.cmp(&APK_NO_SUFFIX_RANK),
            (None, Some((b_rank, _))) => APK_NO_SUFFIX_RANK.cmp(b_rank),
            (None, None) => Ordering::Equal,
        };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    Ordering::Equal
}

// --- Version matcher ---

/// Conditions on a package version, all of which must hold.
///
/// Parsed from a string: a bare version (`"1.2-3"`, meaning equal), or
/// comparisons joined by commas (`">= 5.0, < 6"`) with the operators `=`,
/// `==`, `!=`, `<`, `<=`, `>` and `>=`. A YAML integer such as `5` is read
/// as the version `"5"`. A YAML float is rejected, because `5.10` would
/// arrive as 5.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionMatcher {
    conditions: Vec<Comparison<String>>,
}

impl VersionMatcher {
    /// Returns whether `actual` satisfies every condition, comparing
    /// versions by the rules of `scheme`.
    pub fn is_match(&self, scheme: VersionScheme, actual: &str) -> bool {
        self.conditions.iter().all(|condition| {
            let ordering = compare(scheme, actual, &condition.operand);
            condition.op.accepts(ordering)
        })
    }

    /// Returns the conditions in the order written.
    pub fn conditions(&self) -> &[Comparison<String>] {
        &self.conditions
    }
}

impl fmt::Display for VersionMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_conditions(f, &self.conditions)
    }
}

impl FromStr for VersionMatcher {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.trim().is_empty() {
            return Err(format!("invalid version condition {text:?}: it is empty; {VERSION_CONDITION_HINT}"));
        }

        let mut conditions = Vec::new();
        for part in text.split(',') {
            conditions.push(parse_version_condition(text, part)?);
        }
        Ok(VersionMatcher { conditions })
    }
}

/// Parses one comma-separated `part` of the version condition `text`.
fn parse_version_condition(text: &str, part: &str) -> Result<Comparison<String>, String> {
    let (op, version) =
        CompareOp::split_prefix(part).map_err(|reason| format!("invalid version condition {text:?}: {reason}"))?;

    if version.is_empty() {
        let reason = if part.trim().is_empty() {
            "a condition between commas is empty".to_owned()
        } else {
            format!("no version follows {:?}", part.trim())
        };
        return Err(format!("invalid version condition {text:?}: {reason}; {VERSION_CONDITION_HINT}"));
    }
    if version.chars().any(char::is_whitespace) {
        return Err(format!(
            "invalid version condition {text:?}: the version {version:?} contains whitespace; \
             {VERSION_CONDITION_HINT}"
        ));
    }
    if version.contains('*') {
        return Err(format!(
            "invalid version condition {text:?}: wildcards such as {version:?} are not \
             supported; write a range such as \">= 5.0, < 6\""
        ));
    }
    if let Some(bad) = version.chars().find(|&c| !(c.is_ascii_alphanumeric() || ".+~-:^_".contains(c))) {
        return Err(format!(
            "invalid version condition {text:?}: the version {version:?} contains {bad:?}, \
             but versions contain only letters, digits and . + ~ - : ^ _; \
             {VERSION_CONDITION_HINT}"
        ));
    }

    Ok(Comparison { op, operand: version.to_owned() })
}

impl<'de> Deserialize<'de> for VersionMatcher {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(VersionMatcherVisitor)
    }
}

struct VersionMatcherVisitor;

impl<'de> Visitor<'de> for VersionMatcherVisitor {
    type Value = VersionMatcher;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a version string such as \"1.2-3\" or \">= 5.0, < 6\"")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<VersionMatcher, E> {
        value.parse().map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<VersionMatcher, E> {
        value.to_string().parse().map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<VersionMatcher, E> {
        value.to_string().parse().map_err(E::custom)
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<VersionMatcher, E> {
        Err(E::custom(format!(
            "invalid version {value}: YAML reads an unquoted version with one dot as a float, \
             which drops trailing zeros (5.10 becomes 5.1); quote the version exactly as \
             written, for example version: \"5.10\""
        )))
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<VersionMatcher, E> {
        Err(E::custom(format!("invalid version {value}: a boolean is not a version; {VERSION_CONDITION_HINT}")))
    }

    fn visit_unit<E: de::Error>(self) -> Result<VersionMatcher, E> {
        Err(E::custom(format!("missing version: the value is empty (null); {VERSION_CONDITION_HINT}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering::{Equal, Greater, Less};

    // Every pair in this table was checked with `dpkg --compare-versions A lt|eq|gt B`
    // from dpkg 1.21.22 on Debian 12. `debian_table_agrees_with_dpkg` repeats that
    // check wherever dpkg is installed.
    const DEBIAN_PAIRS: &[(&str, &str, Ordering)] = &[
        ("1.0~rc1", "1.0", Less),
        ("1.0", "1.0+b1", Less),
        ("1:0.9", "2.0", Greater),
        ("1.0-1", "1.0-1.1", Less),
        ("2.36-9+deb12u4", "2.36-9+deb12u10", Less),
        ("5.2.15-2+b2", "5.2.15-2", Greater),
        ("1.0a", "1.0+", Less),
        ("0:1.0", "1.0", Equal),
        ("1.0-0", "1.0", Equal),
        ("1.0", "1.0", Equal),
        ("1.0", "1.0.0", Less),
        ("1.0", "1.00", Equal),
        ("1.01", "1.1", Equal),
        ("1.0~", "1.0", Less),
        ("1.0~~", "1.0~", Less),
        ("1.0~~a", "1.0~", Less),
        ("1.0~rc1", "1.0~rc2", Less),
        ("1.0~beta", "1.0~rc", Less),
        ("1.0", "1.0a", Less),
        ("1.0a", "1.0b", Less),
        ("1.0Z", "1.0a", Less),
        ("1.0+", "1.0.", Less),
        ("1.2.3", "1.10", Less),
        ("9", "10", Less),
        ("99999999999999999999999", "100000000000000000000000", Less),
        ("1.000000000000000000000000001", "1.1", Equal),
        ("2:1.0", "10:0.1", Less),
        ("1:1.0", "1.0", Greater),
        ("1.0-1", "1.0-2", Less),
        ("1.0-10", "1.0-9", Greater),
        ("1.0-1ubuntu1", "1.0-1", Greater),
        ("1.0-1~bpo12+1", "1.0-1", Less),
        ("1.0-1+deb12u1", "1.0-1+deb12u1~bpo11", Greater),
        ("1.2-3-4", "1.2-3", Greater),
        ("1.2-3-4", "1.2-4", Greater),
        ("1.0+dfsg-1", "1.0-1", Greater),
        ("1.0+dfsg1-1", "1.0+dfsg-1", Greater),
        ("1.0.0~git20200101", "1.0.0", Less),
        ("2.0~alpha", "1.9", Greater),
        ("0.0", "0", Greater),
        ("a", "b", Less),
        ("1a", "1", Greater),
        ("1:2.3:4-5", "1:2.3:4-5", Equal),
        ("1:2.3:4", "1:2.3.4", Greater),
        ("7.88.1-10+deb12u5", "7.88.1-10+deb12u12", Less),
        ("3.0.11-1~deb12u2", "3.0.11-1", Less),
        ("1.2.3-1", " 1.2.3-1 ", Equal),
    ];

    #[test]
    fn debian_table() {
        for (a, b, expected) in DEBIAN_PAIRS {
            assert_eq!(compare_debian(a, b), *expected, "{a} vs {b}");
            assert_eq!(compare_debian(b, a), expected.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn debian_table_agrees_with_dpkg() {
        if std::process::Command::new("dpkg").arg("--version").output().is_err() {
            eprintln!("dpkg not found; the table was checked with dpkg 1.21.22");
            return;
        }
        for (a, b, expected) in DEBIAN_PAIRS {
            let relation = match expected {
                Less => "lt",
                Equal => "eq",
                Greater => "gt",
            };
            let status = std::process::Command::new("dpkg").args(["--compare-versions", a, relation, b]).status();
            match status {
                Ok(status) => assert!(status.success(), "dpkg disagrees: {a} {relation} {b}"),
                Err(err) => panic!("failed to run dpkg: {err}"),
            }
        }
    }

    #[test]
    fn debian_compare_is_total_on_table() {
        let mut versions: Vec<&str> = DEBIAN_PAIRS.iter().flat_map(|(a, b, _)| [*a, *b]).collect();
        versions.sort_by(|a, b| compare_debian(a, b));
        for window in versions.windows(2) {
            assert_ne!(compare_debian(window[0], window[1]), Greater, "{window:?}");
        }
    }

    #[test]
    fn debian_odd_input_does_not_panic() {
        let odd = ["", ":", "-", "::", "1:", ":1", "a:b", "~", "\u{e9}", "1\u{0}", "--", "0:"];
        for a in odd {
            for b in odd {
                let _ = compare_debian(a, b);
            }
        }
        assert_eq!(compare_debian("", "0"), Equal);
        // dpkg rejects an empty revision, and here it compares as an absent one.
        assert_eq!(compare_debian("1.0-", "1.0"), Equal);
    }

    #[test]
    fn debian_validate_accepts() {
        for version in ["1.0", "1:2.36-9+deb12u4", "1.0~rc1-0ubuntu1", "2:1.2:3-4", "abc", "0"] {
            assert_eq!(validate_debian(version), Ok(()), "{version}");
        }
    }

    #[test]
    fn debian_validate_rejects() {
        let cases = [
            ("", "empty"),
            ("1.0 1", "whitespace"),
            (":1.0", "epoch"),
            ("a:1.0", "epoch \"a\""),
            ("1:", "upstream version is empty"),
            ("-1", "upstream version is empty"),
            ("1.0-", "revision"),
            ("1.0_1", "'_'"),
            ("1:1.0-1:2", "revision contains ':'"),
            ("1.0-1:2", "epoch \"1.0-1\""),
        ];
        for (version, expected) in cases {
            match validate_debian(version) {
                Ok(()) => panic!("{version:?} was accepted"),
                Err(message) => {
                    assert!(message.contains(&format!("{version:?}")), "{message}");
                    assert!(message.contains(expected), "{version:?}: {message}");
                }
            }
        }
    }

    // Every pair in this table was checked with `rpm.vercmp` from rpm 4.18.0
    // (`rpm --eval '%{lua: print(rpm.vercmp("A", "B"))}'`). `rpm_table_agrees_with_rpm`
    // repeats that check wherever rpm is installed.
    const RPM_PAIRS: &[(&str, &str, Ordering)] = &[
        ("1.0", "1.0", Equal),
        ("1.0", "2.0", Less),
        ("2.0.1", "2.0", Greater),
        ("1.10", "1.9", Greater),
        ("1.0a", "1.0", Greater),
        ("1.0a", "1.0b", Less),
        ("1.0", "1.0a", Less),
        ("1a", "1.1", Less),
        ("1.0~rc1", "1.0", Less),
        ("1.0~rc1", "1.0~rc2", Less),
        ("1.0~~", "1.0~", Less),
        ("1.0^git1", "1.0", Greater),
        ("1.0^git1", "1.0.1", Less),
        ("1.0^git1", "1.0^git2", Less),
        ("1.0~rc1^git1", "1.0~rc1", Greater),
        ("1.0.", "1.0", Equal),
        ("1_0", "1.0", Equal),
        ("001", "1", Equal),
        ("1:1.0", "2.0", Greater),
        ("0:1.0", "1.0", Equal),
        ("1.0-1", "1.0-2", Less),
        ("1.0-1.el9", "1.0-1.el8", Greater),
        ("1.0", "1.0-0", Less),
        ("1.0-1", "1.0", Greater),
        ("2.34-100.el9_4.2", "2.34-83.el9", Greater),
        ("5.14.0-427.el9", "5.14.0-503.el9", Less),
        ("a", "1", Less),
        ("abc", "abd", Less),
        ("1.0+git", "1.0.git", Equal),
    ];

    #[test]
    fn rpm_table() {
        for (a, b, expected) in RPM_PAIRS {
            assert_eq!(compare_rpm(a, b), *expected, "{a} vs {b}");
            assert_eq!(compare_rpm(b, a), expected.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn rpm_table_agrees_with_rpm() {
        let mut script = String::from("%{lua:");
        for (a, b, _) in RPM_PAIRS {
            script.push_str(&format!(" print(rpm.vercmp(\"{a}\", \"{b}\")..\"\\n\")"));
        }
        script.push('}');
        let output = match std::process::Command::new("rpm").args(["--eval", &script]).output() {
            Ok(output) => output,
            Err(_) => {
                eprintln!("rpm not found; the table was checked with rpm 4.18.0");
                return;
            }
        };
        let stdout = String::from_utf8_lossy(&output.stdout);
        let results: Vec<&str> = stdout.split_whitespace().collect();
        assert_eq!(results.len(), RPM_PAIRS.len(), "rpm output: {stdout}");
        for ((a, b, expected), result) in RPM_PAIRS.iter().zip(results) {
            let expected_text = match expected {
                Less => "-1",
                Equal => "0",
                Greater => "1",
            };
            assert_eq!(result, expected_text, "rpm.vercmp({a:?}, {b:?})");
        }
    }

    #[test]
    fn rpm_odd_input_does_not_panic() {
        let odd = ["", "~", "^", "-", ":", "~^", "^~", "1:", "\u{e9}", "a-", "-1"];
        for a in odd {
            for b in odd {
                let _ = compare_rpm(a, b);
            }
        }
    }

    // These pairs follow the apk rules documented on `compare_apk`. Debian 12 has
    // no apk-tools package, so they were not checked with `apk version -t`.
    const APK_PAIRS: &[(&str, &str, Ordering)] = &[
        ("1.0", "1.0", Equal),
        ("1.0", "1.1", Less),
        ("1.10", "1.9", Greater),
        ("1.2", "1.2.1", Less),
        ("1.2.1", "1.2a", Greater),
        ("1.2", "1.2a", Less),
        ("1.2a", "1.2b", Less),
        ("1.0_alpha1", "1.0_beta1", Less),
        ("1.0_beta2", "1.0_pre1", Less),
        ("1.0_pre1", "1.0_rc1", Less),
        ("1.0_rc1", "1.0", Less),
        ("1.0_rc1", "1.0_rc2", Less),
        ("1.0_rc", "1.0_rc1", Less),
        ("1.0", "1.0_cvs1", Less),
        ("1.0_cvs1", "1.0_svn1", Less),
        ("1.0_svn1", "1.0_git20240101", Less),
        ("1.0_git1", "1.0_hg1", Less),
        ("1.0_hg1", "1.0_p1", Less),
        ("1.0_p1", "1.0_p2", Less),
        ("1.0_p1_rc1", "1.0_p1", Less),
        ("1.0_p1_p1", "1.0_p1", Greater),
        ("1.0", "1.0-r0", Equal),
        ("1.0-r1", "1.0-r2", Less),
        ("1.0-r10", "1.0-r9", Greater),
        ("1.0_rc1-r5", "1.0-r0", Less),
        ("3.3.2-r0", "3.3.10-r0", Less),
        ("1.36.1-r29", "1.36.1-r30", Less),
    ];

    #[test]
    fn apk_table() {
        for (a, b, expected) in APK_PAIRS {
            assert_eq!(compare_apk(a, b), *expected, "{a} vs {b}");
            assert_eq!(compare_apk(b, a), expected.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn apk_unparsed_text_compares_last() {
        assert_eq!(compare_apk("1.0_foo", "1.0"), Greater);
        assert_eq!(compare_apk("1.0_foo", "1.0_bar"), Greater);
        assert_eq!(compare_apk("abc", "abd"), Less);
        assert_eq!(compare_apk("1.0.", "1.0"), Greater);
    }

    #[test]
    fn apk_odd_input_does_not_panic() {
        let odd = ["", ".", "_", "-r", "-r-", "1._", "1.a", "1_p_", "\u{e9}", "1-rx"];
        for a in odd {
            for b in odd {
                let _ = compare_apk(a, b);
            }
        }
    }

    // --- version matchers ---

    #[derive(Debug, Deserialize)]
    struct PackageSpec {
        version: VersionMatcher,
    }

    fn parse_matcher(yaml: &str) -> VersionMatcher {
        match serde_saphyr::from_str::<PackageSpec>(yaml) {
            Ok(spec) => spec.version,
            Err(err) => panic!("failed to parse {yaml:?}: {err}"),
        }
    }

    fn matcher_error(yaml: &str) -> String {
        match serde_saphyr::from_str::<PackageSpec>(yaml) {
            Ok(spec) => panic!("expected an error for {yaml:?}, got {:?}", spec.version),
            Err(err) => err.to_string(),
        }
    }

    fn condition(op: CompareOp, version: &str) -> Comparison<String> {
        Comparison { op, operand: version.to_owned() }
    }

    #[test]
    fn matcher_yaml_forms() {
        let cases: &[(&str, Vec<Comparison<String>>)] = &[
            ("version: 1.2-3\n", vec![condition(CompareOp::Eq, "1.2-3")]),
            ("version: \"= 1.2\"\n", vec![condition(CompareOp::Eq, "1.2")]),
            ("version: \"== 1.2\"\n", vec![condition(CompareOp::Eq, "1.2")]),
            ("version: \"!= 1.2\"\n", vec![condition(CompareOp::Ne, "1.2")]),
            ("version: \">= 5.0\"\n", vec![condition(CompareOp::Ge, "5.0")]),
            ("version: \"> 5\"\n", vec![condition(CompareOp::Gt, "5")]),
            ("version: \"<= 6\"\n", vec![condition(CompareOp::Le, "6")]),
            ("version: \"< 6\"\n", vec![condition(CompareOp::Lt, "6")]),
            ("version: \">= 5.0, < 6\"\n", vec![condition(CompareOp::Ge, "5.0"), condition(CompareOp::Lt, "6")]),
            ("version: 5\n", vec![condition(CompareOp::Eq, "5")]),
            ("version: \"5.10\"\n", vec![condition(CompareOp::Eq, "5.10")]),
            ("version: 1:2.36-9\n", vec![condition(CompareOp::Eq, "1:2.36-9")]),
            ("version: 1.2.3\n", vec![condition(CompareOp::Eq, "1.2.3")]),
        ];
        for (yaml, expected) in cases {
            assert_eq!(parse_matcher(yaml).conditions(), expected.as_slice(), "{yaml:?}");
        }
    }

    #[test]
    fn matcher_display() {
        assert_eq!(parse_matcher("version: \">=5.0,<6\"\n").to_string(), ">= 5.0, < 6");
        assert_eq!(parse_matcher("version: 1.2-3\n").to_string(), "= 1.2-3");
        assert_eq!(parse_matcher("version: \"!= 2\"\n").to_string(), "!= 2");
    }

    #[test]
    fn matcher_debian() {
        let range = parse_matcher("version: \">= 5.0, < 6\"\n");
        assert!(range.is_match(VersionScheme::Debian, "5.2.15-2+b2"));
        assert!(range.is_match(VersionScheme::Debian, "5.0"));
        assert!(!range.is_match(VersionScheme::Debian, "6.0"));
        assert!(!range.is_match(VersionScheme::Debian, "5.0~rc1"));
        assert!(range.is_match(VersionScheme::Debian, "6~beta1"));
        assert!(!range.is_match(VersionScheme::Debian, "1:5.1"));

        let equal = parse_matcher("version: \"1.0\"\n");
        assert!(equal.is_match(VersionScheme::Debian, "0:1.0"));
        assert!(equal.is_match(VersionScheme::Debian, "1.0-0"));
        assert!(!equal.is_match(VersionScheme::Debian, "1.0-1"));

        let not_equal = parse_matcher("version: \"!= 2.36-9+deb12u4\"\n");
        assert!(not_equal.is_match(VersionScheme::Debian, "2.36-9+deb12u10"));
        assert!(!not_equal.is_match(VersionScheme::Debian, "2.36-9+deb12u4"));
    }

    #[test]
    fn matcher_rpm() {
        let range = parse_matcher("version: \">= 2.34, < 2.35\"\n");
        assert!(range.is_match(VersionScheme::Rpm, "2.34-100.el9_4.2"));
        assert!(!range.is_match(VersionScheme::Rpm, "2.35-1.el9"));
        assert!(!range.is_match(VersionScheme::Rpm, "2.34~rc1-1"));

        let any_release = parse_matcher("version: \">= 1.0, < 1.0.1\"\n");
        assert!(any_release.is_match(VersionScheme::Rpm, "1.0"));
        assert!(any_release.is_match(VersionScheme::Rpm, "1.0-1"));
        assert!(any_release.is_match(VersionScheme::Rpm, "1.0-99.el9"));
        assert!(!any_release.is_match(VersionScheme::Rpm, "1.0.1-1"));
        assert!(!any_release.is_match(VersionScheme::Rpm, "0.9-1"));

        let newer = parse_matcher("version: \"> 1.0\"\n");
        assert!(newer.is_match(VersionScheme::Rpm, "1.0^git1"));
        assert!(newer.is_match(VersionScheme::Rpm, "1:0.1"));
    }

    #[test]
    fn matcher_apk() {
        let range = parse_matcher("version: \">= 3.3, < 3.4\"\n");
        assert!(range.is_match(VersionScheme::Apk, "3.3.10-r0"));
        assert!(!range.is_match(VersionScheme::Apk, "3.3_rc1-r0"));
        assert!(!range.is_match(VersionScheme::Apk, "3.4.0-r1"));

        let equal = parse_matcher("version: 1.36.1-r29\n");
        assert!(equal.is_match(VersionScheme::Apk, "1.36.1-r29"));
        assert!(!equal.is_match(VersionScheme::Apk, "1.36.1-r30"));
    }

    #[test]
    fn matcher_error_float() {
        let message = matcher_error("version: 5.10\n");
        assert!(message.contains("line"), "{message}");
        assert!(message.contains("invalid version 5.1"), "{message}");
        assert!(message.contains("\"5.10\""), "{message}");
    }

    #[test]
    fn matcher_error_forms() {
        let cases = [
            ("version: \"\"\n", "invalid version condition \"\""),
            ("version: \">=\"\n", "no version follows \">=\""),
            ("version: \"=> 5\"\n", "unknown operator \"=>\""),
            ("version: \">= 5,\"\n", "a condition between commas is empty"),
            ("version: \">= 5 6\"\n", "the version \"5 6\" contains whitespace"),
            ("version: \"5.*\"\n", "wildcards such as \"5.*\""),
            ("version: \"5.0/1\"\n", "contains '/'"),
            ("version: true\n", "invalid version true"),
            ("version:\n", "missing version"),
            ("version: [1]\n", "expected a version string"),
        ];
        for (yaml, expected) in cases {
            let message = matcher_error(yaml);
            assert!(message.contains("line"), "no location for {yaml:?}: {message}");
            assert!(message.contains(expected), "{yaml:?}: {message}");
        }
    }

    #[test]
    fn scheme_from_yaml() {
        #[derive(Debug, Deserialize)]
        struct SchemeSpec {
            scheme: VersionScheme,
        }
        let parsed: Result<SchemeSpec, _> = serde_saphyr::from_str("scheme: rpm\n");
        assert_eq!(parsed.map(|spec| spec.scheme).ok(), Some(VersionScheme::Rpm));
        assert_eq!(VersionScheme::Apk.to_string(), "apk");
    }
}
