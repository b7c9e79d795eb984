-- The order a pass has seen its ids in. The contract promises ascending ids; a server that
-- breaks the order is paged by its anchor rows alone (src/scheduler/cursor.rs), and the
-- checkpoint must remember that across a stop, or a resumed pass would trust the short
-- test again.
ALTER TABLE checkpoints
    ADD COLUMN id_order text NOT NULL DEFAULT 'ascending'
        CHECK (id_order IN ('ascending', 'unordered'));
