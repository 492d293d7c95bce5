//! shopify-db-pool: a Rust (tokio + sqlx) database pool for Node.js.
//!
//! `config` decides, `pool` runs (generically over `backend`'s three
//! drivers), `value` carries data between the two worlds, `binding` is the
//! thin napi surface. Everything but `binding` is plain Rust, tested with
//! `cargo test`.

pub mod backend;
pub mod binding;
pub mod config;
pub mod error;
pub mod health;
pub mod metrics;
pub mod pool;
#[cfg(test)]
mod proptests;
pub mod sessions;
pub mod sql;
pub mod value;

/// The tokio runtime behind every promise. Thread wake-ups, not CPU, bound a
/// single query's latency: with two workers on a 2-core box, every task also
/// wakes the idle worker, and a sequential query took 35-70% longer (SQLite
/// 36 vs 56 µs, PostgreSQL 105 vs 125 µs) while 64-in-flight throughput was
/// 15-40% higher. The default leaves one core to the JS thread (one worker on
/// two cores); `SHOPIFY_DB_POOL_WORKERS` overrides it for throughput-bound
/// services.
#[napi_derive::module_init]
fn init_runtime() {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let workers = std::env::var("SHOPIFY_DB_POOL_WORKERS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| (1..=64).contains(n))
        .unwrap_or_else(|| cores.saturating_sub(1).max(1));
    if let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("shopify-db-pool")
        .enable_all()
        .build()
    {
        napi::bindgen_prelude::create_custom_tokio_runtime(runtime);
    }
}
