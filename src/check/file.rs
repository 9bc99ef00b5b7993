//! File checks: existence, type, mode, ownership, size, symlink target, contents and digest.
//!
//! Properties describe the path itself: a symlink is reported as a symlink, with its target,
//! and is not followed (the `stat` default without `-L`).

use std::time::Duration;

use crate::check::{Evaluation, absent_or};
use crate::facts::{FactNeeds, Facts, FileStat};
use crate::matcher::{NumberMatcher, TextMatcher};
use crate::spec::values::{FileType, Mode, Sha256};

#[derive(Clone, Debug)]
pub struct FileCheck {
    pub path: String,
    pub exists: bool,
    pub file_type: Option<FileType>,
    pub mode: Option<Mode>,
    pub owner: Option<String>,
    pub uid: Option<u32>,
    pub group: Option<String>,
    pub gid: Option<u32>,
    pub size: Option<NumberMatcher>,
    pub link_target: Option<String>,
    pub contents: Option<TextMatcher>,
    pub sha256: Option<Sha256>,
}

impl FileCheck {
    pub fn request_facts(&self, needs: &mut FactNeeds) {
        needs.stat_paths.insert(self.path.clone());
        if self.owner.is_some() || self.uid.is_some() || self.group.is_some() || self.gid.is_some() {
            needs.owner_paths.insert(self.path.clone());
        }
        if self.link_target.is_some() {
            needs.link_paths.insert(self.path.clone());
        }
        if self.contents.is_some() {
            needs.content_paths.insert(self.path.clone());
        }
        if self.sha256.is_some() {
            needs.digest_paths.insert(self.path.clone());
        }
    }

    pub fn evaluate(&self, facts: &Facts) -> (Evaluation, Duration) {
        let Some(stats) = &facts.stats else {
            return (Evaluation::error("file facts were not gathered"), Duration::ZERO);
        };
        let stats_value = match &stats.value {
            Ok(stats_value) => stats_value,
            Err(message) => return (Evaluation::error(message.clone()), stats.duration),
        };
        let stat = match stats_value.get(&self.path) {
            Some(Ok(stat)) => Some(stat),
            Some(Err(message)) => return (Evaluation::error(message.clone()), stats.duration),
            None => None,
        };

        let mut evaluation = Evaluation::new();
        let expected = if self.exists { "present" } else { "absent" };
        let actual = if stat.is_some() { "present" } else { "absent" };
        evaluation.assert("exists", expected, actual, stat.is_some() == self.exists);
        let Some(stat) = stat else { return (evaluation, stats.duration) };
        if !self.exists {
            return (evaluation, stats.duration);
        }

        let mut duration = stats.duration;
        self.compare_stat(stat, &mut evaluation);
        duration += self.compare_link_target(facts, &mut evaluation);
        duration += self.compare_contents(facts, &mut evaluation);
        duration += self.compare_digest(facts, &mut evaluation);
        (evaluation, duration)
    }

    fn compare_stat(&self, stat: &FileStat, evaluation: &mut Evaluation) {
        if let Some(expected) = self.file_type {
            let actual = FileType::from_mode_bits(stat.mode).map_or("unknown", FileType::as_str);
            evaluation.assert("type", expected.as_str(), actual, actual == expected.as_str());
        }
        if let Some(expected) = self.mode {
            let actual = Mode(stat.mode & 0o7777);
            evaluation.assert("mode", expected.to_string(), actual.to_string(), actual == expected);
        }
        if let Some(expected) = &self.owner {
            let actual = stat.owner.clone().unwrap_or_else(|| format!("(uid {} has no passwd entry)", stat.uid));
            evaluation.assert("owner", expected, actual, stat.owner.as_ref() == Some(expected));
        }
        if let Some(expected) = self.uid {
            evaluation.assert("uid", expected.to_string(), stat.uid.to_string(), stat.uid == expected);
        }
        if let Some(expected) = &self.group {
            let actual = stat.group.clone().unwrap_or_else(|| format!("(gid {} has no group entry)", stat.gid));
            evaluation.assert("group", expected, actual, stat.group.as_ref() == Some(expected));
        }
        if let Some(expected) = self.gid {
            evaluation.assert("gid", expected.to_string(), stat.gid.to_string(), stat.gid == expected);
        }
        if let Some(matcher) = &self.size {
            let size = i64::try_from(stat.size).unwrap_or(i64::MAX);
            evaluation.assert("size", matcher.to_string(), stat.size.to_string(), matcher.is_match(size));
        }
    }

    fn compare_link_target(&self, facts: &Facts, evaluation: &mut Evaluation) -> Duration {
        let Some(expected) = &self.link_target else { return Duration::ZERO };
        match facts.link_targets.get(&self.path) {
            Some(gathered) => {
                match &gathered.value {
                    Ok(actual) => {
                        let passed = actual.as_ref() == Some(expected);
                        let actual = actual.clone().unwrap_or_else(|| "(not a symlink)".to_owned());
                        evaluation.assert("link_target", expected, actual, passed);
                    }
                    Err(message) => evaluation.set_error(message.clone()),
                }
                gathered.duration
            }
            None => {
                evaluation.set_error("the symlink target was not gathered");
                Duration::ZERO
            }
        }
    }

    fn compare_contents(&self, facts: &Facts, evaluation: &mut Evaluation) -> Duration {
        let Some(matcher) = &self.contents else { return Duration::ZERO };
        let Some(gathered) = facts.contents.get(&self.path) else {
            evaluation.set_error("the file contents were not gathered");
            return Duration::ZERO;
        };
        match &gathered.value {
            Ok(output) => match matcher.is_match_truncated(&output.stdout, output.stdout_len) {
                Some(passed) => {
                    let actual = format!("{} bytes", output.stdout_len);
                    evaluation.assert("contents", matcher.to_string(), actual, passed);
                    if !passed {
                        evaluation.set_output(output.clone());
                    }
                }
                None => evaluation.set_error(format!(
                    "the file has {} bytes, more than the {} bytes captured, and the verdict depends on \
                     the rest; raise --max-output",
                    output.stdout_len,
                    output.stdout.len()
                )),
            },
            Err(message) => evaluation.set_error(message.clone()),
        }
        gathered.duration
    }

    fn compare_digest(&self, facts: &Facts, evaluation: &mut Evaluation) -> Duration {
        let Some(expected) = &self.sha256 else { return Duration::ZERO };
        let Some(gathered) = &facts.digests else {
            evaluation.set_error("file digests were not gathered");
            return Duration::ZERO;
        };
        match &gathered.value {
            Ok(digests) => {
                let actual = digests.get(&self.path);
                let passed = actual == Some(&expected.0);
                evaluation.assert("sha256", &expected.0, absent_or(actual), passed);
            }
            Err(message) => evaluation.set_error(message.clone()),
        }
        gathered.duration
    }
}
