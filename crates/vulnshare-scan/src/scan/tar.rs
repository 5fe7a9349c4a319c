//! A zero-copy tar reader over an in-memory slice: ustar, GNU long names and pax paths.
//!
//! Entries are borrowed slices of the archive, so recursing into a jar inside a tar copies
//! nothing. A corrupt header ends the walk with the entries read so far.

/// One regular file in a tar archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TarEntry<'a> {
    /// The path inside the archive.
    pub name: String,
    /// The file's bytes.
    pub data: &'a [u8],
}

/// Whether `head` carries the ustar magic at offset 257.
pub fn looks_like_tar(head: &[u8]) -> bool {
    head.len() >= 262 && &head[257..262] == b"ustar"
}

fn field_str(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// Reads an octal size field, or a base-256 one (high bit set) as GNU tar writes for > 8 GiB.
fn parse_size(field: &[u8]) -> Option<u64> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        let mut value: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            value = value.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(value);
    }
    let text = field_str(field);
    let text = text.trim_matches(|c: char| c == ' ' || c == '\0');
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

fn checksum_ok(header: &[u8]) -> bool {
    let Some(stored) = parse_size(&header[148..156]) else {
        return false;
    };
    let sum: u64 = header
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(b)
            }
        })
        .sum();
    sum == stored
}

fn pax_path(records: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(records);
    text.lines().find_map(|line| {
        let (_, kv) = line.split_once(' ')?;
        kv.strip_prefix("path=").map(str::to_owned)
    })
}

/// The regular files of a tar archive, and whether the walk stopped at a corrupt header.
pub fn entries(data: &[u8], max_entries: usize) -> (Vec<TarEntry<'_>>, bool) {
    let mut out = Vec::new();
    let mut at = 0usize;
    let mut long_name: Option<String> = None;
    while at + 512 <= data.len() && out.len() < max_entries {
        let header = &data[at..at + 512];
        if header.iter().all(|&b| b == 0) {
            return (out, false);
        }
        if !checksum_ok(header) {
            return (out, true);
        }
        let Some(size) = parse_size(&header[124..136]) else {
            return (out, true);
        };
        let body_start = at + 512;
        let Some(body_end) = usize::try_from(size)
            .ok()
            .and_then(|s| body_start.checked_add(s))
        else {
            return (out, true);
        };
        let body = &data[body_start..body_end.min(data.len())];
        let truncated = body_end > data.len();
        match header[156] {
            b'L' => long_name = Some(field_str(body)),
            b'x' => long_name = pax_path(body).or(long_name),
            b'0' | 0 | b'7' => {
                let name = long_name.take().unwrap_or_else(|| {
                    let prefix = field_str(&header[345..500]);
                    let name = field_str(&header[..100]);
                    if prefix.is_empty() {
                        name
                    } else {
                        format!("{prefix}/{name}")
                    }
                });
                out.push(TarEntry { name, data: body });
            }
            _ => long_name = None,
        }
        if truncated {
            return (out, true);
        }
        at = body_start + (size as usize).div_ceil(512) * 512;
    }
    (out, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::testkit::tar_bytes;

    #[test]
    fn reads_files_and_long_names() {
        let long = format!("{}/log4j-core-2.14.1.jar", "d".repeat(120));
        let tar = tar_bytes(&[("a.txt", b"abc".as_slice()), (long.as_str(), b"jar")]);
        assert!(looks_like_tar(&tar));
        let (files, corrupt) = entries(&tar, 100);
        assert!(!corrupt);
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].data, b"abc");
        assert_eq!(files[1].name, long);
    }

    #[test]
    fn a_damaged_header_stops_the_walk_without_panicking() {
        let mut tar = tar_bytes(&[("a.txt", b"abc".as_slice()), ("b.txt", b"def")]);
        tar[1024 + 100] ^= 0xff;
        let (files, corrupt) = entries(&tar, 100);
        assert!(corrupt);
        assert_eq!(files.len(), 1);
        for end in 0..tar.len() {
            let _ = entries(&tar[..end], 100);
        }
    }
}
