//! Progress reports and cancellation for transfers. A transfer reports after every chunk (and
//! every buffer on downloads) and checks its [`CancelFlag`] between chunks: a cancelled upload
//! stops at a chunk boundary and keeps what the server already has, so it can resume.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// One progress report.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct Progress {
    /// Bytes of the file now transferred (including any resumed part).
    pub done: u64,
    pub total: u64,
    /// Bytes per second over this session's transfer (resumed bytes not counted).
    pub bytes_per_sec: f64,
    /// Estimated seconds left, when a rate is known.
    pub eta_secs: Option<f64>,
}

pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// Shared cancel switch; cloning shares it.
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// What a caller passes to watch and steer one transfer.
#[derive(Clone, Default)]
pub struct Transfer {
    pub cancel: CancelFlag,
    pub on_progress: Option<ProgressFn>,
}

impl std::fmt::Debug for Transfer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transfer")
            .field("cancel", &self.cancel)
            .field("on_progress", &self.on_progress.is_some())
            .finish()
    }
}

impl Transfer {
    pub fn with_progress(f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        Self {
            cancel: CancelFlag::new(),
            on_progress: Some(Arc::new(f)),
        }
    }

    pub(crate) fn check_cancel(&self) -> Result<(), super::FileError> {
        if self.cancel.is_cancelled() {
            Err(super::FileError::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// Turns byte counts into [`Progress`] reports.
pub(crate) struct Meter {
    started: Instant,
    start_bytes: u64,
    total: u64,
}

impl Meter {
    pub(crate) fn new(start_bytes: u64, total: u64) -> Self {
        Self {
            started: Instant::now(),
            start_bytes,
            total,
        }
    }

    pub(crate) fn report(&self, transfer: &Transfer, done: u64) {
        if let Some(f) = &transfer.on_progress {
            f(self.progress(done, self.started.elapsed()));
        }
    }

    fn progress(&self, done: u64, elapsed: Duration) -> Progress {
        let moved = done.saturating_sub(self.start_bytes) as f64;
        let secs = elapsed.as_secs_f64();
        let rate = if secs > 0.0 { moved / secs } else { 0.0 };
        let eta = (rate > 0.0).then(|| self.total.saturating_sub(done) as f64 / rate);
        Progress {
            done,
            total: self.total,
            bytes_per_sec: rate,
            eta_secs: eta,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_and_eta() {
        let m = Meter::new(100, 1100);
        let p = m.progress(600, Duration::from_secs(5));
        assert_eq!(p.bytes_per_sec, 100.0);
        assert_eq!(p.eta_secs, Some(5.0));
        assert_eq!(m.progress(100, Duration::ZERO).eta_secs, None);
    }
}
