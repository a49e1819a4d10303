-- Records: tickets and their sessions, offers and outcomes, verdicts, call quality, wrap-ups, ratings,
-- notes. Every table is partitioned by `part`, the first day of the UTC month of its row's time, so
-- retention drops whole months (signlink/db/partitions.py makes and drops the partitions).
-- Times are epoch seconds (double precision), as the API gives them.

-- One row per ticket: the record (all its facts, records/ticket.py) and the columns QA filters and adds.
CREATE TABLE tickets (
    part date NOT NULL,
    id text NOT NULL,
    joined_at double precision NOT NULL,     -- joined (or refused); before that, its first event
    has_row boolean NOT NULL DEFAULT false,  -- false until its joined/unserved event is recorded
    language text NOT NULL DEFAULT '',
    topic text NOT NULL DEFAULT '',
    priority_class text NOT NULL DEFAULT '',
    outcome text NOT NULL DEFAULT 'waiting',
    session_id text,
    agent text,
    agents text[] NOT NULL DEFAULT '{}',     -- agents of its sessions (the agent filter)
    waited_s double precision,
    answer_s double precision,
    handle_s double precision,
    talk_s double precision,
    wrap_s double precision,
    check_status text NOT NULL DEFAULT 'none',
    failing text[] NOT NULL DEFAULT '{}',
    check_s double precision,
    flagged boolean NOT NULL DEFAULT false,
    reasons text[] NOT NULL DEFAULT '{}',
    rating smallint,
    transfers smallint NOT NULL DEFAULT 0,
    abandon_reason text,
    verdict_id text,
    device_model text,
    -- this ticket's share of the counters that are sums over its offers and sessions (aggregates.py)
    offers_made smallint, offers_accepted smallint, offers_declined smallint,
    offers_timed_out smallint, offers_cancelled smallint,
    talk_sum double precision, talk_n smallint, handle_sum double precision, handle_n smallint,
    wrap_sum double precision, wrap_n smallint, rating_sum double precision, rating_n smallint,
    q_calls smallint, q_fps_sum double precision, q_fps_n double precision,
    q_rtt_sum double precision, q_rtt_n double precision,
    q_loss_sum double precision, q_loss_n double precision,
    record jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (part, id)
) PARTITION BY RANGE (part);
CREATE INDEX tickets_id ON tickets (id);
CREATE INDEX tickets_period ON tickets (joined_at) WHERE has_row;
CREATE INDEX tickets_language ON tickets (language, joined_at) WHERE has_row;
CREATE INDEX tickets_topic ON tickets (topic, joined_at) WHERE has_row;
CREATE INDEX tickets_outcome ON tickets (outcome, joined_at) WHERE has_row;
CREATE INDEX tickets_flagged ON tickets (joined_at) WHERE has_row AND flagged;
CREATE INDEX tickets_transferred ON tickets (joined_at) WHERE has_row AND transfers > 0;
CREATE INDEX tickets_check ON tickets (check_status, joined_at) WHERE has_row;
CREATE INDEX tickets_agents ON tickets USING gin (agents);
CREATE INDEX tickets_verdict ON tickets (verdict_id) WHERE verdict_id IS NOT NULL;

-- Each agent's share of a ticket (offers made to them, their sessions): the per-agent figures.
CREATE TABLE ticket_agents (
    part date NOT NULL,
    ticket_id text NOT NULL,
    agent text NOT NULL,
    joined_at double precision NOT NULL,
    handled smallint, handle_sum double precision, handle_n smallint, talk_sum double precision,
    offers smallint, declined smallint, timed_out smallint,
    rating_sum double precision, rating_n smallint,
    PRIMARY KEY (part, ticket_id, agent)
) PARTITION BY RANGE (part);
CREATE INDEX ticket_agents_agent ON ticket_agents (agent, joined_at);

-- The timeline: every queue event recorded, once (its stream id is the key: replays change nothing).
CREATE TABLE ticket_events (
    part date NOT NULL,
    event_id text NOT NULL,
    ticket_id text NOT NULL,
    type text NOT NULL,
    at double precision NOT NULL,
    PRIMARY KEY (part, event_id)
) PARTITION BY RANGE (part);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, at);

-- Check verdicts: metadata and measurements (the live copy in Redis is short-lived).
CREATE TABLE verdicts (
    part date NOT NULL,
    id text NOT NULL,
    check_id text NOT NULL,
    created_at double precision NOT NULL,
    duration_s double precision NOT NULL,
    passed boolean NOT NULL,
    outcome text NOT NULL,
    continued_at text,
    criteria jsonb NOT NULL,
    metrics jsonb NOT NULL,
    PRIMARY KEY (part, id)
) PARTITION BY RANGE (part);
CREATE INDEX verdicts_id ON verdicts (id);

-- One row per call: who took it, the wrap-up, the customer's rating.
CREATE TABLE call_sessions (
    part date NOT NULL,
    session_id text NOT NULL,
    ticket_id text NOT NULL,
    agent_id text NOT NULL,
    language text NOT NULL,
    topic text NOT NULL,
    started_at double precision NOT NULL,
    outcome text,
    wrap_notes text,
    wrapped_at double precision,
    rating smallint,
    rating_comment text,
    rated_at double precision,
    PRIMARY KEY (part, session_id)
) PARTITION BY RANGE (part);
CREATE INDEX call_sessions_id ON call_sessions (session_id);
CREATE INDEX call_sessions_ticket ON call_sessions (ticket_id);

-- The agent's private notes on a call (number n within the session).
CREATE TABLE session_notes (
    part date NOT NULL,
    event_id text NOT NULL,
    session_id text NOT NULL,
    n integer NOT NULL,
    text text NOT NULL,
    at double precision NOT NULL,
    PRIMARY KEY (part, event_id)
) PARTITION BY RANGE (part);
CREATE INDEX session_notes_session ON session_notes (session_id, n);

-- Call-quality samples from both sides (records/quality.py).
CREATE TABLE quality_samples (
    part date NOT NULL,
    event_id text NOT NULL,
    session_id text NOT NULL,
    at double precision NOT NULL,
    side text NOT NULL,
    rtt_ms double precision, packet_loss double precision, jitter_ms double precision,
    jitter_buffer_ms double precision, fps double precision,
    width integer, height integer, freezes integer,
    PRIMARY KEY (part, event_id)
) PARTITION BY RANGE (part);
CREATE INDEX quality_samples_session ON quality_samples (session_id, at);

-- Customers waiting, sampled by the recorders (the dashboard's chart keeps each bucket's highest).
CREATE TABLE waiting_samples (
    part date NOT NULL,
    at double precision NOT NULL,
    waiting integer NOT NULL,
    PRIMARY KEY (part, at)
) PARTITION BY RANGE (part);

-- Events that could not be recorded (not understood, or failing), for a human; the newest kept.
CREATE TABLE dead_events (
    id bigserial PRIMARY KEY,
    stream text NOT NULL,
    event_id text NOT NULL,
    fields jsonb NOT NULL,
    error text NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);
