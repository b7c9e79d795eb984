-- The token of the commit that last wrote a checkpoint (src/loader/batch.rs): a pass that
-- sends a commit while the one before it is still committing makes the later one wait,
-- inside the database, for the checkpoint to carry the earlier one's token, so that
-- overlapping commits are stored in order or not at all. NULL: a write outside any such
-- sequence.
ALTER TABLE checkpoints ADD COLUMN commit_token bigint;
