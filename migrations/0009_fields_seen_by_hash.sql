-- A label is whatever the server sends, of any length: a B-tree entry holds at most about
-- 2,700 bytes, so a 3,000-character label failed every page of its module on the primary
-- key. Labels are keyed by their md5 instead; the label itself is kept whole.
ALTER TABLE fields_seen DROP CONSTRAINT fields_seen_pkey;
ALTER TABLE fields_seen ADD COLUMN label_key text GENERATED ALWAYS AS (md5(label)) STORED;
ALTER TABLE fields_seen ADD PRIMARY KEY (module, label_key);
