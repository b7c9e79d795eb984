-- Leases: each stream (portal, department, module) is worked by one process at a time.
-- A holder renews its lease with every page it commits; a crashed holder's lease expires
-- and any other process may take the stream over from its checkpoint.
CREATE TABLE stream_leases (
    portal      text        NOT NULL,
    department  text        NOT NULL,
    module      text        NOT NULL,
    holder      text        NOT NULL,
    acquired_at timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (portal, department, module)
);
