//! Builds the test corpus in memory: minimal class files with the internal names and string
//! constants of the fingerprint table, jars (plain, prefixed, zip64, data descriptors), tars
//! and compressed wrappers, and hostile archives. Used by unit tests, `tests/scan_*.rs`, the
//! benchmark corpus and the fuzz seeds; it never touches the disk.

use std::io::Write;

/// A class file with internal name `name`, class-file `major` version and UTF-8 `strings`.
pub fn class_bytes(name: &str, major: u16, strings: &[&str]) -> Vec<u8> {
    let mut pool: Vec<u8> = Vec::new();
    let mut count: u16 = 1;
    let utf8 = |pool: &mut Vec<u8>, count: &mut u16, s: &str| {
        pool.push(1);
        pool.extend_from_slice(&(s.len() as u16).to_be_bytes());
        pool.extend_from_slice(s.as_bytes());
        *count += 1;
        *count - 1
    };
    let this_name = utf8(&mut pool, &mut count, name);
    pool.push(7);
    pool.extend_from_slice(&this_name.to_be_bytes());
    let this_class = count;
    count += 1;
    let object = utf8(&mut pool, &mut count, "java/lang/Object");
    pool.push(7);
    pool.extend_from_slice(&object.to_be_bytes());
    let super_class = count;
    count += 1;
    // A Long takes two slots and an Integer one: exercise both widths.
    pool.push(5);
    pool.extend_from_slice(&42u64.to_be_bytes());
    count += 2;
    pool.push(3);
    pool.extend_from_slice(&7u32.to_be_bytes());
    count += 1;
    for s in strings {
        utf8(&mut pool, &mut count, s);
    }
    let mut out = vec![0xCA, 0xFE, 0xBA, 0xBE, 0, 0];
    out.extend_from_slice(&major.to_be_bytes());
    out.extend_from_slice(&count.to_be_bytes());
    out.extend_from_slice(&pool);
    out.extend_from_slice(&0x21u16.to_be_bytes());
    out.extend_from_slice(&this_class.to_be_bytes());
    out.extend_from_slice(&super_class.to_be_bytes());
    out.extend_from_slice(&[0; 8]); // interfaces, fields, methods, attributes: none
    out
}

/// How a [`ZipBuilder`] lays out its archive.
#[derive(Debug, Clone, Default)]
pub struct ZipOptions {
    /// Bytes written before the archive (a launcher script); offsets are not adjusted, as
    /// with `cat launcher.sh app.jar`.
    pub prefix: Vec<u8>,
    /// Write zip64 extra fields and end records.
    pub zip64: bool,
    /// Put sizes in data descriptors after the data, with zeros in the local headers.
    pub data_descriptor: bool,
    /// Store instead of deflating.
    pub stored: bool,
}

/// Writes a zip archive entry by entry.
#[derive(Debug)]
pub struct ZipBuilder {
    options: ZipOptions,
    body: Vec<u8>,
    central: Vec<u8>,
    count: u64,
}

impl ZipBuilder {
    /// An empty archive.
    pub fn new(options: ZipOptions) -> ZipBuilder {
        ZipBuilder {
            options,
            body: Vec::new(),
            central: Vec::new(),
            count: 0,
        }
    }

    /// Adds a file, stored or deflated per the options.
    pub fn add(&mut self, name: &str, data: &[u8]) {
        if self.options.stored {
            self.add_raw(name, 0, data, data.len() as u64, crc(data));
        } else {
            let mut encoder =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
            encoder.write_all(data).expect("in memory");
            let compressed = encoder.finish().expect("in memory");
            self.add_raw(name, 8, &compressed, data.len() as u64, crc(data));
        }
    }

    /// Adds an entry with exactly these stored bytes, method and declared size (for hostile
    /// archives: corrupt streams, lying sizes).
    pub fn add_raw(&mut self, name: &str, method: u16, stored: &[u8], size: u64, crc32: u32) {
        let offset = self.body.len() as u64;
        let descriptor = self.options.data_descriptor;
        let zip64 = self.options.zip64;
        let flags: u16 = if descriptor { 8 } else { 0 };
        let (local_c, local_u) = match (descriptor, zip64) {
            (true, _) => (0, 0),
            (false, true) => (u32::MAX, u32::MAX),
            (false, false) => (stored.len() as u32, size as u32),
        };
        let local_extra = if zip64 && !descriptor {
            let mut e = vec![1, 0, 16, 0];
            e.extend_from_slice(&size.to_le_bytes());
            e.extend_from_slice(&(stored.len() as u64).to_le_bytes());
            e
        } else {
            Vec::new()
        };
        let b = &mut self.body;
        b.extend_from_slice(b"PK\x03\x04");
        b.extend_from_slice(&[20, 0]);
        b.extend_from_slice(&flags.to_le_bytes());
        b.extend_from_slice(&method.to_le_bytes());
        b.extend_from_slice(&[0; 4]); // time, date
        b.extend_from_slice(&(if descriptor { 0 } else { crc32 }).to_le_bytes());
        b.extend_from_slice(&local_c.to_le_bytes());
        b.extend_from_slice(&local_u.to_le_bytes());
        b.extend_from_slice(&(name.len() as u16).to_le_bytes());
        b.extend_from_slice(&(local_extra.len() as u16).to_le_bytes());
        b.extend_from_slice(name.as_bytes());
        b.extend_from_slice(&local_extra);
        b.extend_from_slice(stored);
        if descriptor {
            b.extend_from_slice(b"PK\x07\x08");
            b.extend_from_slice(&crc32.to_le_bytes());
            if zip64 {
                b.extend_from_slice(&(stored.len() as u64).to_le_bytes());
                b.extend_from_slice(&size.to_le_bytes());
            } else {
                b.extend_from_slice(&(stored.len() as u32).to_le_bytes());
                b.extend_from_slice(&(size as u32).to_le_bytes());
            }
        }
        let mut extra = Vec::new();
        let (c32, u32_, o32) = if zip64 {
            extra.extend_from_slice(&[1, 0, 24, 0]);
            extra.extend_from_slice(&size.to_le_bytes());
            extra.extend_from_slice(&(stored.len() as u64).to_le_bytes());
            extra.extend_from_slice(&offset.to_le_bytes());
            (u32::MAX, u32::MAX, u32::MAX)
        } else {
            (stored.len() as u32, size as u32, offset as u32)
        };
        let c = &mut self.central;
        c.extend_from_slice(b"PK\x01\x02");
        c.extend_from_slice(&[45, 3, 20, 0]);
        c.extend_from_slice(&flags.to_le_bytes());
        c.extend_from_slice(&method.to_le_bytes());
        c.extend_from_slice(&[0; 4]);
        c.extend_from_slice(&crc32.to_le_bytes());
        c.extend_from_slice(&c32.to_le_bytes());
        c.extend_from_slice(&u32_.to_le_bytes());
        c.extend_from_slice(&(name.len() as u16).to_le_bytes());
        c.extend_from_slice(&(extra.len() as u16).to_le_bytes());
        c.extend_from_slice(&[0; 8]); // comment length, disk, internal and external attributes
        c.extend_from_slice(&[0; 2]);
        c.extend_from_slice(&o32.to_le_bytes());
        c.extend_from_slice(name.as_bytes());
        c.extend_from_slice(&extra);
        self.count += 1;
    }

    /// The finished archive bytes.
    pub fn finish(self) -> Vec<u8> {
        let mut out = self.options.prefix.clone();
        let cd_offset = self.body.len() as u64;
        let cd_size = self.central.len() as u64;
        out.extend_from_slice(&self.body);
        out.extend_from_slice(&self.central);
        if self.options.zip64 {
            let eocd64_offset = cd_offset + cd_size;
            out.extend_from_slice(b"PK\x06\x06");
            out.extend_from_slice(&44u64.to_le_bytes());
            out.extend_from_slice(&[45, 3, 45, 0]);
            out.extend_from_slice(&[0; 8]); // disk numbers
            out.extend_from_slice(&self.count.to_le_bytes());
            out.extend_from_slice(&self.count.to_le_bytes());
            out.extend_from_slice(&cd_size.to_le_bytes());
            out.extend_from_slice(&cd_offset.to_le_bytes());
            out.extend_from_slice(b"PK\x06\x07");
            out.extend_from_slice(&[0; 4]);
            out.extend_from_slice(&eocd64_offset.to_le_bytes());
            out.extend_from_slice(&1u32.to_le_bytes());
        }
        let (count, size, offset) = if self.options.zip64 {
            (u16::MAX, u32::MAX, u32::MAX)
        } else {
            (self.count as u16, cd_size as u32, cd_offset as u32)
        };
        out.extend_from_slice(b"PK\x05\x06");
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(&[0; 2]);
        out
    }
}

fn crc(data: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(data);
    crc.sum()
}

/// A ustar archive of `files` (GNU long-name records for names over 100 bytes).
pub fn tar_bytes(files: &[(&str, &[u8])]) -> Vec<u8> {
    fn header(name: &str, size: usize, kind: u8) -> [u8; 512] {
        let mut h = [0u8; 512];
        let n = name.len().min(100);
        h[..n].copy_from_slice(&name.as_bytes()[..n]);
        h[100..107].copy_from_slice(b"0000644");
        h[108..115].copy_from_slice(b"0000000");
        h[116..123].copy_from_slice(b"0000000");
        h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
        h[136..147].copy_from_slice(b"00000000000");
        h[156] = kind;
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].fill(b' ');
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        h
    }
    let mut out = Vec::new();
    let push = |out: &mut Vec<u8>, data: &[u8]| {
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    };
    for (name, data) in files {
        if name.len() > 100 {
            out.extend_from_slice(&header("././@LongLink", name.len() + 1, b'L'));
            let mut long = name.as_bytes().to_vec();
            long.push(0);
            push(&mut out, &long);
        }
        out.extend_from_slice(&header(name, data.len(), b'0'));
        push(&mut out, data);
    }
    out.extend_from_slice(&[0; 1024]);
    out
}

/// Gzip-compresses `data`.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("in memory");
    e.finish().expect("in memory")
}

/// Bzip2-compresses `data`.
pub fn bzip2(data: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    e.write_all(data).expect("in memory");
    e.finish().expect("in memory")
}

/// Xz-compresses `data`.
pub fn xz(data: &[u8]) -> Vec<u8> {
    let mut e = liblzma::write::XzEncoder::new(Vec::new(), 1);
    e.write_all(data).expect("in memory");
    e.finish().expect("in memory")
}

/// Zstd-compresses `data`.
pub fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(data, 1).expect("in memory")
}

mod corpus;
pub use corpus::*;
