//! The generated corpus: log4j jars of several versions built from the fingerprint table's
//! markers, wrapped, nested, shaded, renamed, stripped and broken, each with its ground truth.

use super::{ZipBuilder, ZipOptions, bzip2, class_bytes, gzip, tar_bytes, xz, zstd};
use crate::scan::limits::WarningKind;

/// How to build a log4j-core jar.
#[derive(Debug, Clone)]
pub struct JarOptions {
    /// Package prefix replacing `org/apache/logging/` (relocation by a shading plugin).
    pub prefix: String,
    /// Delete `core/lookup/JndiLookup` (the classic manual mitigation).
    pub remove_jndi_lookup: bool,
    /// Extension of class entries (`.class`, or `.esclazz` as some agents store them).
    pub class_extension: String,
    /// The version written into pom.properties; `None` writes none.
    pub pom_version: Option<String>,
    /// Archive layout.
    pub zip: ZipOptions,
}

impl Default for JarOptions {
    fn default() -> Self {
        JarOptions {
            prefix: "org/apache/logging/".into(),
            remove_jndi_lookup: false,
            class_extension: ".class".into(),
            pom_version: None,
            zip: ZipOptions::default(),
        }
    }
}

/// The fingerprinted classes of log4j-core `version` as (tail after the prefix, strings, major).
///
/// Supported: 2.12.1, 2.12.2, 2.14.1, 2.15.0, 2.16.0, 2.17.0, 2.17.1 (see `fingerprint`).
pub fn log4j_core_classes(version: &str) -> Vec<(&'static str, Vec<&'static str>, u16)> {
    let major = if version.starts_with("2.12.") { 51 } else { 52 };
    let step = match version {
        "2.12.1" | "2.14.1" => 1,
        "2.15.0" => 2,
        "2.12.2" | "2.16.0" => 3,
        "2.17.0" => 4,
        _ => 5,
    };
    let mut manager = vec!["JndiManager [context="];
    if step >= 2 {
        manager.extend(["Invalid JNDI URI - {}", "allowedLdapHosts"]);
    }
    if step >= 3 {
        manager.push("log4j2.enableJndi");
    }
    if step >= 4 {
        manager.retain(|s| *s != "allowedLdapHosts");
        manager.extend(["isJndiLookupEnabled", "Unsupported JNDI URI - {}"]);
    }
    if step >= 5 {
        manager.push("isJndiJdbcEnabled");
    }
    let mut lookup = vec!["java:comp/env/", "Error looking up JNDI resource [{}]."];
    if step >= 4 {
        lookup.push("isJndiLookupEnabled");
    }
    let message = match step {
        1 => vec!["FORMAT_MESSAGES_PATTERN_DISABLE_LOOKUPS", "nolookups"],
        2 => vec!["nolookups", "lookups"],
        _ => vec!["The {} option will be ignored. Message Lookups are no longer supported."],
    };
    let data_source = if step >= 5 {
        vec!["JNDI must be enabled by setting log4j2.enableJndiJdbc=true"]
    } else {
        vec!["No JNDI name provided."]
    };
    let mut classes = vec![
        ("log4j/core/LoggerContext", vec!["LoggerContext"], major),
        ("log4j/core/lookup/Interpolator", vec!["jndi"], major),
        ("log4j/core/lookup/JndiLookup", lookup, major),
        ("log4j/core/net/JndiManager", manager, major),
        ("log4j/core/pattern/MessagePatternConverter", message, major),
        (
            "log4j/core/appender/db/jdbc/DataSourceConnectionSource",
            data_source,
            major,
        ),
    ];
    if step <= 3 {
        classes.push(("log4j/core/util/SetUtils", vec![], major));
    }
    if step >= 4 {
        classes.push(("log4j/core/lookup/RuntimeStrSubstitutor", vec![], major));
    }
    classes
}

/// A log4j-core jar of `version` built per `options`, with filler classes and a manifest.
pub fn log4j_core_jar(version: &str, options: &JarOptions) -> Vec<u8> {
    let mut zip = ZipBuilder::new(options.zip.clone());
    zip.add(
        "META-INF/MANIFEST.MF",
        b"Manifest-Version: 1.0\r\nCreated-By: testkit\r\n\r\n",
    );
    for (tail, strings, major) in log4j_core_classes(version) {
        if options.remove_jndi_lookup && tail.ends_with("JndiLookup") {
            continue;
        }
        let name = format!("{}{tail}", options.prefix);
        zip.add(
            &format!("{name}{}", options.class_extension),
            &class_bytes(&name, major, &strings),
        );
    }
    for i in 0..24 {
        let name = format!("{}log4j/core/util/Filler{i}", options.prefix);
        zip.add(
            &format!("{name}.class"),
            &class_bytes(&name, 52, &["filler"]),
        );
    }
    if let Some(pom) = &options.pom_version {
        zip.add(
            "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties",
            format!("groupId=org.apache.logging.log4j\nartifactId=log4j-core\nversion={pom}\n")
                .as_bytes(),
        );
    }
    zip.finish()
}

/// Which log4j 1 build to synthesise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Log4j1Build {
    /// Upstream 1.2.17: every vulnerable class, unpatched.
    Upstream,
    /// Debian's 1.2.17-11: JMSAppender and JMSSink removed, the rest hardened.
    DebianPatched,
    /// reload4j 1.2.22, identified by its pom.
    Reload4j,
}

/// A log4j 1.x jar.
pub fn log4j1_jar(build: Log4j1Build) -> Vec<u8> {
    let patched = build != Log4j1Build::Upstream;
    let mut classes: Vec<(&str, Vec<&str>)> = vec![
        (
            "org/apache/log4j/helpers/LogLog",
            vec!["log4j: ", "log4j:WARN ", "log4j:ERROR "],
        ),
        (
            "org/apache/log4j/helpers/OnlyOnceErrorHandler",
            vec!["log4j warning: "],
        ),
        (
            "org/apache/log4j/net/SocketServer",
            vec!["Starting new socket node."],
        ),
    ];
    if patched {
        classes.extend([
            (
                "org/apache/log4j/net/SocketNode",
                vec!["org/apache/log4j/FilteredObjectInputStream"],
            ),
            (
                "org/apache/log4j/jdbc/JDBCAppender",
                vec!["prepareStatement", "preparedStatementParser"],
            ),
            (
                "org/apache/log4j/chainsaw/LoggingReceiver$Slurper",
                vec!["org/apache/log4j/net/HardenedLoggingEventInputStream"],
            ),
            (
                "org/apache/log4j/net/JNDIUtil",
                vec!["JNDI name must start with java: but was "],
            ),
        ]);
    } else {
        classes.extend([
            (
                "org/apache/log4j/net/SocketNode",
                vec!["java/io/ObjectInputStream"],
            ),
            (
                "org/apache/log4j/jdbc/JDBCAppender",
                vec!["createStatement", "executeUpdate"],
            ),
            (
                "org/apache/log4j/chainsaw/LoggingReceiver$Slurper",
                vec!["java/io/ObjectInputStream"],
            ),
            (
                "org/apache/log4j/net/JMSAppender",
                vec!["javax/naming/InitialContext", "lookup"],
            ),
            (
                "org/apache/log4j/net/JMSSink",
                vec!["javax/naming/InitialContext"],
            ),
        ]);
    }
    let mut zip = ZipBuilder::new(ZipOptions::default());
    for (name, strings) in classes {
        zip.add(&format!("{name}.class"), &class_bytes(name, 49, &strings));
    }
    let pom = match build {
        Log4j1Build::Upstream => Some(("log4j", "log4j", "1.2.17")),
        Log4j1Build::DebianPatched => None,
        Log4j1Build::Reload4j => Some(("ch.qos.reload4j", "reload4j", "1.2.22")),
    };
    if let Some((group, artifact, version)) = pom {
        zip.add(
            &format!("META-INF/maven/{group}/{artifact}/pom.properties"),
            format!("groupId={group}\nartifactId={artifact}\nversion={version}\n").as_bytes(),
        );
    }
    if build == Log4j1Build::DebianPatched {
        zip.add(
            "META-INF/MANIFEST.MF",
            b"Manifest-Version: 1.0\nBundle-SymbolicName: org.apache.log4j\nBundle-Version: 1.2.17\n\n",
        );
    }
    zip.finish()
}

/// A jar holding only a pom.properties for `group:artifact:version` (and a filler class).
pub fn pom_only_jar(group: &str, artifact: &str, version: &str) -> Vec<u8> {
    let mut zip = ZipBuilder::new(ZipOptions::default());
    zip.add(
        &format!("META-INF/maven/{group}/{artifact}/pom.properties"),
        format!("groupId={group}\nartifactId={artifact}\nversion={version}\n").as_bytes(),
    );
    zip.add(
        "com/example/Thing.class",
        &class_bytes("com/example/Thing", 52, &[]),
    );
    zip.finish()
}

/// A zip with one stored entry per (name, bytes).
pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = ZipBuilder::new(ZipOptions {
        stored: true,
        ..ZipOptions::default()
    });
    for (name, data) in entries {
        zip.add(name, data);
    }
    zip.finish()
}

/// `inner` wrapped in `levels` jars, each holding the previous as `lib/levelN.jar`.
pub fn nested(inner: Vec<u8>, levels: usize) -> Vec<u8> {
    (0..levels).fold(inner, |acc, level| {
        zip_of(&[(&format!("lib/level{level}.jar"), &acc)])
    })
}

/// What the scanner must find in one fixture.
#[derive(Debug, Clone)]
pub struct Expected {
    /// The component's nested location.
    pub location: String,
    /// `group:artifact`.
    pub coordinates: &'static str,
    /// CVEs that must be vulnerable (all others must not be).
    pub vulnerable: &'static [&'static str],
    /// CVEs that must be mitigated.
    pub mitigated: &'static [&'static str],
    /// Whether the classes are relocated.
    pub relocated: bool,
    /// Whether a conflict must be reported.
    pub conflict: bool,
}

/// One corpus file and its ground truth.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// The file name.
    pub name: String,
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// Components that must be found (and no other log4j ones).
    pub expected: Vec<Expected>,
    /// Warning kinds that must be reported.
    pub warnings: Vec<WarningKind>,
}

const ALL_2X: &[&str] = &[
    "CVE-2021-44228",
    "CVE-2021-45046",
    "CVE-2021-45105",
    "CVE-2021-44832",
];
const ALL_1X: &[&str] = &[
    "CVE-2021-4104",
    "CVE-2019-17571",
    "CVE-2022-23302",
    "CVE-2022-23305",
    "CVE-2022-23307",
];
const CORE: &str = "org.apache.logging.log4j:log4j-core";

fn expect(
    location: &str,
    coordinates: &'static str,
    vulnerable: &'static [&'static str],
) -> Expected {
    Expected {
        location: location.to_owned(),
        coordinates,
        vulnerable,
        mitigated: &[],
        relocated: false,
        conflict: false,
    }
}

fn fixture(
    name: &str,
    bytes: Vec<u8>,
    expected: Vec<Expected>,
    warnings: Vec<WarningKind>,
) -> Fixture {
    Fixture {
        name: name.to_owned(),
        bytes,
        expected,
        warnings,
    }
}

/// The vulnerable CVEs of log4j-core `version`.
pub fn vulnerable_in(version: &str) -> &'static [&'static str] {
    match version {
        "2.12.1" | "2.14.1" => ALL_2X,
        "2.15.0" => &ALL_2X[1..],
        "2.12.2" | "2.16.0" => &ALL_2X[2..],
        "2.17.0" => &ALL_2X[3..],
        _ => &[],
    }
}

/// The whole corpus with its ground truth.
pub fn corpus() -> Vec<Fixture> {
    let with_pom = |v: &str| JarOptions {
        pom_version: Some(v.to_owned()),
        ..JarOptions::default()
    };
    let mut out = Vec::new();
    for version in [
        "2.12.1", "2.12.2", "2.14.1", "2.15.0", "2.16.0", "2.17.0", "2.17.1",
    ] {
        let name = format!("log4j-core-{version}.jar");
        let bytes = log4j_core_jar(version, &with_pom(version));
        out.push(fixture(
            &name,
            bytes,
            vec![expect(&name, CORE, vulnerable_in(version))],
            vec![],
        ));
    }
    let stripped = JarOptions {
        remove_jndi_lookup: true,
        ..JarOptions::default()
    };
    out.push(fixture(
        "stripped.jar",
        log4j_core_jar("2.14.1", &stripped),
        vec![Expected {
            mitigated: &ALL_2X[..2],
            ..expect("stripped.jar", CORE, &ALL_2X[2..])
        }],
        vec![],
    ));
    let shaded = JarOptions {
        prefix: "com/acme/shaded/org/apache/logging/".into(),
        ..JarOptions::default()
    };
    out.push(fixture(
        "fat-shaded.jar",
        log4j_core_jar("2.14.1", &shaded),
        vec![Expected {
            relocated: true,
            ..expect("fat-shaded.jar", CORE, ALL_2X)
        }],
        vec![],
    ));
    let renamed = JarOptions {
        class_extension: ".esclazz".into(),
        ..JarOptions::default()
    };
    out.push(fixture(
        "agent-renamed.jar",
        log4j_core_jar("2.16.0", &renamed),
        vec![expect("agent-renamed.jar", CORE, vulnerable_in("2.16.0"))],
        vec![],
    ));
    // Classes, and a whole jar, under names of text files: found by their first bytes.
    let disguised = JarOptions {
        class_extension: ".txt".into(),
        ..JarOptions::default()
    };
    out.push(fixture(
        "disguised-as-text.jar",
        log4j_core_jar("2.14.1", &disguised),
        vec![expect(
            "disguised-as-text.jar",
            CORE,
            vulnerable_in("2.14.1"),
        )],
        vec![],
    ));
    let mut hidden = ZipBuilder::new(ZipOptions::default());
    hidden.add(
        "docs/notes.txt",
        &log4j_core_jar("2.14.1", &JarOptions::default()),
    );
    out.push(fixture(
        "jar-named-as-text.zip",
        hidden.finish(),
        vec![expect(
            "jar-named-as-text.zip!/docs/notes.txt",
            CORE,
            vulnerable_in("2.14.1"),
        )],
        vec![],
    ));
    out.push(fixture(
        "lying-pom.jar",
        log4j_core_jar("2.14.1", &with_pom("2.17.1")),
        vec![Expected {
            conflict: true,
            ..expect("lying-pom.jar", CORE, ALL_2X)
        }],
        vec![],
    ));
    let mut repackaged = ZipBuilder::new(ZipOptions::default());
    for (tail, strings, major) in log4j_core_classes("2.12.1") {
        let name = format!("org/apache/logging/{tail}");
        repackaged.add(
            &format!("{name}.class"),
            &class_bytes(&name, major, &strings),
        );
    }
    repackaged.add(
        "META-INF/maven/com.acme/app/pom.properties",
        b"groupId=com.acme\nartifactId=app\nversion=1.0\n",
    );
    out.push(fixture(
        "repackaged.jar",
        repackaged.finish(),
        vec![Expected {
            conflict: true,
            ..expect("repackaged.jar", CORE, ALL_2X)
        }],
        vec![],
    ));
    let jar = log4j_core_jar("2.14.1", &with_pom("2.14.1"));
    let war = zip_of(&[
        ("WEB-INF/web.xml", b"<web-app/>"),
        ("WEB-INF/lib/log4j-core-2.14.1.jar", &jar),
    ]);
    let ear = zip_of(&[
        ("META-INF/application.xml", b"<application/>"),
        ("lib/x.war", &war),
    ]);
    out.push(fixture(
        "app.ear",
        ear,
        vec![expect(
            "app.ear!/lib/x.war!/WEB-INF/lib/log4j-core-2.14.1.jar",
            CORE,
            ALL_2X,
        )],
        vec![],
    ));
    let jar16 = log4j_core_jar("2.16.0", &with_pom("2.16.0"));
    let war16 = zip_of(&[("WEB-INF/lib/log4j-core-2.16.0.jar", &jar16)]);
    let tar = tar_bytes(&[("README", b"hello"), ("app.war", &war16)]);
    out.push(fixture(
        "bundle.tar.gz",
        gzip(&tar),
        vec![expect(
            "bundle.tar.gz!/app.war!/WEB-INF/lib/log4j-core-2.16.0.jar",
            CORE,
            vulnerable_in("2.16.0"),
        )],
        vec![],
    ));
    let jar170 = log4j_core_jar("2.17.0", &with_pom("2.17.0"));
    let tar170 = tar_bytes(&[("opt/app/lib/log4j-core-2.17.0.jar", &jar170)]);
    for (ext, bytes) in [
        ("bz2", bzip2(&tar170)),
        ("xz", xz(&tar170)),
        ("zst", zstd(&tar170)),
    ] {
        let name = format!("bundle.tar.{ext}");
        let location = format!("{name}!/opt/app/lib/log4j-core-2.17.0.jar");
        out.push(fixture(
            &name,
            bytes,
            vec![expect(&location, CORE, vulnerable_in("2.17.0"))],
            vec![],
        ));
    }
    let launcher = JarOptions {
        zip: ZipOptions {
            prefix: b"#!/bin/sh\nexec java -jar \"$0\" \"$@\"\nexit 1\n".to_vec(),
            ..ZipOptions::default()
        },
        ..JarOptions::default()
    };
    out.push(fixture(
        "launcher",
        log4j_core_jar("2.14.1", &launcher),
        vec![expect("launcher", CORE, ALL_2X)],
        vec![],
    ));
    let zip64 = JarOptions {
        zip: ZipOptions {
            zip64: true,
            data_descriptor: true,
            ..ZipOptions::default()
        },
        ..with_pom("2.15.0")
    };
    out.push(fixture(
        "zip64-descriptors.jar",
        log4j_core_jar("2.15.0", &zip64),
        vec![expect(
            "zip64-descriptors.jar",
            CORE,
            vulnerable_in("2.15.0"),
        )],
        vec![],
    ));
    out.push(fixture(
        "log4j-1.2.17.jar",
        log4j1_jar(Log4j1Build::Upstream),
        vec![expect("log4j-1.2.17.jar", "log4j:log4j", ALL_1X)],
        vec![],
    ));
    out.push(fixture(
        "log4j-1.2-debian.jar",
        log4j1_jar(Log4j1Build::DebianPatched),
        vec![Expected {
            mitigated: &["CVE-2021-4104", "CVE-2022-23302"],
            ..expect("log4j-1.2-debian.jar", "log4j:log4j", &[])
        }],
        vec![],
    ));
    out.push(fixture(
        "reload4j-1.2.22.jar",
        log4j1_jar(Log4j1Build::Reload4j),
        vec![expect(
            "reload4j-1.2.22.jar",
            "ch.qos.reload4j:reload4j",
            &[],
        )],
        vec![],
    ));
    out.push(fixture(
        "log4j-api-2.14.1.jar",
        pom_only_jar("org.apache.logging.log4j", "log4j-api", "2.14.1"),
        vec![expect(
            "log4j-api-2.14.1.jar",
            "org.apache.logging.log4j:log4j-api",
            &[],
        )],
        vec![],
    ));
    out.extend(hostile());
    out
}

/// Bombs, corrupt entries, deep nesting and garbage.
fn hostile() -> Vec<Fixture> {
    let mut out = Vec::new();
    let mut bomb = ZipBuilder::new(ZipOptions::default());
    bomb.add("inner.jar", &vec![0u8; 24 << 20]);
    bomb.add(
        "lib/log4j-core-2.17.1.jar",
        &log4j_core_jar("2.17.1", &JarOptions::default()),
    );
    out.push(fixture(
        "bomb.zip",
        bomb.finish(),
        vec![expect("bomb.zip!/lib/log4j-core-2.17.1.jar", CORE, &[])],
        vec![WarningKind::CompressionRatio],
    ));
    let mut corrupt = ZipBuilder::new(ZipOptions::default());
    corrupt.add_raw("broken.jar", 8, &[0xff; 64], 4096, 0);
    corrupt.add(
        "JndiManager.classdata",
        &[0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 52, 0, 9, 1],
    );
    corrupt.add(
        "lib/log4j-core-2.14.1.jar",
        &log4j_core_jar("2.14.1", &JarOptions::default()),
    );
    out.push(fixture(
        "corrupt.jar",
        corrupt.finish(),
        vec![expect(
            "corrupt.jar!/lib/log4j-core-2.14.1.jar",
            CORE,
            ALL_2X,
        )],
        vec![WarningKind::Corrupt],
    ));
    let deep = nested(log4j_core_jar("2.14.1", &JarOptions::default()), 20);
    out.push(fixture(
        "deep.jar",
        deep,
        vec![],
        vec![WarningKind::DepthLimit],
    ));
    let mut garbage = b"PK\x03\x04".to_vec();
    garbage.extend((0..4000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8));
    out.push(fixture(
        "garbage.jar",
        garbage,
        vec![],
        vec![WarningKind::Corrupt],
    ));
    out
}
