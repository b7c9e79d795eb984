-- Units reserved per organisation and hour (our database's clock, truncated to the hour),
-- written by the same statement as each ledger reservation: the status page draws the
-- day's spending from it without a request of the quota or a scan of anything large.
CREATE TABLE quota_hours (
    organisation text        NOT NULL,
    hour         timestamptz NOT NULL,
    used         integer     NOT NULL CHECK (used >= 0),
    PRIMARY KEY (organisation, hour)
);
