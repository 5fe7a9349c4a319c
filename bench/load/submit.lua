-- wrk: submit a report (POST /api/v1/reports?submit=true) with the token in $TOKEN.
wrk.method = "POST"
wrk.path = "/api/v1/reports?submit=true"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.body = [[{"kind": "upstream_component",
 "title": "Remote code execution through JNDI lookups in log4j-core",
 "technical_characteristics": "Lookups in logged messages fetch remote classes over LDAP.",
 "harm": "Unauthenticated remote code execution.",
 "scope_of_impact": "Every Java application logging attacker-controlled text.",
 "affected_products": [{"vendor": "Apache Software Foundation", "name": "Apache Log4j", "model": "log4j-core", "versions": ["2.0-beta9 to 2.14.1"]}],
 "affected_packages": [{"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core",
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.13.0"}, {"fixed": "2.15.0"}]}]}],
 "cvss_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", "cwes": ["CWE-917"], "exploitation": "poc",
 "aware_at": "2021-11-24T02:00:00Z", "tlp": "AMBER", "aliases": ["CVE-2021-44228"]}]]
