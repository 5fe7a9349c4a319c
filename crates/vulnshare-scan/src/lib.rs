//! Finds vulnerable components in archives and file trees (`vulnshare scan`) and exploitation
//! attempts in logs (`vulnshare hunt`).
#![warn(missing_docs)]

pub mod hunt;
pub mod scan;
