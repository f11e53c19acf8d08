//! The sending rate, held across every worker: each second has a counter
//! in the store, and a worker takes messages from it with one atomic add.
//! What it got beyond the second's budget it does not use; it waits for the
//! next second. The budgets of consecutive seconds add up to the rate
//! exactly (14.5 a second: 14, 15, 14, 15, ...; 0.5 a second: 0, 1, 0, 1):
//! a fractional rate is not rounded down, and no second allows more than
//! the rate rounded up. Workers take one message at a time, right before
//! its send. Windows are
//! real time (not the clock port): pacing is about how fast the mail
//! service is called.
//!
//! The rate is `EMMA_SEND_RATE`, or the mail service's own maximum (SES:
//! `GetAccount`'s `MaxSendRate`), asked at most every ten minutes. A mail
//! service without a limit (the local outbox) is not paced.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::App;
use crate::ports::store::{Query, StoreError, keys};

/// How long the mail service's answer is kept.
const RATE_TTL: Duration = Duration::from_secs(600);
/// The rate assumed when the mail service cannot say (SES's sandbox rate).
const FALLBACK_RATE: f64 = 1.0;
/// How long windows are kept before the tick deletes them.
const KEEP_WINDOWS_SECONDS: i64 = 120;

static RATE: Mutex<Option<(Instant, Option<f64>)>> = Mutex::new(None);

/// Messages per second across all workers; `None` for no limit.
pub async fn rate(app: &App) -> Option<f64> {
    if let Some(rate) = app.settings.sending.rate {
        return Some(rate);
    }
    if let Some((at, rate)) = *RATE.lock().expect("the rate lock")
        && at.elapsed() < RATE_TTL
    {
        return rate;
    }
    let rate = match app.mailer.max_send_rate().await {
        Ok(rate) => rate,
        Err(e) => {
            tracing::warn!(error = %e, fallback = FALLBACK_RATE, "the mail service's sending rate is unknown");
            Some(FALLBACK_RATE)
        }
    };
    *RATE.lock().expect("the rate lock") = Some((Instant::now(), rate));
    rate
}

/// How many messages the second starting at `second` (Unix time) allows:
/// what the rate allows up to its end less what it allowed up to its start.
fn budget_of(rate: f64, second: i64) -> i64 {
    let upto = |t: i64| (rate * t as f64).floor() as i64;
    upto(second + 1) - upto(second)
}

/// Takes up to `want` (at least 1) messages from the rate, waiting for a
/// window that has room; returns how many it got.
pub async fn acquire(app: &App, want: u32) -> Result<u32, StoreError> {
    let want = want.max(1);
    let Some(rate) = rate(app).await else {
        return Ok(want);
    };
    loop {
        let now = chrono::Utc::now();
        let start = now.timestamp();
        let budget = budget_of(rate, start);
        let next = (start + 1) * 1000;
        let wait_ms = (next - now.timestamp_millis()).clamp(1, 1000);
        if budget == 0 {
            tokio::time::sleep(Duration::from_millis(wait_ms as u64 + jitter_ms(50))).await;
            continue;
        }
        let key = keys::send_rate_window(start);
        let taken = app.store.add(&key, &[("granted", i64::from(want))]).await?;
        let after = taken.get("granted").copied().unwrap_or(i64::from(want));
        let before = after - i64::from(want);
        let granted = (budget - before).clamp(0, i64::from(want));
        if granted > 0 {
            return Ok(granted as u32);
        }
        // A little jitter, so waiting workers do not all wake at once.
        let jitter = jitter_ms(50);
        tokio::time::sleep(Duration::from_millis(wait_ms as u64 + jitter)).await;
    }
}

/// A random number of milliseconds below `max`.
pub(crate) fn jitter_ms(max: u64) -> u64 {
    (uuid::Uuid::new_v4().as_u128() as u64) % max.max(1)
}

/// Deletes windows older than two minutes (the tick calls this).
pub async fn sweep(app: &App) -> Result<usize, StoreError> {
    let oldest_kept = chrono::Utc::now().timestamp() - KEEP_WINDOWS_SECONDS;
    let keep_from = keys::send_rate_window(oldest_kept);
    let page = app
        .store
        .query(Query::table(keys::send_rate_windows()).limit(500))
        .await?;
    let mut deleted = 0;
    for stored in page.items {
        if stored.item.key.sk() >= keep_from.sk() {
            break;
        }
        app.store.delete(&stored.item.key).await?;
        deleted += 1;
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budgets(rate: f64, from: i64, seconds: i64) -> Vec<i64> {
        (from..from + seconds).map(|s| budget_of(rate, s)).collect()
    }

    #[test]
    fn a_whole_rate_allows_the_same_number_every_second() {
        assert_eq!(budgets(14.0, 1_790_000_000, 3), vec![14, 14, 14]);
        assert_eq!(budgets(1.0, 1_790_000_000, 2), vec![1, 1]);
    }

    #[test]
    fn a_fractional_rate_is_met_exactly_over_the_seconds() {
        let now = 1_790_000_000;
        let per_ten: i64 = budgets(14.5, now, 10).iter().sum();
        assert_eq!(per_ten, 145);
        assert!(budgets(14.5, now, 10).iter().all(|b| *b == 14 || *b == 15));
        let per_ten: i64 = budgets(0.5, now, 10).iter().sum();
        assert_eq!(per_ten, 5);
        let per_hundred: i64 = budgets(0.3, now, 100).iter().sum();
        assert_eq!(per_hundred, 30);
        assert!(budgets(0.3, now, 100).iter().all(|b| *b == 0 || *b == 1));
    }
}
