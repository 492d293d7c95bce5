//! A call that went pending on the JS thread waits for its own wake-up,
//! then goes to tokio.
//!
//! Spawning it at once would have a tokio worker poll it straight away:
//! on a server backend the statement was just sent, so that poll only
//! finds no reply yet, and costs a worker's wake-up and park (two context
//! switches) per call for nothing. Instead the JS thread's first poll uses
//! this waker; the socket, semaphore or timer that the call waits on wakes
//! it, and only then is it spawned, usually from the tokio thread that saw
//! the reply, which then polls it without another wake-up. A server socket
//! watched by the JS thread itself (see `js_reactor`) wakes the call on
//! that thread, which then polls it there: no tokio thread is involved.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Wake, Waker};

use tokio::runtime::Handle;

use super::js_reactor;

/// The rest of a call, to run on tokio (or on the JS thread's reactor).
pub type Job = Pin<Box<dyn Future<Output = ()> + Send>>;

enum State {
    /// The JS thread is still polling; no job yet.
    Polling,
    /// Woken while still polling: spawn the job as soon as it is handed in.
    Woken,
    /// Handed in, waiting for a wake-up.
    Parked(Job),
    /// Spawned; later wake-ups are the spawned task's business.
    Spawned,
}

pub struct SpawnOnWake {
    state: Mutex<State>,
    /// Spawning through a handle never panics, also from a tokio thread
    /// while the runtime shuts down (the job is then dropped, as tokio
    /// drops its pending tasks).
    runtime: Handle,
}

impl SpawnOnWake {
    /// The waker for the JS thread's poll, and the handle to park the job.
    pub fn new(runtime: Handle) -> (Arc<Self>, Waker) {
        let this = Arc::new(SpawnOnWake {
            state: Mutex::new(State::Polling),
            runtime,
        });
        let waker = Waker::from(this.clone());
        (this, waker)
    }

    /// Hands in the job after the poll returned `Pending`: spawned now if
    /// a wake-up already came, else on the first one.
    pub fn park(self: &Arc<Self>, job: Job) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if matches!(*state, State::Woken) {
            // (Also when polled by the JS thread's reactor: a call that woke
            // itself is yielding, and must not spin that thread.)
            drop(state);
            self.spawn(job);
        } else {
            *state = State::Parked(job);
        }
    }

    /// Polls the job on this (JS) thread: it was woken while the JS
    /// thread's reactor turned (see `js_reactor`). Parked again if pending.
    pub fn poll_here(self: Arc<Self>, mut job: Job) {
        let waker = Waker::from(self.clone());
        let mut cx = std::task::Context::from_waker(&waker);
        let polled = {
            let _runtime = self.runtime.enter();
            job.as_mut().poll(&mut cx)
        };
        if polled.is_pending() {
            self.park(job);
        } else {
            *self.state.lock().unwrap_or_else(|p| p.into_inner()) = State::Spawned;
        }
    }

    /// Sends the job to tokio (from `park`, or a job woken during the
    /// reactor's turn after all).
    pub fn spawn(&self, job: Job) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = State::Spawned;
        self.runtime.spawn(job);
    }
}

impl Wake for SpawnOnWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match std::mem::replace(&mut *state, State::Spawned) {
            State::Polling | State::Woken => *state = State::Woken,
            State::Parked(job) if js_reactor::is_turning() => {
                *state = State::Polling;
                drop(state);
                js_reactor::push_ready(self.clone(), job);
            }
            State::Parked(job) => {
                drop(state);
                self.runtime.spawn(job);
            }
            State::Spawned => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// A job that counts its runs and reports the first one.
    fn counting(runs: &Arc<AtomicUsize>) -> (Job, tokio::sync::oneshot::Receiver<()>) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let runs = runs.clone();
        let job: Job = Box::pin(async move {
            runs.fetch_add(1, Ordering::SeqCst);
            let _ = tx.send(());
        });
        (job, rx)
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime")
    }

    #[test]
    fn a_parked_job_runs_only_after_a_wake_up_and_only_once() {
        let rt = runtime();
        let runs = Arc::new(AtomicUsize::new(0));
        let (parked, waker) = SpawnOnWake::new(rt.handle().clone());
        let (job, mut ran) = counting(&runs);
        parked.park(job);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(runs.load(Ordering::SeqCst), 0, "ran before any wake-up");
        assert!(ran.try_recv().is_err());
        waker.wake_by_ref();
        waker.wake_by_ref();
        rt.block_on(async { tokio::time::timeout(Duration::from_secs(5), ran).await })
            .expect("ran within 5 s")
            .expect("reported");
        waker.wake();
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_wake_up_during_the_poll_spawns_the_job_when_it_is_handed_in() {
        let rt = runtime();
        let runs = Arc::new(AtomicUsize::new(0));
        let (parked, waker) = SpawnOnWake::new(rt.handle().clone());
        // Woken before the poll returned (say, the reply was already there).
        waker.wake_by_ref();
        let (job, ran) = counting(&runs);
        parked.park(job);
        rt.block_on(async { tokio::time::timeout(Duration::from_secs(5), ran).await })
            .expect("ran within 5 s without another wake-up")
            .expect("reported");
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }
}
