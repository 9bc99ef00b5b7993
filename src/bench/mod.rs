//! Benchmark mode (`specrun --bench`): how fast the Docker engine serves exec, version, info
//! and ping calls, and how fast a spec's batched checks run, at rising concurrency.

pub mod cpu;
pub mod stats;
