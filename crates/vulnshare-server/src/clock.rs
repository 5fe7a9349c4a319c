//! Server time. Handlers never call `Timestamp::now()` themselves, so tests (and the replay of
//! historical cases) can run the platform under a controlled clock.

use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        to_microseconds(Timestamp::now())
    }
}

/// Drops sub-microsecond digits: the store keeps microseconds, and a time must read back
/// exactly as it was signed and returned (receipts are re-issued from stored data).
pub fn to_microseconds(t: Timestamp) -> Timestamp {
    Timestamp::from_microsecond(t.as_microsecond()).unwrap_or(t)
}

/// A clock that stands still until told to move; for tests and replays.
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    /// A clock showing `at`.
    pub fn new(at: Timestamp) -> ManualClock {
        ManualClock(Mutex::new(to_microseconds(at)))
    }

    /// Sets the time.
    pub fn set(&self, at: Timestamp) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = to_microseconds(at);
    }

    /// Moves the time forward.
    pub fn advance(&self, by: SignedDuration) {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *t = to_microseconds(t.checked_add(by).unwrap_or(*t));
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_kept_to_the_microsecond() {
        let t: Timestamp = "2021-12-09T08:00:00.123456789Z".parse().unwrap();
        let c = ManualClock::new(t);
        assert_eq!(c.now().to_string(), "2021-12-09T08:00:00.123456Z");
        c.advance(SignedDuration::from_nanos(999));
        assert_eq!(c.now().to_string(), "2021-12-09T08:00:00.123456Z");
        assert_eq!(SystemClock.now().subsec_nanosecond() % 1000, 0);
    }
}
