//! Backoff after failed sign-ins, as a pure policy: given how many failures
//! a counter (one per account, one per IP address) holds and when the last
//! one was, may the next attempt go ahead now, or when?
//!
//! Why backoff and not lockout: anyone may type a victim's address, so a
//! lockout would let an attacker lock any user out at will. Here the first
//! `free_attempts` failures cost nothing, then each further failure doubles
//! the wait from `base` up to `max` (15 minutes) and never beyond. An
//! attacker can slow a victim's sign-in down to one try per `max`, but never
//! lock them out for longer than that; a password guesser meanwhile gets
//! about a hundred guesses a day per account and per address, too few for
//! any password the policy accepts. Failures older than `window()` are
//! forgotten.

use chrono::{DateTime, TimeDelta, Utc};

/// The backoff curve. Counters are kept by the caller, one per account and
/// one per IP address; an attempt has to be allowed by both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures that cost no wait.
    pub free_attempts: u32,
    /// The wait after the first failure beyond the free ones; doubled for
    /// each further failure.
    pub base: TimeDelta,
    /// The longest wait, however many failures.
    pub max: TimeDelta,
    /// How long after the last failure a counter is forgotten.
    pub forget_after: TimeDelta,
}

impl Default for ThrottlePolicy {
    /// 5 free attempts, then 1 s, 2 s, 4 s … up to 15 minutes; failures
    /// forgotten 24 hours after the last one.
    fn default() -> Self {
        Self {
            free_attempts: 5,
            base: TimeDelta::seconds(1),
            max: TimeDelta::minutes(15),
            forget_after: TimeDelta::hours(24),
        }
    }
}

/// Whether an attempt may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead.
    Allow,
    /// Refuse without checking the credentials; try again from this moment.
    WaitUntil(DateTime<Utc>),
}

impl Decision {
    /// The stricter of two decisions (e.g. the account's and the IP
    /// address's): the later wait, or `Allow` if both allow.
    pub fn stricter(self, other: Decision) -> Decision {
        match (self, other) {
            (Decision::WaitUntil(a), Decision::WaitUntil(b)) => Decision::WaitUntil(a.max(b)),
            (wait @ Decision::WaitUntil(_), Decision::Allow) => wait,
            (Decision::Allow, other) => other,
        }
    }

    /// How long to wait from `now`, for a `Retry-After` header; `None` when
    /// allowed.
    pub fn retry_after(&self, now: DateTime<Utc>) -> Option<TimeDelta> {
        match self {
            Decision::Allow => None,
            Decision::WaitUntil(until) => Some((*until - now).max(TimeDelta::zero())),
        }
    }
}

impl ThrottlePolicy {
    /// The wait a counter of `failures` imposes after its last failure:
    /// zero up to `free_attempts`, then `base * 2^(n-1)` for the n-th
    /// failure beyond them, capped at `max`.
    pub fn delay(&self, failures: u32) -> TimeDelta {
        let beyond = failures.saturating_sub(self.free_attempts);
        if beyond == 0 {
            return TimeDelta::zero();
        }
        // 2^30 times any sensible base is far past any sensible max.
        let factor = 1_i32 << (beyond - 1).min(30);
        self.base
            .checked_mul(factor)
            .map_or(self.max, |delay| delay.min(self.max))
    }

    /// Whether an attempt at `now` may go ahead, given the counter's
    /// `failures` and the time of its `last_failure`. A counter whose last
    /// failure is `window()` or more ago counts as empty (the store's TTL
    /// removes it eventually, but DynamoDB's TTL may lag by a day or more).
    pub fn decide(
        &self,
        failures: u32,
        last_failure: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Decision {
        let Some(last) = last_failure else {
            return Decision::Allow;
        };
        if self.is_forgotten(last, now) {
            return Decision::Allow;
        }
        let until = last + self.delay(failures);
        if now < until {
            Decision::WaitUntil(until)
        } else {
            Decision::Allow
        }
    }

    /// The count to store after a new failure at `now`: one more, or 1 when
    /// the previous failures are already forgotten.
    pub fn next_failures(
        &self,
        failures: u32,
        last_failure: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> u32 {
        match last_failure {
            Some(last) if !self.is_forgotten(last, now) => failures.saturating_add(1),
            _ => 1,
        }
    }

    /// How long after its last failure a counter is forgotten: the TTL to
    /// put on the stored counter.
    pub fn window(&self) -> TimeDelta {
        self.forget_after
    }

    fn is_forgotten(&self, last_failure: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        now - last_failure >= self.forget_after
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn secs(n: i64) -> TimeDelta {
        TimeDelta::seconds(n)
    }

    #[test]
    fn the_first_five_failures_cost_no_wait() {
        let policy = ThrottlePolicy::default();
        for failures in 0..=5 {
            assert_eq!(policy.delay(failures), TimeDelta::zero());
            assert_eq!(policy.decide(failures, Some(t0()), t0()), Decision::Allow);
        }
    }

    #[test]
    fn the_wait_doubles_from_one_second_after_the_free_attempts() {
        let policy = ThrottlePolicy::default();
        let curve: Vec<i64> = (6..=15).map(|f| policy.delay(f).num_seconds()).collect();
        assert_eq!(curve, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]);
        assert_eq!(
            policy.decide(8, Some(t0()), t0() + secs(3)),
            Decision::WaitUntil(t0() + secs(4))
        );
        assert_eq!(
            policy.decide(8, Some(t0()), t0() + secs(4)),
            Decision::Allow
        );
    }

    #[test]
    fn the_wait_is_capped_at_fifteen_minutes_however_many_failures() {
        let policy = ThrottlePolicy::default();
        assert_eq!(policy.delay(16), TimeDelta::minutes(15));
        for failures in [17, 40, 1_000, u32::MAX] {
            assert_eq!(policy.delay(failures), TimeDelta::minutes(15), "{failures}");
        }
        let last = t0();
        assert_eq!(
            policy.decide(u32::MAX, Some(last), last + secs(899)),
            Decision::WaitUntil(last + TimeDelta::minutes(15))
        );
        assert_eq!(
            policy.decide(u32::MAX, Some(last), last + secs(900)),
            Decision::Allow
        );
    }

    #[test]
    fn failures_are_forgotten_after_the_window() {
        let policy = ThrottlePolicy::default();
        assert_eq!(policy.window(), TimeDelta::hours(24));
        let last = t0();
        let a_day_later = last + TimeDelta::hours(24);
        // With a cap over a day a wait would still run; the window ends it.
        let slow = ThrottlePolicy {
            max: TimeDelta::days(7),
            ..policy
        };
        assert!(matches!(
            slow.decide(40, Some(last), a_day_later - secs(1)),
            Decision::WaitUntil(_)
        ));
        assert_eq!(slow.decide(40, Some(last), a_day_later), Decision::Allow);

        assert_eq!(
            policy.next_failures(20, Some(last), a_day_later - secs(1)),
            21
        );
        assert_eq!(policy.next_failures(20, Some(last), a_day_later), 1);
        assert_eq!(policy.next_failures(0, None, last), 1);
    }

    #[test]
    fn a_counter_without_a_last_failure_allows() {
        assert_eq!(
            ThrottlePolicy::default().decide(99, None, t0()),
            Decision::Allow
        );
    }

    #[test]
    fn the_stricter_of_two_decisions_is_the_later_wait() {
        let soon = Decision::WaitUntil(t0() + secs(2));
        let later = Decision::WaitUntil(t0() + secs(9));
        assert_eq!(soon.stricter(later), later);
        assert_eq!(later.stricter(soon), later);
        assert_eq!(Decision::Allow.stricter(soon), soon);
        assert_eq!(soon.stricter(Decision::Allow), soon);
        assert_eq!(Decision::Allow.stricter(Decision::Allow), Decision::Allow);
        assert_eq!(later.retry_after(t0()), Some(secs(9)));
        assert_eq!(Decision::Allow.retry_after(t0()), None);
    }
}
