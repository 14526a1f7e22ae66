//! Rate limits kept in this process's memory (token buckets): a points
//! budget per user, where a request costs its query's complexity (as
//! Shopify's API does), and a tighter limit per client address on the
//! sign-in fields (`login`, `refreshSession`, …), one attempt per field.
//!
//! Buckets live in shards (one lock each), so one user's burst never waits
//! on another's bucket; a bucket that has refilled to full is no different
//! from a new one and is dropped when its shard is swept.

use std::{
    collections::HashMap,
    hash::{BuildHasher, Hash, RandomState},
    net::IpAddr,
    sync::Mutex,
    time::Instant,
};

use uuid::Uuid;

/// Shards of a bucket map (a power of two).
const SHARDS: usize = 16;
/// A shard is swept for idle buckets once it holds this many (or twice as
/// many as after its last sweep).
const SWEEP_AT_LEAST: usize = 1024;

/// Whose budget a request draws on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BudgetKey {
    /// A signed-in user (of a tenant).
    User { tenant: Uuid, user: Uuid },
    /// Anonymous requests, by client address (`None`: address unknown).
    Address(Option<IpAddr>),
}

/// A bucket's fill at a moment.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    points: f64,
    at: Instant,
}

/// One shard: its buckets and the size that triggers its next sweep.
#[derive(Debug)]
struct Shard {
    buckets: HashMap<BudgetKey, Bucket>,
    sweep_at: usize,
}

/// Token buckets of one capacity and refill rate, one per key.
#[derive(Debug)]
pub struct Buckets {
    capacity: f64,
    refill_per_second: f64,
    hasher: RandomState,
    shards: Vec<Mutex<Shard>>,
}

impl Buckets {
    /// Buckets holding `capacity` points, each refilling `refill_per_second`
    /// (both at least 1 point; a smaller value is raised to that).
    pub fn new(capacity: u32, refill_per_second: f64) -> Self {
        Buckets {
            capacity: f64::from(capacity.max(1)),
            refill_per_second: refill_per_second.max(f64::MIN_POSITIVE),
            hasher: RandomState::new(),
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        buckets: HashMap::new(),
                        sweep_at: SWEEP_AT_LEAST,
                    })
                })
                .collect(),
        }
    }

    /// Takes `cost` points from `key`'s bucket at `now`. A cost above the
    /// capacity takes a full bucket (so it can always pass eventually).
    /// `Err(seconds)`: not enough points; they will be there in that many
    /// whole seconds (at least 1), and nothing was taken.
    pub fn take(&self, key: &BudgetKey, cost: u64, now: Instant) -> Result<(), u64> {
        let cost = (cost as f64).min(self.capacity);
        let shard_index = (self.hasher.hash_one(key) as usize) % SHARDS;
        let Some(shard) = self.shards.get(shard_index) else {
            return Ok(());
        };
        // A poisoned lock only means another request panicked holding it;
        // the buckets are still consistent numbers.
        let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
        if shard.buckets.len() >= shard.sweep_at {
            let (capacity, refill) = (self.capacity, self.refill_per_second);
            shard
                .buckets
                .retain(|_, bucket| fill(bucket, now, capacity, refill) < capacity);
            shard.sweep_at = (shard.buckets.len() * 2).max(SWEEP_AT_LEAST);
        }
        let bucket = shard.buckets.entry(key.clone()).or_insert(Bucket {
            points: self.capacity,
            at: now,
        });
        let points = fill(bucket, now, self.capacity, self.refill_per_second);
        if points >= cost {
            *bucket = Bucket {
                points: points - cost,
                at: now.max(bucket.at),
            };
            Ok(())
        } else {
            let seconds = ((cost - points) / self.refill_per_second).ceil();
            Err((seconds as u64).max(1))
        }
    }
}

/// The points in `bucket` at `now`.
fn fill(bucket: &Bucket, now: Instant, capacity: f64, refill_per_second: f64) -> f64 {
    let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
    (bucket.points + elapsed * refill_per_second).min(capacity)
}

/// The process's rate limits.
#[derive(Debug)]
pub struct RateLimits {
    /// Points per user (or anonymous client address); a request costs its
    /// query complexity.
    pub points: Buckets,
    /// Sign-in fields per client address.
    pub sign_in: Buckets,
}

impl RateLimits {
    /// `points` per budget refilling `refill_per_second`, and
    /// `sign_ins_per_minute` sign-in fields per client address.
    pub fn new(points: u32, refill_per_second: u32, sign_ins_per_minute: u32) -> Self {
        RateLimits {
            points: Buckets::new(points, f64::from(refill_per_second.max(1))),
            sign_in: Buckets::new(
                sign_ins_per_minute,
                f64::from(sign_ins_per_minute.max(1)) / 60.0,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn user(n: u128) -> BudgetKey {
        BudgetKey::User {
            tenant: Uuid::from_u128(1),
            user: Uuid::from_u128(n),
        }
    }

    #[test]
    fn a_budget_is_spent_refilled_and_kept_apart_from_others() {
        let buckets = Buckets::new(100, 10.0);
        let start = Instant::now();
        assert_eq!(buckets.take(&user(1), 60, start), Ok(()));
        assert_eq!(buckets.take(&user(1), 40, start), Ok(()));
        // Empty: 30 points come back in 3 seconds; nothing is taken meanwhile.
        assert_eq!(buckets.take(&user(1), 30, start), Err(3));
        assert_eq!(buckets.take(&user(1), 1, start), Err(1));
        // Another user, and the same user of another tenant, have their own.
        assert_eq!(buckets.take(&user(2), 100, start), Ok(()));
        let other_tenant = BudgetKey::User {
            tenant: Uuid::from_u128(2),
            user: Uuid::from_u128(1),
        };
        assert_eq!(buckets.take(&other_tenant, 100, start), Ok(()));
        assert_eq!(
            buckets.take(&user(1), 30, start + Duration::from_secs(3)),
            Ok(())
        );
        // Never more than the capacity, and a cost above it takes a full bucket.
        let later = start + Duration::from_secs(3600);
        assert_eq!(buckets.take(&user(1), 5_000, later), Ok(()));
        assert_eq!(buckets.take(&user(1), 1, later), Err(1));
    }

    #[test]
    fn full_buckets_are_swept_and_busy_ones_kept() {
        let buckets = Buckets::new(10, 1.0);
        let start = Instant::now();
        for n in 0..(SHARDS * SWEEP_AT_LEAST * 2) as u128 {
            let _ = buckets.take(&user(n), 10, start);
        }
        let held = |b: &Buckets| {
            b.shards
                .iter()
                .map(|s| s.lock().map(|s| s.buckets.len()).unwrap_or(0))
                .sum::<usize>()
        };
        let before = held(&buckets);
        // A minute later every bucket is full again: the next sweeps drop them.
        let later = start + Duration::from_secs(60);
        assert_eq!(buckets.take(&user(0), 10, later), Ok(()));
        for n in 1..(SHARDS * SWEEP_AT_LEAST * 6) as u128 {
            let _ = buckets.take(&user(n + 1_000_000), 0, later);
        }
        assert!(held(&buckets) < before, "{} < {before}", held(&buckets));
        // The spent bucket of user 0 was not forgotten.
        assert_eq!(buckets.take(&user(0), 10, later), Err(10));
    }

    #[test]
    fn sign_ins_are_limited_per_address_per_minute() {
        let limits = RateLimits::new(2_000, 200, 2);
        let start = Instant::now();
        let address = BudgetKey::Address(Some(IpAddr::from([10, 0, 0, 1])));
        assert_eq!(limits.sign_in.take(&address, 1, start), Ok(()));
        assert_eq!(limits.sign_in.take(&address, 1, start), Ok(()));
        assert_eq!(limits.sign_in.take(&address, 1, start), Err(30));
        let elsewhere = BudgetKey::Address(Some(IpAddr::from([10, 0, 0, 2])));
        assert_eq!(limits.sign_in.take(&elsewhere, 1, start), Ok(()));
    }
}
