//! Benchmark of exposure matching: N components against M advisories (defaults: 100,000 and
//! 10,000, the platform's target of under 2 s on a 2-core machine). Run through
//! `bench/exposure/run.sh`, which builds it in release mode.

use std::time::Instant;

use vulnshare_core::exposure::{AdvisoryIndex, ComponentRef};
use vulnshare_core::package::{AffectedPackage, Ecosystem, RangeEvent, RangeType, VersionRange};

/// A small deterministic generator so every run matches the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn version(rng: &mut Rng, eco: Ecosystem) -> String {
    let (a, b, c) = (rng.below(5), rng.below(20), rng.below(10));
    match (eco, rng.below(6)) {
        (Ecosystem::Maven, 0) => format!("{a}.{b}-beta{c}"),
        (Ecosystem::Maven, 1) => format!("{a}.{b}.{c}.Final"),
        (Ecosystem::PyPI, 0) => format!("{a}.{b}rc{c}"),
        (Ecosystem::Npm, 0) => format!("{a}.{b}.{c}-alpha.1"),
        _ => format!("{a}.{b}.{c}"),
    }
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let components = args.first().copied().unwrap_or(100_000);
    let advisories = args.get(1).copied().unwrap_or(10_000);
    let packages = 20_000u64;
    let ecosystems = [Ecosystem::Maven, Ecosystem::Npm, Ecosystem::PyPI];
    let mut rng = Rng(0x5EED_2021_1124);
    let name = |eco: Ecosystem, i: u64| match eco {
        Ecosystem::Maven => format!("org.example{}:artifact-{i}", i % 97),
        _ => format!("package-{i}"),
    };

    let advisory_data: Vec<(String, Vec<AffectedPackage>)> = (0..advisories)
        .map(|i| {
            let eco = ecosystems[i % ecosystems.len()];
            let n = rng.below(packages / 4);
            let mut events = Vec::new();
            for _ in 0..1 + rng.below(3) {
                events.push(RangeEvent::Introduced(version(&mut rng, eco)));
                events.push(RangeEvent::Fixed(version(&mut rng, eco)));
            }
            let pkg = AffectedPackage {
                ecosystem: eco,
                name: name(eco, n),
                purl: None,
                ranges: vec![VersionRange {
                    range_type: RangeType::Ecosystem,
                    repo: None,
                    events,
                }],
                versions: vec![],
            };
            (format!("ADV-{i:05}"), vec![pkg])
        })
        .collect();
    let component_data: Vec<(Ecosystem, String, String)> = (0..components)
        .map(|i| {
            let eco = ecosystems[i % ecosystems.len()];
            let n = rng.below(packages);
            (eco, name(eco, n), version(&mut rng, eco))
        })
        .collect();

    let start = Instant::now();
    let (index, skipped) = AdvisoryIndex::build(
        advisory_data
            .iter()
            .map(|(id, p)| (id.as_str(), p.as_slice())),
    );
    let built = start.elapsed();
    let refs: Vec<ComponentRef<'_>> = component_data
        .iter()
        .map(|(e, n, v)| ComponentRef {
            ecosystem: *e,
            name: n,
            version: v,
        })
        .collect();
    let start = Instant::now();
    let exposures = index.match_components(&refs);
    let matched = start.elapsed();
    println!(
        "{components} components x {advisories} advisories: index built in {:.1} ms ({} skipped), matched in {:.1} ms, {} exposures, total {:.1} ms",
        built.as_secs_f64() * 1e3,
        skipped.len(),
        matched.as_secs_f64() * 1e3,
        exposures.len(),
        (built + matched).as_secs_f64() * 1e3
    );
}
