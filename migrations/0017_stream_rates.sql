-- Each stream's change rate as its incremental passes found it (the daemon's adaptive
-- schedule): changes seen and the seconds they were seen over, both decayed with a
-- half-life at each observation, so that the estimate follows a module whose activity
-- moves. Shared by every process syncing the stream; kept across restarts.
CREATE TABLE stream_rates (
    portal        text             NOT NULL,
    department    text             NOT NULL,
    module        text             NOT NULL,
    changes       double precision NOT NULL CHECK (changes >= 0),
    exposure_secs double precision NOT NULL CHECK (exposure_secs >= 0),
    observed_at   timestamptz      NOT NULL,
    PRIMARY KEY (portal, department, module)
);
