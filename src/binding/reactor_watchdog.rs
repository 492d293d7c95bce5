//! Turning the JS thread's reactor when the JS thread cannot.
//!
//! Only the JS thread turns its reactor's driver (see `js_reactor`), when
//! its event loop runs. While JS runs synchronous code for a long time,
//! replies wait unread in the kernel, and a timer on tokio that expires
//! meanwhile (a statement's backstop, the health monitor's ping limit, a
//! connect timeout, `close()`'s grace) would count as late a reply that
//! came in time. This thread sleeps until the driver has events waiting,
//! gives the JS thread a `TICK` to turn it, and turns it itself if the JS
//! thread did not: the calls that wakes go to tokio, as before the reactor.
//! An idle pool costs nothing (the thread blocks in `poll(2)`); under load,
//! one look per tick (two wake-ups: the events, the tick's end).

use std::ffi::{c_int, c_short, c_uint, c_void};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;

/// How long the JS thread has to turn the driver once events wait. A reply
/// waits at most about two ticks for a busy JS thread: one that lands just
/// after the JS thread's last turn is seen only in the next tick.
const TICK: Duration = Duration::from_millis(25);

#[repr(C)]
struct PollFd {
    fd: c_int,
    events: c_short,
    revents: c_short,
}

const POLLIN: c_short = 1;
const EFD_CLOEXEC: c_int = 0o2000000;

extern "C" {
    fn poll(fds: *mut PollFd, nfds: u64, timeout: c_int) -> c_int;
    fn eventfd(initval: c_uint, flags: c_int) -> c_int;
    fn write(fd: c_int, buf: *const c_void, count: usize) -> isize;
    fn close(fd: c_int) -> c_int;
}

struct Shared {
    runtime: Arc<Runtime>,
    /// The runtime's epoll descriptor: readable while events wait.
    epoll: c_int,
    /// Readable once the watchdog is to stop: ends any wait at once.
    stop_fd: c_int,
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
        let stop_fd = unsafe { eventfd(0, EFD_CLOEXEC) };
        if stop_fd < 0 {
            return None;
        }
        let shared = Arc::new(Shared {
            runtime,
            epoll,
            stop_fd,
            turns: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        });
        let watched = shared.clone();
        let thread = std::thread::Builder::new()
            // (Linux keeps 15 bytes of a thread's name: this one whole.)
            .name("sdp-io-watchdog".into())
            .spawn(move || watch(&watched));
        match thread {
            Ok(thread) => Some(Watchdog {
                shared,
                thread: Some(thread),
            }),
            Err(_) => {
                unsafe { close(stop_fd) };
                None
            }
        }
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
        let one = 1u64;
        unsafe { write(self.shared.stop_fd, (&one as *const u64).cast(), 8) };
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        unsafe { close(self.shared.stop_fd) };
    }
}

fn watch(shared: &Shared) {
    loop {
        // Nothing to do until events wait.
        if !wait(shared, Some(shared.epoll), None) {
            return;
        }
        let turns = shared.turns.load(Ordering::Relaxed);
        // Read since by the JS thread: wait for the next events, rather
        // than tick, so that events which land just before the tick ends
        // are not taken from a JS thread that was idle all along.
        if !readable(shared.epoll) {
            continue;
        }
        // A tick for the JS thread to turn the driver.
        if !wait(shared, None, Some(TICK)) {
            return;
        }
        if shared.turns.load(Ordering::Relaxed) == turns && readable(shared.epoll) {
            // A whole tick with events waiting and no turn: JS is busy.
            shared.runtime.block_on(crate::pool::sockets::turn());
        }
    }
}

/// Waits until `fd` is readable (if given) or `timeout` has passed (if
/// given); false once the watchdog is to stop.
fn wait(shared: &Shared, fd: Option<c_int>, timeout: Option<Duration>) -> bool {
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        poll_once(shared, fd, left);
        if shared.stop.load(Ordering::Acquire) {
            return false;
        }
        // A timeout is waited out in full: a signal may end poll(2) early
        // (EINTR), and a short tick would take replies from a JS thread
        // that is not busy. (After a wait for events the caller looks.)
        if deadline.is_none_or(|d| Instant::now() >= d) {
            return true;
        }
    }
}

/// One poll(2) on the stop descriptor and `fd`, for at most `timeout`.
fn poll_once(shared: &Shared, fd: Option<c_int>, timeout: Option<Duration>) {
    let mut fds = [
        PollFd {
            fd: shared.stop_fd,
            events: POLLIN,
            revents: 0,
        },
        PollFd {
            fd: fd.unwrap_or(-1),
            events: POLLIN,
            revents: 0,
        },
    ];
    // (Rounded up, so that a wait never ends before its deadline.)
    let timeout = timeout.map_or(-1, |t| t.as_micros().div_ceil(1000) as c_int);
    // SAFETY: two valid entries; a negative fd is ignored by poll(2).
    unsafe { poll(fds.as_mut_ptr(), fds.len() as u64, timeout) };
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
