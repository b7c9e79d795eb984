-- `dead-letters --retry` records itself as a run of its own kind, so the status page's
-- latest runs show it with the requests it spent. It moves no checkpoint.
ALTER TABLE runs DROP CONSTRAINT runs_kind_check;
ALTER TABLE runs ADD CONSTRAINT runs_kind_check
    CHECK (kind IN ('backfill', 'sync', 'daemon', 'retry'));
