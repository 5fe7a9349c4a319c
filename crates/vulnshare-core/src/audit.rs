//! The audit chain: every change is an entry whose hash covers the previous entry's hash, so
//! that an edited, deleted or reordered entry breaks the chain where it happened.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an entry records, before it is chained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// The user who acted, if a user did.
    pub actor_user_id: Option<String>,
    /// The organization the user acted for.
    pub actor_org_id: Option<String>,
    /// What was done, e.g. `report.submit`.
    pub action: String,
    /// The kind of object acted on, e.g. `report`.
    pub object_type: String,
    /// The object's identifier.
    pub object_id: String,
    /// Details as compact JSON.
    pub details: String,
}

/// A chained audit entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the chain, from 1 without gaps.
    pub seq: i64,
    /// Server time of the change.
    pub at: Timestamp,
    /// What happened.
    #[serde(flatten)]
    pub event: AuditEvent,
    /// The previous entry's hash.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// Computes an entry's hash from its fields and the previous hash. Every field is
/// length-prefixed so that no two different entries encode the same bytes.
pub fn entry_hash(seq: i64, at: Timestamp, event: &AuditEvent, prev_hash: &str) -> String {
    let mut h = Sha256::new();
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(bytes);
    };
    field(b"vulnshare-audit-v1");
    field(prev_hash.as_bytes());
    field(&seq.to_be_bytes());
    field(&at.as_microsecond().to_be_bytes());
    field(event.actor_user_id.as_deref().unwrap_or("").as_bytes());
    field(event.actor_org_id.as_deref().unwrap_or("").as_bytes());
    field(event.action.as_bytes());
    field(event.object_type.as_bytes());
    field(event.object_id.as_bytes());
    field(event.details.as_bytes());
    hex::encode(h.finalize())
}

impl AuditEntry {
    /// Chains `event` after an entry with `prev_seq` and `prev_hash`.
    pub fn chain(prev_seq: i64, prev_hash: &str, at: Timestamp, event: AuditEvent) -> AuditEntry {
        let seq = prev_seq + 1;
        let hash = entry_hash(seq, at, &event, prev_hash);
        AuditEntry {
            seq,
            at,
            event,
            prev_hash: prev_hash.to_owned(),
            hash,
        }
    }
}

/// Where and how the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    /// An entry's stored hash does not match its content: it was edited.
    #[error("entry {seq} was altered: its content no longer matches its hash")]
    Altered {
        /// The entry.
        seq: i64,
    },
    /// An entry does not point at its predecessor: entries were removed or reordered.
    #[error(
        "entry {seq} does not follow entry {expected_prev}: entries were removed, inserted or reordered"
    )]
    Unlinked {
        /// The entry.
        seq: i64,
        /// The sequence number it should follow.
        expected_prev: i64,
    },
    /// The chain ends before the recorded head: entries were removed from the end.
    #[error(
        "the chain ends at entry {last} but the head records entry {head}: entries were removed from the end"
    )]
    Truncated {
        /// Last entry found.
        last: i64,
        /// Head recorded.
        head: i64,
    },
    /// The chain's last hash differs from the recorded head.
    #[error("the last entry's hash differs from the recorded head")]
    HeadMismatch,
}

/// Checks entries in chain order, one at a time, so that a store can stream millions of them.
#[derive(Debug)]
pub struct ChainVerifier {
    last_seq: i64,
    last_hash: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            last_seq: 0,
            last_hash: GENESIS_HASH.to_owned(),
        }
    }
}

impl ChainVerifier {
    /// Checks the next entry.
    pub fn push(&mut self, entry: &AuditEntry) -> Result<(), ChainBreak> {
        if entry.seq != self.last_seq + 1 || entry.prev_hash != self.last_hash {
            return Err(ChainBreak::Unlinked {
                seq: entry.seq,
                expected_prev: self.last_seq,
            });
        }
        if entry_hash(entry.seq, entry.at, &entry.event, &entry.prev_hash) != entry.hash {
            return Err(ChainBreak::Altered { seq: entry.seq });
        }
        self.last_seq = entry.seq;
        self.last_hash.clone_from(&entry.hash);
        Ok(())
    }

    /// Checks the end of the chain against the separately recorded head.
    pub fn finish(self, head_seq: i64, head_hash: &str) -> Result<i64, ChainBreak> {
        if self.last_seq < head_seq {
            return Err(ChainBreak::Truncated {
                last: self.last_seq,
                head: head_seq,
            });
        }
        if self.last_seq != head_seq || self.last_hash != head_hash {
            return Err(ChainBreak::HeadMismatch);
        }
        Ok(self.last_seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(n: u32) -> AuditEvent {
        AuditEvent {
            actor_user_id: Some("u1".into()),
            actor_org_id: Some("o1".into()),
            action: "report.create".into(),
            object_type: "report".into(),
            object_id: format!("VS-2021-{n:05}"),
            details: "{}".into(),
        }
    }

    fn chain(n: u32) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for i in 1..=n {
            let (seq, hash) = out
                .last()
                .map(|e| (e.seq, e.hash.clone()))
                .unwrap_or((0, GENESIS_HASH.into()));
            out.push(AuditEntry::chain(
                seq,
                &hash,
                Timestamp::from_second(i as i64).unwrap(),
                event(i),
            ));
        }
        out
    }

    fn verify(entries: &[AuditEntry], head: &AuditEntry) -> Result<i64, ChainBreak> {
        let mut v = ChainVerifier::default();
        for e in entries {
            v.push(e)?;
        }
        v.finish(head.seq, &head.hash)
    }

    #[test]
    fn intact_chain_verifies() {
        let c = chain(5);
        assert_eq!(verify(&c, &c[4]), Ok(5));
    }

    #[test]
    fn edits_deletions_reorders_and_truncation_are_detected() {
        let c = chain(5);
        let head = c[4].clone();

        let mut edited = c.clone();
        edited[2].event.details = "{\"x\":1}".into();
        assert_eq!(verify(&edited, &head), Err(ChainBreak::Altered { seq: 3 }));

        let mut deleted = c.clone();
        deleted.remove(1);
        assert!(matches!(
            verify(&deleted, &head),
            Err(ChainBreak::Unlinked { seq: 3, .. })
        ));

        let mut reordered = c.clone();
        reordered.swap(1, 2);
        assert!(matches!(
            verify(&reordered, &head),
            Err(ChainBreak::Unlinked { .. })
        ));

        assert_eq!(
            verify(&c[..3], &head),
            Err(ChainBreak::Truncated { last: 3, head: 5 })
        );
    }
}
