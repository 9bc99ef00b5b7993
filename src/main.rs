//! The `specrun` command: parses the command line, sets up logging, runs the specs, writes the
//! reports and owns the one table of exit statuses.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use clap::{CommandFactory, Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio_util::sync::CancellationToken;

use specrun::bench::{self, BenchArgs, BenchConfig, BenchError};
use specrun::engine::{Engine, Transport};
use specrun::report::{json, junit, terminal};
use specrun::runner::{self, Event, RunOptions, TargetSpec};
use specrun::spec::{self, Spec, values::DurationValue};

/// Exit statuses. Reporters never choose one; this table is the only place that does.
mod exit {
    /// Every check passed or was skipped.
    pub const PASSED: u8 = 0;
    /// At least one check failed or could not be evaluated. With --bench, at least one
    /// operation failed after the warm-up, or the plot could not be written.
    pub const CHECKS_FAILED: u8 = 1;
    /// Invalid command line or spec; nothing ran.
    pub const USAGE: u8 = 2;
    /// The engine was unreachable, an image or container was missing, or a container would not
    /// start.
    pub const INFRASTRUCTURE: u8 = 3;
    /// Stopped by SIGINT (128 + 2) or SIGTERM (128 + 15) after cleanup.
    pub const SIGINT: u8 = 130;
    pub const SIGTERM: u8 = 143;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// One line per check, details under failures.
    Terminal,
    /// The whole report as one JSON document on stdout.
    Json,
    /// One row per operation and concurrency level (--bench only).
    Csv,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum GatherChoice {
    /// The batch script where a shell runs; the archive API otherwise. An --image suite whose
    /// checks need no process is created but never started.
    Auto,
    /// Always the batch script (the container is started).
    Shell,
    /// File, package, user and group facts through the archive API even where a shell exists.
    Api,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum TransportChoice {
    /// Reuse Unix socket connections between requests.
    Pooled,
    /// A new connection per request, as bollard does by default.
    Unpooled,
}

/// Test container images and running containers from YAML spec files.
///
/// Every spec runs against every --image (in a new container, removed afterwards) and every
/// --container (used as it is). Without either, each spec runs against the `image:` it names.
///
/// With --bench, specrun runs no spec but measures how fast the engine serves exec, version,
/// info and ping calls, or a spec's checks, at rising concurrency.
#[derive(Debug, Parser)]
#[command(version, about, long_about)]
struct Cli {
    /// Spec files to run.
    #[arg(required_unless_present = "bench", value_name = "SPEC")]
    specs: Vec<PathBuf>,

    /// Measure the engine's throughput and latency instead of running specs; see the
    /// benchmark options below.
    #[arg(long)]
    bench: bool,

    /// Image to create a container from for each spec; overrides the spec's `image:`. Repeatable.
    /// With --bench, the image of the benchmark containers.
    #[arg(long, value_name = "IMAGE")]
    image: Vec<String>,

    /// Running container (name or id) to test as it is; specrun does not change or remove it.
    /// Repeatable. With --bench, exec and checks calls take turns over these containers.
    #[arg(long, value_name = "NAME_OR_ID")]
    container: Vec<String>,

    /// Containers under test at the same time.
    // NOTE: 4 jobs and 8 execs come from one early sweep on a loaded 2-core machine, where 2 to 4
    // jobs ran fastest. bench/defaults.sh re-measures both, but its result is not recorded yet.
    #[arg(long, default_value_t = 4, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    jobs: u16,

    /// Exec calls in flight across the whole run.
    #[arg(long, default_value_t = 8, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    max_execs: u16,

    /// Timeout of each check that sets no `timeout:` (such as 500ms, 10s, 2m).
    #[arg(long, default_value = "30s", value_name = "DURATION", value_parser = DurationValue::parse)]
    timeout: DurationValue,

    /// Bytes of stdout and of stderr captured per command; checks on longer output are
    /// decided on this prefix where it decides them.
    #[arg(long, default_value_t = 1024 * 1024, value_name = "BYTES")]
    max_output: u64,

    /// Network mode of containers that specrun creates, unless the spec sets `network:`.
    #[arg(long, default_value = "none", value_name = "MODE")]
    network: String,

    /// Gathering mode for file, package, user and group facts.
    #[arg(long, value_enum, default_value_t = GatherChoice::Auto, value_name = "MODE")]
    gather: GatherChoice,

    /// Run only checks with at least one of these tags (comma-separated); others are skipped.
    #[arg(long, value_delimiter = ',', value_name = "TAG,...")]
    tags: Vec<String>,

    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Terminal)]
    format: Format,

    /// Also write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE", conflicts_with = "bench")]
    junit: Option<PathBuf>,

    /// Show every assertion of passed checks too.
    #[arg(short, long)]
    verbose: bool,

    /// Color in terminal output; `auto` colors a terminal unless NO_COLOR is set.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    color: ColorChoice,

    /// How to connect to a Unix socket engine.
    #[arg(long, value_enum, default_value_t = TransportChoice::Pooled, hide = true)]
    transport: TransportChoice,

    // Last, because its help heading also applies to every argument after it.
    #[command(flatten)]
    bench_options: BenchArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Checked here rather than by clap: the first rule depends on a value, and for the second a
    // `conflicts_with = "bench"` on SPEC would make clap drop the `requires = "bench"` of every
    // benchmark option whenever a spec is given.
    if cli.format == Format::Csv && !cli.bench {
        Cli::command()
            .error(clap::error::ErrorKind::ArgumentConflict, "--format csv is available only with --bench")
            .exit();
    }
    if cli.bench && !cli.specs.is_empty() {
        Cli::command()
            .error(
                clap::error::ErrorKind::ArgumentConflict,
                "--bench runs no spec files; give the spec for --ops checks with --spec FILE",
            )
            .exit();
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SPECRUN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty()))
        .init();
    if cli.bench {
        return ExitCode::from(run_bench(cli));
    }

    let specs = match spec::load_all(&cli.specs) {
        Ok(specs) => specs.into_iter().map(|spec| select_tags(spec, &cli.tags)).collect(),
        Err(errors) => {
            for error in errors {
                eprintln!("error: {error}");
            }
            return ExitCode::from(exit::USAGE);
        }
    };
    let jobs = match plan_jobs(&cli, specs) {
        Ok(jobs) => jobs,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(exit::USAGE);
        }
    };

    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(exit::INFRASTRUCTURE);
        }
    };
    ExitCode::from(runtime.block_on(run(cli, jobs)))
}

/// Marks checks without any of `tags` as skipped; an empty `tags` selects every check.
fn select_tags(mut spec: Spec, tags: &[String]) -> Spec {
    if tags.is_empty() {
        return spec;
    }
    for check in &mut spec.checks {
        if check.skip.is_none() && !check.tags.iter().any(|tag| tags.contains(tag)) {
            check.skip = Some(format!("not selected by --tags {}", tags.join(",")));
        }
    }
    spec
}

/// Runs `--bench` and writes its report; returns the exit status.
fn run_bench(cli: Cli) -> u8 {
    let run_options = run_options(&cli);
    let config = BenchConfig::new(
        &cli.bench_options,
        &cli.image,
        &cli.container,
        run_options,
        transport(cli.transport),
        new_run_id(),
    );
    let mut config = match config {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {error}");
            return exit::USAGE;
        }
    };
    config.show_progress = std::io::stderr().is_terminal();

    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return exit::INFRASTRUCTURE;
        }
    };
    let cancel = CancellationToken::new();
    let signal = Arc::new(AtomicI32::new(0));
    let outcome = runtime.block_on(async {
        spawn_signal_handler(cancel.clone(), Arc::clone(&signal));
        bench::run(&config, cancel).await
    });
    let signal_status = match signal.load(Ordering::SeqCst) {
        2 => Some(exit::SIGINT),
        15 => Some(exit::SIGTERM),
        _ => None,
    };
    let report = match outcome {
        Ok(report) => report,
        Err(BenchError::Cancelled) => return signal_status.unwrap_or(exit::SIGINT),
        Err(error @ (BenchError::Usage(_) | BenchError::Spec(_))) => {
            eprintln!("error: {error}");
            return exit::USAGE;
        }
        Err(error @ BenchError::Engine(_)) => {
            eprintln!("error: {error}");
            return exit::INFRASTRUCTURE;
        }
    };

    let mut stdout = std::io::stdout().lock();
    let written = match cli.format {
        Format::Terminal => bench::report::write_table(&mut stdout, &report),
        Format::Json => bench::report::write_json(&mut stdout, &report),
        Format::Csv => bench::report::write_csv(&mut stdout, &report),
    };
    if let Err(error) = written.and_then(|()| stdout.flush()) {
        eprintln!("error: writing the report to stdout failed: {error}");
    }
    let mut status = exit::PASSED;
    let errors = report.total_errors();
    if errors > 0 {
        eprintln!("error: {errors} operations failed after the warm-up; the report lists their messages");
        status = exit::CHECKS_FAILED;
    }
    if let Some(path) = &config.plot
        && let Err(error) = bench::plot::write_svg(path, &report)
    {
        eprintln!("error: {error}");
        status = exit::CHECKS_FAILED;
    }
    signal_status.unwrap_or(status)
}

fn run_options(cli: &Cli) -> RunOptions {
    RunOptions {
        jobs: usize::from(cli.jobs),
        max_execs: usize::from(cli.max_execs),
        default_timeout: cli.timeout.0,
        max_output: cli.max_output,
        network: cli.network.clone(),
        gather: match cli.gather {
            GatherChoice::Auto => runner::Gather::Auto,
            GatherChoice::Shell => runner::Gather::Shell,
            GatherChoice::Api => runner::Gather::Api,
        },
    }
}

fn transport(choice: TransportChoice) -> Transport {
    match choice {
        TransportChoice::Pooled => Transport::Pooled,
        TransportChoice::Unpooled => Transport::Unpooled,
    }
}

/// Pairs every spec with every target.
fn plan_jobs(cli: &Cli, specs: Vec<Spec>) -> Result<Vec<(Arc<Spec>, TargetSpec)>, String> {
    let mut jobs = Vec::new();
    for spec in specs {
        let spec = Arc::new(spec);
        let mut targets: Vec<TargetSpec> = cli.image.iter().cloned().map(TargetSpec::Image).collect();
        targets.extend(cli.container.iter().cloned().map(TargetSpec::Container));
        if targets.is_empty() {
            let Some(image) = &spec.image else {
                return Err(format!(
                    "{} names no image: pass --image IMAGE or --container NAME, or add `image:` to the spec",
                    spec.path
                ));
            };
            targets.push(TargetSpec::Image(image.clone()));
        }
        jobs.extend(targets.into_iter().map(|target| (Arc::clone(&spec), target)));
    }
    Ok(jobs)
}

async fn run(cli: Cli, jobs: Vec<(Arc<Spec>, TargetSpec)>) -> u8 {
    let engine = match Engine::connect(transport(cli.transport)).await {
        Ok(engine) => engine,
        Err(error) => {
            eprintln!("error: {error}");
            return exit::INFRASTRUCTURE;
        }
    };
    if let Err(message) = preflight(&engine, &jobs).await {
        eprintln!("error: {message}");
        return exit::INFRASTRUCTURE;
    }

    let cancel = CancellationToken::new();
    let signal = Arc::new(AtomicI32::new(0));
    spawn_signal_handler(cancel.clone(), Arc::clone(&signal));

    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let style = terminal::TerminalStyle { color };
    let total_checks: usize = jobs.iter().map(|(spec, _)| spec.checks.len()).sum();
    let progress = progress_bar(jobs.len(), total_checks);
    let observer = {
        let progress = progress.clone();
        let format = cli.format;
        let verbose = cli.verbose;
        Arc::new(move |event: Event| match event {
            Event::SuiteStarted { .. } => {}
            Event::SuiteFinished(suite) => {
                progress.inc(1);
                if format == Format::Terminal {
                    progress.suspend(|| {
                        let mut stdout = std::io::stdout().lock();
                        let _ = terminal::write_suite(&mut stdout, &suite, style, verbose);
                        let _ = stdout.flush();
                    });
                }
            }
        })
    };

    let options = run_options(&cli);
    let run_id = new_run_id();
    let outcome = runner::run(engine, jobs, options, run_id, cancel, observer).await;
    progress.finish_and_clear();

    let mut stdout = std::io::stdout().lock();
    let written = match cli.format {
        Format::Terminal => terminal::write_summary(&mut stdout, &outcome.report.summary, style),
        Format::Json => json::write_json(&mut stdout, &outcome.report),
        Format::Csv => unreachable!("main rejects --format csv without --bench"),
    };
    if let Err(error) = written.and_then(|()| stdout.flush()) {
        eprintln!("error: writing the report to stdout failed: {error}");
    }
    let mut status = if outcome.report.all_passed() { exit::PASSED } else { exit::CHECKS_FAILED };
    if let Some(path) = &cli.junit
        && let Err(message) = write_junit_file(path, &outcome.report)
    {
        eprintln!("error: {message}");
        status = status.max(exit::CHECKS_FAILED);
    }
    for error in &outcome.infrastructure_errors {
        eprintln!("error: {error}");
        status = exit::INFRASTRUCTURE;
    }

    match signal.load(Ordering::SeqCst) {
        2 => exit::SIGINT,
        15 => exit::SIGTERM,
        _ => status,
    }
}

/// Checks every image and container before creating anything, so that a typo costs nothing.
async fn preflight(engine: &Engine, jobs: &[(Arc<Spec>, TargetSpec)]) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for (_, target) in jobs {
        if !seen.insert(target.clone()) {
            continue;
        }
        match target {
            TargetSpec::Image(image) => {
                engine.image_metadata(image).await.map_err(|error| error.to_string())?;
            }
            TargetSpec::Container(container) => {
                engine.check_running(container).await.map_err(|error| error.to_string())?;
            }
        }
    }
    Ok(())
}

fn write_junit_file(path: &PathBuf, report: &specrun::report::model::RunReport) -> Result<(), String> {
    let file = std::fs::File::create(path)
        .map_err(|error| format!("cannot create the JUnit report {}: {error}", path.display()))?;
    let mut writer = std::io::BufWriter::new(file);
    junit::write_junit(&mut writer, report)
        .map_err(|error| format!("writing the JUnit report {} failed: {error}", path.display()))?;
    writer.flush().map_err(|error| format!("writing the JUnit report {} failed: {error}", path.display()))
}

/// Cancels the run on the first SIGINT or SIGTERM and records which one came.
fn spawn_signal_handler(cancel: CancellationToken, signal: Arc<AtomicI32>) {
    use tokio::signal::unix::{SignalKind, signal as unix_signal};
    tokio::spawn(async move {
        let (Ok(mut interrupt), Ok(mut terminate)) =
            (unix_signal(SignalKind::interrupt()), unix_signal(SignalKind::terminate()))
        else {
            tracing::warn!("cannot install signal handlers; Ctrl-C will not clean up containers");
            return;
        };
        let number = tokio::select! {
            _ = interrupt.recv() => 2,
            _ = terminate.recv() => 15,
        };
        signal.store(number, Ordering::SeqCst);
        eprintln!("specrun: stopping; removing containers");
        cancel.cancel();
    });
}

/// Progress on stderr while suites run, shown only on a terminal and only once the run has
/// taken longer than [`PROGRESS_DELAY`], so quick runs print nothing extra.
fn progress_bar(suites: usize, checks: usize) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(suites as u64), ProgressDrawTarget::hidden());
    if !std::io::stderr().is_terminal() {
        return bar;
    }
    let template = format!("{{spinner}} {{pos}}/{{len}} suites ({checks} checks) {{elapsed}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    let delayed = bar.clone();
    tokio::spawn(async move {
        tokio::time::sleep(PROGRESS_DELAY).await;
        if !delayed.is_finished() {
            delayed.set_draw_target(ProgressDrawTarget::stderr());
            delayed.enable_steady_tick(Duration::from_millis(120));
        }
    });
    bar
}

/// How long a run goes before the progress line appears.
const PROGRESS_DELAY: Duration = Duration::from_millis(750);

/// Generates a short random id for container names and the run label.
fn new_run_id() -> String {
    let bytes: [u8; 4] = rand::random();
    hex::encode(bytes)
}
