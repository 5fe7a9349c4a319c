//! Severity data attached to reports: CVSS vectors (v3.0, v3.1, v4.0) scored with the `cvss`
//! crate, and CWE identifiers.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A validated CVSS vector with its computed base score and severity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvssScore {
    /// The vector in canonical form, e.g. `CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H`.
    pub vector: String,
    /// The CVSS version, e.g. `3.1`.
    pub version: String,
    /// Base score, 0.0 to 10.0.
    pub score: f64,
    /// Qualitative rating: none, low, medium, high or critical.
    pub severity: String,
}

impl CvssScore {
    /// Parses and scores a vector; the error says what is wrong with it.
    pub fn parse(vector: &str) -> Result<CvssScore, String> {
        let vector = vector.trim();
        if vector.len() > 200 {
            return Err("a CVSS vector is at most 200 characters".into());
        }
        if !vector.starts_with("CVSS:") {
            return Err("must be a CVSS v3.0, v3.1 or v4.0 vector starting with CVSS:".into());
        }
        let parsed =
            cvss::Cvss::from_str(vector).map_err(|e| format!("not a valid CVSS vector: {e}"))?;
        let version = match parsed {
            cvss::Cvss::CvssV30(_) => "3.0",
            cvss::Cvss::CvssV31(_) => "3.1",
            cvss::Cvss::CvssV40(_) => "4.0",
            _ => return Err("only CVSS v3.0, v3.1 and v4.0 vectors are accepted".into()),
        };
        let required: &[&str] = if version == "4.0" {
            &[
                "AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA",
            ]
        } else {
            &["AV", "AC", "PR", "UI", "S", "C", "I", "A"]
        };
        let present: Vec<&str> = vector
            .split('/')
            .skip(1)
            .filter_map(|m| m.split_once(':').map(|(k, _)| k))
            .collect();
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|m| !present.contains(m))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "the CVSS {version} vector lacks base metrics {}",
                missing.join(", ")
            ));
        }
        Ok(CvssScore {
            vector: parsed.to_string(),
            version: version.into(),
            score: parsed.score(),
            severity: parsed.severity().as_str().into(),
        })
    }
}

/// A CWE identifier such as `CWE-917`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cwe(pub u32);

impl Cwe {
    /// Parses `CWE-917` (case-insensitive) or a bare number.
    pub fn parse(s: &str) -> Result<Cwe, String> {
        let t = s.trim();
        let digits = t
            .strip_prefix("CWE-")
            .or_else(|| t.strip_prefix("cwe-"))
            .unwrap_or(t);
        if digits.is_empty() || digits.len() > 7 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{s:?} is not a CWE identifier like CWE-917"));
        }
        let n: u32 = digits
            .parse()
            .map_err(|_| format!("{s:?} is out of range"))?;
        if n == 0 {
            return Err("CWE-0 does not exist".into());
        }
        Ok(Cwe(n))
    }
}

impl std::fmt::Display for Cwe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CWE-{}", self.0)
    }
}

impl Serialize for Cwe {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cwe {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Cwe::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_log4shell() {
        let s = CvssScore::parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H").unwrap();
        assert_eq!(s.score, 10.0);
        assert_eq!(s.severity, "critical");
        assert_eq!(s.version, "3.1");
    }

    #[test]
    fn scores_cve_2021_45105_at_5_9() {
        let s = CvssScore::parse("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H").unwrap();
        assert_eq!(s.score, 5.9);
        assert_eq!(s.severity, "medium");
    }

    #[test]
    fn scores_v4() {
        let s = CvssScore::parse("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H")
            .unwrap();
        assert_eq!(s.version, "4.0");
        assert_eq!(s.score, 10.0);
    }

    #[test]
    fn refuses_malformed_vectors() {
        for bad in [
            "",
            "AV:N/AC:L",
            "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
            "CVSS:3.1/AV:N",
            "CVSS:9.9/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
        ] {
            assert!(CvssScore::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_cwe() {
        assert_eq!(Cwe::parse("CWE-917").unwrap(), Cwe(917));
        assert_eq!(Cwe::parse("502").unwrap().to_string(), "CWE-502");
        for bad in ["CWE-", "CWE-abc", "CWE-0", "917a", "CWE-99999999"] {
            assert!(Cwe::parse(bad).is_err(), "{bad}");
        }
    }
}
