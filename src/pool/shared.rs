//! State shared by the pool, its connections and its background tasks,
//! independent of the backend.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

use super::gauges::Gauges;
use crate::metrics::Metrics;

pub struct Shared {
    pub gauges: Arc<Gauges>,
    pub metrics: Metrics,
    closed: AtomicBool,
    /// Signalled whenever a lent connection comes back, so `close()` can
    /// wait for in-flight work without polling.
    pub returned: Notify,
    /// The runtime the pool was built in. Drops that must do I/O (returning
    /// a connection, rolling back) may run on the JS thread, outside it.
    pub runtime: tokio::runtime::Handle,
}

impl Shared {
    pub fn new(runtime: tokio::runtime::Handle) -> Self {
        Shared {
            gauges: Arc::new(Gauges::default()),
            metrics: Metrics::default(),
            closed: AtomicBool::new(false),
            returned: Notify::new(),
            runtime,
        }
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    pub fn mark_closed(&self) {
        self.closed.store(true, Ordering::Release);
    }
}
