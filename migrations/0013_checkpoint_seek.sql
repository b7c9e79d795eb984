-- Where a pass of a source paged by modification time stands (Zoho Desk's search,
-- src/stream/seek.rs): the range still to read and, inside a tie group, the offset. NULL
-- for passes paged by offset windows, whose position is `next_index` and `last_id`.
ALTER TABLE checkpoints ADD COLUMN seek jsonb;
