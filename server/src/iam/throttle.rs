//! Back-off for password sign-in, per (account, user) and per client address.
//!
//! A few failures are free (typos happen); after that each failure doubles the wait before the
//! next attempt is even looked at, up to a ceiling. The ceiling is what keeps an attacker from
//! locking a user out for good: the real user waits at most `max_delay` and then gets a try,
//! while a guesser is held to one guess per `max_delay`. Counters are forgotten after
//! `forget_after` without failures, and a successful sign-in clears the user's counter (not the
//! address's: an attacker could otherwise reset it with an account of their own).
//!
//! State is in memory: a restart forgets it, which costs an attacker a restart they cannot cause.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The numbers of the back-off.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleLimits {
    /// Failures per (account, user) before any wait.
    pub user_free: u32,
    /// Failures per client address before any wait (a classroom shares an address).
    pub address_free: u32,
    /// The first wait; each further failure doubles it.
    pub first_delay: Duration,
    /// The longest wait for a user.
    pub user_max_delay: Duration,
    /// The longest wait for an address.
    pub address_max_delay: Duration,
    /// Counters without a failure for this long are forgotten.
    pub forget_after: Duration,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        ThrottleLimits {
            user_free: 5,
            address_free: 30,
            first_delay: Duration::from_secs(1),
            user_max_delay: Duration::from_secs(60),
            address_max_delay: Duration::from_secs(300),
            forget_after: Duration::from_secs(15 * 60),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    User { account: String, user: String },
    Address(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last_failure: Instant,
    blocked_until: Instant,
}

/// Who is held back, and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    User(Duration),
    Address(Duration),
}

impl Held {
    pub fn retry_after(&self) -> Duration {
        match self {
            Held::User(d) | Held::Address(d) => *d,
        }
    }
}

/// Entries kept at most; past it, forgotten and expired ones are dropped first.
const MAX_ENTRIES: usize = 100_000;
/// Names are cut to this length in keys, so that huge made-up names cost no memory.
const MAX_KEY_NAME: usize = 128;

pub struct SignInThrottle {
    limits: ThrottleLimits,
    entries: Mutex<HashMap<Key, Entry>>,
}

fn user_key(account: &str, user: &str) -> Key {
    let cut = |s: &str| s.chars().take(MAX_KEY_NAME).collect::<String>();
    Key::User {
        account: cut(account),
        user: cut(user),
    }
}

impl SignInThrottle {
    pub fn new(limits: ThrottleLimits) -> Self {
        SignInThrottle {
            limits,
            entries: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Entry>> {
        // A panic while holding this lock cannot leave an entry half-written: recover.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `Err` when this attempt must wait: the password is then not even checked.
    pub fn check(&self, account: &str, user: &str, address: Option<IpAddr>) -> Result<(), Held> {
        let now = Instant::now();
        let entries = self.lock();
        let wait = |key: &Key| {
            entries
                .get(key)
                .map(|e| e.blocked_until.saturating_duration_since(now))
                .filter(|d| !d.is_zero())
        };
        if let Some(d) = wait(&user_key(account, user)) {
            return Err(Held::User(d));
        }
        if let Some(d) = address.and_then(|a| wait(&Key::Address(a))) {
            return Err(Held::Address(d));
        }
        Ok(())
    }

    fn delay(&self, failures: u32, free: u32, max: Duration) -> Duration {
        if failures <= free {
            return Duration::ZERO;
        }
        let doublings = (failures - free - 1).min(20);
        self.limits
            .first_delay
            .saturating_mul(1 << doublings)
            .min(max)
    }

    pub fn failed(&self, account: &str, user: &str, address: Option<IpAddr>) {
        let now = Instant::now();
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            let forget = self.limits.forget_after;
            entries.retain(|_, e| e.blocked_until > now || now - e.last_failure < forget);
            if entries.len() >= MAX_ENTRIES {
                entries.retain(|_, e| e.blocked_until > now);
            }
        }
        let mut bump = |key: Key, free: u32, max: Duration| {
            let entry = entries.entry(key).or_insert(Entry {
                failures: 0,
                last_failure: now,
                blocked_until: now,
            });
            if now - entry.last_failure >= self.limits.forget_after {
                entry.failures = 0;
            }
            entry.failures = entry.failures.saturating_add(1);
            entry.last_failure = now;
            entry.blocked_until = now + self.delay(entry.failures, free, max);
        };
        bump(
            user_key(account, user),
            self.limits.user_free,
            self.limits.user_max_delay,
        );
        if let Some(a) = address {
            bump(
                Key::Address(a),
                self.limits.address_free,
                self.limits.address_max_delay,
            );
        }
    }

    pub fn succeeded(&self, account: &str, user: &str) {
        self.lock().remove(&user_key(account, user));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick() -> ThrottleLimits {
        ThrottleLimits {
            user_free: 2,
            address_free: 4,
            first_delay: Duration::from_millis(40),
            user_max_delay: Duration::from_millis(100),
            address_max_delay: Duration::from_millis(100),
            forget_after: Duration::from_secs(60),
        }
    }

    #[test]
    fn free_failures_then_doubling_waits_up_to_the_ceiling() {
        let t = SignInThrottle::new(quick());
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        t.failed("a", "u", None);
        t.failed("a", "u", None);
        assert_eq!(t.check("a", "u", Some(ip)), Ok(()), "two failures are free");
        t.failed("a", "u", None);
        let Err(Held::User(first)) = t.check("a", "u", Some(ip)) else {
            panic!("the third failure makes the user wait")
        };
        assert!(first <= Duration::from_millis(40));
        assert_eq!(
            t.check("a", "v", Some(ip)),
            Ok(()),
            "other users are not held"
        );
        for _ in 0..10 {
            t.failed("a", "u", None);
        }
        let Err(held) = t.check("a", "u", None) else {
            panic!("still held")
        };
        assert!(held.retry_after() <= Duration::from_millis(100), "capped");
        std::thread::sleep(Duration::from_millis(110));
        assert_eq!(t.check("a", "u", None), Ok(()), "never locked out for good");
        t.succeeded("a", "u");
        t.failed("a", "u", None);
        assert_eq!(t.check("a", "u", None), Ok(()), "a success resets the user");
    }

    #[test]
    fn an_address_spraying_many_users_is_held() {
        let t = SignInThrottle::new(quick());
        let ip: IpAddr = "10.0.0.9".parse().unwrap();
        for n in 0..5 {
            t.failed("a", &format!("user{n}"), Some(ip));
        }
        assert!(matches!(
            t.check("a", "fresh", Some(ip)),
            Err(Held::Address(_))
        ));
        assert_eq!(t.check("a", "fresh", None), Ok(()));
    }
}
