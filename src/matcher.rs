//! Temporary stand-in until the matcher module lands.
use serde::Deserialize;
#[derive(Clone, Debug, Deserialize)]
pub struct TextMatcher(String);
impl TextMatcher {
    pub fn is_match_truncated(&self, captured: &[u8], _full_len: u64) -> Option<bool> {
        Some(captured.windows(self.0.len().max(1)).any(|w| w == self.0.as_bytes()))
    }
}
impl std::fmt::Display for TextMatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "contains {:?}", self.0)
    }
}
#[derive(Clone, Debug, Deserialize)]
pub struct NumberMatcher(i64);
impl NumberMatcher {
    pub fn is_match(&self, value: i64) -> bool {
        value == self.0
    }
}
impl std::fmt::Display for NumberMatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}
