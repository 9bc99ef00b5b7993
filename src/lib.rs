//! specrun tests container images and running containers from YAML spec files.
//!
//! A run loads and validates spec files ([`spec`]), plans each suite's checks ([`check`]) into
//! few batch scripts ([`script`]), runs them through the Docker Engine API ([`engine`]), turns
//! their output into facts ([`facts`]) and verdicts, and hands results to the reporters
//! ([`report`]). [`runner`] ties these together. [`bench`] measures the engine's speed for the
//! same calls.

pub mod bench;
pub mod check;
pub mod engine;
pub mod facts;
pub mod matcher;
pub mod report;
pub mod runner;
pub mod script;
pub mod spec;
pub mod version;
