//! Package checks: installed or absent, and the version under the distribution's ordering.

use std::time::Duration;

use crate::check::Evaluation;
use crate::facts::{FactNeeds, Facts};
use crate::version::VersionMatcher;

#[derive(Clone, Debug)]
pub struct PackageCheck {
    pub name: String,
    pub installed: bool,
    pub version: Option<VersionMatcher>,
}

impl PackageCheck {
    pub fn request_facts(&self, needs: &mut FactNeeds) {
        needs.packages.insert(self.name.clone());
    }

    pub fn evaluate(&self, facts: &Facts) -> (Evaluation, Duration) {
        let Some(gathered) = &facts.packages else {
            return (Evaluation::error("package facts were not gathered"), Duration::ZERO);
        };
        let db = match &gathered.value {
            Ok(db) => db,
            Err(message) => return (Evaluation::error(message.clone()), gathered.duration),
        };

        let mut evaluation = Evaluation::new();
        let info = db.packages.get(&self.name);
        let installed = info.is_some_and(|info| info.installed);
        let actual = match info {
            Some(info) if info.installed => "installed".to_owned(),
            Some(info) => format!("not installed ({}: {})", db.manager, info.status),
            None => "not installed".to_owned(),
        };
        let expected = if self.installed { "installed" } else { "not installed" };
        evaluation.assert("installed", expected, actual, installed == self.installed);

        if let (Some(matcher), Some(info)) = (&self.version, info.filter(|info| info.installed)) {
            let passed = matcher.is_match(db.scheme, &info.version);
            evaluation.assert("version", matcher.to_string(), &info.version, passed);
        }
        (evaluation, gathered.duration)
    }
}
