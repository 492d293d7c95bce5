//! A call that went pending waits for its own wake-up, and is polled
//! where that wake-up happens: on the JS thread if it came while the JS
//! thread's reactor turned, else on tokio.
//!
//! Spawning a call at once would have a tokio worker poll it straight away:
//! on a server backend the statement was just sent, so that poll only
//! finds no reply yet, and costs a worker's wake-up and park (two context
//! switches) per call for nothing. Instead the call's waker is this one;
//! the socket, semaphore or timer that the call waits on wakes it, and only
//! then is it polled. A server socket watched by the JS thread itself (see
//! `js_reactor`) wakes the call on that thread, which then polls it there:
//! no tokio thread is involved.
//!
//! The call keeps this waker also when a tokio worker polls it (it is
//! spawned as one poll, not handed to tokio for good). Were it tokio's own
//! task, every later wake-up would go through tokio: the reply read on the
//! JS thread would wake a worker to poll it, and the connection it then
//! releases would wake the next caller in the queue on that worker, and so
//! on; a quarter of the calls ran that way under 64 in flight.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Wake, Waker};

use tokio::runtime::Handle;

use super::js_reactor;

/// The rest of a call, to run on tokio (or on the JS thread's reactor).
pub type Job = Pin<Box<dyn Future<Output = ()> + Send>>;

enum State {
    /// Being polled, or queued to be (on the JS thread or tokio).
    Polling,
    /// Woken while `Polling`: polled again (on tokio) once handed back.
    Woken,
    /// Handed back after a pending poll, waiting for a wake-up.
    Parked(Job),
    /// Finished; later wake-ups are nobody's business.
    Done,
}

/// A call's own waker, holding the rest of the call while it waits.
pub struct ParkedCall {
    state: Mutex<State>,
    /// Spawning through a handle never panics, also from a tokio thread
    /// while the runtime shuts down (the job is then dropped, as tokio
    /// drops its pending tasks).
    runtime: Handle,
}

impl ParkedCall {
    /// The waker for the JS thread's poll, and the handle to park the job.
    pub fn new(runtime: Handle) -> (Arc<Self>, Waker) {
        let this = Arc::new(ParkedCall {
            state: Mutex::new(State::Polling),
            runtime,
        });
        let waker = Waker::from(this.clone());
        (this, waker)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Hands in the job after a poll returned `Pending`: polled again on
    /// tokio now if a wake-up already came, else on the first one.
    ///
    /// (A call woken during its own poll is yielding, or found its reply
    /// already there: on tokio it cannot hold up the JS thread.)
    pub fn park(self: &Arc<Self>, job: Job) {
        let mut state = self.lock();
        if matches!(*state, State::Woken) {
            *state = State::Polling;
            drop(state);
            self.spawn(job);
        } else {
            *state = State::Parked(job);
        }
    }

    /// Polls the job on this thread (the JS thread after its reactor
    /// turned, or a tokio worker); parked again if pending.
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
            *self.lock() = State::Done;
        }
    }

    /// Has a tokio worker poll the job once (from `park`, or a wake-up
    /// away from the JS thread's turn).
    pub fn spawn(self: &Arc<Self>, job: Job) {
        let this = self.clone();
        self.runtime.spawn(async move { this.poll_here(job) });
    }
}

impl Wake for ParkedCall {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let mut state = self.lock();
        match std::mem::replace(&mut *state, State::Polling) {
            State::Polling | State::Woken => *state = State::Woken,
            State::Parked(job) => {
                drop(state);
                if js_reactor::is_turning() {
                    js_reactor::push_ready(self.clone(), job);
                } else {
                    self.spawn(job);
                }
            }
            State::Done => *state = State::Done,
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
        let (parked, waker) = ParkedCall::new(rt.handle().clone());
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
        let (parked, waker) = ParkedCall::new(rt.handle().clone());
        // Woken before the poll returned (say, the reply was already there).
        waker.wake_by_ref();
        let (job, ran) = counting(&runs);
        parked.park(job);
        rt.block_on(async { tokio::time::timeout(Duration::from_secs(5), ran).await })
            .expect("ran within 5 s without another wake-up")
            .expect("reported");
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_job_polled_by_tokio_keeps_this_waker_and_is_never_polled_after_it_finished() {
        let rt = runtime();
        let (first_tx, first_rx) = tokio::sync::oneshot::channel::<()>();
        let (second_tx, second_rx) = tokio::sync::oneshot::channel::<()>();
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        // Reports that the job waits on the second channel (so the test
        // sends on it only then, whatever the scheduling).
        let (waiting_tx, waiting_rx) = std::sync::mpsc::channel();
        let (parked, waker) = ParkedCall::new(rt.handle().clone());
        let ours = waker.clone();
        let polls = Arc::new(AtomicUsize::new(0));
        let polled = polls.clone();
        let mut polls_with_ours = Vec::new();
        let mut waits = vec![first_rx, second_rx];
        let mut done_tx = Some(done_tx);
        let job: Job = Box::pin(std::future::poll_fn(move |cx| {
            polled.fetch_add(1, Ordering::SeqCst);
            polls_with_ours.push(cx.waker().will_wake(&ours));
            while let Some(wait) = waits.first_mut() {
                if Pin::new(wait).poll(cx).is_pending() {
                    if waits.len() == 1 {
                        let _ = waiting_tx.send(());
                    }
                    return std::task::Poll::Pending;
                }
                waits.remove(0);
            }
            if let Some(done) = done_tx.take() {
                let _ = done.send(polls_with_ours.clone());
            }
            std::task::Poll::Ready(())
        }));
        // The first poll, as the JS thread makes it, with this waker.
        let mut cx = std::task::Context::from_waker(&waker);
        let mut job = job;
        assert!(job.as_mut().poll(&mut cx).is_pending());
        parked.park(job);
        // Woken from a thread that is no JS thread: a tokio worker polls it.
        first_tx.send(()).expect("first");
        waiting_rx
            .recv_timeout(Duration::from_secs(5))
            .expect("waits on the second channel");
        second_tx.send(()).expect("second");
        let with_ours = rt
            .block_on(async { tokio::time::timeout(Duration::from_secs(5), done_rx).await })
            .expect("finished within 5 s")
            .expect("reported");
        assert_eq!(with_ours.len(), 3, "one poll per wake-up: {with_ours:?}");
        assert!(
            with_ours.iter().all(|ours| *ours),
            "a poll ran with tokio's waker: {with_ours:?}"
        );
        // A wake-up after the end polls nothing.
        waker.wake_by_ref();
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(polls.load(Ordering::SeqCst), 3, "polled after it finished");
    }
}
