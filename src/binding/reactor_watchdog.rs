//! Turning the JS thread's reactor when the JS thread cannot.
//!
//! Only the JS thread turns its reactor's driver (see `js_reactor`), when
//! its event loop runs. While JS runs synchronous code for a long time,
//! replies wait unread in the kernel, and a timer on tokio that expires
//! meanwhile (a statement's backstop, the health monitor's ping limit, a
//! connect timeout, `close()`'s grace) would count as late a reply that
//! came in time. This thread checks every `TICK` whether the driver has had
//! events waiting for a whole tick without the JS thread turning it, and
//! then turns it itself: the calls that wakes go to tokio, as before the
//! reactor. When the JS thread keeps up it costs one wake-up and one
//! `poll(2)` per tick, and nothing else.

use std::ffi::{c_int, c_short};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::runtime::Runtime;

/// How often the watchdog looks; a reply waits at most about two ticks for
/// a busy JS thread.
const TICK: Duration = Duration::from_millis(25);

#[repr(C)]
struct PollFd {
    fd: c_int,
    events: c_short,
    revents: c_short,
}

const POLLIN: c_short = 1;

extern "C" {
    fn poll(fds: *mut PollFd, nfds: u64, timeout: c_int) -> c_int;
}

struct Shared {
    runtime: Arc<Runtime>,
    /// The runtime's epoll descriptor: readable while events wait.
    epoll: c_int,
    /// Turns by the JS thread so far.
    turns: AtomicU64,
    stop: AtomicBool,
}

pub struct Watchdog {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Watchdog {
    pub fn start(runtime: Arc<Runtime>, epoll: c_int) -> Option<Watchdog> {
        let shared = Arc::new(Shared {
            runtime,
            epoll,
            turns: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        });
        let watched = shared.clone();
        let thread = std::thread::Builder::new()
            .name("shopify-db-pool-reactor-watchdog".into())
            .spawn(move || watch(&watched))
            .ok()?;
        Some(Watchdog {
            shared,
            thread: Some(thread),
        })
    }

    /// The JS thread turned the driver.
    pub fn turned(&self) {
        self.shared.turns.fetch_add(1, Ordering::Relaxed);
    }
}

impl Drop for Watchdog {
    /// Stops the thread and waits for it (at most one turn of its own), so
    /// the runtime can be shut down after.
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

fn watch(shared: &Shared) {
    // The JS thread's turn count when events were first seen waiting.
    let mut waiting_since = None;
    loop {
        std::thread::park_timeout(TICK);
        if shared.stop.load(Ordering::Acquire) {
            return;
        }
        if !readable(shared.epoll) {
            waiting_since = None;
            continue;
        }
        let turns = shared.turns.load(Ordering::Relaxed);
        if waiting_since == Some(turns) {
            // A whole tick with events waiting and no turn: JS is busy.
            shared.runtime.block_on(tokio::task::yield_now());
            waiting_since = None;
        } else {
            waiting_since = Some(turns);
        }
    }
}

fn readable(fd: c_int) -> bool {
    let mut entry = PollFd {
        fd,
        events: POLLIN,
        revents: 0,
    };
    // SAFETY: one valid entry, no wait.
    unsafe { poll(&mut entry, 1, 0) > 0 && entry.revents & POLLIN != 0 }
}
