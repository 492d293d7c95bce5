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
pub mod sessions;
pub mod sql;
pub mod value;
