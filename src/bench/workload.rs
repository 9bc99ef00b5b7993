//! One benchmark level: N workers that run one operation in a closed loop over a shared
//! [`Engine`], and the samples they record.
//!
//! A level lasts the warm-up plus the measured window. Workers start no operation after the
//! window ends, and the level waits for the operations still in flight. A sample belongs to
//! the window when its operation completed inside it, so throughput is the count of such
//! samples divided by the window's length.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use futures_util::StreamExt;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use crate::check::Check;
use crate::engine::Engine;
use crate::report::model::Outcome;
use crate::runner::{self, RunOptions};

use super::Operation;
use super::cpu::{CpuProbe, CpuUsage};
use super::report::{ErrorCount, LevelReport, PhaseSummary};
use super::stats::Samples;

/// Time that operations still in flight at the end of a level get to complete before their
/// workers are aborted and each counts as an error.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(60);

/// Distinct error messages kept per level; the count covers all of them.
const MAX_ERROR_MESSAGES: usize = 5;

/// State that every worker of a run shares.
pub(super) struct Workload {
    engine: Engine,
    /// Containers for exec and checks calls, used in turn.
    containers: Vec<String>,
    checks: Vec<Check>,
    run_options: RunOptions,
    think: Duration,
    next_container: AtomicUsize,
}

/// Lengths of the warm-up and of the measured window of each level.
#[derive(Clone, Copy, Debug)]
pub(super) struct LevelWindow {
    pub warmup: Duration,
    pub duration: Duration,
}

/// Measurements of one successful operation besides its latency.
#[derive(Clone, Copy, Debug, Default)]
struct Detail {
    /// Create, start and inspect times of an exec.
    phases: Option<[Duration; 3]>,
    /// Checks evaluated and exec calls made by a checks run.
    checks: u64,
    exec_calls: u64,
}

#[derive(Clone, Copy, Debug)]
struct Sample {
    finished: Instant,
    latency: Duration,
    detail: Detail,
}

/// Everything the workers of one level recorded.
#[derive(Default)]
struct Log {
    samples: Vec<Sample>,
    errors: Vec<(Instant, String)>,
}

/// The results of one level, reduced to the measured window.
pub(super) struct LevelMeasurement {
    operation: Operation,
    samples: Vec<Sample>,
    /// Errors after the warm-up, by message.
    errors: HashMap<String, u64>,
    warmup_errors: u64,
    cpu: Option<CpuUsage>,
}

impl Workload {
    pub(super) fn new(
        engine: Engine,
        containers: Vec<String>,
        checks: Vec<Check>,
        run_options: RunOptions,
        think: Duration,
    ) -> Workload {
        Workload { engine, containers, checks, run_options, think, next_container: AtomicUsize::new(0) }
    }

    /// Returns the next container in turn.
    ///
    /// # Panics
    ///
    /// When there is no container; the driver creates at least one for exec and checks.
    fn next_container(&self) -> &str {
        let index = self.next_container.fetch_add(1, Ordering::Relaxed) % self.containers.len();
        &self.containers[index]
    }

    /// Runs `operation` once. The error is a message suited for grouping equal failures.
    async fn run_once(&self, operation: Operation) -> Result<Detail, String> {
        let docker = self.engine.docker();
        match operation {
            Operation::Exec => self.exec_true().await,
            Operation::Version => {
                docker.version().await.map(|_| Detail::default()).map_err(|e| format!("version: {e}"))
            }
            Operation::Info => docker.info().await.map(|_| Detail::default()).map_err(|e| format!("info: {e}")),
            Operation::Ping => docker.ping().await.map(|_| Detail::default()).map_err(|e| format!("ping: {e}")),
            Operation::Checks => self.run_checks().await,
        }
    }

    /// Creates, starts and inspects an exec of `true`, timing each phase. Starting attaches
    /// stdout and stderr and reads the stream to its end, as the runner's exec calls do.
    async fn exec_true(&self) -> Result<Detail, String> {
        let container = self.next_container();
        let docker = self.engine.docker();
        let options = CreateExecOptions {
            cmd: Some(vec!["true".to_owned()]),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            attach_stdin: Some(false),
            tty: Some(false),
            ..CreateExecOptions::default()
        };

        let started = Instant::now();
        let created = docker
            .create_exec(container, options)
            .await
            .map_err(|e| format!("creating an exec in {container}: {e}"))?;
        let created_at = Instant::now();

        let start_options = StartExecOptions { detach: false, ..StartExecOptions::default() };
        let attached = docker
            .start_exec(&created.id, Some(start_options))
            .await
            .map_err(|e| format!("starting an exec in {container}: {e}"))?;
        if let StartExecResults::Attached { mut output, .. } = attached {
            while let Some(chunk) = output.next().await {
                chunk.map_err(|e| format!("reading exec output in {container}: {e}"))?;
            }
        }
        let ran_at = Instant::now();

        let inspected =
            docker.inspect_exec(&created.id).await.map_err(|e| format!("inspecting an exec in {container}: {e}"))?;
        let inspected_at = Instant::now();
        if inspected.exit_code != Some(0) {
            let status = inspected.exit_code.map_or("unknown".to_owned(), |code| code.to_string());
            return Err(format!("`true` in {container} ended with exit status {status}"));
        }

        let phases = [created_at - started, ran_at - created_at, inspected_at - ran_at];
        Ok(Detail { phases: Some(phases), ..Detail::default() })
    }

    /// Runs the spec's checks once. The run fails when any check ends in error, because an
    /// error means that an exec call or its output went wrong. A failed check is a result, not an error.
    async fn run_checks(&self) -> Result<Detail, String> {
        let container = self.next_container();
        let (results, exec_calls) =
            runner::run_checks_in(&self.engine, container, &self.checks, &self.run_options).await;
        if let Some(errored) = results.iter().find(|result| result.outcome == Outcome::Error) {
            let message = errored.message.as_deref().unwrap_or("no message");
            return Err(format!("check {} in {container}: {message}", errored.name));
        }
        Ok(Detail { phases: None, checks: results.len() as u64, exec_calls })
    }
}

/// Runs one level of `operation` with `concurrency` workers and returns what it measured, or
/// `None` when `cancel` fired before the level ended. CPU counters are read when the warm-up
/// ends and when the window ends.
pub(super) async fn measure_level(
    workload: &Arc<Workload>,
    operation: Operation,
    concurrency: u32,
    window: LevelWindow,
    probe: Option<&CpuProbe>,
    cancel: &CancellationToken,
) -> Option<LevelMeasurement> {
    let log = Arc::new(Mutex::new(Log::default()));
    let started = Instant::now();
    let measure_from = started + window.warmup;
    let deadline = measure_from + window.duration;

    let stop = cancel.child_token();
    let mut workers = JoinSet::new();
    for _ in 0..concurrency {
        workers.spawn(work(Arc::clone(workload), operation, deadline, stop.clone(), Arc::clone(&log)));
    }

    let ended = tokio::select! {
        cpu = read_cpu_over_window(probe, measure_from, deadline) => Some(cpu),
        () = stop.cancelled() => None,
    };
    let Some(cpu) = ended else {
        workers.abort_all();
        return None;
    };

    let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while let Some(joined) = workers.join_next().await {
            if let Err(error) = joined {
                warn!(operation = operation.name(), %error, "a benchmark worker failed");
            }
        }
    });
    let unfinished = match drained.await {
        Ok(()) => 0,
        Err(_) => {
            let unfinished = workers.len() as u64;
            workers.abort_all();
            unfinished
        }
    };
    if cancel.is_cancelled() {
        return None;
    }

    let log = std::mem::take(&mut *log.lock().expect("benchmark log lock"));
    let mut measurement = LevelMeasurement::new(operation, log, measure_from, deadline, cpu);
    if unfinished > 0 {
        let message =
            format!("{} did not complete within {} s after the level ended", operation.name(), DRAIN_TIMEOUT.as_secs());
        *measurement.errors.entry(message).or_default() += unfinished;
    }
    Some(measurement)
}

/// Sleeps until `from`, reads the CPU counters, sleeps until `until` and returns the usage
/// in between.
async fn read_cpu_over_window(probe: Option<&CpuProbe>, from: Instant, until: Instant) -> Option<CpuUsage> {
    tokio::time::sleep_until(from.into()).await;
    let before = probe.map(CpuProbe::snapshot);
    tokio::time::sleep_until(until.into()).await;
    let probe = probe?;
    let after = probe.snapshot();
    Some(after.usage_since(&before?, probe.clock_ticks()))
}

/// Runs one worker: operation, think time, again, until `deadline` or until `stop` fires.
async fn work(
    workload: Arc<Workload>,
    operation: Operation,
    deadline: Instant,
    stop: CancellationToken,
    log: Arc<Mutex<Log>>,
) {
    while Instant::now() < deadline {
        let started = Instant::now();
        let outcome = tokio::select! {
            outcome = workload.run_once(operation) => outcome,
            () = stop.cancelled() => return,
        };
        let finished = Instant::now();

        {
            let mut log = log.lock().expect("benchmark log lock");
            match outcome {
                Ok(detail) => log.samples.push(Sample { finished, latency: finished - started, detail }),
                Err(message) => log.errors.push((finished, message)),
            }
        }

        if !workload.think.is_zero() {
            let resume = (finished + workload.think).min(deadline);
            tokio::select! {
                () = tokio::time::sleep_until(resume.into()) => {}
                () = stop.cancelled() => return,
            }
        }
    }
}

impl LevelMeasurement {
    /// Keeps the samples that completed inside [`measure_from`, `deadline`]. Errors that
    /// completed during the warm-up are only counted; every later error counts as an error
    /// of the level, including those completed after the deadline.
    fn new(operation: Operation, log: Log, measure_from: Instant, deadline: Instant, cpu: Option<CpuUsage>) -> Self {
        let samples = log
            .samples
            .into_iter()
            .filter(|sample| sample.finished >= measure_from && sample.finished <= deadline)
            .collect();
        let mut errors: HashMap<String, u64> = HashMap::new();
        let mut warmup_errors = 0;
        for (finished, message) in log.errors {
            if finished < measure_from {
                warmup_errors += 1;
            } else {
                *errors.entry(message).or_default() += 1;
            }
        }
        LevelMeasurement { operation, samples, errors, warmup_errors, cpu }
    }

    /// Summarises the level for the report; rates are per second of the measured window.
    pub(super) fn into_report(self, concurrency: u32, window: Duration) -> LevelReport {
        let seconds = window.as_secs_f64();
        let operations = self.samples.len() as u64;
        let latency = Samples::new(self.samples.iter().map(|sample| sample.latency).collect()).summary();

        let phases = (self.operation == Operation::Exec).then(|| {
            let phase = |index: usize| {
                let durations = self.samples.iter().filter_map(|sample| sample.detail.phases.map(|p| p[index]));
                Samples::new(durations.collect()).summary()
            };
            PhaseSummary { create: phase(0), start: phase(1), inspect: phase(2) }
        });
        let (checks_per_second, exec_calls_per_second) = if self.operation == Operation::Checks {
            let checks: u64 = self.samples.iter().map(|sample| sample.detail.checks).sum();
            let exec_calls: u64 = self.samples.iter().map(|sample| sample.detail.exec_calls).sum();
            (Some(checks as f64 / seconds), Some(exec_calls as f64 / seconds))
        } else {
            (None, None)
        };

        let mut error_messages: Vec<ErrorCount> =
            self.errors.into_iter().map(|(message, count)| ErrorCount { message, count }).collect();
        error_messages.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.message.cmp(&b.message)));
        let errors = error_messages.iter().map(|error| error.count).sum();
        error_messages.truncate(MAX_ERROR_MESSAGES);

        LevelReport {
            concurrency,
            operations,
            errors,
            warmup_errors: self.warmup_errors,
            ops_per_second: operations as f64 / seconds,
            latency_ms: latency,
            phases_ms: phases,
            checks_per_second,
            exec_calls_per_second,
            cpu: self.cpu,
            error_messages,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_keeps_completed_samples_and_counts_errors() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let sample = |finished_ms: u64, latency_ms: u64| Sample {
            finished: at(finished_ms),
            latency: Duration::from_millis(latency_ms),
            detail: Detail { phases: Some([Duration::from_millis(1); 3]), ..Detail::default() },
        };
        let log = Log {
            samples: vec![sample(50, 50), sample(100, 60), sample(600, 10), sample(1100, 20), sample(1101, 20)],
            errors: vec![
                (at(10), "early".to_owned()),
                (at(200), "a".to_owned()),
                (at(300), "a".to_owned()),
                (at(1200), "b".to_owned()),
            ],
        };
        let measurement = LevelMeasurement::new(Operation::Exec, log, at(100), at(1100), None);
        let report = measurement.into_report(4, Duration::from_secs(1));

        assert_eq!(report.concurrency, 4);
        assert_eq!(report.operations, 3);
        assert_eq!(report.ops_per_second, 3.0);
        assert_eq!(report.errors, 3);
        assert_eq!(report.warmup_errors, 1);
        assert_eq!(report.error_messages[0].message, "a");
        assert_eq!(report.error_messages[0].count, 2);
        assert_eq!(report.latency_ms.unwrap().p50, 20.0);
        assert_eq!(report.phases_ms.unwrap().create.unwrap().p50, 1.0);
        assert_eq!(report.checks_per_second, None);
    }
}
