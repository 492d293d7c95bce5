//! A per-connection statement deadline that another thread can read:
//! SQLite's progress handler runs on sqlx's worker thread and checks it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Nanoseconds since a process epoch; 0 means "no deadline".
#[derive(Debug, Default)]
pub struct Deadline(AtomicU64);

impl Deadline {
    pub fn arm(&self, after: Duration) {
        self.arm_at(Instant::now() + after);
    }

    pub fn arm_at(&self, when: Instant) {
        let at = when.duration_since(epoch()).as_nanos() as u64;
        self.0.store(at.max(1), Ordering::Release);
    }

    pub fn disarm(&self) {
        self.0.store(0, Ordering::Release);
    }

    pub fn passed(&self) -> bool {
        let at = self.0.load(Ordering::Acquire);
        at != 0 && Instant::now().duration_since(epoch()).as_nanos() as u64 >= at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arms_and_disarms() {
        let d = Deadline::default();
        assert!(!d.passed());
        d.arm(Duration::from_millis(0));
        std::thread::sleep(Duration::from_millis(1));
        assert!(d.passed());
        d.disarm();
        assert!(!d.passed());
        d.arm(Duration::from_secs(60));
        assert!(!d.passed());
    }
}
