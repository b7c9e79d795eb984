-- The mirror tables: one per module, keyed by (portal, department, id). Typed columns hold
-- the standard fields (converted from the portal's data time zone; NULL when a value does
-- not parse), `fields` every field exactly as received (custom fields too), `_synced_at`
-- when the row's content was last written. Column lists match src/loader/schema.rs
-- (an integration test compares them).

CREATE TABLE requests (
    portal          text        NOT NULL,
    department      text        NOT NULL,
    id              bigint      NOT NULL,
    uri             text,
    request_owner   text,
    status          text,
    priority        text,
    contact_name    text,
    email           text,
    phone           text,
    subject         text,
    request_id      bigint,
    account_name    text,
    product_name    text,
    description     text,
    channel         text,
    classification  text,
    due_date        timestamptz,
    department_name text,
    category        text,
    sub_category    text,
    resolution      text,
    created_time    timestamptz,
    modified_time   timestamptz,
    created_by      text,
    modified_by     text,
    fields          jsonb       NOT NULL,
    _synced_at      timestamptz NOT NULL,
    PRIMARY KEY (portal, department, id)
);

CREATE INDEX requests_by_modified_time ON requests (portal, department, modified_time);

CREATE TABLE solutions (
    portal         text        NOT NULL,
    department     text        NOT NULL,
    id             bigint      NOT NULL,
    title          text,
    question       text,
    answer         text,
    status         text,
    solution_owner text,
    created_time   timestamptz,
    modified_time  timestamptz,
    fields         jsonb       NOT NULL,
    _synced_at     timestamptz NOT NULL,
    PRIMARY KEY (portal, department, id)
);

CREATE INDEX solutions_by_modified_time ON solutions (portal, department, modified_time);

CREATE TABLE accounts (
    portal        text        NOT NULL,
    department    text        NOT NULL,
    id            bigint      NOT NULL,
    account_name  text,
    phone         text,
    website       text,
    account_owner text,
    created_time  timestamptz,
    modified_time timestamptz,
    fields        jsonb       NOT NULL,
    _synced_at    timestamptz NOT NULL,
    PRIMARY KEY (portal, department, id)
);

CREATE INDEX accounts_by_modified_time ON accounts (portal, department, modified_time);

CREATE TABLE contacts (
    portal        text        NOT NULL,
    department    text        NOT NULL,
    id            bigint      NOT NULL,
    first_name    text,
    last_name     text,
    email         text,
    phone         text,
    account_name  text,
    contact_owner text,
    created_time  timestamptz,
    modified_time timestamptz,
    fields        jsonb       NOT NULL,
    _synced_at    timestamptz NOT NULL,
    PRIMARY KEY (portal, department, id)
);

CREATE INDEX contacts_by_modified_time ON contacts (portal, department, modified_time);

CREATE TABLE contracts (
    portal         text        NOT NULL,
    department     text        NOT NULL,
    id             bigint      NOT NULL,
    contract_name  text,
    account_name   text,
    start_date     date,
    end_date       date,
    contract_owner text,
    created_time   timestamptz,
    modified_time  timestamptz,
    fields         jsonb       NOT NULL,
    _synced_at     timestamptz NOT NULL,
    PRIMARY KEY (portal, department, id)
);

CREATE INDEX contracts_by_modified_time ON contracts (portal, department, modified_time);

CREATE TABLE products (
    portal        text        NOT NULL,
    department    text        NOT NULL,
    id            bigint      NOT NULL,
    product_name  text,
    product_code  text,
    product_owner text,
    created_time  timestamptz,
    modified_time timestamptz,
    fields        jsonb       NOT NULL,
    _synced_at    timestamptz NOT NULL,
    PRIMARY KEY (portal, department, id)
);

CREATE INDEX products_by_modified_time ON products (portal, department, modified_time);

CREATE TABLE tasks (
    portal        text        NOT NULL,
    department    text        NOT NULL,
    id            bigint      NOT NULL,
    subject       text,
    due_date      timestamptz,
    status        text,
    priority      text,
    task_owner    text,
    created_time  timestamptz,
    modified_time timestamptz,
    fields        jsonb       NOT NULL,
    _synced_at    timestamptz NOT NULL,
    PRIMARY KEY (portal, department, id)
);

CREATE INDEX tasks_by_modified_time ON tasks (portal, department, modified_time);

CREATE TABLE timeentry (
    portal             text        NOT NULL,
    department         text        NOT NULL,
    id                 bigint      NOT NULL,
    case_id            bigint,
    executed_time      timestamptz,
    ticket_charge_type text,
    time_entry_owner   text,
    hours_spent        bigint,
    minutes_spent      bigint,
    description        text,
    created_time       timestamptz,
    modified_time      timestamptz,
    fields             jsonb       NOT NULL,
    _synced_at         timestamptz NOT NULL,
    PRIMARY KEY (portal, department, id)
);

CREATE INDEX timeentry_by_modified_time ON timeentry (portal, department, modified_time);
