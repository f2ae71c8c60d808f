//! Cache, counters and locks: Redis when configured, in-process otherwise.
//!
//! Redis being down degrades: reads miss, writes are dropped, counters fall
//! back to the local copy. Nothing here ever fails a request.
use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone)]
pub struct Cache {
    redis: Option<ConnectionManager>,
    prefix: String,
    local: Arc<Mutex<HashMap<String, (String, Instant)>>>,
}

impl Cache {
    pub fn local() -> Cache {
        Cache {
            redis: None,
            prefix: String::new(),
            local: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Connects to Redis; a Redis that is down at start-up is retried in the background by the manager.
    pub async fn connect(url: &str, prefix: &str) -> Result<Cache, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let cfg = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1);
        let mgr = ConnectionManager::new_with_config(client, cfg).await?;
        Ok(Cache {
            redis: Some(mgr),
            prefix: prefix.to_string(),
            local: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    pub fn is_redis(&self) -> bool {
        self.redis.is_some()
    }

    fn key(&self, k: &str) -> String {
        format!("{}{}", self.prefix, k)
    }

    fn local_get(&self, k: &str) -> Option<String> {
        let mut map = self.local.lock().ok()?;
        match map.get(k) {
            Some((v, exp)) if *exp > Instant::now() => Some(v.clone()),
            Some(_) => {
                map.remove(k);
                None
            }
            None => None,
        }
    }

    fn local_set(&self, k: &str, v: String, ttl: Duration) {
        if let Ok(mut map) = self.local.lock() {
            if map.len() > 50_000 {
                let now = Instant::now();
                map.retain(|_, (_, exp)| *exp > now);
            }
            map.insert(k.to_string(), (v, Instant::now() + ttl));
        }
    }

    pub async fn ping(&self) -> bool {
        match &self.redis {
            None => true,
            Some(m) => {
                let mut m = m.clone();
                redis::cmd("PING").query_async::<String>(&mut m).await.is_ok()
            }
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
        match &self.redis {
            None => self.local_get(k),
            Some(m) => {
                let mut m = m.clone();
                match m.get::<_, Option<String>>(self.key(k)).await {
                    Ok(v) => v,
                    Err(e) => {
                        tracing::warn!(error = %e, "redis get failed; treating as a miss");
                        None
                    }
                }
            }
        }
    }

    pub async fn set(&self, k: &str, v: &str, ttl: Duration) {
        match &self.redis {
            None => self.local_set(k, v.to_string(), ttl),
            Some(m) => {
                let mut m = m.clone();
                let ms = ttl.as_millis().max(1) as u64;
                if let Err(e) = m.pset_ex::<_, _, ()>(self.key(k), v, ms).await {
                    tracing::warn!(error = %e, "redis set failed");
                }
            }
        }
    }

    pub async fn delete(&self, k: &str) {
        match &self.redis {
            None => {
                if let Ok(mut map) = self.local.lock() {
                    map.remove(k);
                }
            }
            Some(m) => {
                let mut m = m.clone();
                if let Err(e) = m.del::<_, ()>(self.key(k)).await {
                    tracing::warn!(error = %e, "redis del failed");
                }
            }
        }
    }

    /// Increments a counter that lives for `window`; returns the new count and
    /// the seconds until the window ends.
    pub async fn incr_window(&self, k: &str, window: Duration) -> (u64, u64) {
        if let Some(m) = &self.redis {
            let mut m = m.clone();
            let key = self.key(k);
            let res: Result<(u64, i64), _> = redis::pipe()
                .atomic()
                .incr(&key, 1u64)
                .cmd("PEXPIRE")
                .arg(&key)
                .arg(window.as_millis() as u64)
                .arg("NX")
                .ignore()
                .pttl(&key)
                .query_async(&mut m)
                .await;
            match res {
                Ok((n, ttl_ms)) => return (n, (ttl_ms.max(0) as u64).div_ceil(1000).max(1)),
                Err(e) => tracing::warn!(error = %e, "redis incr failed; counting locally"),
            }
        }
        self.local_incr(k, window)
    }

    fn local_incr(&self, k: &str, window: Duration) -> (u64, u64) {
        let Ok(mut map) = self.local.lock() else { return (0, 0) };
        let now = Instant::now();
        let entry = map
            .entry(format!("ctr:{k}"))
            .or_insert_with(|| ("0".into(), now + window));
        if entry.1 <= now {
            *entry = ("0".into(), now + window);
        }
        let n = entry.0.parse::<u64>().unwrap_or(0) + 1;
        entry.0 = n.to_string();
        (n, entry.1.saturating_duration_since(now).as_secs().max(1))
    }

    /// Reads a counter without changing it; returns (count, seconds left).
    pub async fn counter(&self, k: &str) -> (u64, u64) {
        if let Some(m) = &self.redis {
            let mut m = m.clone();
            let key = self.key(k);
            let res: Result<(Option<u64>, i64), _> = redis::pipe().get(&key).pttl(&key).query_async(&mut m).await;
            match res {
                Ok((n, ttl)) => return (n.unwrap_or(0), (ttl.max(0) as u64).div_ceil(1000).max(1)),
                Err(e) => tracing::warn!(error = %e, "redis get counter failed; reading locally"),
            }
        }
        let Ok(map) = self.local.lock() else { return (0, 0) };
        let now = Instant::now();
        match map.get(&format!("ctr:{k}")) {
            Some((v, exp)) if *exp > now => (
                v.parse().unwrap_or(0),
                exp.saturating_duration_since(now).as_secs().max(1),
            ),
            _ => (0, 0),
        }
    }

    /// Takes a Redis lock `k` for `ttl` if nobody holds it. `None` when Redis is not configured
    /// or unreachable (callers then fall back to a database lock).
    pub async fn try_lock(&self, k: &str, holder: &str, ttl: Duration) -> Option<bool> {
        let m = self.redis.as_ref()?;
        let mut m = m.clone();
        let res: Result<Option<String>, _> = redis::cmd("SET")
            .arg(self.key(k))
            .arg(holder)
            .arg("NX")
            .arg("PX")
            .arg(ttl.as_millis() as u64)
            .query_async(&mut m)
            .await;
        match res {
            Ok(v) => Some(v.is_some()),
            Err(e) => {
                tracing::warn!(error = %e, "redis lock failed; falling back to the database");
                None
            }
        }
    }

    /// A generation number for a family of cached entries; bump it to invalidate them all.
    pub async fn generation(&self, family: &str) -> String {
        self.get(&format!("gen:{family}")).await.unwrap_or_else(|| "0".into())
    }

    pub async fn bump_generation(&self, family: &str) {
        let key = format!("gen:{family}");
        match &self.redis {
            Some(m) => {
                let mut m = m.clone();
                if let Err(e) = m.incr::<_, _, i64>(self.key(&key), 1).await {
                    tracing::warn!(error = %e, "redis generation bump failed");
                }
            }
            None => {
                let next = self.local_get(&key).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) + 1;
                self.local_set(&key, next.to_string(), Duration::from_secs(365 * 24 * 3600));
            }
        }
    }
}
