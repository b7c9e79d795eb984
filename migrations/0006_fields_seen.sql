-- The warehouse feed's typed side: every field label seen per module (custom fields
-- included) with the narrowest type its values allow, and the column it has in the
-- module's view (`<table>_view`, built by src/loader/views.rs). A view column's type is
-- fixed when the column is added, so views only ever gain columns and objects built on
-- them never break; a value that does not fit its column shows as NULL there (it stays
-- in the `fields` jsonb). The functions below are those guarded casts: each returns NULL
-- for text that is not a valid value of its type, and never raises.

CREATE TABLE fields_seen (
    module            text        NOT NULL,
    label             text        NOT NULL,
    -- The narrowest type consistent with every non-empty value seen; NULL while only
    -- empty values have been seen.
    value_type        text CHECK (value_type IN
                          ('boolean', 'bigint', 'numeric', 'date', 'timestamp', 'text')),
    first_seen_at     timestamptz NOT NULL,
    first_seen_run_id bigint REFERENCES runs (id) ON DELETE SET NULL,
    -- The field's column in the view (NULL for standard fields, which come from the
    -- typed columns, and for fields not yet given one).
    column_name       text,
    column_type       text CHECK (column_type IN
                          ('boolean', 'bigint', 'numeric', 'date', 'timestamp', 'text')),
    column_position   integer,
    PRIMARY KEY (module, label),
    UNIQUE (module, column_name),
    UNIQUE (module, column_position)
);

CREATE FUNCTION zoho_sync_boolean(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE lower(v) WHEN 'true' THEN true WHEN 'false' THEN false END
$$;

CREATE FUNCTION zoho_sync_bigint(v text) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN v ~ '^[+-]?[0-9]{1,19}$' THEN
        CASE WHEN v::numeric BETWEEN -9223372036854775808 AND 9223372036854775807
             THEN v::bigint END
    END
$$;

CREATE FUNCTION zoho_sync_numeric(v text) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN length(v) <= 100 AND v ~ '^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$'
                THEN v::numeric END
$$;

-- `yyyy-MM-dd` or `MM/dd/yyyy`, a real calendar day of years 1 to 9999.
CREATE FUNCTION zoho_sync_date(v text) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN p.y >= 1 AND p.m BETWEEN 1 AND 12 AND p.d BETWEEN 1 AND CASE
            WHEN p.m = 2 THEN
                CASE WHEN (p.y % 4 = 0 AND p.y % 100 <> 0) OR p.y % 400 = 0 THEN 29 ELSE 28 END
            WHEN p.m IN (4, 6, 9, 11) THEN 30
            ELSE 31
        END
        THEN make_date(p.y, p.m, p.d)
    END
    FROM (SELECT
        CASE WHEN v ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN substr(v, 1, 4)::int
             WHEN v ~ '^[0-9]{2}/[0-9]{2}/[0-9]{4}$' THEN substr(v, 7, 4)::int END AS y,
        CASE WHEN v ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN substr(v, 6, 2)::int
             WHEN v ~ '^[0-9]{2}/[0-9]{2}/[0-9]{4}$' THEN substr(v, 1, 2)::int END AS m,
        CASE WHEN v ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN substr(v, 9, 2)::int
             WHEN v ~ '^[0-9]{2}/[0-9]{2}/[0-9]{4}$' THEN substr(v, 4, 2)::int END AS d
    ) AS p
$$;

-- A date with `HH:mm:ss` (wall clock of the portal's data time zone), or a date alone
-- (its midnight). Its search_path is pinned: it calls `zoho_sync_date`, and a view's
-- reader may not have this schema on theirs.
CREATE FUNCTION zoho_sync_timestamp(v text) RETURNS timestamp
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path FROM CURRENT AS $$
    SELECT CASE
        WHEN v ~ '^([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{2}/[0-9]{2}/[0-9]{4}) ([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$'
            THEN zoho_sync_date(substr(v, 1, 10)) + substr(v, 12, 8)::time
        ELSE zoho_sync_date(v)::timestamp
    END
$$;
