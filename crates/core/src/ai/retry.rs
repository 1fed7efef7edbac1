//! Retries on one provider: exponential backoff with full jitter, or the provider's own hint,
//! always inside the call's deadline.
//!
//! A hint is recomputed from each new error (the newest word wins). A hint longer than
//! `max_wait`, or longer than what is left of the deadline, is not waited out: the chain moves
//! to the next provider instead.

use std::time::Duration;

use super::failure::{FailureClass, ProviderFailure};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts on one provider for one call, the first included.
    pub max_attempts: u32,
    pub base: Duration,
    /// The largest computed backoff.
    pub cap: Duration,
    /// The longest provider hint the chain will wait out.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base: Duration::from_millis(250),
            cap: Duration::from_secs(8),
            max_wait: Duration::from_secs(20),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    Wait(Duration),
    NextProvider(&'static str),
}

impl RetryPolicy {
    /// Full jitter: a uniform draw in `[0, min(cap, base * 2^retry))`; `jitter` is that draw's
    /// fraction in `[0, 1)`.
    pub fn backoff(&self, retry: u32, jitter: f64) -> Duration {
        let exp = self
            .base
            .saturating_mul(1u32.checked_shl(retry.min(20)).unwrap_or(u32::MAX));
        exp.min(self.cap).mul_f64(jitter.clamp(0.0, 1.0))
    }

    /// After `attempts_done` attempts on this provider, the latest having failed with
    /// `failure`, with `remaining` left of the call's deadline.
    pub fn decide(
        &self,
        failure: &ProviderFailure,
        attempts_done: u32,
        remaining: Duration,
        jitter: f64,
    ) -> RetryDecision {
        if failure.class() != FailureClass::Retryable {
            return RetryDecision::NextProvider("not retryable on this provider");
        }
        if attempts_done >= self.max_attempts {
            return RetryDecision::NextProvider("retries used up");
        }
        let delay = match failure.retry_after {
            Some(hint) if hint > self.max_wait => {
                return RetryDecision::NextProvider("retry hint longer than the chain waits");
            }
            Some(hint) => hint,
            None => self.backoff(attempts_done.saturating_sub(1), jitter),
        };
        if delay >= remaining {
            return RetryDecision::NextProvider("retry hint longer than the remaining deadline");
        }
        RetryDecision::Wait(delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ai::failure::FailureKind;

    fn fail(status: u16, hint: Option<Duration>) -> ProviderFailure {
        let mut f = ProviderFailure::new(FailureKind::Status(status), "x");
        f.retry_after = hint;
        f
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(0, 1.0), Duration::from_millis(250));
        assert_eq!(p.backoff(1, 1.0), Duration::from_millis(500));
        assert_eq!(p.backoff(10, 1.0), Duration::from_secs(8));
        assert_eq!(p.backoff(3, 0.0), Duration::ZERO);
        assert_eq!(p.backoff(2, 0.5), Duration::from_millis(500));
    }

    #[test]
    fn hints_and_deadline() {
        let p = RetryPolicy::default();
        let long = Duration::from_secs(60);
        assert_eq!(
            p.decide(&fail(429, Some(Duration::from_secs(3))), 1, long, 0.5),
            RetryDecision::Wait(Duration::from_secs(3))
        );
        assert!(matches!(
            p.decide(&fail(429, Some(Duration::from_secs(30))), 1, long, 0.5),
            RetryDecision::NextProvider(_)
        ));
        assert!(matches!(
            p.decide(
                &fail(503, Some(Duration::from_secs(5))),
                1,
                Duration::from_secs(4),
                0.5
            ),
            RetryDecision::NextProvider(_)
        ));
        assert!(matches!(
            p.decide(&fail(503, None), 3, long, 0.5),
            RetryDecision::NextProvider(_)
        ));
        assert!(matches!(
            p.decide(&fail(400, None), 1, long, 0.5),
            RetryDecision::NextProvider(_)
        ));
    }
}
