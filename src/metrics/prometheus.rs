//! Prometheus text exposition (format 0.0.4): counters end in `_total`,
//! durations are histograms in seconds, everything is prefixed `db_pool_`
//! and labelled with the backend.

use std::fmt::Write;

use super::histogram::Histogram;
use super::Metrics;
use crate::error::ErrorCode;
use crate::pool::PoolStatus;

/// Bucket bounds in seconds: from 50 µs (an embedded SQLite read) to 10 s.
pub const BUCKETS: [f64; 16] = [
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 10.0,
];

pub fn render(backend: &str, metrics: &Metrics, status: &PoolStatus) -> String {
    let mut out = String::with_capacity(4096);
    let label = format!("backend=\"{backend}\"");
    let load = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);

    counter(
        &mut out,
        "connections_created_total",
        "Connections opened.",
        &label,
        load(&metrics.connections_created),
    );
    counter(
        &mut out,
        "connections_closed_total",
        "Connections closed, for any reason.",
        &label,
        load(&metrics.connections_closed),
    );
    counter(
        &mut out,
        "connections_reaped_total",
        "Connections closed by upkeep: idle past idleTimeoutMs or older than maxLifetimeMs.",
        &label,
        load(&metrics.connections_reaped),
    );
    counter(
        &mut out,
        "queries_total",
        "Statements run.",
        &label,
        load(&metrics.queries_total),
    );
    counter(
        &mut out,
        "queries_inline_total",
        "SQLite statements run through SQLite's C API directly rather than sqlx's worker thread (within queries_total).",
        &label,
        load(&metrics.queries_inline),
    );
    counter(
        &mut out,
        "inline_overruns_total",
        "SQLite statements that ran past the inline time limit and ran again on the worker thread.",
        &label,
        load(&metrics.inline_overruns),
    );
    counter(
        &mut out,
        "acquire_timeouts_total",
        "Callers that got POOL_TIMEOUT.",
        &label,
        load(&metrics.acquire_timeouts),
    );
    counter(
        &mut out,
        "leaks_detected_total",
        "Transactions open longer than leakDetectionMs.",
        &label,
        load(&metrics.leaks_detected),
    );

    header(
        &mut out,
        "errors_total",
        "Calls that failed, by error code.",
        "counter",
    );
    for code in ErrorCode::ALL {
        let n = load(&metrics.errors_by_code[code.index()]);
        let _ = writeln!(
            out,
            "db_pool_errors_total{{{label},code=\"{}\"}} {n}",
            code.as_str()
        );
    }

    gauge(
        &mut out,
        "connections",
        "Open connections.",
        &label,
        status.size as f64,
    );
    header(
        &mut out,
        "connections_by_state",
        "Open connections by state.",
        "gauge",
    );
    let _ = writeln!(
        out,
        "db_pool_connections_by_state{{{label},state=\"idle\"}} {}",
        status.idle
    );
    let _ = writeln!(
        out,
        "db_pool_connections_by_state{{{label},state=\"in_use\"}} {}",
        status.in_use
    );
    gauge(
        &mut out,
        "waiting",
        "Callers waiting for a connection.",
        &label,
        status.waiting as f64,
    );
    gauge(
        &mut out,
        "max_connections",
        "Configured maxConnections.",
        &label,
        status.max_connections as f64,
    );
    gauge(
        &mut out,
        "up",
        "1 while the pool is open.",
        &label,
        if status.closed { 0.0 } else { 1.0 },
    );

    histogram(
        &mut out,
        "connect_duration_seconds",
        "Time to open a connection.",
        &label,
        &metrics.connect_time,
    );
    histogram(
        &mut out,
        "acquire_duration_seconds",
        "Time callers waited for a connection.",
        &label,
        &metrics.acquire_wait,
    );
    histogram(
        &mut out,
        "query_duration_seconds",
        "Statement execution time.",
        &label,
        &metrics.query_time,
    );
    out
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP db_pool_{name} {help}");
    let _ = writeln!(out, "# TYPE db_pool_{name} {kind}");
}

fn counter(out: &mut String, name: &str, help: &str, label: &str, value: u64) {
    header(out, name, help, "counter");
    let _ = writeln!(out, "db_pool_{name}{{{label}}} {value}");
}

fn gauge(out: &mut String, name: &str, help: &str, label: &str, value: f64) {
    header(out, name, help, "gauge");
    let _ = writeln!(out, "db_pool_{name}{{{label}}} {value}");
}

fn histogram(out: &mut String, name: &str, help: &str, label: &str, h: &Histogram) {
    header(out, name, help, "histogram");
    let count = h.count();
    for (le, n) in BUCKETS.iter().zip(h.cumulative(&BUCKETS)) {
        let _ = writeln!(
            out,
            "db_pool_{name}_bucket{{{label},le=\"{le}\"}} {}",
            n.min(count)
        );
    }
    let _ = writeln!(out, "db_pool_{name}_bucket{{{label},le=\"+Inf\"}} {count}");
    let _ = writeln!(out, "db_pool_{name}_sum{{{label}}} {}", h.sum_seconds());
    let _ = writeln!(out, "db_pool_{name}_count{{{label}}} {count}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn status() -> PoolStatus {
        PoolStatus {
            size: 2,
            idle: 1,
            in_use: 1,
            waiting: 0,
            max_connections: 5,
            min_connections: 0,
            closed: false,
        }
    }

    #[test]
    fn every_sample_has_help_and_type_and_counters_end_in_total() {
        let m = Metrics::default();
        m.query_time.record(Duration::from_micros(300));
        let text = render("sqlite", &m, &status());
        let mut typed = std::collections::HashMap::new();
        for line in text.lines().filter(|l| l.starts_with("# TYPE")) {
            let parts: Vec<_> = line.split_whitespace().collect();
            typed.insert(parts[2].to_string(), parts[3].to_string());
        }
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split(['{', ' ']).next().unwrap();
            let family = name
                .trim_end_matches("_bucket")
                .trim_end_matches("_sum")
                .trim_end_matches("_count");
            let kind = typed
                .get(family)
                .or_else(|| typed.get(name))
                .unwrap_or_else(|| panic!("no TYPE for {name}"));
            if kind == "counter" {
                assert!(name.ends_with("_total"), "{name}");
            }
            assert!(line.contains("backend=\"sqlite\""), "{line}");
        }
        assert!(text.contains("db_pool_query_duration_seconds_count{backend=\"sqlite\"} 1"));
        assert!(text
            .contains("db_pool_query_duration_seconds_bucket{backend=\"sqlite\",le=\"0.0005\"} 1"));
        assert!(text.contains(
            "db_pool_query_duration_seconds_bucket{backend=\"sqlite\",le=\"0.00025\"} 0"
        ));
    }
}
