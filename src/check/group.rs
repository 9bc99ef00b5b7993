//! Group checks: existence and gid.

use std::time::Duration;

use crate::check::Evaluation;
use crate::facts::{FactNeeds, Facts};

#[derive(Clone, Debug)]
pub struct GroupCheck {
    pub name: String,
    pub exists: bool,
    pub gid: Option<u32>,
}

impl GroupCheck {
    pub fn request_facts(&self, needs: &mut FactNeeds) {
        needs.groups = true;
    }

    pub fn evaluate(&self, facts: &Facts) -> (Evaluation, Duration) {
        let Some(groups) = &facts.groups else {
            return (Evaluation::error("group facts were not gathered"), Duration::ZERO);
        };
        let all = match &groups.value {
            Ok(all) => all,
            Err(message) => return (Evaluation::error(message.clone()), groups.duration),
        };

        let mut evaluation = Evaluation::new();
        let entry = all.iter().find(|group| group.name == self.name);
        let expected = if self.exists { "present" } else { "absent" };
        let actual = if entry.is_some() { "present" } else { "absent" };
        evaluation.assert("exists", expected, actual, entry.is_some() == self.exists);
        if let (Some(expected), Some(entry)) = (self.gid, entry) {
            evaluation.assert("gid", expected.to_string(), entry.gid.to_string(), entry.gid == expected);
        }
        (evaluation, groups.duration)
    }
}
