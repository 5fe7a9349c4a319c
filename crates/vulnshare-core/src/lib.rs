//! The vulnshare domain: organizations and their members, products, vulnerability and threat
//! reports, the audit chain and signed receipts, and the policy that decides who may do what.
//!
//! Everything here is pure: functions take the current time as an argument and never perform
//! I/O, so the rules can be tested exhaustively and reused by the store, the server and the CLI.
#![warn(missing_docs)]

pub mod advisory;
pub mod audit;
pub mod awareness;
pub mod case;
pub mod clock;
pub mod compliance;
pub mod cve;
pub mod exposure;
pub mod gate;
pub mod obligation;
pub mod organization;
pub mod package;
pub mod policy;
pub mod product;
pub mod receipt;
pub mod regime;
pub mod report;
pub mod sanction;
pub mod severity;
pub mod sharing;
pub mod subscription;
pub mod tlp;
pub mod token;
pub mod user;
pub mod validation;
pub mod version;

pub use validation::{FieldError, Invalid};
