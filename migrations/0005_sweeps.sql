-- Sweeps: passes that read only the ids of a module to find the records deleted at the
-- source (the API lists no deletions). A sweep has its own checkpoint row, and stamps
-- each mirror row it sees with the sweep's start (the server's time at its first
-- answer); at the sweep's end, rows without that stamp are the deleted ones.

ALTER TABLE checkpoints DROP CONSTRAINT checkpoints_kind_check;
ALTER TABLE checkpoints ADD CONSTRAINT checkpoints_kind_check
    CHECK (kind IN ('backfill', 'incremental', 'sweep'));

ALTER TABLE requests ADD COLUMN _swept_at timestamptz;
ALTER TABLE solutions ADD COLUMN _swept_at timestamptz;
ALTER TABLE accounts ADD COLUMN _swept_at timestamptz;
ALTER TABLE contacts ADD COLUMN _swept_at timestamptz;
ALTER TABLE contracts ADD COLUMN _swept_at timestamptz;
ALTER TABLE products ADD COLUMN _swept_at timestamptz;
ALTER TABLE tasks ADD COLUMN _swept_at timestamptz;
ALTER TABLE timeentry ADD COLUMN _swept_at timestamptz;
