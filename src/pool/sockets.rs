//! Where a server connection's socket registers for readiness.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

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
