-- A dead letter is kept once per stream and raw row: a row that cannot be loaded is met
-- again whenever a page overlaps it (the anchor row of the next window, a step back, the
-- next pass), and counting it each time would overstate what was set aside. The record's
-- id is kept when it could be read, so the letter names its record.
ALTER TABLE dead_letters ADD COLUMN record_id numeric(20, 0)
    CHECK (record_id BETWEEN 0 AND 18446744073709551615);

DELETE FROM dead_letters a USING dead_letters b
WHERE a.portal = b.portal AND a.department = b.department AND a.module = b.module
  AND md5(a.raw) = md5(b.raw) AND a.id > b.id;

CREATE UNIQUE INDEX dead_letters_once ON dead_letters (portal, department, module, md5(raw));
