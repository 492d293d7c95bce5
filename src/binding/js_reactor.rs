//! Server sockets watched by the JS thread's own event loop.
//!
//! A server statement used to cost three thread wake-ups: the JS thread
//! sent it, a tokio worker parked on tokio's epoll woke for the reply, read
//! it, and woke the JS thread to settle the promise. pgbench needs two.
//! Here PostgreSQL and MySQL sockets register with a current-thread tokio
//! runtime that belongs to the JS thread and whose epoll descriptor libuv
//! watches like any other: when a reply arrives libuv wakes the JS thread,
//! which turns that runtime's I/O driver once, without blocking, and polls
//! the calls it woke right there. No tokio worker wakes for a reply (only
//! `reactor_watchdog` turns this driver too, while the JS thread is busy).
//!
//! Work that was not woken by this driver (a background check, a call
//! woken by a semaphore released on a tokio thread) runs on the
//! multi-threaded runtime: background work for good, a call for one poll
//! (see `parked_call`). Their sockets' readiness comes from this driver,
//! whenever the JS thread's loop turns. If the reactor cannot be set up
//! (no libuv loop, the epoll descriptor cannot be told apart), sockets stay
//! on the multi-threaded runtime as before.

use std::cell::{Cell, RefCell};
use std::ffi::{c_int, c_void};
use std::sync::Arc;
use std::time::{Duration, Instant};

use napi::sys;
use tokio::runtime::{Handle, Runtime};

use super::parked_call::{Job, ParkedCall};
use super::reactor_epoll::{epoll_fds, new_epoll_fd};
use super::reactor_watchdog::Watchdog;
use super::uv::{
    alloc_handle, free_handle, uv_close, uv_idle_init, uv_idle_start, uv_idle_stop, uv_poll_init,
    uv_poll_start, uv_unref, UvIdle, UvPoll, UV_IDLE, UV_POLL, UV_READABLE,
};

/// How long one turn may poll calls on the JS thread before it lets the
/// event loop go round (timers, other I/O, settling what finished); the
/// rest are polled, on this thread still, in the loop's next iteration.
/// (The idle turn for those and the reactor's own turn each have a budget,
/// so one loop iteration may poll for up to twice this.)
/// This also ends calls that keep waking each other through the ready list.
///
/// Without it, turns that kept handing connections to queued callers held
/// the loop: PostgreSQL 64 in flight had event-loop delay p99 of 2.7–8.3 ms
/// (pg: 1.7–1.8 ms); with 500 µs, 2.1–2.2 ms (1 ms did not lower the
/// delay). The calls past the budget first went to tokio instead of the
/// next iteration: that cost 17–29% more client CPU per query, for a
/// worker's wake-up and the reply's detour back through the queue.
const TURN_BUDGET: Duration = Duration::from_micros(500);

struct Reactor {
    /// Shared with the watchdog; taken only in `drop`.
    runtime: Option<Arc<Runtime>>,
    /// The libuv handle watching the runtime's epoll descriptor.
    watcher: *mut UvPoll,
    /// Started while calls wait for the loop's next iteration (`DEFERRED`):
    /// an active idle handle also keeps libuv from blocking in its poll.
    idler: *mut UvIdle,
    /// Turns the driver while the JS thread is busy (see `reactor_watchdog`);
    /// taken only in `drop`, to stop it before the runtime.
    watchdog: Option<Watchdog>,
}

impl Drop for Reactor {
    /// Stops the watchdog, then the runtime without waiting: the thread (or
    /// the process) is going away, and a DNS lookup still running on the
    /// runtime's blocking pool must not hold it.
    fn drop(&mut self) {
        drop(self.watchdog.take());
        if let Some(Ok(runtime)) = self.runtime.take().map(Arc::try_unwrap) {
            runtime.shutdown_background();
        }
    }
}

thread_local! {
    /// This JS thread's reactor, once set up.
    static REACTOR: RefCell<Option<Reactor>> = const { RefCell::new(None) };
    /// Set-ups this thread may still try (see `MAX_STARTS`); none once the
    /// thread is going away.
    static STARTS_LEFT: Cell<u8> = const { Cell::new(MAX_STARTS) };
    /// The JS thread is turning its reactor or polling what it woke: a call
    /// woken now is polled here rather than sent to tokio.
    static TURNING: Cell<bool> = const { Cell::new(false) };
    /// Calls woken during the turn, to poll on this thread after it.
    static READY: RefCell<Vec<(Arc<ParkedCall>, Job)>> = const { RefCell::new(Vec::new()) };
    /// Calls left over when a turn ran out of budget, in wake-up order, for
    /// the loop's next iteration.
    static DEFERRED: RefCell<Vec<(Arc<ParkedCall>, Job)>> = const { RefCell::new(Vec::new()) };
}

/// How many times a thread tries to set its reactor up. A set-up fails for
/// good without `/proc` or a libuv loop, but also when another thread made
/// an epoll descriptor at the same moment (see `new_epoll_fd`): a pool
/// made later on the thread tries again, so that thread does not stay on
/// tokio's threads for good.
const MAX_STARTS: u8 = 3;

/// The runtime whose driver this JS thread watches, set up on first use.
///
/// # Safety
/// `env` is the live environment of the calling JS thread.
pub unsafe fn handle(env: sys::napi_env) -> Option<Handle> {
    REACTOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let starts_left = STARTS_LEFT.with(Cell::get);
        if slot.is_none() && starts_left > 0 {
            *slot = unsafe { Reactor::start(env) };
            if slot.is_none() {
                STARTS_LEFT.with(|s| s.set(starts_left - 1));
            }
        }
        slot.as_ref()
            .and_then(|r| r.runtime.as_ref())
            .map(|rt| rt.handle().clone())
    })
}

/// Whether a call woken on this thread right now should be polled here.
pub fn is_turning() -> bool {
    TURNING.with(Cell::get)
}

/// Queues a call woken during the turn, to be polled once the turn is done.
pub fn push_ready(parked: Arc<ParkedCall>, job: Job) {
    READY.with(|r| r.borrow_mut().push((parked, job)));
}

impl Reactor {
    unsafe fn start(env: sys::napi_env) -> Option<Reactor> {
        let before = epoll_fds();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            // (Its blocking pool resolves host names for connects.)
            .thread_name("shopify-db-pool-resolver")
            .build()
            .ok()?;
        let fd = new_epoll_fd(&before)?;
        let mut event_loop = std::ptr::null_mut();
        if unsafe { sys::napi_get_uv_event_loop(env, &mut event_loop) } != sys::Status::napi_ok {
            return None;
        }
        let runtime = Arc::new(runtime);
        let watchdog = Some(Watchdog::start(runtime.clone(), fd)?);
        let idler = unsafe { alloc_handle(UV_IDLE) };
        if unsafe { uv_idle_init(event_loop.cast(), idler) } != 0 {
            unsafe { free_handle(idler) };
            return None;
        }
        let watcher = unsafe { alloc_handle(UV_POLL) };
        unsafe {
            if uv_poll_init(event_loop.cast(), watcher, fd) != 0 {
                free_handle(watcher);
                uv_close(idler, free_handle);
                return None;
            }
            if uv_poll_start(watcher, UV_READABLE, on_readable) != 0 {
                uv_close(watcher, free_handle);
                uv_close(idler, free_handle);
                return None;
            }
            // Neither keeps Node alive by itself: pending calls do (see
            // `completion`).
            uv_unref(watcher);
            uv_unref(idler);
            // Asynchronous: Node keeps the loop running until the close
            // callback says the handle is gone.
            let mut done = std::ptr::null_mut();
            sys::napi_add_async_cleanup_hook(env, Some(stop), std::ptr::null_mut(), &mut done);
        }
        Some(Reactor {
            runtime: Some(runtime),
            watcher,
            idler,
            watchdog,
        })
    }
}

/// The environment is going away: close the handles before their loop is
/// (Node aborts on a loop closed with open handles), then the runtime. The
/// hook is done when the watcher's close callback has run (`closed`); libuv
/// runs the idler's, closed first, in the same pass.
unsafe extern "C" fn stop(done: sys::napi_async_cleanup_hook_handle, _: *mut c_void) {
    // Nothing sets it up again on a dying thread.
    STARTS_LEFT.with(|s| s.set(0));
    match REACTOR.with(|cell| cell.borrow_mut().take()) {
        Some(reactor) => unsafe {
            uv_close(reactor.idler, free_handle);
            // A handle's first field is its `data` pointer, ours to use.
            *reactor
                .watcher
                .cast::<sys::napi_async_cleanup_hook_handle>() = done;
            uv_close(reactor.watcher, closed);
            drop(reactor);
            // Calls still waiting for a turn go the way of every other
            // pending call at teardown: to the (closing) runtime.
            spawn_deferred();
        },
        None => unsafe {
            sys::napi_remove_async_cleanup_hook(done);
        },
    }
}

/// The watcher is closed: free it, and let Node finish the teardown.
unsafe extern "C" fn closed(watcher: *mut c_void) {
    unsafe {
        let done = *watcher.cast::<sys::napi_async_cleanup_hook_handle>();
        free_handle(watcher);
        sys::napi_remove_async_cleanup_hook(done);
    }
}

/// The reactor's epoll has events: turn its driver once, then poll the
/// calls it woke (and those they wake in turn) on this thread.
///
/// Should libuv report an error on the handle (it then stops watching),
/// the watchdog goes on turning the driver, a tick late.
unsafe extern "C" fn on_readable(_: *mut UvPoll, _status: c_int, _events: c_int) {
    TURNING.with(|t| t.set(true));
    REACTOR.with(|cell| {
        if let Some(Reactor {
            runtime: Some(runtime),
            watchdog: Some(watchdog),
            ..
        }) = cell.borrow().as_ref()
        {
            // The driver polled without blocking, and the pipeline's
            // connection tasks it woke run (see `sockets::turn`).
            runtime.block_on(crate::pool::sockets::turn());
            watchdog.turned();
        }
    });
    unsafe { finish_turn() };
}

/// The loop's next iteration, while calls wait in `DEFERRED`: poll them
/// first, then those they wake, within a new budget.
unsafe extern "C" fn on_idle(_: *mut UvIdle) {
    TURNING.with(|t| t.set(true));
    resume_deferred();
    unsafe { finish_turn() };
}

/// Polls what the turn woke within its budget, ends the turn, and watches
/// for the calls left over.
unsafe fn finish_turn() {
    poll_ready(TURN_BUDGET);
    TURNING.with(|t| t.set(false));
    unsafe { watch_deferred() };
}

/// Queues the calls that waited for this iteration, in their order. (Only
/// a turn fills `READY`, and each empties it, so they come first.)
fn resume_deferred() {
    let deferred = DEFERRED.with(|d| std::mem::take(&mut *d.borrow_mut()));
    READY.with(|r| r.borrow_mut().extend(deferred));
}

/// Starts the idle handle while calls wait for the next iteration, and
/// stops it once none does (an idle handle left running would spin the
/// loop).
unsafe fn watch_deferred() {
    let waiting = DEFERRED.with(|d| !d.borrow().is_empty());
    let watched = REACTOR.with(|cell| {
        let slot = cell.borrow();
        let Some(reactor) = slot.as_ref() else {
            return false;
        };
        unsafe {
            if waiting {
                // (Starting a started handle does nothing.)
                uv_idle_start(reactor.idler, on_idle);
            } else {
                uv_idle_stop(reactor.idler);
            }
        }
        true
    });
    if waiting && !watched {
        // No loop to come back to: tokio polls them.
        spawn_deferred();
    }
}

/// Hands every call waiting for the next iteration to tokio.
fn spawn_deferred() {
    for (parked, job) in DEFERRED.with(|d| std::mem::take(&mut *d.borrow_mut())) {
        parked.spawn(job);
    }
}

/// Polls the calls woken during the turn, on this thread, for up to
/// `budget`; the rest wait in `DEFERRED` for the loop's next iteration.
///
/// A call polled here may wake another (a connection handed to the next
/// caller in the queue), which is polled in the next round.
fn poll_ready(budget: Duration) {
    let started = Instant::now();
    loop {
        let ready = READY.with(|r| std::mem::take(&mut *r.borrow_mut()));
        if ready.is_empty() {
            break;
        }
        let mut calls = ready.into_iter();
        let spent = calls.by_ref().any(|(parked, job)| {
            parked.poll_here(job);
            started.elapsed() >= budget
        });
        if spent {
            // The rest of this round, then what it woke, in that order.
            let woken = READY.with(|r| std::mem::take(&mut *r.borrow_mut()));
            DEFERRED.with(|d| d.borrow_mut().extend(calls.chain(woken)));
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::thread::ThreadId;

    /// A woken call that reports the thread it ran on, after `busy`.
    fn queue_call(rt: &tokio::runtime::Runtime, busy: Duration, ran_on: mpsc::Sender<ThreadId>) {
        let (parked, _waker) = ParkedCall::new(rt.handle().clone());
        push_ready(
            parked,
            Box::pin(async move {
                std::thread::sleep(busy);
                let _ = ran_on.send(std::thread::current().id());
            }),
        );
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .expect("runtime")
    }

    #[test]
    fn calls_past_the_turn_budget_wait_for_the_next_iteration_on_this_thread() {
        let rt = runtime();
        let (tx, rx) = mpsc::channel();
        // The first call alone takes longer than the budget.
        queue_call(&rt, Duration::from_millis(20), tx.clone());
        queue_call(&rt, Duration::ZERO, tx.clone());
        queue_call(&rt, Duration::ZERO, tx);
        poll_ready(Duration::from_millis(1));
        let here = std::thread::current().id();
        assert_eq!(rx.try_recv(), Ok(here), "the first call ran in the turn");
        // Nothing else could have run them: they wait for the next turn.
        assert_eq!(rx.try_recv(), Err(mpsc::TryRecvError::Empty));
        assert_eq!(DEFERRED.with(|d| d.borrow().len()), 2);
        resume_deferred();
        poll_ready(Duration::from_secs(60));
        assert_eq!(rx.try_recv(), Ok(here));
        assert_eq!(rx.try_recv(), Ok(here));
        assert!(DEFERRED.with(|d| d.borrow().is_empty()));
    }

    #[test]
    fn calls_within_the_budget_run_on_this_thread() {
        let rt = runtime();
        let (tx, rx) = mpsc::channel();
        for _ in 0..3 {
            queue_call(&rt, Duration::ZERO, tx.clone());
        }
        poll_ready(Duration::from_secs(60));
        let here = std::thread::current().id();
        for _ in 0..3 {
            assert_eq!(rx.recv_timeout(Duration::from_secs(5)).expect("ran"), here);
        }
    }

    #[test]
    fn a_wake_up_during_the_turn_queues_the_call_for_this_thread() {
        let rt = runtime();
        let here = std::thread::current().id();
        for turning in [true, false] {
            let (tx, rx) = mpsc::channel();
            let (parked, waker) = ParkedCall::new(rt.handle().clone());
            parked.park(Box::pin(async move {
                let _ = tx.send(std::thread::current().id());
            }));
            TURNING.with(|t| t.set(turning));
            waker.wake_by_ref();
            poll_ready(Duration::from_secs(60));
            TURNING.with(|t| t.set(false));
            let ran_on = rx.recv_timeout(Duration::from_secs(5)).expect("ran");
            // Outside a turn the wake-up comes from some other thread's
            // work: the call goes to tokio.
            assert_eq!(ran_on == here, turning, "turning: {turning}");
        }
    }
}
