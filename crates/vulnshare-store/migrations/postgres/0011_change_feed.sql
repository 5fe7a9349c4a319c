-- The change feed (src/changes.rs): every committed change that nodes keep in memory is
-- announced on the schema's channel, whichever code path or tool made it. PostgreSQL delivers
-- notifications at commit, once per distinct payload per transaction, and never for a
-- transaction that rolled back.

CREATE FUNCTION vulnshare_announce_credentials() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('vulnshare_changes_' || TG_TABLE_SCHEMA, 'auth');
    RETURN NULL;
END
$$;

CREATE FUNCTION vulnshare_announce_catalog() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('vulnshare_changes_' || TG_TABLE_SCHEMA, 'catalog ' || NEW.generation);
    RETURN NULL;
END
$$;

-- A token check reads the token, its user and the user's organization.
CREATE TRIGGER api_tokens_announce AFTER UPDATE OR DELETE OR TRUNCATE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION vulnshare_announce_credentials();
CREATE TRIGGER users_announce AFTER UPDATE OR DELETE OR TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION vulnshare_announce_credentials();
CREATE TRIGGER organizations_announce AFTER UPDATE OR DELETE OR TRUNCATE ON organizations
    FOR EACH STATEMENT EXECUTE FUNCTION vulnshare_announce_credentials();

CREATE TRIGGER advisory_catalog_announce AFTER INSERT OR UPDATE ON advisory_catalog
    FOR EACH ROW EXECUTE FUNCTION vulnshare_announce_catalog();
