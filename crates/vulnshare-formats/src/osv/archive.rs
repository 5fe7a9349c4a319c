//! The offline export osv.dev offers: one `all.zip` per ecosystem holding one `<ID>.json` per
//! record, which scanners download and match locally.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Seek, Write};

use vulnshare_core::package::Ecosystem;
use zip::write::SimpleFileOptions;

use super::OsvRecord;
use crate::error::FormatError;

/// Groups records by the vulnshare ecosystems their `affected` entries name; a record affecting
/// packages of two ecosystems appears in both groups. Other ecosystems are left out.
pub fn records_by_ecosystem<'a>(
    records: impl IntoIterator<Item = &'a OsvRecord>,
) -> BTreeMap<&'static str, Vec<&'a OsvRecord>> {
    let mut groups: BTreeMap<&'static str, Vec<&'a OsvRecord>> = BTreeMap::new();
    for record in records {
        let ecosystems: BTreeSet<&'static str> = record
            .affected
            .iter()
            .filter_map(|a| a.package.as_ref())
            .filter_map(|p| Ecosystem::parse(&p.ecosystem))
            .map(Ecosystem::as_str)
            .collect();
        for e in ecosystems {
            groups.entry(e).or_default().push(record);
        }
    }
    groups
}

/// Writes `records` as an `all.zip` (deflated `<ID>.json` entries, pretty JSON) to `writer`
/// and returns the writer. Ids that cannot be file names and duplicate ids are refused.
pub fn write_ecosystem_zip<'a, W: Write + Seek>(
    records: impl IntoIterator<Item = &'a OsvRecord>,
    writer: W,
) -> Result<W, FormatError> {
    let zip_error = |e: zip::result::ZipError| FormatError::Archive(e.to_string());
    let mut zip = zip::ZipWriter::new(writer);
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        // A fixed time keeps archives byte-identical for identical records.
        .last_modified_time(zip::DateTime::default());
    let mut seen = BTreeSet::new();
    for record in records {
        let id = record.id.as_str();
        let safe = !id.is_empty()
            && !id.starts_with('.')
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
        if !safe {
            return Err(FormatError::Archive(format!(
                "record id {id:?} cannot be a file name: use letters, digits, '-', '_', '.', ':'"
            )));
        }
        if !seen.insert(id) {
            return Err(FormatError::Archive(format!(
                "record id {id:?} appears twice: export each record once"
            )));
        }
        zip.start_file(format!("{id}.json"), options)
            .map_err(zip_error)?;
        zip.write_all(record.to_json_pretty().as_bytes())
            .map_err(|e| FormatError::Archive(e.to_string()))?;
    }
    zip.finish().map_err(zip_error)
}
