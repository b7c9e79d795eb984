-- Which process ran each run: its host, pid and zoho-sync version, so that several
-- daemons sharing one database leave a trace of who did what. Rows written before this
-- migration have none.
ALTER TABLE runs ADD COLUMN host text, ADD COLUMN pid integer, ADD COLUMN version text;
