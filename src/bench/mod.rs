//! Benchmark mode (`specrun --bench`): how fast the Docker engine serves exec, version, info
//! and ping calls, and how fast a spec's batched checks run, at rising concurrency.
//!
//! For each operation and each concurrency level N, N workers share one [`Engine`] and run the
//! operation in a closed loop (operation, optional think time, next operation) for a warm-up
//! whose samples are discarded, then for the measured window. [`run`] returns a
//! [`report::BenchReport`]; [`report`] renders it as a table, JSON or CSV and [`plot`] as SVG
//! charts. Containers created for the benchmark carry the run label and are removed at the end,
//! also after cancellation.

pub mod cpu;
pub mod plot;
pub mod report;
pub mod stats;
mod workload;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bollard::query_parameters::InspectContainerOptions;
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::engine::{Engine, EngineError, Transport};
use crate::runner::RunOptions;
use crate::spec::values::DurationValue;
use crate::spec::{self, Spec, SpecError};

use self::cpu::CpuProbe;
use self::report::{BenchReport, EngineInfo, HostInfo, OperationReport, Settings};
use self::workload::{LevelWindow, Workload};

/// Maximum number of concurrency levels in one run. Each level runs for the warm-up plus the duration, so
/// a range such as `1-1000` would take hours.
const MAX_LEVELS: usize = 100;

/// An engine operation that the benchmark measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    /// Create, start (attached, output read to the end) and inspect an exec of `true`.
    Exec,
    /// `GET /version`.
    Version,
    /// `GET /info`.
    Info,
    /// `GET /_ping`.
    Ping,
    /// One run of the batched checks of `--spec`.
    Checks,
}

impl Operation {
    pub fn name(self) -> &'static str {
        match self {
            Operation::Exec => "exec",
            Operation::Version => "version",
            Operation::Info => "info",
            Operation::Ping => "ping",
            Operation::Checks => "checks",
        }
    }

    /// Returns true when the operation runs inside a container.
    pub fn needs_container(self) -> bool {
        matches!(self, Operation::Exec | Operation::Checks)
    }
}

/// Concurrency levels in increasing order, without duplicates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConcurrencyLevels(pub Vec<u32>);

/// Options of `--bench`, flattened into the main command line. Each one requires `--bench`.
#[derive(Clone, Debug, clap::Args)]
#[command(next_help_heading = "Benchmark options (with --bench)")]
pub struct BenchArgs {
    /// Operations to measure, comma-separated: exec, version, info, ping, checks.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "exec,version,info",
        value_name = "OPS",
        requires = "bench"
    )]
    pub ops: Vec<Operation>,

    /// Workers per level: a comma-separated list of counts and inclusive ranges, such as
    /// 1,2,4,8 or 1-8 or 1..64. Levels run in increasing order.
    #[arg(
        long,
        default_value = "1,2,4,8,16,32,64,100",
        value_name = "LEVELS",
        value_parser = parse_concurrency,
        requires = "bench"
    )]
    pub concurrency: ConcurrencyLevels,

    /// Measured time per operation and level (such as 500ms, 10s, 2m).
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = DurationValue::parse, requires = "bench")]
    pub duration: DurationValue,

    /// Time per operation and level before the measured time; its samples are discarded.
    /// 0 skips the warm-up.
    #[arg(long, default_value = "2s", value_name = "DURATION", value_parser = parse_pause, requires = "bench")]
    pub warmup: Duration,

    /// Containers to create from --image and spread exec and checks calls over.
    #[arg(
        long,
        default_value_t = 1,
        value_name = "N",
        value_parser = clap::value_parser!(u16).range(1..),
        requires = "bench",
        conflicts_with = "container"
    )]
    pub containers: u16,

    /// Pause of each worker after each operation (such as 500ms); 0 for none.
    #[arg(long, default_value = "0", value_name = "DURATION", value_parser = parse_pause, requires = "bench")]
    pub think: Duration,

    /// Spec file whose checks `--ops checks` runs again and again.
    #[arg(long, value_name = "FILE", requires = "bench")]
    pub spec: Option<PathBuf>,

    /// Also write SVG charts of throughput and p99 latency against concurrency to FILE.
    #[arg(long, value_name = "FILE.svg", requires = "bench")]
    pub plot: Option<PathBuf>,
}

/// Parses `--concurrency`: comma-separated items, each a positive count `N` or an inclusive
/// range `A-B`, `A..B` or `A..=B`. The result is sorted and free of duplicates.
pub fn parse_concurrency(text: &str) -> Result<ConcurrencyLevels, String> {
    const HINT: &str = "write worker counts such as 1,2,4,8 or a range such as 1-8";
    if text.trim().is_empty() {
        return Err(format!("invalid concurrency {text:?}: no levels given; {HINT}"));
    }

    let mut levels = BTreeSet::new();
    for item in text.split(',') {
        let item = item.trim();
        if item.is_empty() {
            return Err(format!("invalid concurrency {text:?}: an item between commas is empty; {HINT}"));
        }
        let (start, end) = if let Some((start, end)) = item.split_once("..") {
            let end = end.strip_prefix('=').unwrap_or(end);
            (parse_level(start, item)?, parse_level(end, item)?)
        } else if let Some((start, end)) = item.split_once('-') {
            (parse_level(start, item)?, parse_level(end, item)?)
        } else {
            let level = parse_level(item, item)?;
            (level, level)
        };
        if start > end {
            return Err(format!("invalid concurrency range {item:?}: the start is greater than the end"));
        }
        let count = usize::try_from(end - start).unwrap_or(usize::MAX).saturating_add(1);
        if count > MAX_LEVELS || levels.len() + count > MAX_LEVELS {
            return Err(format!(
                "invalid concurrency {text:?}: more than {MAX_LEVELS} levels; list fewer, such as 1,2,4,8,16"
            ));
        }
        levels.extend(start..=end);
    }
    Ok(ConcurrencyLevels(levels.into_iter().collect()))
}

fn parse_level(text: &str, item: &str) -> Result<u32, String> {
    let level: u32 = text.trim().parse().map_err(|_| {
        format!("invalid concurrency {item:?}: {:?} is not a whole number; write counts such as 1,2,4,8", text.trim())
    })?;
    if level == 0 {
        return Err(format!("invalid concurrency {item:?}: the number of workers must be at least 1"));
    }
    Ok(level)
}

/// Parses a pause such as `--think`: a duration as [`DurationValue::parse`] reads it, or zero.
pub fn parse_pause(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    let zero = trimmed.parse::<u64>() == Ok(0) || humantime::parse_duration(trimmed).is_ok_and(|d| d.is_zero());
    if zero {
        return Ok(Duration::ZERO);
    }
    DurationValue::parse(text).map(|value| value.0)
}

/// The containers that exec and checks calls run in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BenchTarget {
    /// No operation needs a container.
    None,
    /// Create `count` containers from `image` and remove them at the end.
    Image { image: String, count: u16 },
    /// Use these running containers as they are.
    Containers(Vec<String>),
}

/// A validated benchmark plan.
#[derive(Clone, Debug)]
pub struct BenchConfig {
    /// Operations in the order given, without duplicates.
    pub operations: Vec<Operation>,
    pub levels: Vec<u32>,
    pub duration: Duration,
    pub warmup: Duration,
    pub think: Duration,
    pub target: BenchTarget,
    /// The spec whose checks `Operation::Checks` runs.
    pub spec: Option<Arc<Spec>>,
    /// Settings for running the spec's checks; its `network` applies to created containers.
    pub run_options: RunOptions,
    pub transport: Transport,
    pub run_id: String,
    pub plot: Option<PathBuf>,
    /// Show a progress bar on stderr.
    pub show_progress: bool,
}

/// An error that stops a benchmark before it measures anything.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// An invalid combination of command-line options.
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// SIGINT or SIGTERM came before the first level started.
    #[error("cancelled before the measurement started")]
    Cancelled,
}

impl BenchConfig {
    /// Validates the benchmark options against the main options `--image` and `--container`,
    /// and loads `--spec`.
    pub fn new(
        args: &BenchArgs,
        images: &[String],
        containers: &[String],
        run_options: RunOptions,
        transport: Transport,
        run_id: String,
    ) -> Result<BenchConfig, BenchError> {
        let mut operations = Vec::new();
        for operation in &args.ops {
            if !operations.contains(operation) {
                operations.push(*operation);
            }
        }
        let needs_container = operations.iter().any(|operation| operation.needs_container());

        let target = match (images, containers) {
            ([_, _, ..], _) => {
                return Err(BenchError::Usage(
                    "--bench takes one --image; run the benchmark once per image".to_owned(),
                ));
            }
            ([_], [_, ..]) => {
                return Err(BenchError::Usage("--bench takes either --image or --container, not both".to_owned()));
            }
            ([image], []) if needs_container => BenchTarget::Image { image: image.clone(), count: args.containers },
            ([], [_, ..]) if needs_container => BenchTarget::Containers(containers.to_vec()),
            ([], []) if needs_container => {
                return Err(BenchError::Usage(
                    "--ops exec and --ops checks need a container: pass --image IMAGE or --container NAME".to_owned(),
                ));
            }
            _ => BenchTarget::None,
        };

        let measures_checks = operations.contains(&Operation::Checks);
        let spec = match (&args.spec, measures_checks) {
            (Some(path), true) => Some(Arc::new(spec::load(path)?)),
            (None, true) => {
                return Err(BenchError::Usage("--ops checks needs --spec FILE with the checks to run".to_owned()));
            }
            (Some(_), false) => {
                return Err(BenchError::Usage("--spec is used only with --ops checks; add checks to --ops".to_owned()));
            }
            (None, false) => None,
        };

        Ok(BenchConfig {
            operations,
            levels: args.concurrency.0.clone(),
            duration: args.duration.0,
            warmup: args.warmup,
            think: args.think,
            target,
            spec,
            run_options,
            transport,
            run_id,
            plot: args.plot.clone(),
            show_progress: false,
        })
    }
}

/// A container that exec and checks calls run in.
#[derive(Clone, Debug)]
struct BenchContainer {
    name: String,
    id: String,
}

/// Runs the benchmark and returns its report. Containers it creates are removed before it
/// returns, whatever the outcome. Cancelling `cancel` ends the level in progress; the report
/// then contains the levels finished before and has `cancelled` set.
pub async fn run(config: &BenchConfig, cancel: CancellationToken) -> Result<BenchReport, BenchError> {
    let engine = Engine::connect(config.transport).await?;
    let engine_info = engine_info(&engine).await?;

    let mut created = Vec::new();
    let prepared = prepare_containers(&engine, config, &cancel, &mut created).await;
    let outcome = match prepared {
        Ok(containers) if !cancel.is_cancelled() => {
            Ok(measure(&engine, config, containers, engine_info, &cancel).await)
        }
        Ok(_) => Err(BenchError::Cancelled),
        Err(error) => Err(error),
    };

    cleanup(&engine, &config.run_id, created).await;
    outcome
}

async fn engine_info(engine: &Engine) -> Result<EngineInfo, BenchError> {
    let version = engine.docker().version().await.map_err(|source| EngineError::Api {
        operation: "reading the engine version",
        subject: engine.host().to_owned(),
        source,
    })?;
    Ok(EngineInfo { host: engine.host().to_owned(), server_version: version.version, api_version: version.api_version })
}

/// Checks the image or the given containers and creates the benchmark's containers. Every
/// container name is pushed to `created` before its creation starts, so cleanup finds it.
async fn prepare_containers(
    engine: &Engine,
    config: &BenchConfig,
    cancel: &CancellationToken,
    created: &mut Vec<String>,
) -> Result<Vec<BenchContainer>, BenchError> {
    let mut containers = Vec::new();
    match &config.target {
        BenchTarget::None => {}
        BenchTarget::Image { image, count } => {
            if engine.docker().inspect_image(image).await.is_err() {
                return Err(EngineError::ImageNotFound { image: image.clone() }.into());
            }
            for number in 0..*count {
                if cancel.is_cancelled() {
                    break;
                }
                let name = format!("specrun-bench-{}-{number}", config.run_id);
                created.push(name.clone());
                let network = &config.run_options.network;
                let id = engine.start_container(image, &name, &config.run_id, network).await?;
                let state = engine.state(&name).await?;
                if !state.running {
                    return Err(
                        EngineError::ContainerExited { image: image.clone(), exit_code: state.exit_code }.into()
                    );
                }
                info!(container = %name, image = %image, network = %network, "benchmark container started");
                containers.push(BenchContainer { name, id });
            }
        }
        BenchTarget::Containers(names) => {
            for name in names {
                engine.check_running(name).await?;
                let inspected =
                    engine.docker().inspect_container(name, None::<InspectContainerOptions>).await.map_err(
                        |source| EngineError::Api {
                            operation: "inspecting a container",
                            subject: name.clone(),
                            source,
                        },
                    )?;
                containers.push(BenchContainer { name: name.clone(), id: inspected.id.unwrap_or_default() });
            }
        }
    }
    Ok(containers)
}

/// Runs every operation at every level and assembles the report.
async fn measure(
    engine: &Engine,
    config: &BenchConfig,
    containers: Vec<BenchContainer>,
    engine_info: EngineInfo,
    cancel: &CancellationToken,
) -> BenchReport {
    let probe = CpuProbe::local(containers.iter().map(|container| container.id.clone()).collect());
    let host = host_info(probe.as_ref());
    let names: Vec<String> = containers.into_iter().map(|container| container.name).collect();
    let settings = Settings::new(config, names.clone());
    let checks = config.spec.as_ref().map(|spec| spec.checks.clone()).unwrap_or_default();
    let workload = Arc::new(Workload::new(engine.clone(), names, checks, config.run_options.clone(), config.think));
    let window = LevelWindow { warmup: config.warmup, duration: config.duration };
    let progress = progress_bar(config);

    let mut operations = Vec::new();
    let mut cancelled = false;
    for &operation in &config.operations {
        let mut levels = Vec::new();
        for &concurrency in &config.levels {
            progress.set_message(format!("{} with {}", operation.name(), report::workers(concurrency)));
            let Some(measured) =
                workload::measure_level(&workload, operation, concurrency, window, probe.as_ref(), cancel).await
            else {
                cancelled = true;
                break;
            };
            let level = measured.into_report(concurrency, window.duration);
            info!(
                operation = operation.name(),
                concurrency,
                ops_per_second = level.ops_per_second,
                errors = level.errors,
                "level measured"
            );
            levels.push(level);
            progress.inc(1);
        }
        if !levels.is_empty() {
            operations.push(OperationReport::new(operation, levels));
        }
        if cancelled {
            break;
        }
    }
    progress.finish_and_clear();

    BenchReport { run_id: config.run_id.clone(), engine: engine_info, settings, host, cancelled, operations }
}

fn host_info(probe: Option<&CpuProbe>) -> HostInfo {
    match probe {
        Some(probe) => HostInfo {
            cpus: probe.host_cpus(),
            clock_ticks_per_second: Some(probe.clock_ticks()),
            cpu_measured: true,
            note: None,
        },
        None => HostInfo {
            cpus: None,
            clock_ticks_per_second: None,
            cpu_measured: false,
            note: Some(
                "CPU time is not measured: the engine is not on this host or /proc/stat is unreadable".to_owned(),
            ),
        },
    }
}

/// Creates a progress bar over all levels on stderr, or a hidden one unless `show_progress`
/// is set.
fn progress_bar(config: &BenchConfig) -> ProgressBar {
    if !config.show_progress {
        return ProgressBar::hidden();
    }
    let levels = config.operations.len() * config.levels.len();
    let bar = ProgressBar::new(levels as u64);
    let per_level = humantime::format_duration(config.warmup + config.duration);
    let template = format!("{{spinner}} {{pos}}/{{len}} levels of {per_level}: {{msg}} {{elapsed}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Removes the containers created for the run, by name and by run label, logging failures
/// and going on.
async fn cleanup(engine: &Engine, run_id: &str, created: Vec<String>) {
    let mut targets = created;
    match engine.run_containers(run_id).await {
        Ok(labelled) => targets.extend(labelled),
        Err(error) => warn!(run = %run_id, %error, "listing the benchmark's containers failed"),
    }
    let mut removed = BTreeSet::new();
    for target in targets {
        if !removed.insert(target.clone()) {
            continue;
        }
        match engine.remove_container(&target).await {
            Ok(()) => {}
            Err(EngineError::Api {
                source: bollard::errors::Error::DockerResponseServerError { status_code: 404, .. },
                ..
            }) => {}
            Err(error) => warn!(container = %target, %error, "removing a benchmark container failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels(text: &str) -> Vec<u32> {
        parse_concurrency(text).unwrap().0
    }

    #[test]
    fn concurrency_list() {
        assert_eq!(levels("1,2,4,8,16,32,64,100"), vec![1, 2, 4, 8, 16, 32, 64, 100]);
        assert_eq!(levels(" 8 , 1,4 "), vec![1, 4, 8]);
        assert_eq!(levels("4,4,2"), vec![2, 4]);
        assert_eq!(levels("7"), vec![7]);
    }

    #[test]
    fn concurrency_ranges() {
        assert_eq!(levels("1-8"), (1..=8).collect::<Vec<_>>());
        assert_eq!(levels("1..64"), (1..=64).collect::<Vec<_>>());
        assert_eq!(levels("3..=5"), vec![3, 4, 5]);
        assert_eq!(levels("2-2"), vec![2]);
        assert_eq!(levels("1-3,16,32"), vec![1, 2, 3, 16, 32]);
    }

    #[test]
    fn concurrency_zero_rejected() {
        let error = parse_concurrency("0").unwrap_err();
        assert!(error.contains("at least 1"), "{error}");
        assert!(parse_concurrency("0-4").is_err());
        assert!(parse_concurrency("1,0").is_err());
    }

    #[test]
    fn concurrency_reversed_range_rejected() {
        let error = parse_concurrency("5-2").unwrap_err();
        assert!(error.contains("start is greater than the end"), "{error}");
        assert!(parse_concurrency("5..2").is_err());
    }

    #[test]
    fn concurrency_not_a_number_rejected() {
        let error = parse_concurrency("abc").unwrap_err();
        assert!(error.contains("not a whole number"), "{error}");
        assert!(parse_concurrency("1-x").is_err());
        assert!(parse_concurrency("-3").is_err());
        assert!(parse_concurrency("2.5").is_err());
        assert!(parse_concurrency("1-2-3").is_err());
    }

    #[test]
    fn concurrency_empty_rejected() {
        assert!(parse_concurrency("").unwrap_err().contains("no levels"));
        assert!(parse_concurrency("  ").is_err());
        assert!(parse_concurrency("1,,2").unwrap_err().contains("empty"));
        assert!(parse_concurrency("1,").is_err());
    }

    #[test]
    fn concurrency_too_many_levels_rejected() {
        assert!(parse_concurrency("1-100").is_ok());
        assert!(parse_concurrency("1-101").unwrap_err().contains("more than 100 levels"));
        assert!(parse_concurrency("1-4000000000").is_err());
        assert!(parse_concurrency("1-60,100-160").is_err());
    }

    #[test]
    fn pause_accepts_zero() {
        assert_eq!(parse_pause("0"), Ok(Duration::ZERO));
        assert_eq!(parse_pause("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_pause("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_pause("2"), Ok(Duration::from_secs(2)));
        assert!(parse_pause("soon").is_err());
    }

    fn args(ops: &[Operation]) -> BenchArgs {
        BenchArgs {
            ops: ops.to_vec(),
            concurrency: ConcurrencyLevels(vec![1, 2]),
            duration: DurationValue(Duration::from_secs(1)),
            warmup: Duration::ZERO,
            containers: 1,
            think: Duration::ZERO,
            spec: None,
            plot: None,
        }
    }

    fn config(args: &BenchArgs, images: &[&str], containers: &[&str]) -> Result<BenchConfig, BenchError> {
        let images: Vec<String> = images.iter().map(|image| image.to_string()).collect();
        let containers: Vec<String> = containers.iter().map(|container| container.to_string()).collect();
        let options = RunOptions {
            jobs: 1,
            max_execs: 8,
            default_timeout: Duration::from_secs(30),
            max_output: 1024,
            network: "none".to_owned(),
            gather: crate::runner::Gather::Auto,
        };
        BenchConfig::new(args, &images, &containers, options, Transport::Pooled, "test".to_owned())
    }

    #[test]
    fn config_targets() {
        let exec = args(&[Operation::Exec, Operation::Version, Operation::Exec]);
        let config_with_image = config(&exec, &["busybox"], &[]).unwrap();
        assert_eq!(config_with_image.operations, vec![Operation::Exec, Operation::Version]);
        assert_eq!(config_with_image.target, BenchTarget::Image { image: "busybox".to_owned(), count: 1 });
        let config_with_containers = config(&exec, &[], &["a", "b"]).unwrap();
        assert_eq!(config_with_containers.target, BenchTarget::Containers(vec!["a".to_owned(), "b".to_owned()]));
        let engine_only = config(&args(&[Operation::Ping]), &["busybox"], &[]).unwrap();
        assert_eq!(engine_only.target, BenchTarget::None);
    }

    #[test]
    fn config_usage_errors() {
        let exec = args(&[Operation::Exec]);
        assert!(matches!(config(&exec, &[], &[]), Err(BenchError::Usage(_))));
        assert!(matches!(config(&exec, &["a", "b"], &[]), Err(BenchError::Usage(_))));
        assert!(matches!(config(&exec, &["a"], &["b"]), Err(BenchError::Usage(_))));
        assert!(matches!(config(&args(&[Operation::Checks]), &["a"], &[]), Err(BenchError::Usage(_))));
        let mut with_spec = args(&[Operation::Ping]);
        with_spec.spec = Some("specs/busybox/busybox.yml".into());
        assert!(matches!(config(&with_spec, &[], &[]), Err(BenchError::Usage(_))));
    }

    #[test]
    fn config_loads_spec() {
        let mut checks = args(&[Operation::Checks]);
        checks.spec = Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("specs/busybox/busybox.yml"));
        let loaded = config(&checks, &["busybox"], &[]).unwrap();
        assert!(!loaded.spec.unwrap().checks.is_empty());
        checks.spec = Some("does/not/exist.yml".into());
        assert!(matches!(config(&checks, &["busybox"], &[]), Err(BenchError::Spec(_))));
    }
}
