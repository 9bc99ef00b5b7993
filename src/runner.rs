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
use crate::check::metadata::ImageMetadata;
use crate::engine::{Engine, EngineError, ExecRequest};
use crate::facts::{self, FactNeeds, Facts, Gathered, RawOutput, api};
use crate::report::model::{CheckResult, CommandOutput, RunReport, SuiteResult, Target};
use crate::script::framing::{Decoder, Frame, FramingError};
use crate::script::{self, Batch, PlanOptions};
use crate::spec::Spec;
use crate::spec::values::CommandLine;

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
    /// Fact gathering mode.
    pub gather: Gather,
}

/// Mode in which a suite gathers file, package, user and group facts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Gather {
    /// The batch script where the container has `/bin/sh`; the archive API otherwise. A suite
    /// from `--image` without a shell whose checks need no process is never started.
    #[default]
    Auto,
    /// Always the batch script; the container is started.
    Shell,
    /// Always the archive API, and a suite from `--image` whose checks need no process is never
    /// started. Command, port and process checks still need a shell.
    Api,
}

/// Container, image and state in which a suite's checks run.
struct SuiteContext<'a> {
    container: &'a str,
    /// Image the container was created from, for metadata checks.
    image: Option<&'a str>,
    /// Whether the container runs; a container created for API-only checks does not.
    running: bool,
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
    let needs = collect_needs(&spec.checks);
    let has_commands = spec
        .checks
        .iter()
        .any(|check| check.skip.is_none() && matches!(check.kind, crate::check::CheckKind::Command(_)));
    let needs_process = has_commands || needs.needs_running_container();

    let context = match target {
        TargetSpec::Image(image) => {
            let network = spec.network.clone().unwrap_or_else(|| shared.options.network.clone());
            shared.created.lock().expect("container list lock").push(container.to_owned());
            shared.engine.create_container(image, container, &shared.run_id, &network).await?;
            // One batch script in a started container gathers facts faster than many archive
            // requests (BENCHMARKS.md), so `auto` starts containers that have a shell.
            let start = match shared.options.gather {
                Gather::Shell => true,
                Gather::Api => needs_process,
                Gather::Auto => {
                    needs_process || matches!(shared.engine.path_stat(container, "/bin/sh").await, Ok(Some(_)))
                }
            };
            if start {
                shared.engine.start_created(container).await?;
                info!(container, image = %image, network = %network, "container started");
                let state = shared.engine.state(container).await?;
                if !state.running {
                    return Err(
                        EngineError::ContainerExited { image: image.clone(), exit_code: state.exit_code }.into()
                    );
                }
            } else {
                info!(container, image = %image, "container created; its checks need no process, so it is not started");
            }
            SuiteContext { container, image: Some(image), running: start }
        }
        TargetSpec::Container(name) => {
            shared.engine.check_running(name).await?;
            SuiteContext { container, image: None, running: true }
        }
    };
    Ok(run_checks(shared, &context, &spec.checks).await)
}

fn collect_needs(checks: &[Check]) -> FactNeeds {
    let mut needs = FactNeeds::default();
    checks.iter().filter(|check| check.skip.is_none()).for_each(|check| check.request_facts(&mut needs));
    needs
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
    let context = SuiteContext { container, image: None, running: true };
    run_checks(&shared, &context, checks).await
}

async fn run_checks(shared: &Shared, context: &SuiteContext<'_>, checks: &[Check]) -> (Vec<CheckResult>, u64) {
    let container = context.container;
    let needs = collect_needs(checks);
    let shell = context.running && matches!(shared.engine.path_stat(container, "/bin/sh").await, Ok(Some(_)));
    let facts_by_script = match shared.options.gather {
        Gather::Auto => shell,
        Gather::Shell => true,
        Gather::Api => false,
    };
    let commands_by_script = shell || shared.options.gather == Gather::Shell;

    // Sockets and processes live in /proc of the running container, so the script reads them
    // whenever there is a shell, even when files come through the API.
    let mut script_needs = if facts_by_script { needs.clone() } else { FactNeeds::default() };
    script_needs.sockets = needs.sockets && commands_by_script;
    script_needs.processes = needs.processes && commands_by_script;
    script_needs.image_metadata = false;
    let mut api_needs = if facts_by_script { FactNeeds::default() } else { needs.clone() };
    api_needs.sockets = needs.sockets && !commands_by_script;
    api_needs.processes = needs.processes && !commands_by_script;
    api_needs.image_metadata = false;

    let nonce = new_nonce();
    let terminator = format!("<{nonce}>");
    let plan_options = PlanOptions {
        needs: &script_needs,
        commands: commands_by_script,
        default_timeout: shared.options.default_timeout,
        cap: shared.options.max_output,
        terminator: &terminator,
    };
    let batches = script::plan(checks, &plan_options);

    let runs = batches.iter().map(|batch| run_batch(shared, container, batch, &nonce));
    let (batch_results, mut facts) = tokio::join!(join_all(runs), async {
        if api_needs.is_empty() {
            Facts::default()
        } else {
            api::gather(&shared.engine, container, &api_needs, shared.options.max_output).await
        }
    });
    let mut outputs = Vec::new();
    let mut batch_failed = false;
    for (batch, results) in batches.iter().zip(batch_results) {
        for (item, result) in batch.items.iter().zip(results) {
            batch_failed |= result.is_err();
            outputs.push((item.kind.clone(), result));
        }
    }
    facts::assemble_into(&mut facts, outputs, &script_needs, &terminator, &nonce);

    let mut exec_calls = batches.len() as u64;
    if !commands_by_script {
        exec_calls += run_commands_without_shell(shared, context, checks, &mut facts).await;
    }
    if needs.image_metadata {
        facts.image_metadata = Some(gather_metadata(shared, context).await);
    }
    if batch_failed
        && let Ok(state) = shared.engine.state(container).await
        && !state.running
    {
        let message = format!("the container stopped ({}) before its checks finished", state.describe());
        return (checks.iter().map(|check| check.error_result(message.clone())).collect(), exec_calls);
    }

    let results = checks.par_iter().map(|check| check.evaluate(&facts)).collect();
    (results, exec_calls)
}

async fn gather_metadata(shared: &Shared, context: &SuiteContext<'_>) -> Gathered<ImageMetadata> {
    let started = Instant::now();
    let image = match context.image {
        Some(image) => Ok(image.to_owned()),
        None => shared.engine.container_image(context.container).await,
    };
    let metadata = match image {
        Ok(image) => shared.engine.image_metadata(&image).await,
        Err(error) => Err(error),
    };
    Gathered::new(metadata.map_err(|error| error.to_string()), started.elapsed())
}

/// Runs argv command checks one exec call each, for containers without a shell. A command
/// given as a string needs `/bin/sh -c` and is reported as an error.
async fn run_commands_without_shell(
    shared: &Shared,
    context: &SuiteContext<'_>,
    checks: &[Check],
    facts: &mut Facts,
) -> u64 {
    let mut exec_calls = 0;
    for check in checks.iter().filter(|check| check.skip.is_none()) {
        let crate::check::CheckKind::Command(command) = &check.kind else { continue };
        let result = match &command.command {
            _ if !context.running => Err("the container is not running".to_owned()),
            CommandLine::Shell(_) => Err(format!(
                "this command is a string, which runs with /bin/sh -c, but {} has no /bin/sh;                  write it as an argument list such as [\"/app\", \"--version\"]",
                context.image.unwrap_or(context.container)
            )),
            CommandLine::Argv(argv) => {
                exec_calls += 1;
                let request = ExecRequest {
                    cmd: argv.clone(),
                    user: command.user.clone(),
                    env: command.env.iter().map(|(name, value)| format!("{name}={value}")).collect(),
                    workdir: command.workdir.clone(),
                };
                let timeout = check.timeout.unwrap_or(shared.options.default_timeout);
                run_direct(shared, context.container, request, timeout).await
            }
        };
        facts.commands.insert(check.index, result);
    }
    exec_calls
}

/// Runs one process through the exec API and captures its output like a batch item.
async fn run_direct(
    shared: &Shared,
    container: &str,
    request: ExecRequest,
    timeout: Duration,
) -> Result<RawOutput, String> {
    let _permit = shared.execs.acquire().await.expect("the exec semaphore is never closed");
    let cap = usize::try_from(shared.options.max_output).unwrap_or(usize::MAX);
    let started = Instant::now();
    let mut stdout = Vec::new();
    let mut stdout_len = 0u64;
    let exec = shared.engine.exec_request(container, request, |chunk| {
        stdout_len += chunk.len() as u64;
        let room = cap.saturating_sub(stdout.len());
        stdout.extend_from_slice(&chunk[..chunk.len().min(room)]);
        Ok::<(), std::convert::Infallible>(())
    });
    match tokio::time::timeout(timeout, exec).await {
        Ok(Ok(Ok(result))) => {
            let stderr_len = result.stderr.len() as u64;
            let mut stderr = result.stderr;
            stderr.truncate(cap);
            let output = CommandOutput {
                exit_status: result.exit_code,
                stdout,
                stderr,
                stdout_len,
                stderr_len,
                timed_out: false,
            };
            Ok(RawOutput { output, duration: started.elapsed(), workdir_failed: false })
        }
        Ok(Ok(Err(never))) => match never {},
        Ok(Err(error)) => Err(error.to_string()),
        // NOTE: the exec API cannot signal an exec's process, so a command that timed out
        // without a shell keeps running until the container stops.
        Err(_) => {
            let output = CommandOutput { timed_out: true, stdout, stdout_len, ..CommandOutput::default() };
            Ok(RawOutput { output, duration: started.elapsed(), workdir_failed: false })
        }
    }
}

/// Runs one batch in one exec call. Returns one result per item, in item order; an item that
/// did not report gets the reason as its error.
async fn run_batch(shared: &Shared, container: &str, batch: &Batch, nonce: &str) -> Vec<Result<RawOutput, String>> {
    let script = script::render(batch, nonce);
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
