//! Where a server connection's socket registers for readiness.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use tokio::runtime::Handle;

/// Polls a connect inside the sockets' runtime (see `Shared::sockets`), so
/// the socket it opens registers with that runtime's I/O driver. Nothing
/// else runs there: sqlx opens a PostgreSQL or MySQL connection without
/// timers or spawned tasks (a DNS lookup uses its blocking pool).
pub struct InRuntime<'h, F>(Option<&'h Handle>, F);

impl<'h, F> InRuntime<'h, F> {
    /// `runtime: None` polls `connect` where it is.
    pub fn new(runtime: Option<&'h Handle>, connect: F) -> Self {
        InRuntime(runtime, connect)
    }
}

impl<F: Future + Unpin> Future for InRuntime<'_, F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _entered = self.0.map(|h| h.enter());
        Pin::new(&mut self.1).poll(cx)
    }
}

/// Set when a task spawned on the sockets' runtime (a pipelined
/// connection, see `pipeline`) is woken. A turn of that runtime's driver
/// can wake such a task after the turn's last look at its run queue, and
/// nothing would run it before the next turn: `turn` looks again while
/// this is set. (One flag for every JS thread's runtime: at worst a turn
/// looks once more than it needed to.)
static TASK_WOKEN: AtomicBool = AtomicBool::new(false);

/// One turn of the sockets' runtime (run with `block_on`): its I/O driver
/// polled without blocking, and every task that woke run, until a round
/// wakes none.
pub async fn turn() {
    loop {
        // `yield_now` defers its own wake-up, so the scheduler runs the
        // queued tasks and polls the driver with a zero timeout first.
        tokio::task::yield_now().await;
        if !TASK_WOKEN.swap(false, Ordering::AcqRel) {
            break;
        }
    }
}

/// A future spawned on the sockets' runtime whose wake-ups `turn` sees.
pub struct Tracked<F>(pub Pin<Box<F>>);

struct FlagWaker(Waker);

impl Wake for FlagWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        TASK_WOKEN.store(true, Ordering::Release);
        self.0.wake_by_ref();
    }
}

impl<F: Future> Future for Tracked<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // (One allocation per poll of a connection task, not per statement:
        // a poll handles every message that arrived.)
        let waker = Waker::from(Arc::new(FlagWaker(cx.waker().clone())));
        self.0.as_mut().poll(&mut Context::from_waker(&waker))
    }
}
