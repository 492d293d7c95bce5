//! The napi surface: JS values in, promises out. No database logic lives
//! here; every method converts its arguments on the JS thread, hands owned
//! values to the core in `pool/`, and converts the outcome back.

pub mod args;
pub mod call;
pub mod completion;
pub mod config;
pub mod health;
pub mod js_error;
pub mod js_param;
pub mod js_reactor;
pub mod js_rows;
pub mod next_turn;
pub mod parked_call;
pub mod pool;
mod reactor_epoll;
pub mod reactor_watchdog;
pub mod replicas;
pub mod row_factory;
pub mod statements;
pub mod transaction;
mod uv;
