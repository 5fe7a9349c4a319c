//! The CSAF product tree of a report: vendor → product name → version (range) branches, each
//! leaf a product with a `CSAFPID-NNNN` id and, for packages, a purl.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::{Value, json};
use vulnshare_core::package::{AffectedPackage, Ecosystem, RangeEvent};
use vulnshare_core::report::{AffectedProduct, Report};
use vulnshare_core::version::{ParsedVersion, Scheme};

use crate::osv::convert::package_purl;

/// A set of affected products that one remediation covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AffectedGroup {
    /// The affected products' ids.
    pub product_ids: Vec<String>,
    /// What to do, e.g. `Upgrade org.apache.logging.log4j:log4j-core to 2.15.0 or later.`
    pub fix: Option<String>,
}

/// The product tree with the product ids sorted by status.
#[derive(Debug, Clone, PartialEq)]
pub struct Products {
    /// The `product_tree` object.
    pub tree: Value,
    /// Ids of affected products.
    pub known_affected: Vec<String>,
    /// Ids of fixed versions.
    pub fixed: Vec<String>,
    /// The affected products grouped by the fix that applies to them.
    pub groups: Vec<AffectedGroup>,
}

struct Builder {
    next_id: u32,
    vendors: BTreeMap<String, Vec<Value>>,
    products: Products,
}

impl Builder {
    fn product(&mut self, name: String, purl: Option<String>) -> (String, Value) {
        self.next_id += 1;
        let id = format!("CSAFPID-{:04}", self.next_id);
        let mut product = json!({ "name": name, "product_id": id });
        if let Some(purl) = purl {
            product["product_identification_helper"] = json!({ "purl": purl });
        }
        (id, product)
    }
}

/// Builds the product tree of `report`.
pub fn build(report: &Report) -> Products {
    let mut b = Builder {
        next_id: 0,
        vendors: BTreeMap::new(),
        products: Products {
            tree: Value::Null,
            known_affected: Vec::new(),
            fixed: Vec::new(),
            groups: Vec::new(),
        },
    };
    for package in &report.content.affected_packages {
        add_package(&mut b, package);
    }
    for product in &report.content.affected_products {
        add_named_product(&mut b, product);
    }
    let branches: Vec<Value> = std::mem::take(&mut b.vendors)
        .into_iter()
        .map(|(vendor, branches)| {
            json!({ "category": "vendor", "name": vendor, "branches": branches })
        })
        .collect();
    b.products.tree = json!({ "branches": branches });
    b.products
}

/// The vendor branch of a package: the Maven group, the npm scope or Go host path, else the
/// ecosystem's name.
fn vendor_of(p: &AffectedPackage) -> String {
    let from_name = match p.ecosystem {
        Ecosystem::Maven => p.name.split_once(':').map(|(g, _)| g),
        Ecosystem::Npm | Ecosystem::Go => p.name.rsplit_once('/').map(|(ns, _)| ns),
        _ => None,
    };
    from_name.map_or_else(
        || format!("{} packages", p.ecosystem.as_str()),
        str::to_owned,
    )
}

/// One affected interval of a range: lower bound (None = from the beginning), upper bound and
/// whether the upper bound is the first fixed version (else the last affected one).
struct Interval {
    introduced: Option<String>,
    upper: Option<(String, bool)>,
}

fn intervals(p: &AffectedPackage) -> Vec<Interval> {
    let mut out = Vec::new();
    for range in &p.ranges {
        // GIT ranges name commits, which are no product versions.
        let Some(scheme) = Scheme::of_range(range.range_type, p.ecosystem) else {
            continue;
        };
        let parse = |v: &str| ParsedVersion::parse(scheme, v).ok();
        let mut events: Vec<(Option<ParsedVersion>, &RangeEvent)> = range
            .events
            .iter()
            .filter(|e| !matches!(e, RangeEvent::Limit(_)))
            .map(|e| (parse(e.version()), e))
            .collect();
        // Order as OSV evaluates: by version, "0" first, equal versions in document order.
        events.sort_by(|(a, ea), (b, eb)| {
            let zero = |e: &RangeEvent| matches!(e, RangeEvent::Introduced(v) if v == "0");
            match (zero(ea), zero(eb)) {
                (true, false) => Ordering::Less,
                (false, true) => Ordering::Greater,
                _ => match (a, b) {
                    (Some(a), Some(b)) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
                    _ => Ordering::Equal,
                },
            }
        });
        let mut open: Option<Option<String>> = None;
        for (_, event) in events {
            match event {
                RangeEvent::Introduced(v) if open.is_none() => {
                    open = Some((v != "0").then(|| v.clone()));
                }
                RangeEvent::Fixed(v) | RangeEvent::LastAffected(v) => {
                    if let Some(introduced) = open.take() {
                        let fixed = matches!(event, RangeEvent::Fixed(_));
                        out.push(Interval {
                            introduced,
                            upper: Some((v.clone(), fixed)),
                        });
                    }
                }
                _ => {}
            }
        }
        if let Some(introduced) = open {
            out.push(Interval {
                introduced,
                upper: None,
            });
        }
    }
    out
}

/// A `vers:` range (https://github.com/package-url/purl-spec, VERSION-RANGE-SPEC).
fn vers(p: &AffectedPackage, interval: &Interval) -> String {
    let mut constraints = Vec::new();
    if let Some(lower) = &interval.introduced {
        constraints.push(format!(">={lower}"));
    }
    match &interval.upper {
        Some((v, true)) => constraints.push(format!("<{v}")),
        Some((v, false)) => constraints.push(format!("<={v}")),
        None => {}
    }
    let body = if constraints.is_empty() {
        "*".to_owned()
    } else {
        constraints.join("|")
    };
    format!("vers:{}/{body}", p.ecosystem.purl_type())
}

fn versioned_purl(base: Option<&str>, version: &str) -> Option<String> {
    use std::str::FromStr;
    let mut purl = packageurl::PackageUrl::from_str(base?).ok()?;
    purl.with_version(version.to_owned()).ok()?;
    Some(purl.to_string())
}

fn add_package(b: &mut Builder, p: &AffectedPackage) {
    let purl = p
        .purl
        .clone()
        .or_else(|| package_purl(p.ecosystem, &p.name));
    let mut leaves = Vec::new();
    let mut fixed_versions: Vec<String> = Vec::new();
    let mut explicit_ids = Vec::new();
    for interval in intervals(p) {
        let range = vers(p, &interval);
        let (id, product) = b.product(format!("{} {range}", p.name), purl.clone());
        leaves.push(json!({
            "category": "product_version_range", "name": range, "product": product
        }));
        b.products.known_affected.push(id.clone());
        let fix = match &interval.upper {
            Some((v, true)) => {
                if !fixed_versions.contains(v) {
                    fixed_versions.push(v.clone());
                }
                Some(format!("Upgrade {} to {v} or later.", p.name))
            }
            _ => None,
        };
        b.products.groups.push(AffectedGroup {
            product_ids: vec![id],
            fix,
        });
    }
    for version in &p.versions {
        let (id, product) = b.product(
            format!("{} {version}", p.name),
            versioned_purl(purl.as_deref(), version),
        );
        leaves.push(json!({ "category": "product_version", "name": version, "product": product }));
        b.products.known_affected.push(id.clone());
        explicit_ids.push(id);
    }
    if !explicit_ids.is_empty() {
        let fix = (!fixed_versions.is_empty()).then(|| {
            format!(
                "Upgrade {} to a version outside the affected ranges; fixed versions: {}.",
                p.name,
                fixed_versions.join(", ")
            )
        });
        b.products.groups.push(AffectedGroup {
            product_ids: explicit_ids,
            fix,
        });
    }
    for version in &fixed_versions {
        if p.versions.contains(version) {
            continue;
        }
        let (id, product) = b.product(
            format!("{} {version}", p.name),
            versioned_purl(purl.as_deref(), version),
        );
        leaves.push(json!({ "category": "product_version", "name": version, "product": product }));
        b.products.fixed.push(id);
    }
    b.vendors.entry(vendor_of(p)).or_default().push(json!({
        "category": "product_name", "name": p.name, "branches": leaves
    }));
}

/// Whether a vendor's version text names one version (else it is written as a range, which
/// mandatory test 6.1.31 forbids in `product_version`).
fn is_single_version(v: &str) -> bool {
    !v.is_empty() && !v.contains(|c: char| c.is_whitespace() || "<>=*,|^~".contains(c))
}

fn add_named_product(b: &mut Builder, product: &AffectedProduct) {
    let vendor = product
        .vendor
        .clone()
        .unwrap_or_else(|| "Unnamed vendor".to_owned());
    let name = match &product.model {
        Some(model) => format!("{} {model}", product.name),
        None => product.name.clone(),
    };
    let mut ids = Vec::new();
    let branch = if product.versions.is_empty() {
        let (id, leaf) = b.product(name.clone(), None);
        ids.push(id);
        json!({ "category": "product_name", "name": name, "product": leaf })
    } else {
        let mut leaves = Vec::new();
        for version in &product.versions {
            let category = if is_single_version(version) {
                "product_version"
            } else {
                "product_version_range"
            };
            let (id, leaf) = b.product(format!("{name} {version}"), None);
            ids.push(id);
            leaves.push(json!({ "category": category, "name": version, "product": leaf }));
        }
        json!({ "category": "product_name", "name": name, "branches": leaves })
    };
    b.products.known_affected.extend(ids.iter().cloned());
    b.products.groups.push(AffectedGroup {
        product_ids: ids,
        fix: None,
    });
    b.vendors.entry(vendor).or_default().push(branch);
}
