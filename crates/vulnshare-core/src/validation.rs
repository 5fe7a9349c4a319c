//! Validation errors that name the offending field, so that every layer can tell the user
//! exactly which part of their input to fix.

use serde::Serialize;

/// One rejected field: a JSON-pointer-like path and a sentence saying what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Where the problem is, e.g. `affected_packages[0].ranges[1].events`.
    pub field: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// One or more field errors found while validating raw input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid input: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
pub struct Invalid(pub Vec<FieldError>);

impl Invalid {
    /// A single field error.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Invalid(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }
}

/// Collects field errors while a raw value is checked, then turns into a result.
#[derive(Debug, Default)]
pub struct Collector {
    errors: Vec<FieldError>,
}

impl Collector {
    /// Records an error for `field`.
    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Records every error of a nested validation, prefixing fields with `prefix`.
    pub fn extend_prefixed(&mut self, prefix: &str, invalid: Invalid) {
        for e in invalid.0 {
            let field = if e.field.is_empty() {
                prefix.to_owned()
            } else if e.field.starts_with('[') {
                format!("{prefix}{}", e.field)
            } else {
                format!("{prefix}.{}", e.field)
            };
            self.errors.push(FieldError {
                field,
                message: e.message,
            });
        }
    }

    /// Checks a required, bounded text field; returns the trimmed text when valid.
    pub fn text(&mut self, field: &str, value: &str, max_chars: usize) -> String {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            self.push(field, "must not be empty");
        } else if trimmed.chars().count() > max_chars {
            self.push(field, format!("must be at most {max_chars} characters"));
        } else if trimmed
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            self.push(field, "must not contain control characters");
        }
        trimmed.to_owned()
    }

    /// Checks an optional bounded text field; empty strings become `None`.
    pub fn optional_text(
        &mut self,
        field: &str,
        value: Option<&str>,
        max_chars: usize,
    ) -> Option<String> {
        match value.map(str::trim) {
            None | Some("") => None,
            Some(v) => Some(self.text(field, v, max_chars)),
        }
    }

    /// Checks that a list has at most `max` items.
    pub fn max_items<T>(&mut self, field: &str, items: &[T], max: usize) -> bool {
        if items.len() > max {
            self.push(field, format!("must have at most {max} items"));
            false
        } else {
            true
        }
    }

    /// Whether nothing has been rejected so far.
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// `Ok(value)` when no error was recorded.
    pub fn finish<T>(self, value: T) -> Result<T, Invalid> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(Invalid(self.errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rejects_empty_long_and_control_characters() {
        let mut c = Collector::default();
        c.text("a", "  ", 10);
        c.text("b", "x".repeat(11).as_str(), 10);
        c.text("c", "bell\u{7}", 10);
        assert_eq!(c.text("d", " ok ", 10), "ok");
        let err = c.finish(()).unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["a", "b", "c"]);
    }

    #[test]
    fn prefixes_nested_fields() {
        let mut c = Collector::default();
        c.extend_prefixed("packages[0]", Invalid::field("purl", "bad"));
        c.extend_prefixed("packages", Invalid::field("[1]", "bad"));
        let err = c.finish(()).unwrap_err();
        assert_eq!(err.0[0].field, "packages[0].purl");
        assert_eq!(err.0[1].field, "packages[1]");
    }
}
