//! Time, injected. The chain reads "now" and sleeps (backoff, waiting out a `Retry-After`)
//! only through a [`Clock`], so tests can drive breaker cool-downs and backoff without
//! sleeping. Timeouts that bound real network I/O stay on tokio's timer: they measure the
//! network, not the chain's bookkeeping.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;

pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Monotonic time since an arbitrary origin: deadlines and latencies.
    fn now(&self) -> Duration;
    /// Wall-clock time: breaker reopen times and cache ages, which outlive the process.
    fn wall(&self) -> DateTime<Utc>;
    /// Waits `d` (backoff, a provider's retry hint).
    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()>;
}

#[derive(Debug)]
pub struct SystemClock {
    origin: Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
    fn wall(&self) -> DateTime<Utc> {
        Utc::now()
    }
    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(d))
    }
}

/// A clock on which sleeping is instant: `sleep(d)` moves time forward by `d` and returns.
/// Real elapsed time still counts, so a deadline covers real network time too.
#[derive(Debug)]
pub struct ManualClock {
    origin: Instant,
    wall_origin: DateTime<Utc>,
    offset: Mutex<Duration>,
    slept: Mutex<Vec<Duration>>,
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl ManualClock {
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
            wall_origin: Utc::now(),
            offset: Mutex::new(Duration::ZERO),
            slept: Mutex::new(Vec::new()),
        }
    }

    pub fn advance(&self, d: Duration) {
        if let Ok(mut offset) = self.offset.lock() {
            *offset += d;
        }
    }

    /// Every sleep asked for so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.slept.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn offset(&self) -> Duration {
        self.offset.lock().map(|o| *o).unwrap_or_default()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        self.origin.elapsed() + self.offset()
    }
    fn wall(&self) -> DateTime<Utc> {
        let elapsed = self.origin.elapsed() + self.offset();
        self.wall_origin + chrono::Duration::from_std(elapsed).unwrap_or_default()
    }
    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        self.advance(d);
        if let Ok(mut slept) = self.slept.lock() {
            slept.push(d);
        }
        Box::pin(tokio::task::yield_now())
    }
}
