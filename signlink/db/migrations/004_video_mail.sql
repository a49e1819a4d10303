-- Video mail: a customer's recorded message (metadata) and its video in chunks, both in PostgreSQL so
-- every process sees an upload at once (no shared disk needed), a crash loses no committed chunk,
-- and one pg_dump backs up everything. Deleted `video_mail_retention_days` after sending.
CREATE TABLE video_mails (
    id text PRIMARY KEY,
    token_hash text NOT NULL,                -- sha256 of the customer's upload token
    language text NOT NULL,
    topic text NOT NULL,
    device_model text,
    device_serial text,
    locale text NOT NULL DEFAULT 'en',
    email text,                              -- optional: where a reply or call-back link goes
    mime text NOT NULL,
    size bigint NOT NULL,                    -- bytes announced; the upload must reach exactly this
    received bigint NOT NULL DEFAULT 0,
    duration_s real,
    state text NOT NULL DEFAULT 'uploading' CHECK (state IN ('uploading', 'sent', 'handled')),
    reason text NOT NULL DEFAULT 'closed',   -- why it was offered: closed, unserved, long_wait
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    handled_at timestamptz,
    handled_by text,
    outcome text,
    watched_by text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX video_mails_inbox ON video_mails (language, state, sent_at);
CREATE INDEX video_mails_sent ON video_mails (sent_at);

CREATE TABLE video_mail_chunks (
    mail_id text NOT NULL REFERENCES video_mails ON DELETE CASCADE,
    "offset" bigint NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (mail_id, "offset")
);
