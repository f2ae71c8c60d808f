//! The in-process cache store: entries with an expiry, bounded by count and by bytes
//! (key plus value), evicting the least recently used first. Every operation is
//! O(log n); nothing here grows without bound.
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

struct Entry {
    value: String,
    expires: Instant,
    /// Position in `order`: higher is more recently used.
    tick: u64,
}

pub struct Lru {
    map: HashMap<String, Entry>,
    order: BTreeMap<u64, String>,
    next_tick: u64,
    bytes: usize,
    max_entries: usize,
    max_bytes: usize,
}

fn size(k: &str, v: &str) -> usize {
    k.len() + v.len()
}

impl Lru {
    pub fn new(max_entries: usize, max_bytes: usize) -> Lru {
        Lru {
            map: HashMap::new(),
            order: BTreeMap::new(),
            next_tick: 0,
            bytes: 0,
            max_entries: max_entries.max(1),
            max_bytes: max_bytes.max(1),
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Bytes held (keys plus values).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    fn tick(&mut self) -> u64 {
        self.next_tick += 1;
        self.next_tick
    }

    /// The live value of `k`, marking it recently used; an expired entry is dropped.
    pub fn get(&mut self, k: &str, now: Instant) -> Option<String> {
        let expired = self.map.get(k)?.expires <= now;
        if expired {
            self.remove(k);
            return None;
        }
        let tick = self.tick();
        let e = self.map.get_mut(k)?;
        self.order.remove(&e.tick);
        e.tick = tick;
        self.order.insert(tick, k.to_string());
        Some(e.value.clone())
    }

    /// Stores `v` under `k` until `expires`, then evicts the least recently used entries
    /// until both bounds hold. A value larger than the byte bound is not kept.
    pub fn insert(&mut self, k: &str, v: String, expires: Instant) {
        self.remove(k);
        let sz = size(k, &v);
        if sz > self.max_bytes {
            return;
        }
        let tick = self.tick();
        self.bytes += sz;
        self.order.insert(tick, k.to_string());
        self.map.insert(
            k.to_string(),
            Entry {
                value: v,
                expires,
                tick,
            },
        );
        while self.map.len() > self.max_entries || self.bytes > self.max_bytes {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            if let Some(e) = self.map.remove(&oldest) {
                self.bytes = self.bytes.saturating_sub(size(&oldest, &e.value));
            }
        }
    }

    pub fn remove(&mut self, k: &str) {
        if let Some(e) = self.map.remove(k) {
            self.order.remove(&e.tick);
            self.bytes = self.bytes.saturating_sub(size(k, &e.value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn holds_both_bounds_and_evicts_the_least_recently_used() {
        let now = Instant::now();
        let later = now + Duration::from_secs(60);
        let mut lru = Lru::new(3, 1000);
        for k in ["a", "b", "c"] {
            lru.insert(k, "x".into(), later);
        }
        assert_eq!(lru.get("a", now).as_deref(), Some("x"), "a is now the most recent");
        lru.insert("d", "x".into(), later);
        assert_eq!(lru.len(), 3);
        assert!(lru.get("b", now).is_none(), "b was the least recently used");
        assert!(lru.get("a", now).is_some() && lru.get("c", now).is_some() && lru.get("d", now).is_some());

        let mut lru = Lru::new(1000, 100);
        for i in 0..50 {
            lru.insert(&format!("k{i:02}"), "v".repeat(20), later);
            assert!(lru.bytes() <= 100, "{} bytes", lru.bytes());
        }
        assert_eq!(lru.len(), 4, "4 entries of 23 bytes fit in 100");
        assert_eq!(lru.bytes(), 92);
        lru.insert("huge", "v".repeat(200), later);
        assert!(lru.get("huge", now).is_none() && lru.len() == 4);
        lru.insert("k49", "short".into(), later);
        assert_eq!(lru.bytes(), 69 + 8, "a replaced value is counted once");
        lru.remove("k49");
        assert_eq!(lru.bytes(), 69);
    }

    #[test]
    fn expired_entries_are_not_served() {
        let now = Instant::now();
        let mut lru = Lru::new(10, 1000);
        lru.insert("a", "x".into(), now);
        assert!(lru.get("a", now).is_none());
        assert_eq!((lru.len(), lru.bytes()), (0, 0));
    }
}
