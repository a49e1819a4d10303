-- Opening hours per sign language and optionally per topic (topic '' = every topic of the language).
-- A line without a row here is open 24/7 (signlink/hours/calendar.py ALWAYS_OPEN): nothing changes for a
-- deployment until a supervisor gives it hours on /staff/hours.
CREATE TABLE hours_calendars (
    language text NOT NULL,
    topic text NOT NULL DEFAULT '',
    time_zone text NOT NULL,
    weekly jsonb NOT NULL,                  -- [[weekday 0=Mon, opens_min, closes_min], ...]
    force_state text CHECK (force_state IN ('open', 'closed')),
    force_since timestamptz,
    force_until timestamptz,
    force_reason text,
    updated_by text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (language, topic)
);

-- Holiday closures and extra openings: a range of local dates with a reason.
CREATE TABLE hours_overrides (
    id bigserial PRIMARY KEY,
    language text NOT NULL,
    topic text NOT NULL DEFAULT '',
    starts date NOT NULL,
    ends date NOT NULL CHECK (ends >= starts),
    kind text NOT NULL CHECK (kind IN ('closed', 'open')),
    hours jsonb NOT NULL DEFAULT '[]',      -- [[opens_min, closes_min], ...]; [] on an opening: all day
    reason text NOT NULL,
    created_by text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (language, topic) REFERENCES hours_calendars ON DELETE CASCADE
);
CREATE INDEX hours_overrides_line ON hours_overrides (language, topic, ends);
