//! Temporary stand-in until the version module lands.
use serde::Deserialize;
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VersionScheme {
    Debian,
    Rpm,
    Apk,
}
#[derive(Clone, Debug, Deserialize)]
pub struct VersionMatcher(String);
impl VersionMatcher {
    pub fn is_match(&self, _scheme: VersionScheme, actual: &str) -> bool {
        actual == self.0
    }
}
impl std::fmt::Display for VersionMatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}
