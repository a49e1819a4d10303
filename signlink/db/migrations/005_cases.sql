-- Repair: service centres and drop-off points, their bookable slots, bookings, and service cases.
-- Times are timestamptz (a booking is a calendar fact, not an event stream); hours are JSON
-- {"mon": [["09:00", "18:00"]], ...} read in the centre's own IANA time zone.

CREATE TABLE centres (
    code text PRIMARY KEY,                   -- the directory's own id (stable across imports)
    kind text NOT NULL CHECK (kind IN ('centre', 'dropoff')),
    name text NOT NULL,
    province text NOT NULL,
    city text NOT NULL,
    district text NOT NULL DEFAULT '',
    address text NOT NULL,
    city_pinyin text NOT NULL DEFAULT '',    -- "beijing": pinyin without suffix (cases/directory.place_key)
    district_pinyin text NOT NULL DEFAULT '',
    lat double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    tz text NOT NULL DEFAULT 'Asia/Shanghai',
    hours jsonb NOT NULL DEFAULT '{}',
    services text[] NOT NULL DEFAULT '{}',
    capacity_per_slot smallint NOT NULL DEFAULT 1 CHECK (capacity_per_slot >= 0),
    sample boolean NOT NULL DEFAULT false,   -- generated sample data (scripts/make_sample_centres.py)
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX centres_city ON centres (city, district);
CREATE INDEX centres_city_pinyin ON centres (city_pinyin, district_pinyin);
CREATE INDEX centres_district ON centres (district);
CREATE INDEX centres_district_pinyin ON centres (district_pinyin);
CREATE INDEX centres_geo ON centres (lat, lon);  -- nearest: a bounding box first, then haversine

-- A bookable time at one centre; `booked` never exceeds `capacity` (the CHECK and a conditional UPDATE).
CREATE TABLE slots (
    id bigserial PRIMARY KEY,
    centre_code text NOT NULL REFERENCES centres (code) ON DELETE CASCADE,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    capacity smallint NOT NULL CHECK (capacity >= 0),
    booked smallint NOT NULL DEFAULT 0,
    CHECK (booked >= 0 AND booked <= capacity),
    UNIQUE (centre_code, starts_at)
);
CREATE INDEX slots_free ON slots (centre_code, starts_at) WHERE booked < capacity;

-- A service case: opened by an agent from a ticket; a repeat by the same serial within 7 days links
-- to the earlier case (repeat_of), which is what QA's first-contact resolution counts.
CREATE TABLE cases (
    id bigserial PRIMARY KEY,
    number text NOT NULL UNIQUE,             -- short and human-readable: "C-7K3M9Q"
    token text NOT NULL UNIQUE,              -- the customer's case-page link (secrets, 256 bits)
    ticket_id text NOT NULL,
    agent text NOT NULL DEFAULT '',
    device_model text NOT NULL DEFAULT '',
    serial text NOT NULL DEFAULT '',
    topic text NOT NULL DEFAULT '',
    verdict_id text NOT NULL DEFAULT '',     -- the camera check the ticket came with
    category text NOT NULL,
    description text NOT NULL DEFAULT '',
    outcome text NOT NULL CHECK (outcome IN ('solved', 'centre', 'mail_in', 'home_visit', 'follow_up')),
    status text NOT NULL DEFAULT 'opened'
        CHECK (status IN ('opened', 'booked', 'received', 'repaired', 'returned', 'closed')),
    repeat_of bigint REFERENCES cases (id),
    email text NOT NULL DEFAULT '',
    call_ended_at timestamptz,
    opened_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cases_serial ON cases (serial, opened_at) WHERE serial <> '';
CREATE INDEX cases_opened ON cases (opened_at);
CREATE INDEX cases_repeat ON cases (repeat_of) WHERE repeat_of IS NOT NULL;

-- Every ticket of a case (the first, and each repeat contact that was linked to it).
CREATE TABLE case_tickets (
    case_id bigint NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    ticket_id text NOT NULL,
    linked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, ticket_id)
);
CREATE INDEX case_tickets_ticket ON case_tickets (ticket_id);

-- The status history: one row per change (opened, booked, received, repaired, returned, closed).
CREATE TABLE case_events (
    id bigserial PRIMARY KEY,
    case_id bigint NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    status text NOT NULL,
    note text NOT NULL DEFAULT '',
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_events_case ON case_events (case_id, at);

-- A booking: a slot at a centre, or a mail-in pickup window with a shipping reference.
CREATE TABLE bookings (
    id bigserial PRIMARY KEY,
    case_id bigint NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('centre', 'mail_in')),
    slot_id bigint REFERENCES slots (id),
    pickup_from timestamptz,
    pickup_until timestamptz,
    pickup_address text NOT NULL DEFAULT '',
    shipping_ref text NOT NULL DEFAULT '',
    state text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'cancelled', 'moved')),
    created_at timestamptz NOT NULL DEFAULT now(),
    cancelled_at timestamptz,
    CHECK (kind <> 'centre' OR slot_id IS NOT NULL)
);
CREATE INDEX bookings_case ON bookings (case_id);
CREATE UNIQUE INDEX bookings_one_active ON bookings (case_id) WHERE state = 'active';
