//! Rate limits: a token bucket per client address and one per credential (API token, HTTP
//! Basic credentials of TAXII clients, CVE Services API key), checked before a request's body is
//! read. A request over either limit is answered `429` problem+json with `Retry-After`.
//!
//! The buckets live in each node's memory. Several nodes behind one load balancer each allow
//! the configured rate divided by [`RateLimitConfig::nodes`], so a client spread evenly over
//! the nodes gets the configured rate in total, and one pinned to a single node gets its share.
//! Health, readiness and metrics probes are never limited.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sha2::{Digest, Sha256};

use crate::error::AppError;

/// One limit: a sustained rate and the burst allowed above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests per minute, sustained; 0 turns the limit off.
    pub per_minute: u32,
    /// Requests allowed at once before the sustained rate applies.
    pub burst: u32,
}

/// The limits a node enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Per client address (IPv4 address, IPv6 /64 network).
    pub per_address: Rate,
    /// Per credential.
    pub per_credential: Rate,
    /// How many server nodes share the load; each node allows 1/`nodes` of each rate and burst.
    pub nodes: u32,
}

impl Default for RateLimitConfig {
    /// 3,000 requests a minute per address with bursts of 600; 1,200 a minute per credential
    /// with bursts of 300: far above what a person or a well-behaved client sends, low enough
    /// to blunt password guessing and scraping.
    fn default() -> Self {
        RateLimitConfig {
            per_address: Rate {
                per_minute: 3000,
                burst: 600,
            },
            per_credential: Rate {
                per_minute: 1200,
                burst: 300,
            },
            nodes: 1,
        }
    }
}

/// How many distinct keys a limiter tracks before it forgets the idle ones.
const PRUNE_ABOVE: usize = 10_000;

/// Checks between two looks at the number of tracked keys.
const PRUNE_EVERY: u64 = 256;

struct Limiter {
    buckets: DefaultKeyedRateLimiter<[u8; 32]>,
    checks: AtomicU64,
    refused: AtomicU64,
}

impl Limiter {
    fn new(rate: Rate, nodes: u32) -> Option<Limiter> {
        let nodes = nodes.max(1);
        let per_minute = NonZeroU32::new(rate.per_minute)?;
        // Each node gets its share of the rate and burst, never less than one request.
        let period = Duration::from_secs(60) * nodes / per_minute.get();
        let burst = NonZeroU32::new(rate.burst.div_ceil(nodes)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(period.max(Duration::from_micros(1)))?.allow_burst(burst);
        Some(Limiter {
            buckets: RateLimiter::keyed(quota),
            checks: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        })
    }

    /// `Ok` or how long to wait.
    fn check(&self, key: &[u8; 32]) -> Result<(), Duration> {
        if self
            .checks
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(PRUNE_EVERY)
            && self.buckets.len() > PRUNE_ABOVE
        {
            // Full buckets carry no information; dropping them bounds memory under a flood of
            // fresh addresses or made-up credentials.
            self.buckets.retain_recent();
        }
        self.buckets.check_key(key).map_err(|not_until| {
            self.refused.fetch_add(1, Ordering::Relaxed);
            not_until.wait_time_from(DefaultClock::default().now())
        })
    }
}

/// The rate limiters of one node.
#[derive(Clone)]
pub struct RateLimits(Arc<Limiters>);

struct Limiters {
    per_address: Option<Limiter>,
    per_credential: Option<Limiter>,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits").finish_non_exhaustive()
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits::new(RateLimitConfig::default())
    }
}

impl RateLimits {
    /// Limiters enforcing `config`.
    pub fn new(config: RateLimitConfig) -> RateLimits {
        RateLimits(Arc::new(Limiters {
            per_address: Limiter::new(config.per_address, config.nodes),
            per_credential: Limiter::new(config.per_credential, config.nodes),
        }))
    }

    /// Requests refused so far, per address and per credential.
    pub fn refused(&self) -> (u64, u64) {
        let count =
            |l: &Option<Limiter>| l.as_ref().map_or(0, |l| l.refused.load(Ordering::Relaxed));
        (count(&self.0.per_address), count(&self.0.per_credential))
    }
}

/// The bucket key of a client address: IPv4 addresses one by one, IPv6 by /64 network (one
/// host usually holds a whole /64).
fn address_key(ip: IpAddr) -> [u8; 32] {
    let mut key = [0u8; 32];
    match ip {
        IpAddr::V4(v4) => key[..4].copy_from_slice(&v4.octets()),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => key[..4].copy_from_slice(&v4.octets()),
            None => {
                key[0] = 6;
                key[1..9].copy_from_slice(&v6.octets()[..8]);
            }
        },
    }
    key
}

/// The bucket key of the request's credential, if it carries one: a hash, so that the limiter
/// never holds a secret.
fn credential_key(headers: &HeaderMap) -> Option<[u8; 32]> {
    let credential = headers
        .get(header::AUTHORIZATION)
        .or_else(|| headers.get("cve-api-key"))?;
    Some(Sha256::digest(credential.as_bytes()).into())
}

fn exempt(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics")
}

/// Middleware: refuses a request over its address's or credential's limit before anything
/// else (body, database) is touched.
pub async fn enforce(State(limits): State<RateLimits>, request: Request, next: Next) -> Response {
    if exempt(request.uri().path()) {
        return next.run(request).await;
    }
    if let (Some(limiter), Some(ConnectInfo(peer))) = (
        &limits.0.per_address,
        request.extensions().get::<ConnectInfo<SocketAddr>>(),
    ) && let Err(wait) = limiter.check(&address_key(peer.ip()))
    {
        return refuse(request.uri().path(), "this address", wait);
    }
    if let (Some(limiter), Some(key)) =
        (&limits.0.per_credential, credential_key(request.headers()))
        && let Err(wait) = limiter.check(&key)
    {
        return refuse(request.uri().path(), "this credential", wait);
    }
    next.run(request).await
}

/// The 429 answer, in the dialect of the API the path belongs to, with `Retry-After`.
fn refuse(path: &str, who: &'static str, wait: Duration) -> Response {
    let error = AppError::RateLimited {
        who,
        retry_after: wait,
    };
    let retry_after = error.retry_after_secs();
    let mut response = crate::routes::error_for_path(path, error);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, retry_after.into());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_says_how_long_to_wait() {
        let limiter = Limiter::new(
            Rate {
                per_minute: 60,
                burst: 3,
            },
            1,
        )
        .unwrap();
        let key = [1u8; 32];
        for _ in 0..3 {
            assert_eq!(limiter.check(&key), Ok(()));
        }
        let wait = limiter.check(&key).unwrap_err();
        assert!(
            wait > Duration::from_millis(900) && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert_eq!(
            limiter.check(&[2u8; 32]),
            Ok(()),
            "other keys have their own bucket"
        );
        assert_eq!(limiter.refused.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn nodes_share_the_configured_rate() {
        let limiter = Limiter::new(
            Rate {
                per_minute: 60,
                burst: 4,
            },
            2,
        )
        .unwrap();
        let key = [1u8; 32];
        assert_eq!(limiter.check(&key), Ok(()));
        assert_eq!(limiter.check(&key), Ok(()));
        let wait = limiter.check(&key).unwrap_err();
        assert!(
            wait > Duration::from_millis(1900) && wait <= Duration::from_secs(2),
            "{wait:?}"
        );
    }

    #[test]
    fn a_zero_rate_turns_the_limit_off() {
        assert!(
            Limiter::new(
                Rate {
                    per_minute: 0,
                    burst: 10
                },
                1
            )
            .is_none()
        );
    }

    #[test]
    fn ipv6_hosts_are_limited_by_network() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(address_key(mapped), address_key(v4));
    }

    #[test]
    fn idle_keys_are_forgotten_past_the_bound() {
        let limiter = Limiter::new(
            Rate {
                per_minute: 6_000_000,
                burst: 1,
            },
            1,
        )
        .unwrap();
        for i in 0..(PRUNE_ABOVE as u32 + 10) {
            let mut key = [0u8; 32];
            key[..4].copy_from_slice(&i.to_le_bytes());
            let _ = limiter.check(&key);
        }
        std::thread::sleep(Duration::from_millis(5));
        for _ in 0..PRUNE_EVERY {
            let _ = limiter.check(&[0xff; 32]);
        }
        assert!(
            limiter.buckets.len() < PRUNE_ABOVE,
            "{}",
            limiter.buckets.len()
        );
    }
}
