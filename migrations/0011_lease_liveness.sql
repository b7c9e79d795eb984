-- Who holds a lease, and whether it is alive. Each process holds a session-level advisory
-- lock keyed by `holder_key` for as long as it lives (on one connection of its own);
-- PostgreSQL drops the lock when the session ends, so a lease whose holder's lock is not
-- held belongs to a dead process and is free at once, whatever its `expires_at`. `host`
-- and `pid` say which process holds a stream, for the message of a process that finds it
-- taken. Rows written before this migration have no key: they are free once expired.
ALTER TABLE stream_leases
    ADD COLUMN host       text,
    ADD COLUMN pid        integer,
    ADD COLUMN holder_key bigint;

-- Whether some session of this database holds the advisory lock `key` (the one-bigint
-- form, which pg_locks shows as classid = high 32 bits, objid = low 32 bits, objsubid 1).
CREATE FUNCTION zoho_sync_holder_alive(key bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT 1 FROM pg_catalog.pg_locks l
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
          AND l.database = (SELECT oid FROM pg_catalog.pg_database
                            WHERE datname = pg_catalog.current_database())
          AND l.classid = ((key >> 32) & 4294967295)::oid
          AND l.objid = (key & 4294967295)::oid
    )
$$;
