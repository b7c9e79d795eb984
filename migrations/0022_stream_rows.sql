-- Per stream, how many rows of the mirror are live (not marked deleted), kept by every
-- statement that changes which rows are live, in that statement (src/loader/stream_stats.rs),
-- so that the status page and `status` show an exact count per stream without counting a
-- mirror table. A stream whose rows have no Modified Time has a count but no newest time.
ALTER TABLE stream_stats ALTER COLUMN newest_modified DROP NOT NULL;
ALTER TABLE stream_stats ADD COLUMN live_rows bigint NOT NULL DEFAULT 0;

-- What the legacy mirror already holds, once (and the newest Modified Time of a stream
-- the pages' upserts never recorded). The Desk tables live in a schema whose name is the
-- user's (migrations run in the main schema only): code counts each of them once, under
-- the change log's append lock, and records it in `desk_rows_counted`.
INSERT INTO stream_stats AS s (portal, department, module, newest_modified, live_rows)
SELECT portal, department, module, max(modified_time), count(*) FILTER (WHERE live)
FROM (
    SELECT portal, department, 'requests' AS module, modified_time, _deleted_at IS NULL AS live
    FROM requests
    UNION ALL SELECT portal, department, 'solutions', modified_time, _deleted_at IS NULL
    FROM solutions
    UNION ALL SELECT portal, department, 'accounts', modified_time, _deleted_at IS NULL
    FROM accounts
    UNION ALL SELECT portal, department, 'contacts', modified_time, _deleted_at IS NULL
    FROM contacts
    UNION ALL SELECT portal, department, 'contracts', modified_time, _deleted_at IS NULL
    FROM contracts
    UNION ALL SELECT portal, department, 'products', modified_time, _deleted_at IS NULL
    FROM products
    UNION ALL SELECT portal, department, 'tasks', modified_time, _deleted_at IS NULL
    FROM tasks
    UNION ALL SELECT portal, department, 'timeentry', modified_time, _deleted_at IS NULL
    FROM timeentry
) AS mirrored
GROUP BY portal, department, module
ON CONFLICT (portal, department, module) DO UPDATE SET
    live_rows = EXCLUDED.live_rows,
    newest_modified = GREATEST(s.newest_modified, EXCLUDED.newest_modified);

-- The Desk tables (schema, module) whose live rows are counted in `stream_stats`.
CREATE TABLE desk_rows_counted (
    desk_schema text        NOT NULL,
    module      text        NOT NULL,
    counted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (desk_schema, module)
);
