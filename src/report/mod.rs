//! Reporters: renderings of a run's results. None of them decides the exit status.

mod escape;
pub mod json;
pub mod junit;
pub mod model;
pub mod terminal;

#[cfg(test)]
mod test_reports;
