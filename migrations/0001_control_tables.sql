-- Control tables of zoho-sync: runs, checkpoints, the quota ledger and dead letters.
-- Created unqualified: the connection's search_path is the configured schema.

CREATE TABLE runs (
    id           bigserial PRIMARY KEY,
    kind         text        NOT NULL CHECK (kind IN ('backfill', 'sync', 'daemon')),
    organisation text        NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    ended_at     timestamptz,
    pages        bigint      NOT NULL DEFAULT 0,
    records      bigint      NOT NULL DEFAULT 0,
    requests     bigint      NOT NULL DEFAULT 0,
    outcome      text CHECK (outcome IN ('completed', 'quota_spent', 'failed', 'interrupted')),
    error        text
);

CREATE INDEX runs_by_organisation ON runs (organisation, id DESC);

-- One row per (stream, pass kind). last_id is any unsigned 64-bit record id.
CREATE TABLE checkpoints (
    portal          text        NOT NULL,
    department      text        NOT NULL,
    module          text        NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('backfill', 'incremental')),
    next_index      bigint      NOT NULL CHECK (next_index BETWEEN 1 AND 4294967295),
    last_id         numeric(20, 0) CHECK (last_id BETWEEN 0 AND 18446744073709551615),
    in_progress     boolean     NOT NULL DEFAULT false,
    watermark       timestamptz,
    pass_started_at timestamptz,
    completed_at    timestamptz,
    passes          bigint      NOT NULL DEFAULT 0,
    last_run_id     bigint REFERENCES runs (id) ON DELETE SET NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (portal, department, module, kind)
);

-- Requests reserved per organisation and quota day (the day Zoho counts in).
CREATE TABLE quota_ledger (
    organisation text        NOT NULL,
    day          date        NOT NULL,
    used         integer     NOT NULL DEFAULT 0 CHECK (used >= 0),
    spent        boolean     NOT NULL DEFAULT false,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organisation, day)
);

CREATE TABLE dead_letters (
    id         bigserial PRIMARY KEY,
    portal     text        NOT NULL,
    department text        NOT NULL,
    module     text        NOT NULL,
    run_id     bigint REFERENCES runs (id) ON DELETE SET NULL,
    raw        text        NOT NULL,
    error      text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX dead_letters_by_stream ON dead_letters (portal, department, module);
