//! A small read-through cache for the hot path of the S3 endpoint (access keys, principals,
//! policies, buckets), where every request otherwise made about six database lookups.
//!
//! Correctness comes from a *generation*: the store counts every write that can change what
//! is cached (`Store::iam_generation`, `Store::bucket_generation`, bumped after the write). A
//! value is kept with the generation read before it was loaded, and used only while that
//! generation is still current — so a key disabled, a policy detached or a bucket policy
//! removed is seen by the very next request. The time limit only bounds what another server
//! process sharing the database (or a hand-made SQL change) could leave stale.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a value is trusted at most, whatever the generation says.
pub const MAX_AGE: Duration = Duration::from_secs(10);

/// At most this many values; when full, the cache starts afresh (simple, and bounded).
const CAPACITY: usize = 4096;

pub struct Cached<V> {
    entries: Mutex<HashMap<String, (u64, Instant, V)>>,
}

impl<V> Default for Cached<V> {
    fn default() -> Self {
        Cached {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<V: Clone> Cached<V> {
    /// The value of `key`, if it was loaded under `generation` less than [`MAX_AGE`] ago.
    pub fn get(&self, key: &str, generation: u64) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (g, at, value) = entries.get(key)?;
        (*g == generation && at.elapsed() < MAX_AGE).then(|| value.clone())
    }

    /// Keeps `value`, loaded after `generation` was read.
    pub fn put(&self, key: &str, generation: u64, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(key.to_owned(), (generation, Instant::now(), value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_lives_only_while_its_generation_is_current() {
        let c = Cached::default();
        c.put("k", 3, "v");
        assert_eq!(c.get("k", 3), Some("v"));
        assert_eq!(c.get("k", 4), None, "a write since: read again");
        assert_eq!(c.get("other", 3), None);
    }
}
