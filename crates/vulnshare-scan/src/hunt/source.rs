//! Finds who sent a request: the client IP of a common/combined access log line, of a JSON log
//! line with a client-address field, or of a syslog line that names one (`client: 1.2.3.4`).

use std::net::IpAddr;

use serde_json::Value;

/// JSON field names (lower-cased, without `_`, `-` and `.`) that hold the client address;
/// nested objects are flattened, so `{"client":{"ip":..}}` reads as `clientip`.
const JSON_FIELDS: &[&str] = &[
    "clientip",
    "clientaddr",
    "clientaddress",
    "remoteaddr",
    "remoteip",
    "remoteaddress",
    "sourceip",
    "sourceaddress",
    "srcip",
    "cip",
    "realip",
    "xforwardedfor",
    "httpxforwardedfor",
    "ip",
];

/// Markers after which syslog-style lines name the client.
const TEXT_MARKERS: &[&str] = &["client: ", "client=", "src=", "remote_addr=", "from "];

/// The client IP the line names, if it is a format that names one.
pub(crate) fn source_ip(line: &str) -> Option<IpAddr> {
    let trimmed = line.trim_start();
    if trimmed.starts_with('{')
        && let Ok(value) = serde_json::from_str::<Value>(trimmed)
    {
        return json_source(&value, "", 0);
    }
    // Common and combined logs start with the client; with a vhost first, it comes second.
    let mut tokens = trimmed.split(' ');
    let first = tokens.next().unwrap_or_default();
    if let Some(ip) = parse_ip(first) {
        return Some(ip);
    }
    if (first.contains(':') || first.contains('.'))
        && let Some(ip) = tokens.next().and_then(parse_ip)
        && trimmed.contains(" - ")
    {
        return Some(ip);
    }
    TEXT_MARKERS.iter().find_map(|marker| {
        let at = line.find(marker)? + marker.len();
        let token = line[at..]
            .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
            .next()?;
        parse_ip(token)
    })
}

fn json_source(value: &Value, path: &str, depth: usize) -> Option<IpAddr> {
    let Value::Object(map) = value else {
        return None;
    };
    let mut nested = Vec::new();
    for (key, field) in map {
        // `path` is a name made here, so already without separators and lower-cased.
        let mut name = String::with_capacity(path.len() + key.len());
        name.push_str(path);
        name.extend(
            key.chars()
                .filter(|c| !matches!(c, '_' | '-' | '.'))
                .flat_map(char::to_lowercase),
        );
        match field {
            Value::String(s) if JSON_FIELDS.contains(&name.as_str()) => {
                if let Some(ip) = s.split(',').next().and_then(|s| parse_ip(s.trim())) {
                    return Some(ip);
                }
            }
            Value::Object(_) if depth < 3 => nested.push((name, field)),
            _ => {}
        }
    }
    nested
        .into_iter()
        .find_map(|(name, field)| json_source(field, &name, depth + 1))
}

/// Parses `1.2.3.4`, `1.2.3.4:5678`, `::1`, `[::1]:80`.
fn parse_ip(token: &str) -> Option<IpAddr> {
    let token = token.trim_matches(|c| c == '"' || c == '\'');
    if let Ok(ip) = token.parse() {
        return Some(ip);
    }
    if let Some(rest) = token.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    let (host, port) = token.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<String> {
        source_ip(s).map(|ip| ip.to_string())
    }

    #[test]
    fn access_logs() {
        let combined =
            r#"203.0.113.7 - - [10/Dec/2021:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "x""#;
        assert_eq!(ip(combined).as_deref(), Some("203.0.113.7"));
        let vhost = r#"example.org:443 2001:db8::1 - - [10/Dec/2021:10:00:00 +0000] "GET / HTTP/1.1" 200 5"#;
        assert_eq!(ip(vhost).as_deref(), Some("2001:db8::1"));
    }

    #[test]
    fn json_logs() {
        assert_eq!(
            ip(r#"{"client_ip":"198.51.100.2","msg":"x"}"#).as_deref(),
            Some("198.51.100.2")
        );
        let forwarded = r#"{"http":{"x-forwarded-for":"192.0.2.1, 10.0.0.1"}}"#;
        assert_eq!(ip(forwarded).as_deref(), Some("192.0.2.1"));
        assert_eq!(
            ip(r#"{"client":{"ip":"192.0.2.9:5050"}}"#).as_deref(),
            Some("192.0.2.9")
        );
        assert_eq!(ip(r#"{"remoteAddr":"[::1]:80"}"#).as_deref(), Some("::1"));
    }

    #[test]
    fn syslog_lines() {
        let nginx =
            "2021/12/10 10:00:00 [error] 1#1: *5 open() failed, client: 192.0.2.44, server: x";
        assert_eq!(ip(nginx).as_deref(), Some("192.0.2.44"));
        assert_eq!(
            ip("<134>Dec 10 host sshd[1]: Failed password from 192.0.2.5 port 22").as_deref(),
            Some("192.0.2.5")
        );
        assert_eq!(ip("Dec 10 host app: nothing here"), None);
    }
}
