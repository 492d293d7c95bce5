//! State shared by the pool, its connections and its background tasks,
//! independent of the backend.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::sync::Notify;

use super::gauges::Gauges;
use crate::metrics::Metrics;

pub struct Shared {
    pub gauges: Arc<Gauges>,
    pub metrics: Metrics,
    closed: AtomicBool,
    /// `close()` stopped waiting for lent connections and took them back.
    abandoned: AtomicBool,
    /// Set on first use; until then nothing runs by itself (lazy pool).
    started: AtomicBool,
    /// The background health monitor's latest ping.
    pub last_check: Mutex<Option<BackgroundCheck>>,
    /// Signalled whenever a lent connection comes back, so `close()` can
    /// wait for in-flight work without polling.
    pub returned: Notify,
    /// The runtime the pool was built in. Drops that must do I/O (returning
    /// a connection, rolling back) may run on the JS thread, outside it.
    pub runtime: tokio::runtime::Handle,
    /// The runtime whose I/O driver new server connections register their
    /// sockets with, if not `runtime`'s: the JS thread's, so that a reply
    /// wakes that thread alone (see `binding::js_reactor`). SQLite has none.
    pub sockets: Option<tokio::runtime::Handle>,
}

impl Shared {
    pub fn new(runtime: tokio::runtime::Handle, sockets: Option<tokio::runtime::Handle>) -> Self {
        Shared {
            gauges: Arc::new(Gauges::default()),
            metrics: Metrics::default(),
            closed: AtomicBool::new(false),
            abandoned: AtomicBool::new(false),
            started: AtomicBool::new(false),
            last_check: Mutex::new(None),
            returned: Notify::new(),
            runtime,
            sockets,
        }
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    pub fn is_abandoned(&self) -> bool {
        self.abandoned.load(Ordering::Acquire)
    }

    pub fn mark_abandoned(&self) {
        self.abandoned.store(true, Ordering::Release);
    }

    pub fn is_started(&self) -> bool {
        self.started.load(Ordering::Relaxed)
    }

    pub fn mark_started(&self) {
        self.started.store(true, Ordering::Relaxed);
    }

    pub fn mark_closed(&self) {
        self.closed.store(true, Ordering::Release);
    }
}

/// One background health ping.
#[derive(Debug, Clone, PartialEq)]
pub struct BackgroundCheck {
    pub round_trip: Option<Duration>,
    pub error: Option<String>,
    pub at: SystemTime,
}
