//! Products: what a provider makes (or an operator runs), by name, model and versions.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::validation::{Collector, Invalid};

/// A registered product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    /// Stable identifier.
    pub id: String,
    /// The owning organization.
    pub organization_id: String,
    /// Product name.
    pub name: String,
    /// Model, where products have models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Versions in service or on sale.
    pub versions: Vec<String>,
    /// When it was registered.
    pub created_at: Timestamp,
}

/// Input to register or replace a product.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    /// Product name.
    pub name: String,
    /// Model.
    #[serde(default)]
    pub model: Option<String>,
    /// Versions.
    #[serde(default)]
    pub versions: Vec<String>,
}

/// Most versions one product may list.
pub const MAX_PRODUCT_VERSIONS: usize = 500;

impl NewProduct {
    /// Validates and normalises; versions are trimmed and de-duplicated, order kept.
    pub fn validate(self) -> Result<NewProduct, Invalid> {
        let mut c = Collector::default();
        let name = c.text("name", &self.name, 300);
        let model = c.optional_text("model", self.model.as_deref(), 300);
        c.max_items("versions", &self.versions, MAX_PRODUCT_VERSIONS);
        let mut versions: Vec<String> = Vec::new();
        for (i, v) in self.versions.iter().enumerate().take(MAX_PRODUCT_VERSIONS) {
            let v = c.text(&format!("versions[{i}]"), v, 100);
            if !versions.contains(&v) {
                versions.push(v);
            }
        }
        c.finish(NewProduct {
            name,
            model,
            versions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deduplicates_versions_and_names_bad_ones() {
        let p = NewProduct {
            name: "Cloud Gateway".into(),
            model: Some(" ".into()),
            versions: vec!["1.0".into(), " 1.0 ".into(), "2.0".into()],
        }
        .validate()
        .unwrap();
        assert_eq!(p.versions, ["1.0", "2.0"]);
        assert_eq!(p.model, None);
        let err = NewProduct {
            name: "x".into(),
            model: None,
            versions: vec!["".into()],
        }
        .validate()
        .unwrap_err();
        assert_eq!(err.0[0].field, "versions[0]");
    }
}
