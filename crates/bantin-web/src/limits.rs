//! Request limits (GCRA, via governor): per address for sign-in attempts and every POST, per
//! token (or address) for the JSON API. The
//! middleware that applies them lives in [`crate::guard`].

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::WebSettings;

/// Who API requests are counted against: the token presented, else the address.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ApiKey {
    /// The SHA-256 of a presented token.
    Token(String),
    /// An address without a token.
    Address(IpAddr),
}

/// The limiters of one process.
pub struct Limiters {
    login: DefaultKeyedRateLimiter<IpAddr>,
    posts: DefaultKeyedRateLimiter<IpAddr>,
    api: DefaultKeyedRateLimiter<ApiKey>,
    clock: DefaultClock,
    checks: AtomicU64,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).expect("at least one"))
}

impl Limiters {
    /// Limiters with the rates of `settings`.
    pub fn new(settings: &WebSettings) -> Self {
        Self {
            login: RateLimiter::keyed(per_minute(settings.login_attempts_per_minute)),
            posts: RateLimiter::keyed(per_minute(settings.posts_per_minute)),
            api: RateLimiter::keyed(per_minute(settings.api_requests_per_minute)),
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
        }
    }

    /// Seconds to wait when `ip` is over a limit for this request, else `None`.
    pub fn check(&self, ip: IpAddr, login: bool) -> Option<u64> {
        // Addresses that stopped sending are forgotten now and then, so memory stays bounded.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            self.login.retain_recent();
            self.posts.retain_recent();
            self.api.retain_recent();
        }
        let wait = |r: &DefaultKeyedRateLimiter<IpAddr>| {
            r.check_key(&ip)
                .err()
                .map(|nu| nu.wait_time_from(self.clock.now()).as_secs() + 1)
        };
        if login && let Some(w) = wait(&self.login) {
            return Some(w);
        }
        wait(&self.posts)
    }

    /// Seconds to wait when `key` is over the API limit, else `None`.
    pub fn check_api(&self, key: &ApiKey) -> Option<u64> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            self.api.retain_recent();
        }
        self.api
            .check_key(key)
            .err()
            .map(|nu| nu.wait_time_from(self.clock.now()).as_secs() + 1)
    }
}
