//! Image metadata checks: what the image declares in its configuration (environment,
//! entrypoint, command, user, working directory, ports, volumes, labels, health check, platform).
//! They read `docker image inspect` data and need no container process.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::check::Evaluation;
use crate::facts::{FactNeeds, Facts};
use crate::matcher::TextMatcher;
use crate::spec::values::DurationValue;

/// Metadata as the image declares it, decoupled from the engine's types.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageMetadata {
    /// `NAME=value` entries in image order.
    pub env: Vec<String>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub user: String,
    pub workdir: String,
    /// Ports as `port/protocol`, such as `8080/tcp`.
    pub exposed_ports: Vec<String>,
    pub volumes: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub healthcheck: Option<Healthcheck>,
    pub architecture: String,
    pub os: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Healthcheck {
    pub test: Vec<String>,
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub retries: Option<i64>,
    pub start_period: Option<Duration>,
}

impl ImageMetadata {
    /// Looks up an environment variable; the value may itself contain `=`.
    pub fn env_value(&self, name: &str) -> Option<&str> {
        self.env.iter().find_map(|entry| entry.strip_prefix(name)?.strip_prefix('='))
    }
}

/// A command as an image declares it. A string is the shell form, which Docker stores as
/// `["/bin/sh", "-c", string]`. A list is the exec form, and `null` or `[]` means none.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum DeclaredCommand {
    Shell(String),
    Exec(Vec<String>),
}

impl DeclaredCommand {
    fn as_vec(&self) -> Vec<String> {
        match self {
            DeclaredCommand::Shell(text) => vec!["/bin/sh".to_owned(), "-c".to_owned(), text.clone()],
            DeclaredCommand::Exec(argv) => argv.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthcheckExpectation {
    pub test: Option<DeclaredCommand>,
    pub interval: Option<DurationValue>,
    pub timeout: Option<DurationValue>,
    pub retries: Option<i64>,
    pub start_period: Option<DurationValue>,
}

/// The `metadata:` mapping of a check. Every key is optional; each one given is compared.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetadataCheck {
    /// Variables with their exact values; `null` means the variable must not be declared.
    pub env: Option<BTreeMap<String, Option<String>>>,
    /// `null` expects no entrypoint.
    #[serde(default, deserialize_with = "declared_or_none")]
    pub entrypoint: Option<Option<DeclaredCommand>>,
    #[serde(default, deserialize_with = "declared_or_none")]
    pub cmd: Option<Option<DeclaredCommand>>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    /// Ports that must be declared, as `8080/tcp`, `53/udp` or `8080` (tcp).
    pub exposed_ports: Option<Vec<PortSpec>>,
    /// Volumes that must be declared.
    pub volumes: Option<Vec<String>>,
    /// Labels with an exact value, or a `/regex/` the value must match.
    pub labels: Option<BTreeMap<String, LabelValue>>,
    /// `false` expects no health check; a mapping compares the given fields.
    pub healthcheck: Option<HealthcheckSpec>,
    pub architecture: Option<String>,
    pub os: Option<String>,
}

fn declared_or_none<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<DeclaredCommand>>, D::Error> {
    let value: Option<DeclaredCommand> = Option::deserialize(deserializer)?;
    Ok(Some(value.filter(|command| command != &DeclaredCommand::Exec(Vec::new()))))
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum HealthcheckSpec {
    Present(bool),
    Fields(HealthcheckExpectation),
}

/// A port written as `8080/tcp`, `53/udp`, `132/sctp` or a bare number (tcp).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortSpec(pub String);

impl<'de> Deserialize<'de> for PortSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::Number(number) => number.to_string(),
            serde_json::Value::String(text) => text,
            other => return Err(serde::de::Error::custom(format!("invalid port {other}: write 8080/tcp or 53/udp"))),
        };
        let (port, protocol) = text.split_once('/').unwrap_or((text.as_str(), "tcp"));
        let valid_port = port.parse::<u16>().is_ok_and(|port| port > 0);
        if !valid_port || !["tcp", "udp", "sctp"].contains(&protocol) {
            return Err(serde::de::Error::custom(format!(
                "invalid port {text:?}: write a port from 1 to 65535 with /tcp, /udp or /sctp, such as 8080/tcp"
            )));
        }
        Ok(PortSpec(format!("{port}/{protocol}")))
    }
}

/// A label expectation: an exact value, or a `/regex/` written between slashes.
#[derive(Clone, Debug)]
pub struct LabelValue(pub TextMatcher);

impl<'de> Deserialize<'de> for LabelValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text.len() >= 2 && text.starts_with('/') {
            return text.parse::<TextMatcher>().map(LabelValue).map_err(serde::de::Error::custom);
        }
        Ok(LabelValue(TextMatcher::Equals(text)))
    }
}

impl MetadataCheck {
    pub fn request_facts(&self, needs: &mut FactNeeds) {
        needs.image_metadata = true;
    }

    /// True when the mapping compares nothing.
    pub fn is_empty(&self) -> bool {
        self.env.is_none()
            && self.entrypoint.is_none()
            && self.cmd.is_none()
            && self.user.is_none()
            && self.workdir.is_none()
            && self.exposed_ports.is_none()
            && self.volumes.is_none()
            && self.labels.is_none()
            && self.healthcheck.is_none()
            && self.architecture.is_none()
            && self.os.is_none()
    }

    pub fn evaluate(&self, facts: &Facts) -> (Evaluation, Duration) {
        let Some(gathered) = &facts.image_metadata else {
            return (Evaluation::error("image metadata was not gathered"), Duration::ZERO);
        };
        let metadata = match &gathered.value {
            Ok(metadata) => metadata,
            Err(message) => return (Evaluation::error(message.clone()), gathered.duration),
        };
        let mut evaluation = Evaluation::new();
        self.compare_env(metadata, &mut evaluation);
        compare_command("entrypoint", &self.entrypoint, &metadata.entrypoint, &mut evaluation);
        compare_command("cmd", &self.cmd, &metadata.cmd, &mut evaluation);
        compare_text("user", &self.user, &metadata.user, &mut evaluation);
        compare_text("workdir", &self.workdir, &metadata.workdir, &mut evaluation);
        if let Some(ports) = &self.exposed_ports {
            let expected: Vec<String> = ports.iter().map(|port| port.0.clone()).collect();
            compare_includes("exposed_ports", &expected, &metadata.exposed_ports, &mut evaluation);
        }
        if let Some(volumes) = &self.volumes {
            compare_includes("volumes", volumes, &metadata.volumes, &mut evaluation);
        }
        self.compare_labels(metadata, &mut evaluation);
        self.compare_healthcheck(metadata, &mut evaluation);
        compare_text("architecture", &self.architecture, &metadata.architecture, &mut evaluation);
        compare_text("os", &self.os, &metadata.os, &mut evaluation);
        (evaluation, gathered.duration)
    }

    fn compare_env(&self, metadata: &ImageMetadata, evaluation: &mut Evaluation) {
        for (name, expected) in self.env.iter().flatten() {
            let actual = metadata.env_value(name);
            let property = format!("env.{name}");
            let render = |value: Option<&str>| value.map_or("(absent)".to_owned(), |value| format!("{value:?}"));
            evaluation.assert(&property, render(expected.as_deref()), render(actual), actual == expected.as_deref());
        }
    }

    fn compare_labels(&self, metadata: &ImageMetadata, evaluation: &mut Evaluation) {
        for (name, expected) in self.labels.iter().flatten() {
            let actual = metadata.labels.get(name);
            let passed = actual.is_some_and(|value| expected.0.is_match(value.as_bytes()));
            let actual = actual.map_or("(absent)".to_owned(), |value| format!("{value:?}"));
            evaluation.assert(&format!("labels.{name}"), expected.0.to_string(), actual, passed);
        }
    }

    fn compare_healthcheck(&self, metadata: &ImageMetadata, evaluation: &mut Evaluation) {
        let Some(expected) = &self.healthcheck else { return };
        let actual = metadata.healthcheck.as_ref();
        let fields = match expected {
            HealthcheckSpec::Present(present) => {
                let expected = if *present { "present" } else { "absent" };
                let shown = if actual.is_some() { "present" } else { "absent" };
                evaluation.assert("healthcheck", expected, shown, actual.is_some() == *present);
                return;
            }
            HealthcheckSpec::Fields(fields) => fields,
        };
        let Some(actual) = actual else {
            evaluation.assert("healthcheck", "present", "absent", false);
            return;
        };
        if let Some(test) = &fields.test {
            let expected = test.as_vec();
            evaluation.assert(
                "healthcheck.test",
                format!("{expected:?}"),
                format!("{:?}", actual.test),
                expected == actual.test,
            );
        }
        let durations = [
            ("healthcheck.interval", fields.interval, actual.interval),
            ("healthcheck.timeout", fields.timeout, actual.timeout),
            ("healthcheck.start_period", fields.start_period, actual.start_period),
        ];
        for (property, expected, actual) in durations {
            if let Some(expected) = expected {
                let shown = actual.map_or("(default)".to_owned(), |actual| format!("{actual:?}"));
                evaluation.assert(property, format!("{:?}", expected.0), shown, actual == Some(expected.0));
            }
        }
        if let Some(expected) = fields.retries {
            let shown = actual.retries.map_or("(default)".to_owned(), |retries| retries.to_string());
            evaluation.assert("healthcheck.retries", expected.to_string(), shown, actual.retries == Some(expected));
        }
    }
}

fn compare_text(property: &str, expected: &Option<String>, actual: &str, evaluation: &mut Evaluation) {
    if let Some(expected) = expected {
        evaluation.assert(property, format!("{expected:?}"), format!("{actual:?}"), expected == actual);
    }
}

fn compare_command(
    property: &str,
    expected: &Option<Option<DeclaredCommand>>,
    actual: &Option<Vec<String>>,
    evaluation: &mut Evaluation,
) {
    let Some(expected) = expected else { return };
    let expected = expected.as_ref().map(DeclaredCommand::as_vec);
    let actual = actual.clone().filter(|argv| !argv.is_empty());
    let render = |value: &Option<Vec<String>>| value.as_ref().map_or("(none)".to_owned(), |argv| format!("{argv:?}"));
    evaluation.assert(property, render(&expected), render(&actual), expected == actual);
}

fn compare_includes(property: &str, expected: &[String], actual: &[String], evaluation: &mut Evaluation) {
    let missing = expected.iter().any(|item| !actual.contains(item));
    evaluation.assert(property, format!("includes {}", expected.join(", ")), actual.join(", "), !missing);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_value_keeps_equals_signs() {
        let metadata =
            ImageMetadata { env: vec!["A=b=c".into(), "EMPTY=".into(), "AB=x".into()], ..ImageMetadata::default() };
        assert_eq!(metadata.env_value("A"), Some("b=c"));
        assert_eq!(metadata.env_value("EMPTY"), Some(""));
        assert_eq!(metadata.env_value("AB"), Some("x"));
        assert_eq!(metadata.env_value("MISSING"), None);
    }

    #[test]
    fn shell_form_is_sh_dash_c() {
        let command = DeclaredCommand::Shell("echo hi".into());
        assert_eq!(command.as_vec(), ["/bin/sh", "-c", "echo hi"]);
    }
}
