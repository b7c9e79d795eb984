-- How far each Zoho Desk organisation's deletions (its recycle bin) have been applied:
-- the server's time when the last complete walk of the bin started. A walk reads the bin
-- newest first down to an hour before this instant.
CREATE TABLE deletion_cursors (
    portal          text        PRIMARY KEY,
    deleted_through timestamptz NOT NULL,
    walked_at       timestamptz NOT NULL
);
