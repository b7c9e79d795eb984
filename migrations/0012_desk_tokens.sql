-- Zoho Desk access tokens, shared by every process on this database so that a fleet
-- makes one refresh at a time and never trips Zoho's 10 refreshes per 10 minutes
-- (desk::token_cache). One row per organisation and self client. The token is sealed
-- (ChaCha20-Poly1305 under a key derived from the refresh token and client secret,
-- desk::seal): reading this table alone yields no usable token. A refresh holds the
-- row's lock (SELECT ... FOR UPDATE) from its re-read of the token to its store.
CREATE TABLE desk_tokens (
    org_id       text        NOT NULL,
    client_id    text        NOT NULL,
    sealed_token bytea,
    expires_at   timestamptz,
    refreshed_at timestamptz,
    refreshes    bigint      NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, client_id)
);
