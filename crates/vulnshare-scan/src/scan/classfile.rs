//! A minimal Java class-file reader: magic, versions, the whole constant pool and `this_class`.
//!
//! The scanner recognises classes by what they are, not by what their entry is called, so it
//! needs the class's own internal name (`org/apache/logging/log4j/core/lookup/JndiLookup`, or a
//! relocated `shaded/org/apache/...`) and its UTF-8 constants, where version-specific strings
//! such as `log4j2.enableJndi` live. Nothing past `this_class` is read.

/// The four bytes every class file starts with.
pub const MAGIC: [u8; 4] = [0xCA, 0xFE, 0xBA, 0xBE];

/// Why bytes are not a readable class file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClassFileError {
    /// The bytes do not start with CAFEBABE followed by a plausible class version.
    #[error("not a class file: no CAFEBABE magic with a plausible version")]
    NotAClass,
    /// The file ends inside the constant pool or before `this_class`.
    #[error("the class file is truncated at byte {0}")]
    Truncated(usize),
    /// A constant-pool tag this reader does not know (the file is corrupt or from the future).
    #[error("unknown constant-pool tag {tag} at byte {offset}")]
    UnknownTag {
        /// The tag byte.
        tag: u8,
        /// Where it was found.
        offset: usize,
    },
    /// `this_class` does not point at a CONSTANT_Class whose name is a UTF-8 constant.
    #[error("this_class does not name a class")]
    BadThisClass,
}

/// What the scanner needs from one class file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassFile {
    /// The class-file major version (50 = Java 6, 51 = Java 7, 52 = Java 8).
    pub major: u16,
    /// The class-file minor version.
    pub minor: u16,
    /// The internal name, slash-separated (`org/apache/logging/log4j/core/lookup/JndiLookup`).
    pub this_class: String,
    /// Every CONSTANT_Utf8 in pool order (modified UTF-8 read leniently).
    pub utf8: Vec<String>,
}

impl ClassFile {
    /// Whether any UTF-8 constant contains `needle`.
    pub fn has_string_containing(&self, needle: &str) -> bool {
        self.utf8.iter().any(|s| s.contains(needle))
    }
}

/// Whether `bytes` starts like a class file: CAFEBABE and a major version Java ever used.
///
/// The version check keeps Mach-O universal binaries, which share the magic, out.
pub fn looks_like_class(bytes: &[u8]) -> bool {
    if bytes.len() < 8 || bytes[..4] != MAGIC {
        return false;
    }
    let major = u16::from_be_bytes([bytes[6], bytes[7]]);
    (45..=80).contains(&major)
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], ClassFileError> {
        let end = self
            .at
            .checked_add(n)
            .ok_or(ClassFileError::Truncated(self.at))?;
        let slice = self
            .bytes
            .get(self.at..end)
            .ok_or(ClassFileError::Truncated(self.at))?;
        self.at = end;
        Ok(slice)
    }

    fn u1(&mut self) -> Result<u8, ClassFileError> {
        Ok(self.take(1)?[0])
    }

    fn u2(&mut self) -> Result<u16, ClassFileError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
}

#[derive(Clone, Copy)]
enum Slot {
    Empty,
    Utf8(usize),
    Class(u16),
}

/// Parses the header, constant pool and `this_class` of a class file.
pub fn parse(bytes: &[u8]) -> Result<ClassFile, ClassFileError> {
    if !looks_like_class(bytes) {
        return Err(ClassFileError::NotAClass);
    }
    let mut cursor = Cursor { bytes, at: 4 };
    let minor = cursor.u2()?;
    let major = cursor.u2()?;
    let count = cursor.u2()? as usize;
    let mut slots = vec![Slot::Empty; count.max(1)];
    let mut utf8 = Vec::new();
    let mut index = 1;
    while index < count {
        let offset = cursor.at;
        let tag = cursor.u1()?;
        let mut width = 1;
        match tag {
            1 => {
                let len = cursor.u2()? as usize;
                let raw = cursor.take(len)?;
                slots[index] = Slot::Utf8(utf8.len());
                utf8.push(String::from_utf8_lossy(raw).into_owned());
            }
            7 => slots[index] = Slot::Class(cursor.u2()?),
            // String, MethodType, Module, Package: one u2.
            8 | 16 | 19 | 20 => {
                cursor.take(2)?;
            }
            // MethodHandle: u1 kind + u2 reference.
            15 => {
                cursor.take(3)?;
            }
            // Integer, Float, the refs, NameAndType, Dynamic, InvokeDynamic: four bytes.
            3 | 4 | 9 | 10 | 11 | 12 | 17 | 18 => {
                cursor.take(4)?;
            }
            // Long and Double take two pool slots (JVMS 4.4.5).
            5 | 6 => {
                cursor.take(8)?;
                width = 2;
            }
            _ => return Err(ClassFileError::UnknownTag { tag, offset }),
        }
        index += width;
    }
    let _access_flags = cursor.u2()?;
    let this_index = cursor.u2()? as usize;
    let this_class = match slots.get(this_index) {
        Some(Slot::Class(name_index)) => match slots.get(*name_index as usize) {
            Some(Slot::Utf8(at)) => utf8[*at].clone(),
            _ => return Err(ClassFileError::BadThisClass),
        },
        _ => return Err(ClassFileError::BadThisClass),
    };
    Ok(ClassFile {
        major,
        minor,
        this_class,
        utf8,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::testkit::class_bytes;

    #[test]
    fn reads_this_class_and_strings_of_a_synthesised_class() {
        let bytes = class_bytes("a/b/C", 52, &["hello", "log4j2.enableJndi"]);
        let class = parse(&bytes).unwrap();
        assert_eq!(class.this_class, "a/b/C");
        assert_eq!(class.major, 52);
        assert!(class.has_string_containing("enableJndi"));
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let bytes = class_bytes("a/b/C", 52, &["x", "y"]);
        for end in 0..bytes.len() - 10 {
            assert!(
                parse(&bytes[..end]).is_err(),
                "prefix of {end} bytes parsed"
            );
        }
    }

    #[test]
    fn mach_o_universal_binaries_are_not_classes() {
        assert!(!looks_like_class(&[0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 2]));
    }
}
