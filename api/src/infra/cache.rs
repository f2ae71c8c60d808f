//! Cache and counters: Redis when configured, in-process otherwise.
//!
//! Redis is optional at run time too. Every Redis command has a short timeout
//! (`redis_timeout_ms`); a failure opens a circuit breaker for `redis_cooloff_ms`,
//! during which Redis is skipped and the in-process equivalents serve (cache,
//! counters; locks fall back to the database). After the cool-off one request
//! probes Redis; when it answers, Redis is used again. Nothing here fails a request.
//!
//! The in-process store is bounded by entries and bytes (`cache_max_entries`,
//! `cache_max_bytes`), least recently used first out (see [`super::lru`]).
use super::gauges;
use super::lru::Lru;
use crate::config::Settings;
use redis::aio::ConnectionManager;
use redis::{AsyncCommands, RedisResult};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Counters kept in process (login limits while Redis is absent or down), pruned of
/// expired windows past this many.
const MAX_LOCAL_COUNTERS: usize = 100_000;

/// Whether Redis is tried. `open_until` set: skipped until then; after it, one caller
/// (`probing`) tries it while the others keep skipping.
#[derive(Default)]
struct Breaker {
    open_until: Option<Instant>,
    probing: bool,
}

/// What `/readyz` reports of Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedisHealth {
    NotConfigured,
    Up,
    /// Down or skipped: the breaker is open.
    Degraded,
}

#[derive(Clone)]
pub struct Cache {
    redis: Option<ConnectionManager>,
    prefix: String,
    local: Arc<Mutex<Lru>>,
    counters: Arc<Mutex<HashMap<String, (u64, Instant)>>>,
    breaker: Arc<Mutex<Breaker>>,
    /// Families whose generation was bumped while Redis was skipped: bumped in Redis as soon
    /// as it answers again, so that no invalidation is lost to an outage.
    missed_bumps: Arc<Mutex<HashSet<String>>>,
    timeout: Duration,
    cooloff: Duration,
}

impl Cache {
    /// In-process only, bounded as `settings` says.
    pub fn local(settings: &Settings) -> Cache {
        Cache {
            redis: None,
            prefix: String::new(),
            local: Arc::new(Mutex::new(Lru::new(
                settings.cache_max_entries,
                settings.cache_max_bytes,
            ))),
            counters: Arc::new(Mutex::new(HashMap::new())),
            breaker: Arc::new(Mutex::new(Breaker::default())),
            missed_bumps: Arc::new(Mutex::new(HashSet::new())),
            timeout: Duration::from_millis(settings.redis_timeout_ms.max(1)),
            cooloff: Duration::from_millis(settings.redis_cooloff_ms),
        }
    }

    /// Redis at `url`. Connects lazily: a Redis that is down at start-up (or later) only
    /// opens the breaker.
    pub fn connect(url: &str, settings: &Settings) -> Result<Cache, redis::RedisError> {
        let mut cache = Cache::local(settings);
        let client = redis::Client::open(url)?;
        let cfg = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(cache.timeout))
            .set_response_timeout(Some(cache.timeout))
            .set_number_of_retries(0);
        cache.redis = Some(ConnectionManager::new_lazy_with_config(client, cfg)?);
        cache.prefix = settings.redis_prefix.clone();
        Ok(cache)
    }

    pub fn is_redis(&self) -> bool {
        self.redis.is_some()
    }

    /// True while Redis is skipped after a failure.
    pub fn breaker_open(&self) -> bool {
        self.breaker.lock().is_ok_and(|b| b.open_until.is_some())
    }

    fn key(&self, k: &str) -> String {
        format!("{}{}", self.prefix, k)
    }

    /// The Redis connection if Redis should be tried now (see [`Breaker`]).
    fn admit(&self) -> Option<ConnectionManager> {
        let m = self.redis.as_ref()?;
        let mut b = self.breaker.lock().ok()?;
        match b.open_until {
            None => Some(m.clone()),
            Some(until) if Instant::now() >= until && !b.probing => {
                b.probing = true;
                Some(m.clone())
            }
            Some(_) => None,
        }
    }

    fn outcome(&self, ok: bool, what: &str, error: &dyn std::fmt::Display) {
        let Ok(mut b) = self.breaker.lock() else { return };
        let was_open = b.open_until.is_some();
        b.probing = false;
        if ok {
            b.open_until = None;
            if was_open {
                tracing::info!("redis answers again; using it");
            }
        } else {
            b.open_until = Some(Instant::now() + self.cooloff);
            if !was_open {
                tracing::warn!(%error, what, cooloff_ms = self.cooloff.as_millis() as u64,
                    "redis failed; skipping it and serving from this process");
            }
        }
        gauges::set_breaker_open(b.open_until.is_some());
    }

    /// Runs one Redis call within the timeout, through the breaker. `None` when Redis is not
    /// configured, skipped, failed or too slow: the caller then uses its in-process equivalent.
    async fn call<T, F, Fut>(&self, what: &str, f: F) -> Option<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let m = self.admit()?;
        let mut again = m.clone();
        match tokio::time::timeout(self.timeout, f(m)).await {
            Ok(Ok(v)) => {
                self.outcome(true, what, &"");
                self.replay_missed_bumps(&mut again).await;
                Some(v)
            }
            Ok(Err(e)) => {
                self.outcome(false, what, &e);
                None
            }
            Err(_) => {
                self.outcome(false, what, &"timed out");
                None
            }
        }
    }

    /// Bumps in Redis the generations bumped only in process while it was skipped.
    async fn replay_missed_bumps(&self, m: &mut ConnectionManager) {
        let families: Vec<String> = match self.missed_bumps.lock() {
            Ok(mut set) if !set.is_empty() => set.drain().collect(),
            _ => return,
        };
        for family in families {
            let key = self.key(&format!("gen:{family}"));
            let done = tokio::time::timeout(self.timeout, m.incr::<_, _, i64>(key, 1)).await;
            if !matches!(done, Ok(Ok(_))) {
                if let Ok(mut set) = self.missed_bumps.lock() {
                    set.insert(family);
                }
            }
        }
    }

    fn local_get(&self, k: &str) -> Option<String> {
        let mut lru = self.local.lock().ok()?;
        let v = lru.get(k, Instant::now());
        gauges::set_cache_size(lru.len(), lru.bytes());
        v
    }

    fn local_set(&self, k: &str, v: String, ttl: Duration) {
        if let Ok(mut lru) = self.local.lock() {
            lru.insert(k, v, Instant::now() + ttl);
            gauges::set_cache_size(lru.len(), lru.bytes());
        }
    }

    /// Entries and bytes held in process.
    pub fn local_size(&self) -> (usize, usize) {
        self.local.lock().map(|l| (l.len(), l.bytes())).unwrap_or((0, 0))
    }

    /// What `/readyz` says of Redis: an open breaker is `Degraded` without waiting;
    /// otherwise a `PING` within the timeout.
    pub async fn health(&self) -> RedisHealth {
        if self.redis.is_none() {
            return RedisHealth::NotConfigured;
        }
        let pong = self
            .call("ping", |mut m| async move {
                redis::cmd("PING").query_async::<String>(&mut m).await
            })
            .await;
        if pong.is_some() {
            RedisHealth::Up
        } else {
            RedisHealth::Degraded
        }
    }

    pub async fn get(&self, k: &str) -> Option<String> {
        let v = self.get_uncounted(k).await;
        if v.is_some() {
            crate::infra::metrics::cache_hit(k)
        } else {
            crate::infra::metrics::cache_miss(k)
        }
        v
    }

    async fn get_uncounted(&self, k: &str) -> Option<String> {
        let key = self.key(k);
        match self
            .call("get", |mut m| async move { m.get::<_, Option<String>>(key).await })
            .await
        {
            Some(v) => v,
            None => self.local_get(k),
        }
    }

    pub async fn set(&self, k: &str, v: &str, ttl: Duration) {
        let key = self.key(k);
        let ms = ttl.as_millis().max(1) as u64;
        let value = v.to_string();
        let stored = self
            .call(
                "set",
                |mut m| async move { m.pset_ex::<_, _, ()>(key, value, ms).await },
            )
            .await;
        if stored.is_none() {
            self.local_set(k, v.to_string(), ttl);
        }
    }

    pub async fn delete(&self, k: &str) {
        let key = self.key(k);
        self.call("del", |mut m| async move { m.del::<_, ()>(key).await }).await;
        if let Ok(mut lru) = self.local.lock() {
            lru.remove(k);
            gauges::set_cache_size(lru.len(), lru.bytes());
        }
        if let Ok(mut counters) = self.counters.lock() {
            counters.remove(k);
        }
    }

    /// Increments a counter that lives for `window`; returns the new count and
    /// the seconds until the window ends.
    pub async fn incr_window(&self, k: &str, window: Duration) -> (u64, u64) {
        let key = self.key(k);
        let res = self
            .call("incr", |mut m| async move {
                redis::pipe()
                    .atomic()
                    .incr(&key, 1u64)
                    .cmd("PEXPIRE")
                    .arg(&key)
                    .arg(window.as_millis() as u64)
                    .arg("NX")
                    .ignore()
                    .pttl(&key)
                    .query_async::<(u64, i64)>(&mut m)
                    .await
            })
            .await;
        match res {
            Some((n, ttl_ms)) => (n, (ttl_ms.max(0) as u64).div_ceil(1000).max(1)),
            None => self.local_incr(k, window),
        }
    }

    fn local_incr(&self, k: &str, window: Duration) -> (u64, u64) {
        let Ok(mut map) = self.counters.lock() else {
            return (0, 0);
        };
        let now = Instant::now();
        if map.len() >= MAX_LOCAL_COUNTERS {
            map.retain(|_, (_, exp)| *exp > now);
        }
        let entry = map.entry(k.to_string()).or_insert((0, now + window));
        if entry.1 <= now {
            *entry = (0, now + window);
        }
        entry.0 += 1;
        (entry.0, entry.1.saturating_duration_since(now).as_secs().max(1))
    }

    /// Reads a counter without changing it; returns (count, seconds left).
    pub async fn counter(&self, k: &str) -> (u64, u64) {
        let key = self.key(k);
        let res = self
            .call("get counter", |mut m| async move {
                redis::pipe()
                    .get(&key)
                    .pttl(&key)
                    .query_async::<(Option<u64>, i64)>(&mut m)
                    .await
            })
            .await;
        if let Some((n, ttl)) = res {
            return (n.unwrap_or(0), (ttl.max(0) as u64).div_ceil(1000).max(1));
        }
        let Ok(map) = self.counters.lock() else { return (0, 0) };
        let now = Instant::now();
        match map.get(k) {
            Some((n, exp)) if *exp > now => (*n, exp.saturating_duration_since(now).as_secs().max(1)),
            _ => (0, 0),
        }
    }

    /// A generation number for a family of cached entries; bump it to invalidate them all.
    pub async fn generation(&self, family: &str) -> String {
        let key = self.key(&format!("gen:{family}"));
        let remote = self
            .call("get generation", |mut m| async move {
                m.get::<_, Option<String>>(key).await
            })
            .await;
        match remote {
            Some(v) => v.unwrap_or_else(|| "0".into()),
            None => self.local_get(&format!("gen:{family}")).unwrap_or_else(|| "0".into()),
        }
    }

    /// Invalidates a family. The local generation is bumped too, so that entries cached in
    /// process while Redis was down are not served when it is down again.
    pub async fn bump_generation(&self, family: &str) {
        let local_key = format!("gen:{family}");
        let key = self.key(&local_key);
        let bumped = self
            .call(
                "bump generation",
                |mut m| async move { m.incr::<_, _, i64>(key, 1).await },
            )
            .await;
        if bumped.is_none() && self.redis.is_some() {
            if let Ok(mut set) = self.missed_bumps.lock() {
                set.insert(family.to_string());
            }
        }
        let next = self
            .local_get(&local_key)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
            + 1;
        self.local_set(&local_key, next.to_string(), Duration::from_secs(365 * 24 * 3600));
    }
}
