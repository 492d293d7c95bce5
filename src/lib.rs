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
pub mod pipeline;
pub mod pool;
#[cfg(test)]
mod proptests;
pub mod sessions;
pub mod sql;
pub mod value;

/// mimalloc for the addon's own allocations (Node's and V8's keep theirs).
/// A point-select allocates a few dozen small blocks between the driver,
/// the pool and the row handed to JS; with glibc's malloc they were a
/// quarter of the addon's instructions per query.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The tokio runtime behind every server query: one worker per core, as
/// tokio's default. (One worker on two cores used to give lower sequential
/// latency, when every call was first polled on tokio. Since calls are first
/// polled on the JS thread, a second worker no longer costs latency, PG 74 vs
/// 71 µs, MySQL 83 vs 83 µs, and 64 in flight gains: PostgreSQL +43%, MySQL
/// +15%, median of 5 interleaved rounds; SQLite runs inline and is unmoved.)
/// `SHOPIFY_DB_POOL_WORKERS` overrides it.
#[napi_derive::module_init]
fn init_runtime() {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let workers = std::env::var("SHOPIFY_DB_POOL_WORKERS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| (1..=64).contains(n))
        .unwrap_or(cores);
    if let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("shopify-db-pool")
        .enable_all()
        .build()
    {
        napi::bindgen_prelude::create_custom_tokio_runtime(runtime);
    }
}
