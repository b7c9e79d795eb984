-- Each page's upsert asks which of its ids are rows marked deleted (a record coming back
-- is logged as an insert). Without statistics (a first load, a mass update before
-- autovacuum ran) the planner takes "deleted" for rare and reads every row of the portal
-- to find them, once per page; a partial index of the deleted rows answers at once.
CREATE INDEX requests_deleted ON requests (portal, department, id) WHERE _deleted_at IS NOT NULL;
CREATE INDEX solutions_deleted ON solutions (portal, department, id) WHERE _deleted_at IS NOT NULL;
CREATE INDEX accounts_deleted ON accounts (portal, department, id) WHERE _deleted_at IS NOT NULL;
CREATE INDEX contacts_deleted ON contacts (portal, department, id) WHERE _deleted_at IS NOT NULL;
CREATE INDEX contracts_deleted ON contracts (portal, department, id) WHERE _deleted_at IS NOT NULL;
CREATE INDEX products_deleted ON products (portal, department, id) WHERE _deleted_at IS NOT NULL;
CREATE INDEX tasks_deleted ON tasks (portal, department, id) WHERE _deleted_at IS NOT NULL;
CREATE INDEX timeentry_deleted ON timeentry (portal, department, id) WHERE _deleted_at IS NOT NULL;
