//! Prometheus text exposition (filled in with health/metrics).
