-- wrk: an osv.dev-style query (POST /osv/v1/query) for log4j-core 2.14.1, with the token in
-- $TOKEN when it is set (then TLP:AMBER advisories the caller may read are included).
wrk.method = "POST"
wrk.path = "/osv/v1/query"
wrk.headers["Content-Type"] = "application/json"
local token = os.getenv("TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
wrk.body = [[{"package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"}, "version": "2.14.1"}]]
