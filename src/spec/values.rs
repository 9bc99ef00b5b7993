//! Scalar values of the spec format that need their own parsing: durations, file modes, file
//! types, digests, environment variable names and command lines.
//!
//! Each type validates in its `Deserialize` impl, so serde-saphyr attaches the line and column
//! of the offending value to the error.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// A duration written as `500ms`, `10s`, `2m` or a bare number of seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurationValue(pub Duration);

impl DurationValue {
    /// Parses the textual form; also used for the `--timeout` command-line option.
    pub fn parse(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        if let Ok(seconds) = trimmed.parse::<u64>() {
            return Self::checked(Duration::from_secs(seconds), text);
        }
        match humantime::parse_duration(trimmed) {
            Ok(duration) => Self::checked(duration, text),
            Err(error) => {
                Err(format!("invalid duration {text:?}: {error}; write a number with a unit such as 500ms, 10s or 2m"))
            }
        }
    }

    fn checked(duration: Duration, text: &str) -> Result<Self, String> {
        if duration.is_zero() {
            return Err(format!("invalid duration {text:?}: it must be greater than zero"));
        }
        Ok(DurationValue(duration))
    }
}

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;

        impl Visitor<'_> for DurationVisitor {
            type Value = DurationValue;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a duration such as 500ms, 10s or 2m")
            }

            fn visit_u64<E: de::Error>(self, seconds: u64) -> Result<Self::Value, E> {
                DurationValue::parse(&seconds.to_string()).map_err(E::custom)
            }

            fn visit_i64<E: de::Error>(self, seconds: i64) -> Result<Self::Value, E> {
                DurationValue::parse(&seconds.to_string()).map_err(E::custom)
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                DurationValue::parse(text).map_err(E::custom)
            }
        }

        deserializer.deserialize_any(DurationVisitor)
    }
}

/// Permission bits of a file, including setuid (0o4000), setgid (0o2000) and sticky (0o1000).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mode(pub u32);

impl Mode {
    /// Parses octal digits such as `644`, `0644` or `4755`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let digits = text.trim().trim_start_matches("0o");
        let valid = !digits.is_empty() && digits.len() <= 5 && digits.bytes().all(|b| (b'0'..=b'7').contains(&b));
        match u32::from_str_radix(digits, 8) {
            Ok(bits) if valid && bits <= 0o7777 => Ok(Mode(bits)),
            _ => Err(format!(
                "invalid mode {text:?}: write octal permission bits between 0000 and 7777, such as \"0644\" or \"4755\""
            )),
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        write!(formatter, "{:04o}", self.0)
    }
}

impl<'de> Deserialize<'de> for Mode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ModeVisitor;

        impl Visitor<'_> for ModeVisitor {
            type Value = Mode;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("octal permission bits such as \"0644\"")
            }

            // YAML reads an unquoted 0644 as the decimal number 644; its digits are still the
            // octal digits the author meant, so the decimal rendering is parsed as octal.
            fn visit_u64<E: de::Error>(self, number: u64) -> Result<Self::Value, E> {
                Mode::parse(&number.to_string()).map_err(E::custom)
            }

            fn visit_i64<E: de::Error>(self, number: i64) -> Result<Self::Value, E> {
                Mode::parse(&number.to_string()).map_err(E::custom)
            }

            // serde-saphyr reads an unquoted number with a leading zero, such as 0644, as a
            // float; a whole float still carries the digits the author wrote.
            fn visit_f64<E: de::Error>(self, number: f64) -> Result<Self::Value, E> {
                if number.fract() != 0.0 || !(0.0..=7777.0).contains(&number) {
                    return Err(E::custom(format!(
                        "invalid mode {number}: write octal permission bits such as \"0644\""
                    )));
                }
                Mode::parse(&format!("{number:.0}")).map_err(E::custom)
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                Mode::parse(text).map_err(E::custom)
            }
        }

        // NOTE: YAML 1.2 reads an unquoted 0o644 as the integer 420, which looks the same as a
        // written 420 here. The docs tell authors to quote modes.
        deserializer.deserialize_any(ModeVisitor)
    }
}

/// Type of a file system object, as `stat` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    File,
    Directory,
    Symlink,
    Socket,
    Pipe,
    BlockDevice,
    CharacterDevice,
}

impl FileType {
    const NAMES: &'static str = "file, directory, symlink, socket, pipe, block_device, character_device";

    pub fn as_str(self) -> &'static str {
        match self {
            FileType::File => "file",
            FileType::Directory => "directory",
            FileType::Symlink => "symlink",
            FileType::Socket => "socket",
            FileType::Pipe => "pipe",
            FileType::BlockDevice => "block_device",
            FileType::CharacterDevice => "character_device",
        }
    }

    /// Maps the file-type bits of `st_mode` (`S_IFMT`) to a type.
    pub fn from_mode_bits(mode: u32) -> Option<FileType> {
        match mode & 0o170000 {
            0o100000 => Some(FileType::File),
            0o040000 => Some(FileType::Directory),
            0o120000 => Some(FileType::Symlink),
            0o140000 => Some(FileType::Socket),
            0o010000 => Some(FileType::Pipe),
            0o060000 => Some(FileType::BlockDevice),
            0o020000 => Some(FileType::CharacterDevice),
            _ => None,
        }
    }

    fn parse(text: &str) -> Result<Self, String> {
        match text {
            "file" | "regular" => Ok(FileType::File),
            "directory" | "dir" => Ok(FileType::Directory),
            "symlink" | "link" => Ok(FileType::Symlink),
            "socket" => Ok(FileType::Socket),
            "pipe" | "fifo" => Ok(FileType::Pipe),
            "block_device" => Ok(FileType::BlockDevice),
            "character_device" => Ok(FileType::CharacterDevice),
            _ => Err(format!("invalid file type {text:?}: write one of {}", Self::NAMES)),
        }
    }
}

impl<'de> Deserialize<'de> for FileType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        FileType::parse(&text).map_err(de::Error::custom)
    }
}

/// A SHA-256 digest written as 64 hexadecimal digits, stored in lowercase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sha256(pub String);

impl<'de> Deserialize<'de> for Sha256 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let digest = text.trim().to_ascii_lowercase();
        if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(de::Error::custom(format!(
                "invalid sha256 {text:?}: write the 64 hexadecimal digits that `sha256sum` prints"
            )));
        }
        Ok(Sha256(digest))
    }
}

/// An environment variable name that POSIX `sh` can export.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct EnvName(pub String);

impl<'de> Deserialize<'de> for EnvName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        let mut bytes = name.bytes();
        let valid_start = bytes.next().is_some_and(|b| b == b'_' || b.is_ascii_alphabetic());
        if !valid_start || !bytes.all(|b| b == b'_' || b.is_ascii_alphanumeric()) {
            return Err(de::Error::custom(format!(
                "invalid environment variable name {name:?}: use letters, digits and underscores, not starting with a digit"
            )));
        }
        Ok(EnvName(name))
    }
}

/// A command as written in a spec: a string for `/bin/sh -c`, or an argv list run without a
/// shell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandLine {
    Shell(String),
    Argv(Vec<String>),
}

impl CommandLine {
    /// Short text for check names and reports.
    pub fn display(&self) -> String {
        match self {
            CommandLine::Shell(script) => script.clone(),
            CommandLine::Argv(argv) => argv.join(" "),
        }
    }
}

impl<'de> Deserialize<'de> for CommandLine {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CommandVisitor;

        impl<'de> Visitor<'de> for CommandVisitor {
            type Value = CommandLine;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a shell command string or a list of program arguments")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                if text.trim().is_empty() {
                    return Err(E::custom("empty command: write a shell command such as `bash --version`"));
                }
                Ok(CommandLine::Shell(text.to_owned()))
            }

            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut argv = Vec::new();
                while let Some(argument) = seq.next_element::<String>()? {
                    argv.push(argument);
                }
                if argv.first().is_none_or(|program| program.is_empty()) {
                    return Err(de::Error::custom(
                        "empty argument list: the first element must name the program to run",
                    ));
                }
                Ok(CommandLine::Argv(argv))
            }
        }

        deserializer.deserialize_any(CommandVisitor)
    }
}

/// `skip: true` or `skip: "reason"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Skip {
    No,
    Yes(Option<String>),
}

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SkipVisitor;

        impl Visitor<'_> for SkipVisitor {
            type Value = Skip;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("true, false or a reason string")
            }

            fn visit_bool<E: de::Error>(self, skip: bool) -> Result<Self::Value, E> {
                Ok(if skip { Skip::Yes(None) } else { Skip::No })
            }

            fn visit_str<E: de::Error>(self, reason: &str) -> Result<Self::Value, E> {
                Ok(Skip::Yes(Some(reason.to_owned())))
            }
        }

        deserializer.deserialize_any(SkipVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_accepts_octal_forms() {
        assert_eq!(Mode::parse("0644"), Ok(Mode(0o644)));
        assert_eq!(Mode::parse("644"), Ok(Mode(0o644)));
        assert_eq!(Mode::parse("4755"), Ok(Mode(0o4755)));
        assert_eq!(Mode::parse("01777"), Ok(Mode(0o1777)));
        assert_eq!(Mode(0o640).to_string(), "0640");
    }

    #[test]
    fn mode_rejects_non_octal() {
        assert!(Mode::parse("0648").unwrap_err().contains("\"0648\""));
        assert!(Mode::parse("").is_err());
        assert!(Mode::parse("17777").is_err());
        assert!(Mode::parse("rwx").is_err());
    }

    #[test]
    fn duration_parses_units_and_seconds() {
        assert_eq!(DurationValue::parse("10"), Ok(DurationValue(Duration::from_secs(10))));
        assert_eq!(DurationValue::parse("500ms"), Ok(DurationValue(Duration::from_millis(500))));
        assert_eq!(DurationValue::parse("2m"), Ok(DurationValue(Duration::from_secs(120))));
        assert!(DurationValue::parse("0s").is_err());
        assert!(DurationValue::parse("soon").unwrap_err().contains("\"soon\""));
    }

    #[test]
    fn file_type_maps_mode_bits() {
        assert_eq!(FileType::from_mode_bits(0o100644), Some(FileType::File));
        assert_eq!(FileType::from_mode_bits(0o040755), Some(FileType::Directory));
        assert_eq!(FileType::from_mode_bits(0o120777), Some(FileType::Symlink));
        assert_eq!(FileType::from_mode_bits(0o020666), Some(FileType::CharacterDevice));
    }
}
