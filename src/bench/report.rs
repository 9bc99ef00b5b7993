//! The benchmark report and its renderings: a terminal table, JSON and CSV.

use std::io::{self, Write};

use serde::Serialize;

use super::cpu::CpuUsage;
use super::stats::{self, LatencySummary};
use super::{BenchConfig, BenchTarget, Operation};
use crate::engine::Transport;

/// Version of the benchmark JSON document, written as its top-level `version` field. It
/// changes only when a field is removed, renamed or changes its type.
pub const BENCH_JSON_VERSION: u32 = 1;

/// Everything one benchmark run measured.
#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    /// Value of the `specrun.run` label on the containers the run created.
    pub run_id: String,
    pub engine: EngineInfo,
    pub settings: Settings,
    pub host: HostInfo,
    /// SIGINT or SIGTERM ended the run early; the levels measured before are reported.
    pub cancelled: bool,
    pub operations: Vec<OperationReport>,
}

/// The engine the benchmark ran against.
#[derive(Clone, Debug, Serialize)]
pub struct EngineInfo {
    pub host: String,
    pub server_version: Option<String>,
    pub api_version: Option<String>,
}

/// The options of the run. Durations are in seconds.
#[derive(Clone, Debug, Serialize)]
pub struct Settings {
    pub operations: Vec<Operation>,
    pub concurrency: Vec<u32>,
    pub duration: f64,
    pub warmup: f64,
    pub think: f64,
    /// Image the benchmark containers were created from, when it created any.
    pub image: Option<String>,
    /// Containers that exec and checks calls ran in.
    pub containers: Vec<String>,
    pub spec: Option<String>,
    pub transport: &'static str,
}

impl Settings {
    pub(super) fn new(config: &BenchConfig, containers: Vec<String>) -> Settings {
        let image = match &config.target {
            BenchTarget::Image { image, .. } => Some(image.clone()),
            BenchTarget::None | BenchTarget::Containers(_) => None,
        };
        Settings {
            operations: config.operations.clone(),
            concurrency: config.levels.clone(),
            duration: config.duration.as_secs_f64(),
            warmup: config.warmup.as_secs_f64(),
            think: config.think.as_secs_f64(),
            image,
            containers,
            spec: config.spec.as_ref().map(|spec| spec.path.clone()),
            transport: match config.transport {
                Transport::Pooled => "pooled",
                Transport::Unpooled => "unpooled",
            },
        }
    }
}

/// The host's CPUs and whether CPU time was measured.
#[derive(Clone, Debug, Serialize)]
pub struct HostInfo {
    pub cpus: Option<usize>,
    /// Clock ticks per second from `sysconf(_SC_CLK_TCK)`, or 100 when that call fails.
    pub clock_ticks_per_second: Option<u64>,
    pub cpu_measured: bool,
    /// Explanation when CPU time is not measured.
    pub note: Option<String>,
}

/// All levels of one operation.
#[derive(Clone, Debug, Serialize)]
pub struct OperationReport {
    pub operation: Operation,
    /// The first concurrency after which throughput grows by less than 10 %, as
    /// [`stats::knee`] defines it; `null` when no level reached it.
    pub knee: Option<u32>,
    pub levels: Vec<LevelReport>,
}

impl OperationReport {
    pub fn new(operation: Operation, levels: Vec<LevelReport>) -> OperationReport {
        let points: Vec<(u32, f64)> = levels.iter().map(|level| (level.concurrency, level.ops_per_second)).collect();
        OperationReport { operation, knee: stats::knee(&points), levels }
    }
}

/// One operation at one concurrency level, over the measured window.
#[derive(Clone, Debug, Serialize)]
pub struct LevelReport {
    /// Workers running the operation at once.
    pub concurrency: u32,
    /// Successful operations that completed in the window.
    pub operations: u64,
    /// Failed operations after the warm-up, including those still running at the end.
    pub errors: u64,
    /// Failed operations during the warm-up, not part of `errors`.
    pub warmup_errors: u64,
    /// Successful operations per second.
    pub ops_per_second: f64,
    /// Latency of successful operations; `null` when there were none.
    pub latency_ms: Option<LatencySummary>,
    /// Exec phases; present only for `exec`.
    pub phases_ms: Option<PhaseSummary>,
    /// Checks evaluated per second; present only for `checks`.
    pub checks_per_second: Option<f64>,
    /// Exec calls per second made by the checks; present only for `checks`.
    pub exec_calls_per_second: Option<f64>,
    /// CPU time used during the window; `null` when it was not measured.
    pub cpu: Option<CpuUsage>,
    /// The most frequent error messages after the warm-up, most frequent first.
    pub error_messages: Vec<ErrorCount>,
}

/// Latencies of the three API calls of an exec.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct PhaseSummary {
    /// `POST /containers/{id}/exec`.
    pub create: Option<LatencySummary>,
    /// `POST /exec/{id}/start`, attached, until the output stream ends.
    pub start: Option<LatencySummary>,
    /// `GET /exec/{id}/json`.
    pub inspect: Option<LatencySummary>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ErrorCount {
    pub message: String,
    pub count: u64,
}

impl BenchReport {
    /// Failed operations after the warm-up, over all operations and levels.
    pub fn total_errors(&self) -> u64 {
        self.operations.iter().flat_map(|operation| &operation.levels).map(|level| level.errors).sum()
    }
}

/// Document written by [`write_json`]: the schema version, then the report's own fields.
#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    #[serde(flatten)]
    report: &'a BenchReport,
}

/// Writes `report` as one pretty-printed JSON object followed by a newline. Latencies are in
/// milliseconds (`latency_ms`, `phases_ms`), CPU figures and settings in seconds.
pub fn write_json(out: &mut dyn Write, report: &BenchReport) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &Document { version: BENCH_JSON_VERSION, report })?;
    writeln!(out)
}

/// Columns of [`write_csv`], in order.
pub const CSV_HEADER: &str = "operation,concurrency,operations,errors,warmup_errors,ops_per_second,\
p50_ms,p95_ms,p99_ms,create_p50_ms,start_p50_ms,inspect_p50_ms,checks_per_second,exec_calls_per_second,\
dockerd_cpu_seconds,containerd_cpu_seconds,shim_cpu_seconds,host_busy_percent,knee";

/// Writes one CSV row per operation and level after [`CSV_HEADER`]. A field that does not apply
/// or was not measured is empty; `knee` is the operation's knee, repeated on each of its rows.
/// No field contains a comma or a quote, so none is quoted.
pub fn write_csv(out: &mut dyn Write, report: &BenchReport) -> io::Result<()> {
    writeln!(out, "{CSV_HEADER}")?;
    for operation in &report.operations {
        for level in &operation.levels {
            let latency = level.latency_ms.as_ref();
            let phase_p50 = |pick: fn(&PhaseSummary) -> Option<LatencySummary>| {
                level.phases_ms.as_ref().and_then(pick).map(|summary| summary.p50)
            };
            let cpu = level.cpu.as_ref();
            let fields = [
                operation.operation.name().to_owned(),
                level.concurrency.to_string(),
                level.operations.to_string(),
                level.errors.to_string(),
                level.warmup_errors.to_string(),
                format!("{:.3}", level.ops_per_second),
                optional(latency.map(|l| l.p50)),
                optional(latency.map(|l| l.p95)),
                optional(latency.map(|l| l.p99)),
                optional(phase_p50(|phases| phases.create)),
                optional(phase_p50(|phases| phases.start)),
                optional(phase_p50(|phases| phases.inspect)),
                optional(level.checks_per_second),
                optional(level.exec_calls_per_second),
                optional(cpu.and_then(|c| c.dockerd_seconds)),
                optional(cpu.and_then(|c| c.containerd_seconds)),
                optional(cpu.and_then(|c| c.shim_seconds)),
                optional(cpu.map(|c| c.host_busy_percent)),
                operation.knee.map(|knee| knee.to_string()).unwrap_or_default(),
            ];
            writeln!(out, "{}", fields.join(","))?;
        }
    }
    Ok(())
}

fn optional(value: Option<f64>) -> String {
    value.map(|value| format!("{value:.3}")).unwrap_or_default()
}

/// Writes the report as aligned text: a header, one block per operation with one row per
/// concurrency level, the knees and the error messages.
pub fn write_table(out: &mut dyn Write, report: &BenchReport) -> io::Result<()> {
    write_header(out, report)?;
    for operation in &report.operations {
        writeln!(out)?;
        write_operation(out, operation, report.host.cpu_measured)?;
    }

    writeln!(out)?;
    writeln!(out, "knee (first level after which throughput grows by less than 10 %):")?;
    for operation in &report.operations {
        let knee = operation.knee.map_or_else(|| "not reached".to_owned(), workers);
        writeln!(out, "  {:<8} {knee}", operation.operation.name())?;
    }
    write_errors(out, report)?;
    if report.cancelled {
        writeln!(out)?;
        writeln!(out, "cancelled: the levels above finished before the run was stopped")?;
    }
    Ok(())
}

fn write_header(out: &mut dyn Write, report: &BenchReport) -> io::Result<()> {
    let engine = &report.engine;
    let version = engine.server_version.as_deref().unwrap_or("unknown version");
    let api = engine.api_version.as_deref().unwrap_or("unknown");
    writeln!(out, "specrun benchmark, run {}: Docker engine {version} (API {api}) at {}", report.run_id, engine.host)?;

    let settings = &report.settings;
    let target = match (&settings.image, settings.containers.as_slice()) {
        (_, []) => String::new(),
        (Some(image), containers) => format!(", {} container(s) from {image}", containers.len()),
        (None, containers) => format!(", in {}", containers.join(", ")),
    };
    let think = if settings.think > 0.0 { format!(", {} s think time", settings.think) } else { String::new() };
    writeln!(
        out,
        "{} s measured per level after {} s warm-up{think}{target}, {} transport",
        settings.duration, settings.warmup, settings.transport
    )?;

    let host = &report.host;
    match (&host.note, host.cpus) {
        (Some(note), _) => writeln!(out, "{note}")?,
        (None, Some(cpus)) => writeln!(
            out,
            "CPU seconds in the window: dockerd and containerd (serving every client of the engine), \
             the benchmark containers' shims (with their runc and exec processes); \
             host busy share of {cpus} CPUs"
        )?,
        (None, None) => {}
    }
    Ok(())
}

fn write_operation(out: &mut dyn Write, operation: &OperationReport, cpu_measured: bool) -> io::Result<()> {
    let extra_heading = match operation.operation {
        Operation::Exec => format!("  {:>27}", "create/start/inspect p50 ms"),
        Operation::Checks => format!("  {:>9}  {:>12}", "checks/s", "exec calls/s"),
        Operation::Version | Operation::Info | Operation::Ping => String::new(),
    };
    let cpu_heading = if cpu_measured {
        format!("  {:>9}  {:>12}  {:>7}  {:>9}", "dockerd s", "containerd s", "shims s", "host busy")
    } else {
        String::new()
    };
    writeln!(
        out,
        "{:<8} {:>7}  {:>9}  {:>8}  {:>8}  {:>8}{extra_heading}  {:>6}{cpu_heading}",
        operation.operation.name(),
        "workers",
        "ops/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "errors"
    )?;

    for level in &operation.levels {
        let latency = level.latency_ms.as_ref();
        let extra = match operation.operation {
            Operation::Exec => {
                let phases = level.phases_ms.as_ref();
                let p50 = |summary: Option<LatencySummary>| summary.map_or("-".to_owned(), |s| format!("{:.1}", s.p50));
                let split = format!(
                    "{}/{}/{}",
                    p50(phases.and_then(|p| p.create)),
                    p50(phases.and_then(|p| p.start)),
                    p50(phases.and_then(|p| p.inspect))
                );
                format!("  {split:>27}")
            }
            Operation::Checks => {
                format!("  {:>9}  {:>12}", number(level.checks_per_second, 1), number(level.exec_calls_per_second, 1))
            }
            Operation::Version | Operation::Info | Operation::Ping => String::new(),
        };
        let cpu = match (&level.cpu, cpu_measured) {
            (Some(cpu), true) => format!(
                "  {:>9}  {:>12}  {:>7}  {:>8.0}%",
                number(cpu.dockerd_seconds, 2),
                number(cpu.containerd_seconds, 2),
                number(cpu.shim_seconds, 2),
                cpu.host_busy_percent
            ),
            (None, true) => format!("  {:>9}  {:>12}  {:>7}  {:>9}", "-", "-", "-", "-"),
            (_, false) => String::new(),
        };
        writeln!(
            out,
            "{:<8} {:>7}  {:>9.1}  {:>8}  {:>8}  {:>8}{extra}  {:>6}{cpu}",
            "",
            level.concurrency,
            level.ops_per_second,
            number(latency.map(|l| l.p50), 2),
            number(latency.map(|l| l.p95), 2),
            number(latency.map(|l| l.p99), 2),
            level.errors
        )?;
    }
    Ok(())
}

fn write_errors(out: &mut dyn Write, report: &BenchReport) -> io::Result<()> {
    let with_errors: Vec<(&OperationReport, &LevelReport)> = report
        .operations
        .iter()
        .flat_map(|operation| operation.levels.iter().map(move |level| (operation, level)))
        .filter(|(_, level)| level.errors > 0 || level.warmup_errors > 0)
        .collect();
    if with_errors.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "errors:")?;
    for (operation, level) in with_errors {
        let name = operation.operation.name();
        let level_label = workers(level.concurrency);
        if level.warmup_errors > 0 {
            writeln!(out, "  {name} with {level_label}: {} during the warm-up", level.warmup_errors)?;
        }
        for error in &level.error_messages {
            writeln!(out, "  {name} with {level_label}: {} x {}", error.count, error.message)?;
        }
    }
    Ok(())
}

/// Formats a worker count as "1 worker" or "N workers".
pub(super) fn workers(count: u32) -> String {
    if count == 1 { "1 worker".to_owned() } else { format!("{count} workers") }
}

fn number(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "-".to_owned(), |value| format!("{value:.decimals$}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(p50: f64) -> LatencySummary {
        LatencySummary { p50, p95: p50 * 2.0, p99: p50 * 3.0, mean: p50, max: p50 * 4.0 }
    }

    fn level(concurrency: u32, ops_per_second: f64, exec: bool) -> LevelReport {
        LevelReport {
            concurrency,
            operations: (ops_per_second * 2.0) as u64,
            errors: if concurrency == 2 { 3 } else { 0 },
            warmup_errors: 0,
            ops_per_second,
            latency_ms: Some(summary(concurrency as f64)),
            phases_ms: exec.then_some(PhaseSummary {
                create: Some(summary(1.0)),
                start: Some(summary(5.0)),
                inspect: Some(summary(0.5)),
            }),
            checks_per_second: None,
            exec_calls_per_second: None,
            cpu: Some(CpuUsage {
                dockerd_seconds: Some(1.25),
                containerd_seconds: Some(0.5),
                shim_seconds: None,
                host_busy_seconds: 3.0,
                host_busy_percent: 75.0,
            }),
            error_messages: if concurrency == 2 {
                vec![ErrorCount { message: "creating an exec in c: timed out".to_owned(), count: 3 }]
            } else {
                Vec::new()
            },
        }
    }

    fn report() -> BenchReport {
        BenchReport {
            run_id: "0badcafe".to_owned(),
            engine: EngineInfo {
                host: "unix:///var/run/docker.sock".to_owned(),
                server_version: Some("20.10.24".to_owned()),
                api_version: Some("1.41".to_owned()),
            },
            settings: Settings {
                operations: vec![Operation::Exec, Operation::Ping],
                concurrency: vec![1, 2],
                duration: 2.0,
                warmup: 0.5,
                think: 0.0,
                image: Some("busybox".to_owned()),
                containers: vec!["specrun-bench-0badcafe-0".to_owned()],
                spec: None,
                transport: "pooled",
            },
            host: HostInfo { cpus: Some(2), clock_ticks_per_second: Some(100), cpu_measured: true, note: None },
            cancelled: false,
            operations: vec![
                OperationReport::new(Operation::Exec, vec![level(1, 100.0, true), level(2, 105.0, true)]),
                OperationReport::new(Operation::Ping, vec![level(1, 1000.0, false), level(2, 2000.0, false)]),
            ],
        }
    }

    #[test]
    fn json_shape() {
        let mut out = Vec::new();
        write_json(&mut out, &report()).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();

        assert_eq!(json["version"], BENCH_JSON_VERSION);
        assert_eq!(json["run_id"], "0badcafe");
        assert_eq!(json["settings"]["operations"], serde_json::json!(["exec", "ping"]));
        let operations = json["operations"].as_array().unwrap();
        assert_eq!(operations.len(), 2);
        assert_eq!(operations[0]["operation"], "exec");
        assert_eq!(operations[0]["knee"], 1);
        assert_eq!(operations[1]["knee"], serde_json::Value::Null);
        let level = &operations[0]["levels"][1];
        assert_eq!(level["concurrency"], 2);
        assert_eq!(level["errors"], 3);
        assert_eq!(level["latency_ms"]["p99"], 6.0);
        assert_eq!(level["phases_ms"]["start"]["p50"], 5.0);
        assert_eq!(level["cpu"]["dockerd_seconds"], 1.25);
        assert_eq!(level["cpu"]["shim_seconds"], serde_json::Value::Null);
        assert_eq!(level["error_messages"][0]["count"], 3);
        assert_eq!(operations[1]["levels"][0]["phases_ms"], serde_json::Value::Null);
    }

    #[test]
    fn csv_shape() {
        let mut out = Vec::new();
        write_csv(&mut out, &report()).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();

        assert_eq!(lines.len(), 5);
        assert_eq!(lines[0], CSV_HEADER);
        let columns = CSV_HEADER.split(',').count();
        for line in &lines {
            assert_eq!(line.split(',').count(), columns, "{line}");
        }
        assert_eq!(lines[1], "exec,1,200,0,0,100.000,1.000,2.000,3.000,1.000,5.000,0.500,,,1.250,0.500,,75.000,1");
        assert_eq!(lines[4], "ping,2,4000,3,0,2000.000,2.000,4.000,6.000,,,,,,1.250,0.500,,75.000,");
    }

    #[test]
    fn table_lists_levels_knees_and_errors() {
        let mut out = Vec::new();
        write_table(&mut out, &report()).unwrap();
        let text = String::from_utf8(out).unwrap();

        assert!(text.contains("run 0badcafe: Docker engine 20.10.24 (API 1.41)"), "{text}");
        assert!(text.contains("create/start/inspect p50 ms"), "{text}");
        assert!(text.contains("1.0/5.0/0.5"), "{text}");
        assert!(text.contains("  exec     1 worker\n"), "{text}");
        assert!(text.contains("  ping     not reached"), "{text}");
        assert!(text.contains("exec with 2 workers: 3 x creating an exec in c: timed out"), "{text}");
        assert!(text.contains("75%"), "{text}");
    }
}
