//! Failed-login limits, per account and per client address, kept in the database.
//!
//! An attempt is counted BEFORE its password is checked, by one conditional upsert that
//! increments the count only while it is under the limit and says whether the attempt may
//! proceed; a success forgives it afterwards. So with N allowed failures, however many
//! attempts arrive at once, at most N reach the password check: the rest are 429. The cache
//! only remembers a locked account, so that an attack on it costs no database write.
use super::{queries, Allowance};
use crate::error::AppResult;
use crate::state::AppState;
use sha2::Digest;
use std::time::Duration;

/// The counter keys of an account and of an address. An address too long to be an e-mail
/// (no account has one) is keyed by its SHA-256, so that the key stays small enough to index:
/// a login naming 4,000 random characters is a 401, not a 500 from PostgreSQL's btree limit.
pub fn keys(email: &str, client_ip: &str) -> (String, String) {
    let email = email.trim().to_lowercase();
    let acct = if email.len() <= crate::services::MAX_EMAIL_LEN {
        format!("acct:{email}")
    } else {
        format!("acct-sha256:{}", hex::encode(sha2::Sha256::digest(email.as_bytes())))
    };
    (acct, format!("ip:{client_ip}"))
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Seconds until `ends_ms`, at least 1.
fn secs_until(ends_ms: i64) -> u64 {
    (((ends_ms - now_ms()).max(0) as u64).div_ceil(1000)).max(1)
}

/// The outcome of counting one attempt.
pub enum Counted {
    /// It may proceed; the count is now `n`.
    Proceed(u64),
    /// The limit is reached; retry after this many seconds.
    Refused(u64),
}

/// Counts one attempt against `key` unless `limit` attempts are already counted in the window.
pub async fn count(state: &AppState, key: &str, limit: u64) -> AppResult<Counted> {
    let cache_key = format!("login:locked:{key}");
    if let Some(ends) = state.cache.get(&cache_key).await.and_then(|v| v.parse::<i64>().ok()) {
        if ends > now_ms() {
            return Ok(Counted::Refused(secs_until(ends)));
        }
    }
    let now = now_ms();
    let window = state
        .settings
        .login_window_secs
        .saturating_mul(1000)
        .min(i64::MAX as u64) as i64;
    let ends = now.saturating_add(window);
    let limit = limit.min(i64::MAX as u64) as i64;
    // About one attempt in 256 also clears the counters whose window ended long ago, so that
    // logins with ever new emails or addresses do not grow the table without bound.
    if uuid::Uuid::new_v4().as_bytes()[0] == 0 {
        queries::throttle_prune(&state.db, now.saturating_sub(window)).await?;
    }
    if let Some(n) = queries::throttle_count(&state.db, key, ends, now, limit).await? {
        return Ok(Counted::Proceed(n.max(0) as u64));
    }
    let ends = queries::throttle_read(&state.db, key)
        .await?
        .map(|(_, e)| e)
        .unwrap_or(now);
    let ttl = Duration::from_millis((ends - now).max(1) as u64);
    state.cache.set(&cache_key, &ends.to_string(), ttl).await;
    Ok(Counted::Refused(secs_until(ends)))
}

/// Takes back one counted attempt (it succeeded, or another limit refused it).
pub async fn uncount(state: &AppState, key: &str) -> AppResult<()> {
    Ok(queries::throttle_uncount(&state.db, key).await?)
}

/// Forgives every failure counted against `key` (a successful login to the account).
pub async fn forgive(state: &AppState, key: &str) -> AppResult<()> {
    Ok(queries::throttle_forgive(&state.db, key).await?)
}

/// The allowance of `key` as it stands now.
pub async fn allowance(state: &AppState, key: &str, quota: u64) -> AppResult<Allowance> {
    let window = state.settings.login_window_secs;
    let (n, reset) = match queries::throttle_read(&state.db, key).await? {
        Some((n, ends)) if ends > now_ms() && n > 0 => (n.max(0) as u64, secs_until(ends)),
        _ => (0, window),
    };
    Ok(Allowance {
        quota,
        remaining: quota.saturating_sub(n),
        reset_secs: reset,
        window_secs: window,
    })
}
