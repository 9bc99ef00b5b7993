//! User checks: existence, ids, home, shell, primary group and group membership.

use std::time::Duration;

use crate::check::Evaluation;
use crate::facts::{FactNeeds, Facts, GroupEntry, PasswdEntry};

#[derive(Clone, Debug)]
pub struct UserCheck {
    pub name: String,
    pub exists: bool,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// Name of the primary group.
    pub group: Option<String>,
    pub home: Option<String>,
    pub shell: Option<String>,
    /// Groups the user must belong to; the user may belong to others too.
    pub groups: Vec<String>,
}

impl UserCheck {
    fn needs_groups(&self) -> bool {
        self.group.is_some() || !self.groups.is_empty()
    }

    pub fn request_facts(&self, needs: &mut FactNeeds) {
        needs.users.insert(self.name.clone());
        needs.groups |= self.needs_groups();
    }

    pub fn evaluate(&self, facts: &Facts) -> (Evaluation, Duration) {
        let Some(passwd) = &facts.passwd else {
            return (Evaluation::error("user facts were not gathered"), Duration::ZERO);
        };
        let entries = match &passwd.value {
            Ok(entries) => entries,
            Err(message) => return (Evaluation::error(message.clone()), passwd.duration),
        };

        let mut evaluation = Evaluation::new();
        let entry = entries.get(&self.name);
        let expected = if self.exists { "present" } else { "absent" };
        let actual = if entry.is_some() { "present" } else { "absent" };
        evaluation.assert("exists", expected, actual, entry.is_some() == self.exists);
        let Some(entry) = entry.filter(|_| self.exists) else { return (evaluation, passwd.duration) };

        if let Some(expected) = self.uid {
            evaluation.assert("uid", expected.to_string(), entry.uid.to_string(), entry.uid == expected);
        }
        if let Some(expected) = self.gid {
            evaluation.assert("gid", expected.to_string(), entry.gid.to_string(), entry.gid == expected);
        }
        if let Some(expected) = &self.home {
            evaluation.assert("home", expected, &entry.home, &entry.home == expected);
        }
        if let Some(expected) = &self.shell {
            evaluation.assert("shell", expected, &entry.shell, &entry.shell == expected);
        }

        let mut duration = passwd.duration;
        if self.needs_groups() {
            duration += self.compare_groups(entry, facts, &mut evaluation);
        }
        (evaluation, duration)
    }

    fn compare_groups(&self, entry: &PasswdEntry, facts: &Facts, evaluation: &mut Evaluation) -> Duration {
        let Some(groups) = &facts.groups else {
            evaluation.set_error("group facts were not gathered");
            return Duration::ZERO;
        };
        let all = match &groups.value {
            Ok(all) => all,
            Err(message) => {
                evaluation.set_error(message.clone());
                return groups.duration;
            }
        };

        let primary = all.iter().find(|group| group.gid == entry.gid).map(|group| group.name.clone());
        if let Some(expected) = &self.group {
            let actual = primary.clone().unwrap_or_else(|| format!("(gid {} has no group entry)", entry.gid));
            evaluation.assert("group", expected, actual, primary.as_ref() == Some(expected));
        }
        if !self.groups.is_empty() {
            let member_of = membership(entry, primary, all);
            let missing: Vec<&String> = self.groups.iter().filter(|group| !member_of.contains(group)).collect();
            let expected = format!("includes {}", self.groups.join(", "));
            evaluation.assert("groups", expected, member_of.join(", "), missing.is_empty());
        }
        groups.duration
    }
}

/// Groups of a user as `id -Gn` lists them: the primary group first, then every group that
/// names the user as a member.
fn membership(entry: &PasswdEntry, primary: Option<String>, all: &[GroupEntry]) -> Vec<String> {
    let mut names: Vec<String> = primary.into_iter().collect();
    for group in all {
        if group.members.contains(&entry.name) && !names.contains(&group.name) {
            names.push(group.name.clone());
        }
    }
    names
}
