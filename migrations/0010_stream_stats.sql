-- Per stream, the newest Modified Time in the mirror, kept by each page's upsert in the
-- page's own transaction (src/loader/mirror.rs), so that the daemon's lag gauge reads one
-- small row per stream instead of scanning the mirror tables at every scrape. It only
-- moves forward: a record deleted at the source does not make the mirror look older.
CREATE TABLE stream_stats (
    portal          text        NOT NULL,
    department      text        NOT NULL,
    module          text        NOT NULL,
    newest_modified timestamptz NOT NULL,
    PRIMARY KEY (portal, department, module)
);

-- What the mirror already holds, once.
INSERT INTO stream_stats (portal, department, module, newest_modified)
SELECT portal, department, module, max(modified_time)
FROM (
    SELECT portal, department, 'requests' AS module, modified_time FROM requests
    UNION ALL SELECT portal, department, 'solutions', modified_time FROM solutions
    UNION ALL SELECT portal, department, 'accounts', modified_time FROM accounts
    UNION ALL SELECT portal, department, 'contacts', modified_time FROM contacts
    UNION ALL SELECT portal, department, 'contracts', modified_time FROM contracts
    UNION ALL SELECT portal, department, 'products', modified_time FROM products
    UNION ALL SELECT portal, department, 'tasks', modified_time FROM tasks
    UNION ALL SELECT portal, department, 'timeentry', modified_time FROM timeentry
) AS mirrored
WHERE modified_time IS NOT NULL
GROUP BY portal, department, module;
