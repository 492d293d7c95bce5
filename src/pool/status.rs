//! `status()`: a synchronous snapshot, cheap enough for every probe.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// Open connections, idle or lent.
    pub size: u32,
    pub idle: u32,
    pub in_use: u32,
    /// Callers waiting for a connection right now.
    pub waiting: u32,
    pub max_connections: u32,
    pub min_connections: u32,
    pub closed: bool,
}

impl PoolStatus {
    /// Every connection lent and callers queued: the pool is the bottleneck.
    pub fn saturated(&self) -> bool {
        self.in_use >= self.max_connections && self.waiting > 0
    }
}
