//! The one error type of this crate: every variant names the document format and the JSON path
//! of the first problem, so a refusal can tell the sender exactly what to fix.

use serde::de::DeserializeOwned;

/// Why a document could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The document is bigger than the limit for its format.
    #[error("the {format} document is {size} bytes; at most {limit} bytes are accepted — split it")]
    TooLarge {
        /// The format, e.g. `OSV`.
        format: &'static str,
        /// The document's size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The document is not JSON, or a value does not have the type or shape the format requires.
    #[error("the {format} document does not parse at `{path}`: {message}")]
    Syntax {
        /// The format, e.g. `CycloneDX`.
        format: &'static str,
        /// JSON path of the first problem, e.g. `affected[0].ranges[0].events[1]`.
        path: String,
        /// What the parser objected to.
        message: String,
    },
    /// The document parses but breaks a rule of its format or of vulnshare.
    #[error("the {format} document is invalid at `{path}`: {message}")]
    Invalid {
        /// The format.
        format: &'static str,
        /// JSON path of the first problem.
        path: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A list an attacker controls is longer than vulnshare accepts.
    #[error("the {format} document has {count} entries at `{path}`; at most {limit} are accepted")]
    TooMany {
        /// The format.
        format: &'static str,
        /// JSON path of the list.
        path: String,
        /// How many entries it has.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// Writing an archive failed.
    #[error("writing the archive failed: {0}")]
    Archive(String),
}

impl FormatError {
    /// The JSON path of the problem, when the error has one.
    pub fn path(&self) -> Option<&str> {
        match self {
            FormatError::Syntax { path, .. }
            | FormatError::Invalid { path, .. }
            | FormatError::TooMany { path, .. } => Some(path),
            FormatError::TooLarge { .. } | FormatError::Archive(_) => None,
        }
    }

    /// A rule violation at `path`.
    pub(crate) fn invalid(
        format: &'static str,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> FormatError {
        FormatError::Invalid {
            format,
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Parses `bytes` as a `T`, refusing documents over `limit` bytes; a parse error carries the JSON
/// path of the first problem. Nesting is bounded by `serde_json`'s recursion limit (128).
pub(crate) fn parse_json<T: DeserializeOwned>(
    format: &'static str,
    bytes: &[u8],
    limit: usize,
) -> Result<T, FormatError> {
    if bytes.len() > limit {
        return Err(FormatError::TooLarge {
            format,
            size: bytes.len(),
            limit,
        });
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| FormatError::Syntax {
        format,
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })?;
    de.end().map_err(|e| FormatError::Syntax {
        format,
        path: ".".into(),
        message: e.to_string(),
    })?;
    Ok(value)
}

/// Refuses a list longer than `limit`.
pub(crate) fn check_count<T>(
    format: &'static str,
    path: impl FnOnce() -> String,
    items: &[T],
    limit: usize,
) -> Result<(), FormatError> {
    if items.len() > limit {
        return Err(FormatError::TooMany {
            format,
            path: path(),
            count: items.len(),
            limit,
        });
    }
    Ok(())
}

/// Deserializes `null` as the type's default, for arrays the OSV schema lets be `null`.
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + serde::Deserialize<'de>,
{
    use serde::Deserialize;
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Outer {
        items: Vec<Inner>,
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        n: u32,
    }

    #[test]
    fn syntax_errors_name_the_path() {
        let err =
            parse_json::<Outer>("test", br#"{"items":[{"n":1},{"n":"x"}]}"#, 1000).unwrap_err();
        assert_eq!(err.path(), Some("items[1].n"));
        assert!(err.to_string().contains("items[1].n"), "{err}");
    }

    #[test]
    fn oversized_and_trailing_input_is_refused() {
        let err = parse_json::<Outer>("test", br#"{"items":[]}"#, 5).unwrap_err();
        assert!(matches!(err, FormatError::TooLarge { size: 12, .. }));
        let err = parse_json::<Outer>("test", br#"{"items":[]} x"#, 100).unwrap_err();
        assert!(matches!(err, FormatError::Syntax { .. }));
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowing() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let err = parse_json::<serde_json::Value>("test", deep.as_bytes(), 1 << 20).unwrap_err();
        assert!(err.to_string().contains("recursion limit"), "{err}");
    }
}
