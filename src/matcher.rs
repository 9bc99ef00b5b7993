//! Text and number matchers for spec expectations.
//!
//! A [`TextMatcher`] checks command output or file contents. Those are raw
//! bytes: they may be invalid UTF-8, use CRLF line endings or lack a final
//! newline, so every matcher works on `&[u8]`. A [`NumberMatcher`] checks an
//! integer such as a file size, a uid or a count.
//!
//! Both types are written by hand in YAML spec files, so their `Deserialize`
//! impls validate the value and return messages that name the bad value and
//! suggest what to write instead. serde-saphyr adds the line and column.
//!
//! Text matcher forms in YAML:
//!
//! | YAML                         | meaning                                   |
//! |------------------------------|-------------------------------------------|
//! | `text`, `42`                 | output contains the text                  |
//! | `"/re/"`, `"/re/i"`          | output matches the regex (`i`: ignore case) |
//! | `"!text"`, `"!/re/"`         | negation of the form after the `!`        |
//! | `{contains: text}`           | contains, with no `!` or `/` parsing      |
//! | `{equals: text}`             | the whole output is exactly the text      |
//! | `{matches: re}`              | regex written without slashes             |
//! | `{empty: true}` / `false`    | output is empty / not empty               |
//! | `{not: matcher}`             | negation of any form                      |
//! | `[matcher, ...]`             | all matchers hold                         |

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use regex::bytes::{Regex, RegexBuilder};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// The keys accepted in the mapping form of a text matcher, for error messages.
const TEXT_MATCHER_KEYS: &str = "contains, equals, matches, empty and not";

/// Hint appended to number condition errors.
const NUMBER_CONDITION_HINT: &str =
    "write an integer, or comparisons joined by commas such as \"> 0\" or \">= 10, < 20\"";

/// An expectation on command output or file contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextMatcher {
    /// The text occurs somewhere in the output, compared byte for byte.
    Contains(String),
    /// The whole output is exactly the text, byte for byte. A trailing
    /// newline is part of the output, so `echo hi` equals `"hi\n"`.
    Equals(String),
    /// The regex matches somewhere in the output.
    Regex(TextRegex),
    /// The output has no bytes at all. Output of only whitespace is not empty.
    Empty,
    /// The inner matcher does not match.
    Not(Box<TextMatcher>),
    /// Every inner matcher matches.
    All(Vec<TextMatcher>),
}

/// A compiled regex for [`TextMatcher::Regex`], kept with its source text.
///
/// The regex runs in multi-line mode, so `^` and `$` match at the start and
/// end of every line, and in CRLF mode, so `$` also matches before a `\r\n`
/// and `.` matches neither `\r` nor `\n`. Use `\A` and `\z` for the start
/// and end of the whole output. Unicode classes such as `.` and `\w` match
/// UTF-8 encoded characters, and bytes of invalid UTF-8 match none of them.
#[derive(Debug, Clone)]
pub struct TextRegex {
    regex: Regex,
    source: String,
    case_insensitive: bool,
}

impl TextRegex {
    /// Compiles `source` in multi-line and CRLF mode.
    ///
    /// Returns the reason on failure, for example `unclosed group`, so the
    /// caller can name the value as the user wrote it.
    pub fn new(source: &str, case_insensitive: bool) -> Result<Self, String> {
        let regex = RegexBuilder::new(source)
            .multi_line(true)
            .crlf(true)
            .case_insensitive(case_insensitive)
            .build()
            .map_err(|err| regex_error_reason(&err))?;
        Ok(Self { regex, source: source.to_owned(), case_insensitive })
    }

    /// Returns the pattern as written, without slashes or flags.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Returns whether the pattern was written with the `i` flag.
    pub fn is_case_insensitive(&self) -> bool {
        self.case_insensitive
    }

    /// Returns the compiled regex.
    pub fn regex(&self) -> &Regex {
        &self.regex
    }
}

impl PartialEq for TextRegex {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source && self.case_insensitive == other.case_insensitive
    }
}

impl Eq for TextRegex {}

impl fmt::Display for TextRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flags = if self.case_insensitive { "i" } else { "" };
        write!(f, "/{}/{}", self.source, flags)
    }
}

/// Extracts the one-line reason from a regex compile error.
///
/// A syntax error prints the pattern with a caret under the fault and ends
/// with a line `error: <reason>`, which is the part worth showing in a
/// one-line message.
fn regex_error_reason(err: &regex::Error) -> String {
    match err {
        regex::Error::Syntax(text) => {
            let reason = text.lines().rev().find_map(|line| line.trim().strip_prefix("error: "));
            match reason {
                Some(reason) => reason.trim().to_owned(),
                None => text.split_whitespace().collect::<Vec<_>>().join(" "),
            }
        }
        regex::Error::CompiledTooBig(limit) => {
            format!("the compiled regex is larger than the limit of {limit} bytes")
        }
        other => other.to_string(),
    }
}

impl TextMatcher {
    /// Returns whether the complete output `haystack` satisfies the matcher.
    pub fn is_match(&self, haystack: &[u8]) -> bool {
        match self {
            TextMatcher::Contains(text) => contains_bytes(haystack, text.as_bytes()),
            TextMatcher::Equals(text) => haystack == text.as_bytes(),
            TextMatcher::Regex(regex) => regex.regex.is_match(haystack),
            TextMatcher::Empty => haystack.is_empty(),
            TextMatcher::Not(inner) => !inner.is_match(haystack),
            TextMatcher::All(matchers) => matchers.iter().all(|m| m.is_match(haystack)),
        }
    }

    /// Decides the matcher on output of which only a prefix was captured.
    ///
    /// `captured` is the prefix that was kept and `full_len` the length of
    /// the complete output in bytes. When `full_len` is not larger than
    /// `captured.len()`, nothing is missing and the result is
    /// `Some(self.is_match(captured))`. Otherwise the result is `Some` only
    /// when the prefix alone decides the matcher, and `None` when the verdict
    /// depends on the missing bytes:
    ///
    /// - `Contains`: `Some(true)` when the text is in the prefix, else `None`.
    /// - `Regex`: `Some(true)` when the left-to-right search finds a match
    ///   that ends at least 4 bytes before the cut, else `None`. Those bytes cover the next character (at most 4
    ///   bytes in UTF-8), which an assertion such as `$` or `\b` at the end
    ///   of the match reads, so the same match exists in the full output.
    /// - `Equals`: `Some(false)` when the full length differs from the text
    ///   or the prefix differs from the start of the text, else `None`.
    /// - `Empty`: `Some(false)`, because the full output has bytes.
    /// - `Not`: the inner verdict inverted, or `None`.
    /// - `All`: `Some(false)` when any inner verdict is `Some(false)`,
    ///   `Some(true)` when all are `Some(true)`, else `None`.
    pub fn is_match_truncated(&self, captured: &[u8], full_len: u64) -> Option<bool> {
        let captured_len = u64::try_from(captured.len()).unwrap_or(u64::MAX);
        if full_len <= captured_len {
            return Some(self.is_match(captured));
        }

        match self {
            TextMatcher::Contains(text) => contains_bytes(captured, text.as_bytes()).then_some(true),
            TextMatcher::Equals(text) => {
                let text_len = u64::try_from(text.len()).unwrap_or(u64::MAX);
                if text_len != full_len || !text.as_bytes().starts_with(captured) { Some(false) } else { None }
            }
            TextMatcher::Regex(regex) => {
                let decided_end = captured.len().saturating_sub(MAX_UTF8_CHAR_LEN);
                let found = regex.regex.find_iter(captured).any(|m| m.end() <= decided_end);
                found.then_some(true)
            }
            TextMatcher::Empty => Some(false),
            TextMatcher::Not(inner) => inner.is_match_truncated(captured, full_len).map(|verdict| !verdict),
            TextMatcher::All(matchers) => {
                let mut all_decided_true = true;
                for matcher in matchers {
                    match matcher.is_match_truncated(captured, full_len) {
                        Some(false) => return Some(false),
                        Some(true) => {}
                        None => all_decided_true = false,
                    }
                }
                all_decided_true.then_some(true)
            }
        }
    }
}

/// The maximum length of one UTF-8 encoded character in bytes.
const MAX_UTF8_CHAR_LEN: usize = 4;

/// Returns whether `needle` occurs in `haystack`. An empty needle always does.
fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    if needle.is_empty() {
        return true;
    }
    haystack.windows(needle.len()).any(|window| window == needle)
}

impl fmt::Display for TextMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextMatcher::Contains(text) => write!(f, "contains {text:?}"),
            TextMatcher::Equals(text) => write!(f, "equals {text:?}"),
            TextMatcher::Regex(regex) => write!(f, "matches {regex}"),
            TextMatcher::Empty => f.write_str("is empty"),
            TextMatcher::Not(inner) => match inner.as_ref() {
                TextMatcher::Empty => f.write_str("is not empty"),
                other => write!(f, "not {other}"),
            },
            TextMatcher::All(matchers) => {
                f.write_str("all of [")?;
                for (index, matcher) in matchers.iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{matcher}")?;
                }
                f.write_str("]")
            }
        }
    }
}

/// Parses the string form: text, `/re/`, `/re/i`, or one of these after `!`.
///
/// A single leading `!` negates the rest, and the rest is not checked for a
/// further `!`, so `"!!x"` means "does not contain `!x`".
impl FromStr for TextMatcher {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.is_empty() {
            return Err("invalid text matcher \"\": empty text is found in any output; \
                 write the text to search for, or {empty: true} to require empty output"
                .to_owned());
        }

        match text.strip_prefix('!') {
            Some("") => Err("invalid text matcher \"!\": nothing follows the \"!\"; \
                 write \"!text\" or \"!/regex/\" to negate, or {contains: \"!\"} for a literal \"!\""
                .to_owned()),
            Some(rest) => {
                let inner = parse_positive_shorthand(text, rest)?;
                Ok(TextMatcher::Not(Box::new(inner)))
            }
            None => parse_positive_shorthand(text, text),
        }
    }
}

/// Parses `body`, the string form without its `!`, as text or `/re/flags`.
///
/// `written` is the whole value as the user wrote it, for messages.
fn parse_positive_shorthand(written: &str, body: &str) -> Result<TextMatcher, String> {
    let Some(after_slash) = body.strip_prefix('/') else {
        return Ok(TextMatcher::Contains(body.to_owned()));
    };

    let Some(closing) = after_slash.rfind('/') else {
        return Err(format!(
            "invalid regex {written:?}: the closing \"/\" is missing; \
             write /regex/ or /regex/i, or use {{contains: {written:?}}} for literal text"
        ));
    };
    let pattern = &after_slash[..closing];
    let flags = &after_slash[closing + 1..];

    let case_insensitive = match flags {
        "" => false,
        "i" => true,
        _ => {
            return Err(format!(
                "invalid regex flags {flags:?} in {written:?}: only the flag i (ignore case) \
                 is supported; write /regex/ or /regex/i, or use {{contains: {written:?}}} \
                 for literal text"
            ));
        }
    };

    if pattern.is_empty() {
        return Err(format!(
            "invalid regex {written:?}: the pattern between the slashes is empty and matches \
             any output; write a pattern, or use {{empty: true}} or {{empty: false}}"
        ));
    }

    match TextRegex::new(pattern, case_insensitive) {
        Ok(regex) => Ok(TextMatcher::Regex(regex)),
        Err(reason) => Err(format!(
            "invalid regex {written:?}: {reason}; write a valid regex between slashes, \
             or use {{contains: {written:?}}} for literal text"
        )),
    }
}

impl<'de> Deserialize<'de> for TextMatcher {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TextMatcherVisitor)
    }
}

struct TextMatcherVisitor;

impl<'de> Visitor<'de> for TextMatcherVisitor {
    type Value = TextMatcher;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a text matcher: text, \"/regex/\", a list of matchers, \
             or a mapping with one of the keys {TEXT_MATCHER_KEYS}"
        )
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<TextMatcher, E> {
        value.parse().map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<TextMatcher, E> {
        Ok(TextMatcher::Contains(value.to_string()))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<TextMatcher, E> {
        Ok(TextMatcher::Contains(value.to_string()))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<TextMatcher, E> {
        Err(E::custom(float_as_text_message("text matcher", value)))
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<TextMatcher, E> {
        Err(E::custom(bool_as_text_message("text matcher", value)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<TextMatcher, E> {
        Err(E::custom(
            "missing text matcher: the value is empty (null); \
             write text, \"/regex/\", or {empty: true} to require empty output",
        ))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TextMatcher, A::Error> {
        let mut matchers = Vec::new();
        while let Some(matcher) = seq.next_element::<TextMatcher>()? {
            matchers.push(matcher);
        }
        if matchers.is_empty() {
            return Err(de::Error::custom(
                "invalid text matcher []: the list is empty; \
                 write at least one matcher in the list, or remove the key",
            ));
        }
        Ok(TextMatcher::All(matchers))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TextMatcher, A::Error> {
        let Some(key) = map.next_key::<String>()? else {
            return Err(de::Error::custom(format!(
                "invalid text matcher {{}}: the mapping is empty; \
                 write one of the keys {TEXT_MATCHER_KEYS}"
            )));
        };

        let matcher = match key.as_str() {
            "contains" => {
                let text = map.next_value_seed(ScalarTextSeed { key: "contains" })?;
                if text.is_empty() {
                    return Err(de::Error::custom(
                        "invalid {contains: \"\"}: empty text is found in any output; \
                         write the text to search for, or {empty: true} to require empty output",
                    ));
                }
                TextMatcher::Contains(text)
            }
            "equals" => {
                let text = map.next_value_seed(ScalarTextSeed { key: "equals" })?;
                TextMatcher::Equals(text)
            }
            "matches" => {
                let pattern = map.next_value_seed(ScalarTextSeed { key: "matches" })?;
                matcher_from_bare_regex(&pattern).map_err(de::Error::custom)?
            }
            "empty" => {
                if map.next_value_seed(EmptyFlagSeed)? {
                    TextMatcher::Empty
                } else {
                    TextMatcher::Not(Box::new(TextMatcher::Empty))
                }
            }
            "not" => {
                let inner = map.next_value::<TextMatcher>()?;
                TextMatcher::Not(Box::new(inner))
            }
            unknown => {
                return Err(de::Error::custom(format!(
                    "unknown text matcher key {unknown:?}; valid keys are {TEXT_MATCHER_KEYS}"
                )));
            }
        };

        if let Some(extra) = map.next_key::<String>()? {
            return Err(de::Error::custom(format!(
                "invalid text matcher mapping: it has more than one key ({key:?} and {extra:?}); \
                 write one key per mapping, and put several mappings in a list \
                 to require all of them"
            )));
        }
        Ok(matcher)
    }
}

/// Builds the matcher for `{matches: pattern}`.
fn matcher_from_bare_regex(pattern: &str) -> Result<TextMatcher, String> {
    if pattern.is_empty() {
        return Err("invalid {matches: \"\"}: the empty regex matches any output; \
             write a pattern, or use {empty: true} or {empty: false}"
            .to_owned());
    }
    match TextRegex::new(pattern, false) {
        Ok(regex) => Ok(TextMatcher::Regex(regex)),
        Err(reason) => Err(format!(
            "invalid regex {pattern:?} in {{matches: ...}}: {reason}; \
             write a valid regex (use (?i) to ignore case), \
             or use {{contains: ...}} for literal text"
        )),
    }
}

/// Message for a YAML float where text was expected.
///
/// The float has already lost its spelling (`1.10` arrives as 1.1), so the
/// value cannot be turned back into the text the user wrote.
fn float_as_text_message(subject: &str, value: f64) -> String {
    format!(
        "invalid {subject} {value}: YAML reads an unquoted number with a dot as a float, \
         which changes its digits (1.10 becomes 1.1); quote the value exactly as written, \
         for example \"1.10\""
    )
}

/// Message for a YAML boolean where text was expected.
///
/// YAML 1.1 booleans include `yes`, `no`, `on`, `off`, `y` and `n`, and the
/// deserializer passes only the boolean, so the written word is lost.
fn bool_as_text_message(subject: &str, value: bool) -> String {
    format!(
        "invalid {subject} {value}: YAML reads unquoted true, false, yes, no, on, off, y and n \
         as booleans, so the written word is lost; quote the text, for example \"yes\""
    )
}

/// Deserializes the text value of a `contains`, `equals` or `matches` key.
///
/// Strings and integers are accepted. Integers are printed in decimal, so
/// `0x1F` becomes `31` and `007` becomes `7`. Quoting keeps the spelling.
struct ScalarTextSeed {
    key: &'static str,
}

impl<'de> DeserializeSeed<'de> for ScalarTextSeed {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ScalarTextSeed {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "text (a string or an integer) for {}", self.key)
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<String, E> {
        Ok(value.to_owned())
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<String, E> {
        Ok(value.to_string())
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<String, E> {
        Ok(value.to_string())
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<String, E> {
        let subject = format!("value for {}", self.key);
        Err(E::custom(float_as_text_message(&subject, value)))
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<String, E> {
        let subject = format!("value for {}", self.key);
        Err(E::custom(bool_as_text_message(&subject, value)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        let hint = if self.key == "equals" {
            "write {equals: \"\"} or {empty: true} to require empty output"
        } else {
            "write the text after the colon"
        };
        Err(E::custom(format!("missing value for {}: the value is empty (null); {hint}", self.key)))
    }
}

/// Deserializes the boolean value of the `empty` key.
struct EmptyFlagSeed;

impl<'de> DeserializeSeed<'de> for EmptyFlagSeed {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for EmptyFlagSeed {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("true or false for empty")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<bool, E> {
        Ok(value)
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<bool, E> {
        Err(E::custom(format!("invalid value {value:?} for empty; write {{empty: true}} or {{empty: false}}")))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<bool, E> {
        Err(E::custom(format!("invalid value {value} for empty; write {{empty: true}} or {{empty: false}}")))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<bool, E> {
        Err(E::custom(format!("invalid value {value} for empty; write {{empty: true}} or {{empty: false}}")))
    }

    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Err(E::custom("missing value for empty; write {empty: true} or {empty: false}"))
    }
}

/// A comparison operator in number and version conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `=` or `==`, and the meaning of a value written without an operator.
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CompareOp {
    /// Returns whether the operator accepts `ordering`, the result of
    /// comparing the actual value with the expected operand.
    pub fn accepts(self, ordering: Ordering) -> bool {
        match self {
            CompareOp::Eq => ordering == Ordering::Equal,
            CompareOp::Ne => ordering != Ordering::Equal,
            CompareOp::Lt => ordering == Ordering::Less,
            CompareOp::Le => ordering != Ordering::Greater,
            CompareOp::Gt => ordering == Ordering::Greater,
            CompareOp::Ge => ordering != Ordering::Less,
        }
    }

    /// Splits a leading operator off `condition` and returns it with the
    /// trimmed rest.
    ///
    /// A condition without an operator means [`CompareOp::Eq`]. The operator
    /// is the leading run of `<`, `>`, `=` and `!` characters, so a typo such
    /// as `=>` is reported instead of being read as `=` followed by `>`.
    pub fn split_prefix(condition: &str) -> Result<(CompareOp, &str), String> {
        let condition = condition.trim();
        let operator_len = condition.bytes().take_while(|byte| matches!(byte, b'<' | b'>' | b'=' | b'!')).count();
        let (operator, rest) = condition.split_at(operator_len);

        let op = match operator {
            "" | "=" | "==" => CompareOp::Eq,
            "!=" => CompareOp::Ne,
            "<" => CompareOp::Lt,
            "<=" => CompareOp::Le,
            ">" => CompareOp::Gt,
            ">=" => CompareOp::Ge,
            unknown => {
                return Err(format!("unknown operator {unknown:?}; valid operators are =, ==, !=, <, <=, > and >="));
            }
        };
        Ok((op, rest.trim()))
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let symbol = match self {
            CompareOp::Eq => "=",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        };
        f.write_str(symbol)
    }
}

/// One condition: the actual value compared with `operand` by `op`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison<T> {
    /// The operator.
    pub op: CompareOp,
    /// The expected value on the right-hand side.
    pub operand: T,
}

impl<T: fmt::Display> fmt::Display for Comparison<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.op, self.operand)
    }
}

/// Writes conditions joined by `", "`, the syntax they are parsed from.
pub(crate) fn write_conditions<T: fmt::Display>(
    f: &mut fmt::Formatter<'_>,
    conditions: &[Comparison<T>],
) -> fmt::Result {
    for (index, condition) in conditions.iter().enumerate() {
        if index > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{condition}")?;
    }
    Ok(())
}

/// An expectation on an integer such as a file size, a uid or a count.
///
/// In YAML, an integer `N` means equal to `N`. A string holds a bare integer
/// or comparisons joined by commas, all of which must hold: `"> 0"`,
/// `">= 10, < 20"`, `"!= 0"`. The operators are `=`, `==`, `!=`, `<`,
/// `<=`, `>` and `>=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberMatcher {
    /// The value equals the integer.
    Equal(i64),
    /// Every comparison is true.
    All(Vec<Comparison<i64>>),
}

impl NumberMatcher {
    /// Returns whether `actual` satisfies the matcher.
    pub fn is_match(&self, actual: i64) -> bool {
        match self {
            NumberMatcher::Equal(expected) => actual == *expected,
            NumberMatcher::All(conditions) => {
                conditions.iter().all(|condition| condition.op.accepts(actual.cmp(&condition.operand)))
            }
        }
    }
}

impl fmt::Display for NumberMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NumberMatcher::Equal(expected) => write!(f, "= {expected}"),
            NumberMatcher::All(conditions) => write_conditions(f, conditions),
        }
    }
}

impl FromStr for NumberMatcher {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(format!("invalid number condition {text:?}: it is empty; {NUMBER_CONDITION_HINT}"));
        }
        if let Ok(expected) = trimmed.parse::<i64>() {
            return Ok(NumberMatcher::Equal(expected));
        }

        let mut conditions = Vec::new();
        for part in trimmed.split(',') {
            conditions.push(parse_number_condition(text, part)?);
        }
        Ok(NumberMatcher::All(conditions))
    }
}

/// Parses one comma-separated `part` of the number condition `text`.
fn parse_number_condition(text: &str, part: &str) -> Result<Comparison<i64>, String> {
    let (op, operand_text) =
        CompareOp::split_prefix(part).map_err(|reason| format!("invalid number condition {text:?}: {reason}"))?;

    if operand_text.is_empty() {
        let reason = if part.trim().is_empty() {
            "a condition between commas is empty".to_owned()
        } else {
            format!("no integer follows {:?}", part.trim())
        };
        return Err(format!("invalid number condition {text:?}: {reason}; {NUMBER_CONDITION_HINT}"));
    }

    match operand_text.parse::<i64>() {
        Ok(operand) => Ok(Comparison { op, operand }),
        Err(err) => {
            let reason = match err.kind() {
                std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
                    "is outside the 64-bit signed integer range"
                }
                _ => "is not an integer",
            };
            Err(format!(
                "invalid number condition {text:?}: {operand_text:?} {reason}; \
                 {NUMBER_CONDITION_HINT}"
            ))
        }
    }
}

impl<'de> Deserialize<'de> for NumberMatcher {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NumberMatcherVisitor)
    }
}

struct NumberMatcherVisitor;

impl<'de> Visitor<'de> for NumberMatcherVisitor {
    type Value = NumberMatcher;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer, or a string of comparisons such as \">= 10, < 20\"")
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<NumberMatcher, E> {
        Ok(NumberMatcher::Equal(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<NumberMatcher, E> {
        match i64::try_from(value) {
            Ok(value) => Ok(NumberMatcher::Equal(value)),
            Err(_) => Err(E::custom(format!(
                "invalid number {value}: it is larger than {}, the largest supported integer",
                i64::MAX
            ))),
        }
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<NumberMatcher, E> {
        Err(E::custom(format!("invalid number {value}: only integers are supported; {NUMBER_CONDITION_HINT}")))
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<NumberMatcher, E> {
        Err(E::custom(format!("invalid number {value}: a boolean is not a number; {NUMBER_CONDITION_HINT}")))
    }

    fn visit_unit<E: de::Error>(self) -> Result<NumberMatcher, E> {
        Err(E::custom(format!("missing number: the value is empty (null); {NUMBER_CONDITION_HINT}")))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<NumberMatcher, E> {
        value.parse().map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Spec {
        stdout: TextMatcher,
    }

    #[derive(Debug, Deserialize)]
    struct SizeSpec {
        size: NumberMatcher,
    }

    fn parse_text(yaml: &str) -> TextMatcher {
        match serde_saphyr::from_str::<Spec>(yaml) {
            Ok(spec) => spec.stdout,
            Err(err) => panic!("failed to parse {yaml:?}: {err}"),
        }
    }

    fn text_error(yaml: &str) -> String {
        match serde_saphyr::from_str::<Spec>(yaml) {
            Ok(spec) => panic!("expected an error for {yaml:?}, got {:?}", spec.stdout),
            Err(err) => err.to_string(),
        }
    }

    fn parse_size(yaml: &str) -> NumberMatcher {
        match serde_saphyr::from_str::<SizeSpec>(yaml) {
            Ok(spec) => spec.size,
            Err(err) => panic!("failed to parse {yaml:?}: {err}"),
        }
    }

    fn size_error(yaml: &str) -> String {
        match serde_saphyr::from_str::<SizeSpec>(yaml) {
            Ok(spec) => panic!("expected an error for {yaml:?}, got {:?}", spec.size),
            Err(err) => err.to_string(),
        }
    }

    fn regex(source: &str, case_insensitive: bool) -> TextMatcher {
        match TextRegex::new(source, case_insensitive) {
            Ok(regex) => TextMatcher::Regex(regex),
            Err(reason) => panic!("invalid test regex {source:?}: {reason}"),
        }
    }

    fn contains(text: &str) -> TextMatcher {
        TextMatcher::Contains(text.to_owned())
    }

    fn not(inner: TextMatcher) -> TextMatcher {
        TextMatcher::Not(Box::new(inner))
    }

    // --- YAML forms ---

    #[test]
    fn yaml_plain_string_is_contains() {
        assert_eq!(parse_text("stdout: hello world\n"), contains("hello world"));
    }

    #[test]
    fn yaml_quoted_string_is_contains() {
        assert_eq!(parse_text("stdout: \"1.10\"\n"), contains("1.10"));
    }

    #[test]
    fn yaml_integer_is_contains() {
        assert_eq!(parse_text("stdout: 42\n"), contains("42"));
        assert_eq!(parse_text("stdout: -7\n"), contains("-7"));
        assert_eq!(parse_text("stdout: 18446744073709551615\n"), contains("18446744073709551615"));
    }

    #[test]
    fn yaml_slashes_are_regex() {
        assert_eq!(parse_text("stdout: /^v\\d+$/\n"), regex("^v\\d+$", false));
    }

    #[test]
    fn yaml_regex_with_i_flag() {
        let matcher = parse_text("stdout: /hello/i\n");
        assert_eq!(matcher, regex("hello", true));
        assert!(matcher.is_match(b"HeLLo"));
    }

    #[test]
    fn yaml_regex_with_escaped_slash() {
        let matcher = parse_text("stdout: '/usr\\/bin/'\n");
        assert_eq!(matcher, regex("usr\\/bin", false));
        assert!(matcher.is_match(b"/usr/bin/env"));
    }

    #[test]
    fn yaml_bang_negates_text() {
        assert_eq!(parse_text("stdout: \"!error\"\n"), not(contains("error")));
    }

    #[test]
    fn yaml_bang_negates_regex() {
        assert_eq!(parse_text("stdout: \"!/fail(ed)?/\"\n"), not(regex("fail(ed)?", false)));
    }

    #[test]
    fn yaml_double_bang_is_literal_after_first() {
        assert_eq!(parse_text("stdout: \"!!x\"\n"), not(contains("!x")));
    }

    #[test]
    fn yaml_contains_key_is_literal() {
        assert_eq!(parse_text("stdout: {contains: \"!x\"}\n"), contains("!x"));
        assert_eq!(parse_text("stdout: {contains: /a/}\n"), contains("/a/"));
        assert_eq!(parse_text("stdout: {contains: 7}\n"), contains("7"));
    }

    #[test]
    fn yaml_equals_key() {
        assert_eq!(parse_text("stdout: {equals: \"hi\\n\"}\n"), TextMatcher::Equals("hi\n".to_owned()));
        assert_eq!(parse_text("stdout: {equals: \"\"}\n"), TextMatcher::Equals(String::new()));
    }

    #[test]
    fn yaml_equals_block_scalar_keeps_newline() {
        let matcher = parse_text("stdout:\n  equals: |\n    line one\n    line two\n");
        assert_eq!(matcher, TextMatcher::Equals("line one\nline two\n".to_owned()));
    }

    #[test]
    fn yaml_matches_key_is_regex() {
        assert_eq!(parse_text("stdout: {matches: \"a/b+\"}\n"), regex("a/b+", false));
    }

    #[test]
    fn yaml_empty_key() {
        assert_eq!(parse_text("stdout: {empty: true}\n"), TextMatcher::Empty);
        assert_eq!(parse_text("stdout: {empty: false}\n"), not(TextMatcher::Empty));
    }

    #[test]
    fn yaml_not_key_takes_any_form() {
        assert_eq!(parse_text("stdout: {not: abc}\n"), not(contains("abc")));
        assert_eq!(parse_text("stdout: {not: {equals: x}}\n"), not(TextMatcher::Equals("x".to_owned())));
        assert_eq!(
            parse_text("stdout: {not: [a, /b/]}\n"),
            not(TextMatcher::All(vec![contains("a"), regex("b", false)]))
        );
    }

    #[test]
    fn yaml_list_is_all() {
        let matcher = parse_text("stdout:\n  - one\n  - /two/\n  - {not: three}\n  - 4\n");
        let expected =
            TextMatcher::All(vec![contains("one"), regex("two", false), not(contains("three")), contains("4")]);
        assert_eq!(matcher, expected);
    }

    // --- YAML errors ---

    fn assert_located(message: &str) {
        assert!(message.contains("line"), "no location in: {message}");
    }

    #[test]
    fn error_empty_string() {
        let message = text_error("stdout: \"\"\n");
        assert_located(&message);
        assert!(message.contains("invalid text matcher \"\""), "{message}");
        assert!(message.contains("{empty: true}"), "{message}");
    }

    #[test]
    fn error_lone_bang() {
        let message = text_error("stdout: \"!\"\n");
        assert_located(&message);
        assert!(message.contains("\"!\""), "{message}");
        assert!(message.contains("{contains: \"!\"}"), "{message}");
    }

    #[test]
    fn error_invalid_regex() {
        let message = text_error("stdout: \"/a(/\"\n");
        assert_located(&message);
        assert!(message.contains("invalid regex \"/a(/\": unclosed group"), "{message}");
        assert!(message.contains("{contains: \"/a(/\"}"), "{message}");
    }

    #[test]
    fn error_unclosed_slash() {
        let message = text_error("stdout: /usr\n");
        assert_located(&message);
        assert!(message.contains("\"/usr\""), "{message}");
        assert!(message.contains("closing"), "{message}");
    }

    #[test]
    fn error_unknown_regex_flag() {
        let message = text_error("stdout: /usr/bin/python\n");
        assert_located(&message);
        assert!(message.contains("flags \"python\""), "{message}");
        assert!(message.contains("{contains: \"/usr/bin/python\"}"), "{message}");
    }

    #[test]
    fn error_empty_regex() {
        let message = text_error("stdout: \"//\"\n");
        assert_located(&message);
        assert!(message.contains("\"//\""), "{message}");
        let negated = text_error("stdout: \"!//\"\n");
        assert!(negated.contains("\"!//\""), "{negated}");
    }

    #[test]
    fn error_invalid_matches_regex() {
        let message = text_error("stdout: {matches: \"[a-\"}\n");
        assert_located(&message);
        assert!(message.contains("\"[a-\""), "{message}");
        assert!(message.contains("{matches: ...}"), "{message}");
    }

    #[test]
    fn error_empty_matches() {
        let message = text_error("stdout: {matches: \"\"}\n");
        assert_located(&message);
        assert!(message.contains("{matches: \"\"}"), "{message}");
    }

    #[test]
    fn error_empty_contains() {
        let message = text_error("stdout: {contains: \"\"}\n");
        assert_located(&message);
        assert!(message.contains("{contains: \"\"}"), "{message}");
    }

    #[test]
    fn error_unknown_key_lists_valid() {
        let message = text_error("stdout: {contain: x}\n");
        assert_located(&message);
        assert!(message.contains("\"contain\""), "{message}");
        assert!(message.contains(TEXT_MATCHER_KEYS), "{message}");
    }

    #[test]
    fn error_two_keys() {
        let message = text_error("stdout:\n  contains: a\n  equals: b\n");
        assert_located(&message);
        assert!(message.contains("\"contains\" and \"equals\""), "{message}");
    }

    #[test]
    fn error_empty_mapping() {
        let message = text_error("stdout: {}\n");
        assert_located(&message);
        assert!(message.contains("{}"), "{message}");
        assert!(message.contains(TEXT_MATCHER_KEYS), "{message}");
    }

    #[test]
    fn error_empty_list() {
        let message = text_error("stdout: []\n");
        assert_located(&message);
        assert!(message.contains("[]"), "{message}");
    }

    #[test]
    fn error_invalid_item_in_list() {
        let message = text_error("stdout:\n  - ok\n  - \"/a(/\"\n");
        assert_located(&message);
        assert!(message.contains("line 3"), "{message}");
        assert!(message.contains("\"/a(/\""), "{message}");
    }

    #[test]
    fn error_null_value() {
        let message = text_error("stdout:\n");
        assert_located(&message);
        assert!(message.contains("missing text matcher"), "{message}");
    }

    #[test]
    fn error_float_asks_for_quotes() {
        let message = text_error("stdout: 1.10\n");
        assert_located(&message);
        assert!(message.contains("invalid text matcher 1.1"), "{message}");
        assert!(message.contains("quote"), "{message}");
    }

    #[test]
    fn error_bool_asks_for_quotes() {
        let message = text_error("stdout: yes\n");
        assert_located(&message);
        assert!(message.contains("invalid text matcher true"), "{message}");
        assert!(message.contains("quote"), "{message}");
    }

    #[test]
    fn error_contains_bool_or_float() {
        let message = text_error("stdout: {contains: on}\n");
        assert_located(&message);
        assert!(message.contains("value for contains true"), "{message}");
        let message = text_error("stdout: {contains: 2.50}\n");
        assert!(message.contains("value for contains 2.5"), "{message}");
    }

    #[test]
    fn error_equals_null() {
        let message = text_error("stdout: {equals: }\n");
        assert_located(&message);
        assert!(message.contains("missing value for equals"), "{message}");
        assert!(message.contains("{equals: \"\"}"), "{message}");
    }

    #[test]
    fn error_contains_list() {
        let message = text_error("stdout: {contains: [a]}\n");
        assert_located(&message);
        assert!(message.contains("for contains"), "{message}");
    }

    #[test]
    fn error_empty_not_bool() {
        let message = text_error("stdout: {empty: \"true\"}\n");
        assert_located(&message);
        assert!(message.contains("invalid value \"true\" for empty"), "{message}");
        let message = text_error("stdout: {empty: 1}\n");
        assert!(message.contains("invalid value 1 for empty"), "{message}");
    }

    #[test]
    fn error_inside_not() {
        let message = text_error("stdout:\n  not:\n    matches: \"(\"\n");
        assert_located(&message);
        assert!(message.contains("line 3"), "{message}");
    }

    // --- matching ---

    #[test]
    fn contains_on_invalid_utf8() {
        let haystack = b"\xff\xfeversion 1.2\x80\n";
        assert!(contains("version 1.2").is_match(haystack));
        assert!(!contains("version 1.3").is_match(haystack));
    }

    #[test]
    fn regex_on_invalid_utf8() {
        let haystack = b"abc\xffdef\n";
        assert!(regex("c.d", false).is_match(b"abc-def"));
        assert!(!regex("c.d", false).is_match(haystack));
        assert!(regex("^abc", false).is_match(haystack));
        assert!(regex("def$", false).is_match(haystack));
    }

    #[test]
    fn regex_anchors_per_line() {
        let output = b"first line\nversion: 1.2.3\nlast line";
        assert!(regex("^version: \\d+\\.\\d+\\.\\d+$", false).is_match(output));
        assert!(regex("^last line$", false).is_match(output));
        assert!(!regex("\\Aversion", false).is_match(output));
        assert!(regex("\\Afirst", false).is_match(output));
        assert!(regex("line\\z", false).is_match(output));
    }

    #[test]
    fn regex_dollar_before_crlf() {
        let output = b"status: ok\r\nnext\r\n";
        assert!(regex("^status: ok$", false).is_match(output));
        assert!(regex("^next$", false).is_match(output));
        assert!(!regex("ok.", false).is_match(output));
    }

    #[test]
    fn contains_crlf_text() {
        let output = b"a\r\nb\r\n";
        assert!(contains("a\r\nb").is_match(output));
        assert!(!contains("a\nb").is_match(output));
    }

    #[test]
    fn equals_is_exact() {
        let matcher = TextMatcher::Equals("hi\n".to_owned());
        assert!(matcher.is_match(b"hi\n"));
        assert!(!matcher.is_match(b"hi"));
        assert!(!matcher.is_match(b"hi\r\n"));
        assert!(!TextMatcher::Equals("hi".to_owned()).is_match(b"hi\n"));
        assert!(TextMatcher::Equals(String::new()).is_match(b""));
    }

    #[test]
    fn no_final_newline() {
        let output = b"alpha\nbeta";
        assert!(contains("beta").is_match(output));
        assert!(regex("^beta$", false).is_match(output));
        assert!(TextMatcher::Equals("alpha\nbeta".to_owned()).is_match(output));
    }

    #[test]
    fn empty_matcher() {
        assert!(TextMatcher::Empty.is_match(b""));
        assert!(!TextMatcher::Empty.is_match(b"\n"));
        assert!(!TextMatcher::Empty.is_match(b" "));
        assert!(not(TextMatcher::Empty).is_match(b"x"));
    }

    #[test]
    fn not_and_all() {
        let matcher = TextMatcher::All(vec![contains("a"), not(contains("z"))]);
        assert!(matcher.is_match(b"abc"));
        assert!(!matcher.is_match(b"xyz"));
        assert!(!matcher.is_match(b"az"));
    }

    #[test]
    fn parsed_matchers_match() {
        let matcher = parse_text("stdout:\n  - /^ok$/\n  - \"!error\"\n  - {not: {empty: true}}\n");
        assert!(matcher.is_match(b"start\nok\r\ndone"));
        assert!(!matcher.is_match(b"ok\nerror\n"));
        assert!(!matcher.is_match(b"not ok here\n"));
    }

    // --- truncated output ---

    #[test]
    fn truncated_complete_output_is_decided() {
        let matcher = TextMatcher::Equals("abc".to_owned());
        assert_eq!(matcher.is_match_truncated(b"abc", 3), Some(true));
        assert_eq!(contains("x").is_match_truncated(b"abc", 3), Some(false));
        assert_eq!(TextMatcher::Empty.is_match_truncated(b"", 0), Some(true));
    }

    #[test]
    fn truncated_contains() {
        assert_eq!(contains("needle").is_match_truncated(b"a needle", 100), Some(true));
        assert_eq!(contains("needle").is_match_truncated(b"a need", 100), None);
        assert_eq!(not(contains("x")).is_match_truncated(b"axb", 100), Some(false));
        assert_eq!(not(contains("x")).is_match_truncated(b"ab", 100), None);
    }

    #[test]
    fn truncated_equals() {
        let matcher = TextMatcher::Equals("abcdef".to_owned());
        assert_eq!(matcher.is_match_truncated(b"abc", 6), None);
        assert_eq!(matcher.is_match_truncated(b"abc", 7), Some(false));
        assert_eq!(matcher.is_match_truncated(b"abx", 6), Some(false));
        assert_eq!(not(matcher).is_match_truncated(b"abc", 7), Some(true));
    }

    #[test]
    fn truncated_empty() {
        assert_eq!(TextMatcher::Empty.is_match_truncated(b"", 5), Some(false));
        assert_eq!(not(TextMatcher::Empty).is_match_truncated(b"", 5), Some(true));
    }

    #[test]
    fn truncated_regex_needs_margin() {
        let matcher = regex("^done$", false);
        assert_eq!(matcher.is_match_truncated(b"done\nmore output", 100), Some(true));
        assert_eq!(matcher.is_match_truncated(b"x\ndone", 100), None);
        assert_eq!(regex("a\\b", false).is_match_truncated(b"xa", 100), None);
        assert_eq!(regex("b", false).is_match_truncated(b"abc", 100), None);
        assert_eq!(regex("z", false).is_match_truncated(b"abc", 100), None);
    }

    #[test]
    fn truncated_all() {
        let decided_false = TextMatcher::All(vec![contains("zzz"), TextMatcher::Empty]);
        assert_eq!(decided_false.is_match_truncated(b"abc", 10), Some(false));

        let decided_true = TextMatcher::All(vec![contains("a"), not(TextMatcher::Empty)]);
        assert_eq!(decided_true.is_match_truncated(b"abc", 10), Some(true));

        let undecided = TextMatcher::All(vec![contains("a"), contains("zzz")]);
        assert_eq!(undecided.is_match_truncated(b"abc", 10), None);
    }

    // --- display ---

    #[test]
    fn text_display() {
        assert_eq!(contains("1.2").to_string(), "contains \"1.2\"");
        assert_eq!(TextMatcher::Equals("x\n".to_owned()).to_string(), "equals \"x\\n\"");
        assert_eq!(regex("^a+$", false).to_string(), "matches /^a+$/");
        assert_eq!(regex("abc", true).to_string(), "matches /abc/i");
        assert_eq!(TextMatcher::Empty.to_string(), "is empty");
        assert_eq!(not(TextMatcher::Empty).to_string(), "is not empty");
        assert_eq!(not(contains("x")).to_string(), "not contains \"x\"");
        let all = TextMatcher::All(vec![contains("a"), regex("b", false)]);
        assert_eq!(all.to_string(), "all of [contains \"a\", matches /b/]");
    }

    // --- number matchers ---

    #[test]
    fn number_yaml_integer() {
        assert_eq!(parse_size("size: 42\n"), NumberMatcher::Equal(42));
        assert_eq!(parse_size("size: -1\n"), NumberMatcher::Equal(-1));
    }

    #[test]
    fn number_yaml_string_forms() {
        assert_eq!(parse_size("size: \"42\"\n"), NumberMatcher::Equal(42));
        let greater = parse_size("size: \"> 0\"\n");
        assert_eq!(greater, NumberMatcher::All(vec![Comparison { op: CompareOp::Gt, operand: 0 }]));
        let range = parse_size("size: \">= 10, < 20\"\n");
        assert_eq!(
            range,
            NumberMatcher::All(vec![
                Comparison { op: CompareOp::Ge, operand: 10 },
                Comparison { op: CompareOp::Lt, operand: 20 },
            ])
        );
    }

    #[test]
    fn number_every_operator() {
        let cases: &[(&str, i64, bool)] = &[
            ("= 5", 5, true),
            ("= 5", 6, false),
            ("==5", 5, true),
            ("!= 5", 5, false),
            ("!= 5", 4, true),
            ("< 5", 4, true),
            ("< 5", 5, false),
            ("<= 5", 5, true),
            ("<= 5", 6, false),
            ("> 5", 6, true),
            ("> 5", 5, false),
            (">= 5", 5, true),
            (">= 5", 4, false),
            (">= 10, < 20", 10, true),
            (">= 10, < 20", 19, true),
            (">= 10, < 20", 20, false),
            (">= 10, < 20", 9, false),
            ("> -3", -2, true),
            ("5", 5, true),
            (" 7 ", 7, true),
        ];
        for (text, actual, expected) in cases {
            let matcher: NumberMatcher = match text.parse() {
                Ok(matcher) => matcher,
                Err(message) => panic!("failed to parse {text:?}: {message}"),
            };
            assert_eq!(matcher.is_match(*actual), *expected, "{text:?} on {actual}");
        }
    }

    #[test]
    fn number_display() {
        assert_eq!(NumberMatcher::Equal(3).to_string(), "= 3");
        let range: NumberMatcher = match ">=10,<20".parse() {
            Ok(matcher) => matcher,
            Err(message) => panic!("{message}"),
        };
        assert_eq!(range.to_string(), ">= 10, < 20");
        let not_equal: NumberMatcher = match "==1, !=2".parse() {
            Ok(matcher) => matcher,
            Err(message) => panic!("{message}"),
        };
        assert_eq!(not_equal.to_string(), "= 1, != 2");
    }

    #[test]
    fn number_error_not_integer() {
        let message = size_error("size: \"> abc\"\n");
        assert_located(&message);
        assert!(message.contains("\"> abc\""), "{message}");
        assert!(message.contains("\"abc\" is not an integer"), "{message}");
    }

    #[test]
    fn number_error_unknown_operator() {
        let message = size_error("size: \"=> 5\"\n");
        assert_located(&message);
        assert!(message.contains("unknown operator \"=>\""), "{message}");
        let message = size_error("size: \"<> 5\"\n");
        assert!(message.contains("unknown operator \"<>\""), "{message}");
    }

    #[test]
    fn number_error_missing_operand() {
        let message = size_error("size: \">=\"\n");
        assert_located(&message);
        assert!(message.contains("no integer follows \">=\""), "{message}");
        let message = size_error("size: \"> 1,\"\n");
        assert!(message.contains("empty"), "{message}");
    }

    #[test]
    fn number_error_empty_string() {
        let message = size_error("size: \"\"\n");
        assert_located(&message);
        assert!(message.contains("invalid number condition \"\""), "{message}");
    }

    #[test]
    fn number_error_float() {
        let message = size_error("size: 1.5\n");
        assert_located(&message);
        assert!(message.contains("invalid number 1.5"), "{message}");
    }

    #[test]
    fn number_error_too_large() {
        let message = size_error("size: 18446744073709551615\n");
        assert_located(&message);
        assert!(message.contains("18446744073709551615"), "{message}");
        let message = size_error("size: \"> 99999999999999999999\"\n");
        assert!(message.contains("outside the 64-bit"), "{message}");
    }

    #[test]
    fn number_error_bool_and_null() {
        let message = size_error("size: true\n");
        assert_located(&message);
        assert!(message.contains("invalid number true"), "{message}");
        let message = size_error("size:\n");
        assert!(message.contains("missing number"), "{message}");
    }

    #[test]
    fn compare_op_split_prefix() {
        assert_eq!(CompareOp::split_prefix(" >= 1 "), Ok((CompareOp::Ge, "1")));
        assert_eq!(CompareOp::split_prefix("x"), Ok((CompareOp::Eq, "x")));
        assert!(CompareOp::split_prefix("!1").is_err());
        assert!(CompareOp::split_prefix("=<1").is_err());
    }
}
