//! The run pipeline: one task per suite (a spec file on one target), each planning its checks
//! into batches, running them through exec calls and evaluating the gathered facts.
//!
//! The runner never prints. It sends [`Event`]s to an observer and returns a [`RunReport`];
//! reporters render them and the binary picks the exit status. Containers it creates are
//! removed when their suite ends, and again by label at the end of the run, so a cancelled or
//! failed run leaves none behind.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use rayon::prelude::*;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::check::Check;
use crate::engine::{Engine, EngineError};
use crate::facts::{self, FactNeeds, RawOutput};
use crate::report::model::{CheckResult, RunReport, SuiteResult, Target};
use crate::script::framing::{Decoder, Frame, FramingError};
use crate::script::{self, Batch};
use crate::spec::Spec;

/// Target of a suite.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TargetSpec {
    /// Create a container from this image for the suite.
    Image(String),
    /// Use this running container as it is.
    Container(String),
}

/// Settings of a run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Suites (containers) under test at once.
    pub jobs: usize,
    /// Exec calls in flight across the whole run.
    pub max_execs: usize,
    /// Timeout of checks that set none.
    pub default_timeout: Duration,
    /// Bytes of each output stream captured per command.
    pub max_output: u64,
    /// Network mode for created containers when the spec sets none.
    pub network: String,
}

/// Progress notifications, in the order things happen.
#[derive(Clone, Debug)]
pub enum Event {
    SuiteStarted { spec: String, target: String, checks: usize },
    SuiteFinished(SuiteResult),
}

/// An error that stops a suite from running at all. Its checks are reported as errors and the
/// run ends with the infrastructure exit status.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("cancelled")]
    Cancelled,
}

/// The outcome of a whole run: the report plus the infrastructure errors met on the way.
#[derive(Debug)]
pub struct RunOutcome {
    pub report: RunReport,
    pub infrastructure_errors: Vec<String>,
    pub cancelled: bool,
}

type Observer = Arc<dyn Fn(Event) + Send + Sync>;

/// Shared state of a run.
struct Shared {
    engine: Engine,
    options: RunOptions,
    run_id: String,
    execs: Semaphore,
    cancel: CancellationToken,
    observer: Observer,
    /// Containers created and not yet removed.
    created: Mutex<Vec<String>>,
}

/// Runs every spec on every target and returns the report. Cancelling `cancel` stops
/// scheduling, ends running suites and still removes every container the run created.
pub async fn run(
    engine: Engine,
    jobs: Vec<(Arc<Spec>, TargetSpec)>,
    options: RunOptions,
    run_id: String,
    cancel: CancellationToken,
    observer: Observer,
) -> RunOutcome {
    let started = Instant::now();
    let shared = Arc::new(Shared {
        engine,
        execs: Semaphore::new(options.max_execs.max(1)),
        options,
        run_id,
        cancel,
        observer,
        created: Mutex::new(Vec::new()),
    });
    let slots = Arc::new(Semaphore::new(shared.options.jobs.max(1)));

    let tasks = jobs.into_iter().enumerate().map(|(number, (spec, target))| {
        let shared = Arc::clone(&shared);
        let slots = Arc::clone(&slots);
        tokio::spawn(async move {
            let _slot = slots.acquire().await.expect("the job semaphore is never closed");
            run_suite(&shared, number, &spec, &target).await
        })
    });
    let finished = join_all(tasks).await;

    let mut suites = Vec::new();
    let mut infrastructure_errors = Vec::new();
    let mut containers = std::collections::HashSet::new();
    for result in finished {
        match result {
            Ok((suite, error)) => {
                containers.insert(suite.target.container.clone());
                if let Some(error) = error {
                    infrastructure_errors.push(error);
                }
                suites.push(suite);
            }
            Err(join_error) => infrastructure_errors.push(format!("a suite task failed: {join_error}")),
        }
    }
    cleanup(&shared).await;

    let cancelled = shared.cancel.is_cancelled();
    RunOutcome { report: RunReport::new(suites, containers.len(), started.elapsed()), infrastructure_errors, cancelled }
}

/// Removes every container of the run that is still there, logging failures and going on.
async fn cleanup(shared: &Shared) {
    let mut ids: Vec<String> = shared.created.lock().expect("container list lock").drain(..).collect();
    match shared.engine.run_containers(&shared.run_id).await {
        Ok(labelled) => {
            for id in labelled {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        Err(error) => warn!(run = %shared.run_id, %error, "listing the run's containers failed"),
    }
    for id in ids {
        if let Err(error) = shared.engine.remove_container(&id).await {
            warn!(container = %id, %error, "removing a container failed");
        }
    }
}

/// Runs one suite. Returns its result and, when it could not run, the reason.
async fn run_suite(shared: &Shared, number: usize, spec: &Spec, target: &TargetSpec) -> (SuiteResult, Option<String>) {
    let started = Instant::now();
    let container_name = match target {
        TargetSpec::Image(_) => format!("specrun-{}-{number}", shared.run_id),
        TargetSpec::Container(name) => name.clone(),
    };
    let image = match target {
        TargetSpec::Image(image) => Some(image.clone()),
        TargetSpec::Container(_) => None,
    };
    let label = image.clone().unwrap_or_else(|| container_name.clone());
    (shared.observer)(Event::SuiteStarted { spec: spec.path.clone(), target: label, checks: spec.checks.len() });

    let outcome = tokio::select! {
        outcome = prepare_and_run(shared, spec, target, &container_name) => outcome,
        () = shared.cancel.cancelled() => Err(SuiteError::Cancelled),
    };
    let (checks, exec_calls, error) = match outcome {
        Ok((checks, exec_calls)) => (checks, exec_calls, None),
        Err(error) => {
            let message = error.to_string();
            let checks = spec.checks.iter().map(|check| check.error_result(message.clone())).collect();
            let reported = (!matches!(error, SuiteError::Cancelled)).then_some(message);
            (checks, 0, reported)
        }
    };

    if image.is_some() {
        remove_created(shared, &container_name).await;
    }
    let suite = SuiteResult {
        spec: spec.path.clone(),
        target: Target { image, container: container_name },
        checks,
        duration: started.elapsed(),
        exec_calls,
    };
    (shared.observer)(Event::SuiteFinished(suite.clone()));
    (suite, error)
}

async fn remove_created(shared: &Shared, name: &str) {
    if let Err(error) = shared.engine.remove_container(name).await {
        warn!(container = %name, %error, "removing a container failed; the end of the run tries again");
        return;
    }
    shared.created.lock().expect("container list lock").retain(|created| created != name);
}

async fn prepare_and_run(
    shared: &Shared,
    spec: &Spec,
    target: &TargetSpec,
    container: &str,
) -> Result<(Vec<CheckResult>, u64), SuiteError> {
    match target {
        TargetSpec::Image(image) => {
            let network = spec.network.clone().unwrap_or_else(|| shared.options.network.clone());
            shared.created.lock().expect("container list lock").push(container.to_owned());
            shared.engine.start_container(image, container, &shared.run_id, &network).await?;
            info!(container, image = %image, network = %network, "container started");
            let state = shared.engine.state(container).await?;
            if !state.running {
                return Err(EngineError::ContainerExited { image: image.clone(), exit_code: state.exit_code }.into());
            }
        }
        TargetSpec::Container(name) => shared.engine.check_running(name).await?,
    }
    Ok(run_checks(shared, container, &spec.checks).await)
}

/// Plans, runs and evaluates the checks of one suite in `container`. Returns the results and
/// the number of exec calls made.
pub async fn run_checks_in(
    engine: &Engine,
    container: &str,
    checks: &[Check],
    options: &RunOptions,
) -> (Vec<CheckResult>, u64) {
    let shared = Shared {
        engine: engine.clone(),
        execs: Semaphore::new(options.max_execs.max(1)),
        options: options.clone(),
        run_id: String::new(),
        cancel: CancellationToken::new(),
        observer: Arc::new(|_| {}),
        created: Mutex::new(Vec::new()),
    };
    run_checks(&shared, container, checks).await
}

async fn run_checks(shared: &Shared, container: &str, checks: &[Check]) -> (Vec<CheckResult>, u64) {
    let nonce = new_nonce();
    let terminator = format!("<{nonce}>");
    let batches = script::plan(checks, shared.options.default_timeout, &terminator);

    let runs = batches.iter().map(|batch| run_batch(shared, container, batch, &nonce));
    let mut outputs = Vec::new();
    for (batch, results) in batches.iter().zip(join_all(runs).await) {
        for (item, result) in batch.items.iter().zip(results) {
            outputs.push((item.kind.clone(), result));
        }
    }

    let mut needs = FactNeeds::default();
    checks.iter().filter(|check| check.skip.is_none()).for_each(|check| check.request_facts(&mut needs));
    let facts = facts::assemble(outputs, &needs, &terminator);
    let results = checks.par_iter().map(|check| check.evaluate(&facts)).collect();
    (results, batches.len() as u64)
}

/// Runs one batch in one exec call. Returns one result per item, in item order; an item that
/// did not report gets the reason as its error.
async fn run_batch(shared: &Shared, container: &str, batch: &Batch, nonce: &str) -> Vec<Result<RawOutput, String>> {
    let script = script::render(batch, nonce, shared.options.max_output);
    let mut records: HashMap<usize, RawOutput> = HashMap::new();
    let mut fatal = false;
    let mut ended = false;

    let outcome = {
        let _permit = shared.execs.acquire().await.expect("the exec semaphore is never closed");
        let mut decoder = Decoder::new(nonce);
        let cmd = vec!["/bin/sh".to_owned(), "-c".to_owned(), script];
        let exec = shared.engine.exec(container, cmd, batch.user.as_deref(), |chunk| {
            for frame in decoder.push(chunk)? {
                match frame {
                    Frame::Record { id, output } => {
                        records.insert(id, output);
                    }
                    Frame::End => ended = true,
                    Frame::Fatal => fatal = true,
                }
            }
            Ok::<(), FramingError>(())
        });
        let outcome = tokio::time::timeout(batch.deadline(), exec).await;
        match outcome {
            Ok(Ok(Ok(result))) => decoder.finish().map(|()| result).map_err(|error| error.to_string()),
            // Before the script runs, the engine reports exec failures such as an unknown user
            // as plain text on stdout, so a stream that is not framed from its first byte is
            // shown as that message.
            Ok(Ok(Err(FramingError::BadHeader { offset: 0, header }))) => {
                Err(format!("the exec call failed: {}", header.trim()))
            }
            Ok(Ok(Err(framing))) => Err(format!("the batch output could not be decoded: {framing}")),
            Ok(Err(engine)) => Err(engine.to_string()),
            Err(_) => Err(format!("the batch did not finish within {} s", batch.deadline().as_secs())),
        }
    };

    let reason = match outcome {
        Ok(_) if ended => None,
        Ok(result) => {
            let stderr = String::from_utf8_lossy(&result.stderr).trim().to_owned();
            let status = result.exit_code.map_or("unknown".to_owned(), |code| code.to_string());
            Some(if fatal {
                format!("the batch script could not start: {stderr}")
            } else if stderr.is_empty() {
                format!("the batch script stopped early (exit status {status})")
            } else {
                format!("the batch script stopped early (exit status {status}): {stderr}")
            })
        }
        Err(error) => Some(error),
    };
    if let Some(reason) = &reason {
        debug!(container, %reason, "batch failed");
    }

    (0..batch.items.len())
        .map(|id| match records.remove(&id) {
            Some(output) => Ok(output),
            None => Err(reason.clone().unwrap_or_else(|| "the command did not report".to_owned())),
        })
        .collect()
}

/// Generates a 128-bit random value in hex, new for every suite.
fn new_nonce() -> String {
    let bytes: [u8; 16] = rand::random();
    hex::encode(bytes)
}
