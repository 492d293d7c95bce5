//! Live counts that sqlx does not keep: callers waiting for a connection
//! and connections lent to callers. Both are decremented by guards, in the
//! same future that incremented them, so a rejected call can never leave a
//! count behind and `status()` is exact as soon as a promise settles.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[derive(Debug, Default)]
pub struct Gauges {
    waiting: AtomicUsize,
    in_use: AtomicUsize,
}

impl Gauges {
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    pub fn in_use(&self) -> usize {
        self.in_use.load(Ordering::Relaxed)
    }
}

/// Counts one caller in `waiting` for as long as it lives.
pub struct WaitingGuard(Arc<Gauges>);

impl WaitingGuard {
    pub fn new(gauges: &Arc<Gauges>) -> Self {
        gauges.waiting.fetch_add(1, Ordering::Relaxed);
        WaitingGuard(gauges.clone())
    }
}

impl Drop for WaitingGuard {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Counts one connection in `in_use` for as long as it lives.
#[derive(Debug)]
pub struct InUseGuard(Arc<Gauges>);

impl InUseGuard {
    pub fn new(gauges: &Arc<Gauges>) -> Self {
        gauges.in_use.fetch_add(1, Ordering::Relaxed);
        InUseGuard(gauges.clone())
    }
}

impl Drop for InUseGuard {
    fn drop(&mut self) {
        self.0.in_use.fetch_sub(1, Ordering::Relaxed);
    }
}
