//! Content signatures: what a blob is, judged by its bytes and never by its name, and bounded
//! decompression of the single-stream formats (gzip, bzip2, xz, zstd).

use std::io::Read;

use super::classfile::looks_like_class;
use super::limits::RATIO_FLOOR;
use super::tar::looks_like_tar;

/// How many leading bytes [`sniff`] wants (the tar magic sits at offset 257).
pub const HEAD_LEN: usize = 512;

/// What a blob is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signature {
    /// A zip archive starting at byte 0 (jar, war, ear, zip).
    Zip,
    /// A tar archive.
    Tar,
    /// A gzip stream.
    Gzip,
    /// A bzip2 stream.
    Bzip2,
    /// An xz stream.
    Xz,
    /// A zstd frame.
    Zstd,
    /// A Java class file.
    Class,
    /// A launcher script or executable that may have a zip appended (checked from the end).
    MaybePrefixedZip,
    /// Anything else.
    Other,
}

impl Signature {
    /// Whether the blob is worth reading whole.
    pub fn is_interesting(self) -> bool {
        self != Signature::Other
    }

    /// Whether the blob is a compressed single stream.
    pub fn is_stream(self) -> bool {
        matches!(
            self,
            Signature::Gzip | Signature::Bzip2 | Signature::Xz | Signature::Zstd
        )
    }
}

/// Identifies a blob from its first bytes (up to [`HEAD_LEN`]).
pub fn sniff(head: &[u8]) -> Signature {
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Signature::Zip
    } else if head.starts_with(&[0x1f, 0x8b]) {
        Signature::Gzip
    } else if head.starts_with(b"BZh") && head.get(3).is_some_and(|b| (b'1'..=b'9').contains(b)) {
        Signature::Bzip2
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Signature::Xz
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Signature::Zstd
    } else if looks_like_class(head) {
        Signature::Class
    } else if looks_like_tar(head) {
        Signature::Tar
    } else if head.starts_with(b"#!") || head.starts_with(b"MZ") || head.starts_with(b"\x7fELF") {
        Signature::MaybePrefixedZip
    } else {
        Signature::Other
    }
}

/// The outcome of decompressing a stream under limits.
#[derive(Debug)]
pub enum Inflated {
    /// The stream's content does not look like an archive or class; it was not read further.
    NotInteresting,
    /// The content, possibly cut short.
    Content {
        /// The decompressed bytes.
        bytes: Vec<u8>,
        /// Why the content was cut short, if it was.
        cut: Option<Cut>,
    },
}

/// Why decompression stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// The byte limit was reached.
    Size,
    /// The compression ratio went past the limit.
    Ratio,
    /// The stream is corrupt.
    Corrupt,
}

fn decoder<'a>(signature: Signature, data: &'a [u8]) -> Option<Box<dyn Read + 'a>> {
    Some(match signature {
        Signature::Gzip => Box::new(flate2::read::MultiGzDecoder::new(data)),
        Signature::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(data)),
        Signature::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(data)),
        Signature::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(data).ok()?),
        _ => return None,
    })
}

/// Decompresses a stream, first peeking at its head and stopping unless it is interesting;
/// never produces more than `limit` bytes or a ratio above `max_ratio` past [`RATIO_FLOOR`].
pub fn inflate(signature: Signature, data: &[u8], limit: u64, max_ratio: u64) -> Inflated {
    let Some(mut reader) = decoder(signature, data) else {
        return Inflated::Content {
            bytes: Vec::new(),
            cut: Some(Cut::Corrupt),
        };
    };
    let mut bytes = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut head_checked = false;
    let ratio_cap = (data.len() as u64)
        .saturating_mul(max_ratio)
        .max(RATIO_FLOOR);
    loop {
        let want = chunk.len();
        let n = match reader.read(&mut chunk[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(_) => {
                return Inflated::Content {
                    bytes,
                    cut: Some(Cut::Corrupt),
                };
            }
        };
        bytes.extend_from_slice(&chunk[..n]);
        if !head_checked && bytes.len() >= HEAD_LEN {
            head_checked = true;
            if !sniff(&bytes).is_interesting() {
                return Inflated::NotInteresting;
            }
        }
        if bytes.len() as u64 > limit {
            bytes.truncate(limit as usize);
            return Inflated::Content {
                bytes,
                cut: Some(Cut::Size),
            };
        }
        if bytes.len() as u64 > ratio_cap {
            return Inflated::Content {
                bytes,
                cut: Some(Cut::Ratio),
            };
        }
    }
    if !head_checked && !sniff(&bytes).is_interesting() {
        return Inflated::NotInteresting;
    }
    Inflated::Content { bytes, cut: None }
}

/// The name of a stream's content: `app.tar.gz` -> `app.tar`, `x.tgz` -> `x.tar`.
pub fn inner_name(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    for (ext, replacement) in [(".tgz", ".tar"), (".tbz2", ".tar"), (".txz", ".tar")] {
        if lower.ends_with(ext) {
            return format!("{}{replacement}", &name[..name.len() - ext.len()]);
        }
    }
    for ext in [".gz", ".bz2", ".xz", ".zst"] {
        if lower.ends_with(ext) {
            return name[..name.len() - ext.len()].to_owned();
        }
    }
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn signatures_by_content() {
        assert_eq!(sniff(b"PK\x03\x04rest"), Signature::Zip);
        assert_eq!(sniff(&[0x1f, 0x8b, 8, 0]), Signature::Gzip);
        assert_eq!(sniff(b"BZh91AY"), Signature::Bzip2);
        assert_eq!(sniff(b"#!/bin/sh\n"), Signature::MaybePrefixedZip);
        assert_eq!(sniff(b"hello"), Signature::Other);
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_ratio_limit() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1 << 20];
        let mut content = b"PK\x03\x04".to_vec();
        content.resize(HEAD_LEN, 0);
        encoder.write_all(&content).unwrap();
        for _ in 0..64 {
            encoder.write_all(&zeros).unwrap();
        }
        let gz = encoder.finish().unwrap();
        match inflate(Signature::Gzip, &gz, 1 << 30, 100) {
            Inflated::Content { cut, bytes } => {
                assert_eq!(cut, Some(Cut::Ratio));
                assert!(bytes.len() < 64 << 20);
            }
            Inflated::NotInteresting => panic!("zip-like content ignored"),
        }
    }

    #[test]
    fn plain_text_in_gzip_is_not_read_whole() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&vec![b'a'; 100_000]).unwrap();
        let gz = encoder.finish().unwrap();
        assert!(matches!(
            inflate(Signature::Gzip, &gz, 1 << 30, 1000),
            Inflated::NotInteresting
        ));
        assert_eq!(inner_name("app.tar.gz"), "app.tar");
    }
}
