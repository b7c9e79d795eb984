-- The warehouse feed: every insert, update and delete the loader applies, in commit
-- order (appends take a transaction-scoped advisory lock, so sequence numbers become
-- visible in increasing order and a consumer reading "seq > last seen" never misses one),
-- and the deletion mark on mirror rows.

CREATE TABLE change_log (
    seq           bigserial   PRIMARY KEY,
    portal        text        NOT NULL,
    department    text        NOT NULL,
    module        text        NOT NULL,
    record_id     bigint      NOT NULL,
    op            text        NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
    modified_time timestamptz,
    synced_at     timestamptz NOT NULL,
    run_id        bigint REFERENCES runs (id) ON DELETE SET NULL
);

CREATE INDEX change_log_by_module ON change_log (module, seq);

ALTER TABLE requests ADD COLUMN _deleted_at timestamptz;
ALTER TABLE solutions ADD COLUMN _deleted_at timestamptz;
ALTER TABLE accounts ADD COLUMN _deleted_at timestamptz;
ALTER TABLE contacts ADD COLUMN _deleted_at timestamptz;
ALTER TABLE contracts ADD COLUMN _deleted_at timestamptz;
ALTER TABLE products ADD COLUMN _deleted_at timestamptz;
ALTER TABLE tasks ADD COLUMN _deleted_at timestamptz;
ALTER TABLE timeentry ADD COLUMN _deleted_at timestamptz;
