-- What a stream's last complete sweep found: the records deleted at the source it marked
-- (or removed), written by the sweep's last page in its own transaction, for the status
-- page. NULL on other kinds of pass and before a sweep completes.
ALTER TABLE checkpoints ADD COLUMN found bigint CHECK (found >= 0);
