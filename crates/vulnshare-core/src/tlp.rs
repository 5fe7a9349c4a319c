//! Traffic Light Protocol 2.0 labels: who a piece of information may be shared with.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A TLP 2.0 label, ordered from least to most restrictive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Tlp {
    /// May be shared publicly.
    Clear,
    /// May be shared within the community (all active members).
    Green,
    /// May be shared with the participants' organizations (and their clients).
    #[default]
    Amber,
    /// May be shared with the participants' organizations only.
    AmberStrict,
    /// For the named participants only.
    Red,
}

impl Tlp {
    /// The canonical label, e.g. `AMBER+STRICT`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "CLEAR",
            Tlp::Green => "GREEN",
            Tlp::Amber => "AMBER",
            Tlp::AmberStrict => "AMBER+STRICT",
            Tlp::Red => "RED",
        }
    }

    /// Parses a label, with or without the `TLP:` prefix, in any case. `WHITE` (TLP 1.0) is
    /// read as `CLEAR`.
    pub fn parse(s: &str) -> Option<Tlp> {
        let upper = s.trim().to_ascii_uppercase();
        let label = upper.strip_prefix("TLP:").unwrap_or(&upper);
        Some(match label {
            "CLEAR" | "WHITE" => Tlp::Clear,
            "GREEN" => Tlp::Green,
            "AMBER" => Tlp::Amber,
            "AMBER+STRICT" => Tlp::AmberStrict,
            "RED" => Tlp::Red,
            _ => return None,
        })
    }
}

impl Serialize for Tlp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Tlp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Tlp::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown TLP label {s:?}: use CLEAR, GREEN, AMBER, AMBER+STRICT or RED"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_labels_with_and_without_prefix() {
        assert_eq!(Tlp::parse("TLP:AMBER+STRICT"), Some(Tlp::AmberStrict));
        assert_eq!(Tlp::parse("amber"), Some(Tlp::Amber));
        assert_eq!(Tlp::parse("white"), Some(Tlp::Clear));
        assert_eq!(Tlp::parse("purple"), None);
        for t in [
            Tlp::Clear,
            Tlp::Green,
            Tlp::Amber,
            Tlp::AmberStrict,
            Tlp::Red,
        ] {
            assert_eq!(Tlp::parse(t.as_str()), Some(t));
        }
    }

    #[test]
    fn labels_are_ordered_by_restriction() {
        assert!(Tlp::Clear < Tlp::Green && Tlp::Green < Tlp::Amber);
        assert!(Tlp::Amber < Tlp::AmberStrict && Tlp::AmberStrict < Tlp::Red);
    }
}
