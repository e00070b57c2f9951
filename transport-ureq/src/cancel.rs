//! Stopping a blocking flow from another thread.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Instant;

/// A handle that stops a running flow from another thread (a Ctrl-C handler, a UI's
/// "Cancel" button), or from the `on_event` callback; pass it to
/// [`run_with_cancel`](crate::run_with_cancel).
///
/// Clones share the same state. A wait between polls ends as soon as [`Cancel::cancel`] is
/// called; a request already on the wire is not interrupted, but it is bounded by the
/// agent's timeout, and the run ends with
/// [`FlowError::Cancelled`](device_grant::FlowError::Cancelled) right after it. A handle
/// stays cancelled: use a new one for the next run.
#[derive(Clone, Debug, Default)]
pub struct Cancel {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    cancelled: Mutex<bool>,
    wake: Condvar,
}

impl Cancel {
    /// A handle that has not been cancelled.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Stops every flow run with this handle (or a clone of it). Calling it again does nothing.
    pub fn cancel(&self) {
        *self.lock() = true;
        self.shared.wake.notify_all();
    }

    /// Whether [`Cancel::cancel`] has been called.
    pub fn is_cancelled(&self) -> bool {
        *self.lock()
    }

    /// Sleeps until `deadline` or until cancelled, whichever comes first. Returns whether it
    /// was cancelled.
    pub(crate) fn sleep_until(&self, deadline: Instant) -> bool {
        let mut cancelled = self.lock();
        loop {
            if *cancelled {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            // Spurious wake-ups land back here and wait out the rest.
            cancelled = self
                .shared
                .wake
                .wait_timeout(cancelled, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, bool> {
        // A bool cannot be left half-written, so a panic elsewhere does not make it unusable.
        self.shared
            .cancelled
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}
