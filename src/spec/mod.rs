//! Spec files: YAML as people write it, validated into [`Spec`]s before anything runs.
//!
//! Loading has two stages. serde types in [`raw`] mirror the YAML and reject unknown keys,
//! wrong types and malformed values with the line and column that serde-saphyr attaches. Then
//! [`raw::RawCheck::validate`] decides each check's kind, rejects keys that do not apply to it
//! and impossible combinations, and builds the typed [`Check`]s.

mod raw;
pub mod values;

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::check::Check;

/// A validated spec file.
#[derive(Clone, Debug)]
pub struct Spec {
    /// Path as given on the command line, for reports.
    pub path: String,
    /// Image the spec names for itself; `--image` overrides it.
    pub image: Option<String>,
    /// Network mode for containers that specrun creates for this spec; `none` when unset.
    pub network: Option<String>,
    pub checks: Vec<Check>,
}

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("cannot read spec file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Invalid { path: String, line: u64, column: u64, message: String },
}

impl SpecError {
    pub(crate) fn invalid(path: &str, line: u64, column: u64, message: impl Into<String>) -> Self {
        SpecError::Invalid { path: path.to_owned(), line, column, message: message.into() }
    }
}

/// Reads and validates one spec file.
pub fn load(path: &Path) -> Result<Spec, SpecError> {
    let display = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read { path: display.clone(), source })?;
    parse(&display, &text)
}

/// Validates spec text; `path` names the source in errors.
pub fn parse(path: &str, text: &str) -> Result<Spec, SpecError> {
    // A YAML tag such as `!ok` would otherwise be dropped silently, and `stdout: !ok` would
    // compare nothing; rejecting unknown tags turns that into an error.
    let mut options = serde_saphyr::Options::default();
    options.reject_unsupported_tags = true;
    let raw: raw::RawSpec =
        serde_saphyr::from_str_with_options(text, options).map_err(|error| yaml_error(path, &error))?;
    raw.validate(path)
}

/// Loads every spec file in parallel and returns all specs, or every error found.
pub fn load_all(paths: &[PathBuf]) -> Result<Vec<Spec>, Vec<SpecError>> {
    let results: Vec<Result<Spec, SpecError>> = paths.par_iter().map(|path| load(path)).collect();
    let mut specs = Vec::new();
    let mut errors = Vec::new();
    for result in results {
        match result {
            Ok(spec) => specs.push(spec),
            Err(error) => errors.push(error),
        }
    }
    if errors.is_empty() { Ok(specs) } else { Err(errors) }
}

/// Converts a serde-saphyr error into a located [`SpecError`], keeping only the message: the
/// crate's own rendering repeats the position as text, which our `path:line:column` prefix
/// already gives.
fn yaml_error(path: &str, error: &serde_saphyr::Error) -> SpecError {
    let (line, column) = error.location().map_or((1, 1), |location| (location.line(), location.column()));
    let text = error.without_snippet().to_string();
    let mut message = strip_position_prefix(&text).trim().to_owned();
    if message.starts_with("unsupported tag") {
        message.push_str("; a value that starts with `!` must be quoted, as in stdout: \"!text\"");
    }
    SpecError::invalid(path, line, column, message)
}

/// Removes the position that serde-saphyr writes into its message, either as a leading
/// `error: line N column M: ` or a trailing ` at line N, column M`.
fn strip_position_prefix(text: &str) -> &str {
    let text = match text.rfind(" at line ") {
        Some(start) if text[start..].contains(", column ") => &text[..start],
        _ => text,
    };
    let rest = text.strip_prefix("error: ").unwrap_or(text);
    let Some(rest) = rest.strip_prefix("line ") else { return rest };
    match rest.split_once(": ") {
        Some((position, message)) if position.contains(" column ") => message,
        _ => text,
    }
}

#[cfg(test)]
mod tests;
