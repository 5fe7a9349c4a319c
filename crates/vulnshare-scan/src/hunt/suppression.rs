//! Known scanners to stay quiet about: source networks (your own pentesters, a vendor's
//! internet-wide scan) and callback domains (e.g. a scanner's own interaction server).

use std::net::IpAddr;

use super::HuntError;

/// An address block such as `192.0.2.0/24` or a single address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpBlock {
    /// The network address.
    pub network: IpAddr,
    /// Leading bits that must match (32 or 128 for one address).
    pub prefix_len: u8,
}

impl IpBlock {
    /// Parses `addr` or `addr/prefix`.
    pub fn parse(text: &str) -> Result<Self, HuntError> {
        let invalid = || HuntError::InvalidSuppression {
            entry: text.to_string(),
        };
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text.trim(), None),
        };
        let network: IpAddr = addr.parse().map_err(|_| invalid())?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix_len = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(invalid)?,
            None => max,
        };
        Ok(Self {
            network,
            prefix_len,
        })
    }

    /// True when `ip` lies in this block.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let (network, ip, bits) = match (self.network, ip) {
            (IpAddr::V4(n), IpAddr::V4(i)) => {
                (u128::from(n.to_bits()), u128::from(i.to_bits()), 32)
            }
            (IpAddr::V6(n), IpAddr::V6(i)) => (n.to_bits(), i.to_bits(), 128),
            _ => return false,
        };
        let shift = bits - u32::from(self.prefix_len);
        shift >= bits || (network >> shift) == (ip >> shift)
    }
}

/// Sources and callback hosts whose hits are suppressed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Suppression {
    /// Source address blocks of known scanners.
    pub sources: Vec<IpBlock>,
    /// Callback domains; a target host equal to one or under it is suppressed.
    pub hosts: Vec<String>,
}

impl Suppression {
    /// Builds a list from entries that are each an address, a CIDR block or a host name.
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<Self, HuntError> {
        let mut suppression = Self::default();
        for entry in entries.into_iter().map(str::trim).filter(|e| !e.is_empty()) {
            let looks_like_ip = entry.contains(':')
                || entry
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '.' || c == '/');
            if looks_like_ip {
                suppression.sources.push(IpBlock::parse(entry)?);
            } else if entry.contains(char::is_whitespace) || entry.contains('/') {
                return Err(HuntError::InvalidSuppression {
                    entry: entry.to_string(),
                });
            } else {
                suppression
                    .hosts
                    .push(entry.trim_start_matches('.').to_ascii_lowercase());
            }
        }
        Ok(suppression)
    }

    /// True when a hit from `source` calling `target_host` is a known scanner's.
    pub fn matches(&self, source: Option<IpAddr>, target_host: Option<&str>) -> bool {
        let by_source = source.is_some_and(|ip| self.sources.iter().any(|b| b.contains(ip)));
        // Compared in place, without a lower-cased copy: this runs for every hit.
        let by_host = target_host.is_some_and(|host| {
            let host = host.as_bytes();
            self.hosts.iter().any(|h| {
                let h = h.as_bytes();
                host.len() >= h.len()
                    && lower_equals(&host[host.len() - h.len()..], h)
                    && (host.len() == h.len() || host[host.len() - h.len() - 1] == b'.')
            })
        });
        by_source || by_host
    }
}

/// True when `text` lower-cased (ASCII only, as the suppression hosts are) is `lower`.
fn lower_equals(text: &[u8], lower: &[u8]) -> bool {
    text.len() == lower.len()
        && text
            .iter()
            .zip(lower)
            .all(|(t, l)| t.to_ascii_lowercase() == *l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_and_hosts() {
        let s = Suppression::parse([
            "192.0.2.0/24",
            "2001:db8::/32",
            "203.0.113.9",
            "interact.example",
        ])
        .unwrap();
        assert!(s.matches("192.0.2.200".parse().ok(), None));
        assert!(!s.matches("192.0.3.1".parse().ok(), None));
        assert!(s.matches("2001:db8:1::5".parse().ok(), None));
        assert!(s.matches("203.0.113.9".parse().ok(), None));
        assert!(!s.matches("203.0.113.10".parse().ok(), None));
        assert!(s.matches(None, Some("abc.Interact.example")));
        assert!(!s.matches(None, Some("notinteract.example")));
        assert!(s.matches(None, Some("INTERACT.EXAMPLE")));
        assert!(!s.matches(None, Some("example")));
        assert!(!s.matches(None, Some("é.interact.exampl")));
        assert!(s.matches(None, Some("é.interact.example")));
        assert!(
            IpBlock::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
    }

    #[test]
    fn bad_entries_say_which() {
        let err = Suppression::parse(["10.0.0.0/40"]).unwrap_err();
        assert!(err.to_string().contains("10.0.0.0/40"));
        assert!(Suppression::parse(["not a host"]).is_err());
    }
}
