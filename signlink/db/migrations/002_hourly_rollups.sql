-- Hourly roll-ups: the sum of every ticket's counters (records/aggregates.contribution) per UTC hour of
-- joining and (language, topic), and per agent, kept by the recorder in the same transaction as the
-- tickets (it adds each ticket's new share and takes away its old one). The headline, the series and the
-- per-agent figures of a period with no other filter than language and topic add up these rows
-- (24 x pairs a day) instead of every ticket. Partitioned by month like the records.

CREATE TABLE hourly (
    part date NOT NULL,
    hour integer NOT NULL,  -- epoch seconds // 3600
    language text NOT NULL,
    topic text NOT NULL,
    c_tickets double precision NOT NULL DEFAULT 0,
    c_answered double precision NOT NULL DEFAULT 0,
    c_abandoned double precision NOT NULL DEFAULT 0,
    c_unserved double precision NOT NULL DEFAULT 0,
    c_waiting double precision NOT NULL DEFAULT 0,
    c_transferred double precision NOT NULL DEFAULT 0,
    c_answer_sum double precision NOT NULL DEFAULT 0,
    c_h_5 double precision NOT NULL DEFAULT 0,
    c_h_10 double precision NOT NULL DEFAULT 0,
    c_h_15 double precision NOT NULL DEFAULT 0,
    c_h_20 double precision NOT NULL DEFAULT 0,
    c_h_30 double precision NOT NULL DEFAULT 0,
    c_h_45 double precision NOT NULL DEFAULT 0,
    c_h_60 double precision NOT NULL DEFAULT 0,
    c_h_90 double precision NOT NULL DEFAULT 0,
    c_h_120 double precision NOT NULL DEFAULT 0,
    c_h_150 double precision NOT NULL DEFAULT 0,
    c_h_180 double precision NOT NULL DEFAULT 0,
    c_h_240 double precision NOT NULL DEFAULT 0,
    c_h_300 double precision NOT NULL DEFAULT 0,
    c_h_420 double precision NOT NULL DEFAULT 0,
    c_h_600 double precision NOT NULL DEFAULT 0,
    c_h_900 double precision NOT NULL DEFAULT 0,
    c_h_1200 double precision NOT NULL DEFAULT 0,
    c_h_1800 double precision NOT NULL DEFAULT 0,
    c_h_3600 double precision NOT NULL DEFAULT 0,
    c_h_inf double precision NOT NULL DEFAULT 0,
    c_abandon_wait_sum double precision NOT NULL DEFAULT 0,
    c_offers_made double precision NOT NULL DEFAULT 0,
    c_offers_accepted double precision NOT NULL DEFAULT 0,
    c_offers_declined double precision NOT NULL DEFAULT 0,
    c_offers_timed_out double precision NOT NULL DEFAULT 0,
    c_offers_cancelled double precision NOT NULL DEFAULT 0,
    c_talk_sum double precision NOT NULL DEFAULT 0,
    c_talk_n double precision NOT NULL DEFAULT 0,
    c_handle_sum double precision NOT NULL DEFAULT 0,
    c_handle_n double precision NOT NULL DEFAULT 0,
    c_wrap_sum double precision NOT NULL DEFAULT 0,
    c_wrap_n double precision NOT NULL DEFAULT 0,
    c_rating_sum double precision NOT NULL DEFAULT 0,
    c_rating_n double precision NOT NULL DEFAULT 0,
    c_q_calls double precision NOT NULL DEFAULT 0,
    c_q_fps_sum double precision NOT NULL DEFAULT 0,
    c_q_fps_n double precision NOT NULL DEFAULT 0,
    c_q_rtt_sum double precision NOT NULL DEFAULT 0,
    c_q_rtt_n double precision NOT NULL DEFAULT 0,
    c_q_loss_sum double precision NOT NULL DEFAULT 0,
    c_q_loss_n double precision NOT NULL DEFAULT 0,
    c_checked double precision NOT NULL DEFAULT 0,
    c_check_passed double precision NOT NULL DEFAULT 0,
    c_check_failed double precision NOT NULL DEFAULT 0,
    c_check_continued double precision NOT NULL DEFAULT 0,
    c_check_dur_sum double precision NOT NULL DEFAULT 0,
    c_cd_2 double precision NOT NULL DEFAULT 0,
    c_cd_4 double precision NOT NULL DEFAULT 0,
    c_cd_6 double precision NOT NULL DEFAULT 0,
    c_cd_8 double precision NOT NULL DEFAULT 0,
    c_cd_10 double precision NOT NULL DEFAULT 0,
    c_cd_15 double precision NOT NULL DEFAULT 0,
    c_cd_20 double precision NOT NULL DEFAULT 0,
    c_cd_30 double precision NOT NULL DEFAULT 0,
    c_cd_60 double precision NOT NULL DEFAULT 0,
    c_cd_inf double precision NOT NULL DEFAULT 0,
    c_q_flagged double precision NOT NULL DEFAULT 0,
    c_q_low_fps double precision NOT NULL DEFAULT 0,
    c_q_high_delay double precision NOT NULL DEFAULT 0,
    PRIMARY KEY (part, hour, language, topic)
) PARTITION BY RANGE (part);

CREATE TABLE hourly_failing (
    part date NOT NULL,
    hour integer NOT NULL,
    language text NOT NULL,
    topic text NOT NULL,
    criterion text NOT NULL,
    n double precision NOT NULL DEFAULT 0,
    PRIMARY KEY (part, hour, language, topic, criterion)
) PARTITION BY RANGE (part);

CREATE TABLE hourly_agents (
    part date NOT NULL,
    hour integer NOT NULL,
    agent text NOT NULL,
    c_handled double precision NOT NULL DEFAULT 0,
    c_handle_sum double precision NOT NULL DEFAULT 0,
    c_handle_n double precision NOT NULL DEFAULT 0,
    c_talk_sum double precision NOT NULL DEFAULT 0,
    c_offers double precision NOT NULL DEFAULT 0,
    c_declined double precision NOT NULL DEFAULT 0,
    c_timed_out double precision NOT NULL DEFAULT 0,
    c_rating_sum double precision NOT NULL DEFAULT 0,
    c_rating_n double precision NOT NULL DEFAULT 0,
    PRIMARY KEY (part, hour, agent)
) PARTITION BY RANGE (part);

-- Months that already have record partitions get roll-up partitions, filled from their tickets.
DO $$
DECLARE m record;
BEGIN
    FOR m IN SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'tickets' LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF hourly FOR VALUES FROM (%L) TO (%L)',
            replace(m.name, 'tickets_', 'hourly_'),
            to_date(substr(m.name, 9), 'YYYY_MM'), to_date(substr(m.name, 9), 'YYYY_MM') + interval '1 month');
        EXECUTE format('CREATE TABLE %I PARTITION OF hourly_failing FOR VALUES FROM (%L) TO (%L)',
            replace(m.name, 'tickets_', 'hourly_failing_'),
            to_date(substr(m.name, 9), 'YYYY_MM'), to_date(substr(m.name, 9), 'YYYY_MM') + interval '1 month');
        EXECUTE format('CREATE TABLE %I PARTITION OF hourly_agents FOR VALUES FROM (%L) TO (%L)',
            replace(m.name, 'tickets_', 'hourly_agents_'),
            to_date(substr(m.name, 9), 'YYYY_MM'), to_date(substr(m.name, 9), 'YYYY_MM') + interval '1 month');
    END LOOP;
END $$;

INSERT INTO hourly (part, hour, language, topic, c_tickets, c_answered, c_abandoned, c_unserved, c_waiting, c_transferred, c_answer_sum, c_h_5, c_h_10, c_h_15, c_h_20, c_h_30, c_h_45, c_h_60, c_h_90, c_h_120, c_h_150, c_h_180, c_h_240, c_h_300, c_h_420, c_h_600, c_h_900, c_h_1200, c_h_1800, c_h_3600, c_h_inf, c_abandon_wait_sum, c_offers_made, c_offers_accepted, c_offers_declined, c_offers_timed_out, c_offers_cancelled, c_talk_sum, c_talk_n, c_handle_sum, c_handle_n, c_wrap_sum, c_wrap_n, c_rating_sum, c_rating_n, c_q_calls, c_q_fps_sum, c_q_fps_n, c_q_rtt_sum, c_q_rtt_n, c_q_loss_sum, c_q_loss_n, c_checked, c_check_passed, c_check_failed, c_check_continued, c_check_dur_sum, c_cd_2, c_cd_4, c_cd_6, c_cd_8, c_cd_10, c_cd_15, c_cd_20, c_cd_30, c_cd_60, c_cd_inf, c_q_flagged, c_q_low_fps, c_q_high_delay)
SELECT t.part, floor(t.joined_at / 3600)::integer, t.language, t.topic, 
    coalesce(count(*), 0),
    coalesce(count(*) FILTER (WHERE t.outcome = 'answered'), 0),
    coalesce(count(*) FILTER (WHERE t.outcome = 'abandoned'), 0),
    coalesce(count(*) FILTER (WHERE t.outcome = 'unserved'), 0),
    coalesce(count(*) FILTER (WHERE t.outcome = 'waiting'), 0),
    coalesce(count(*) FILTER (WHERE t.transfers > 0), 0),
    coalesce(sum(t.answer_s), 0),
    coalesce(count(*) FILTER (WHERE t.answer_s <= 5), 0),
    coalesce(count(*) FILTER (WHERE t.answer_s <= 10 AND t.answer_s > 5), 0),
    coalesce(count(*) FILTER (WHERE t.answer_s <= 15 AND t.answer_s > 10), 0),
    coalesce(count(*) FILTER (WHERE t.answer_s <= 20 AND t.answer_s > 15), 0),
    coalesce(count(*) FILTER (WHERE t.answer_s <= 30 AND t.answer_s > 20), 0),
    coalesce(count(*) FILTER (WHERE t.answer_s <= 45 AND t.answer_s > 30), 0),
    coalesce(count(*) FILTER (WHERE t.answer_s <= 60 AND t.answer_s > 45), 0),
    coalesce(count(*) FILTER (WHERE t.answer_s <= 90 AND t.answer_s > 60), 0),
    coalesce(count(*) FILTER (WHERE t.answer_s <= 120 AND t.answer_s > 90), 0),
    coalesce(count(*) FILTER (WHERE t.answer_s <= 150 AND t.answer_s > 120), 0),
    coalesce(count(*) FILTER (WHERE t.answer_s <= 180 AND t.answer_s > 150), 0),
    coalesce(count(*) FILTER (WHERE t.answer_s <= 240 AND t.answer_s > 180), 0),
    coalesce(count(*) FILTER (WHERE t.answer_s <= 300 AND t.answer_s > 240), 0),
    coalesce(count(*) FILTER (WHERE t.answer_s <= 420 AND t.answer_s > 300), 0),
    coalesce(count(*) FILTER (WHERE t.answer_s <= 600 AND t.answer_s > 420), 0),
    coalesce(count(*) FILTER (WHERE t.answer_s <= 900 AND t.answer_s > 600), 0),
    coalesce(count(*) FILTER (WHERE t.answer_s <= 1200 AND t.answer_s > 900), 0),
    coalesce(count(*) FILTER (WHERE t.answer_s <= 1800 AND t.answer_s > 1200), 0),
    coalesce(count(*) FILTER (WHERE t.answer_s <= 3600 AND t.answer_s > 1800), 0),
    coalesce(count(*) FILTER (WHERE t.answer_s > 3600), 0),
    coalesce(sum(t.waited_s) FILTER (WHERE t.outcome = 'abandoned'), 0),
    coalesce(sum(t.offers_made), 0),
    coalesce(sum(t.offers_accepted), 0),
    coalesce(sum(t.offers_declined), 0),
    coalesce(sum(t.offers_timed_out), 0),
    coalesce(sum(t.offers_cancelled), 0),
    coalesce(sum(t.talk_sum), 0),
    coalesce(sum(t.talk_n), 0),
    coalesce(sum(t.handle_sum), 0),
    coalesce(sum(t.handle_n), 0),
    coalesce(sum(t.wrap_sum), 0),
    coalesce(sum(t.wrap_n), 0),
    coalesce(sum(t.rating_sum), 0),
    coalesce(sum(t.rating_n), 0),
    coalesce(sum(t.q_calls), 0),
    coalesce(sum(t.q_fps_sum), 0),
    coalesce(sum(t.q_fps_n), 0),
    coalesce(sum(t.q_rtt_sum), 0),
    coalesce(sum(t.q_rtt_n), 0),
    coalesce(sum(t.q_loss_sum), 0),
    coalesce(sum(t.q_loss_n), 0),
    coalesce(count(*) FILTER (WHERE t.check_status <> 'none'), 0),
    coalesce(count(*) FILTER (WHERE t.check_status = 'passed'), 0),
    coalesce(count(*) FILTER (WHERE t.check_status = 'failed'), 0),
    coalesce(count(*) FILTER (WHERE t.check_status = 'continued'), 0),
    coalesce(sum(t.check_s), 0),
    coalesce(count(*) FILTER (WHERE t.check_s <= 2), 0),
    coalesce(count(*) FILTER (WHERE t.check_s <= 4 AND t.check_s > 2), 0),
    coalesce(count(*) FILTER (WHERE t.check_s <= 6 AND t.check_s > 4), 0),
    coalesce(count(*) FILTER (WHERE t.check_s <= 8 AND t.check_s > 6), 0),
    coalesce(count(*) FILTER (WHERE t.check_s <= 10 AND t.check_s > 8), 0),
    coalesce(count(*) FILTER (WHERE t.check_s <= 15 AND t.check_s > 10), 0),
    coalesce(count(*) FILTER (WHERE t.check_s <= 20 AND t.check_s > 15), 0),
    coalesce(count(*) FILTER (WHERE t.check_s <= 30 AND t.check_s > 20), 0),
    coalesce(count(*) FILTER (WHERE t.check_s <= 60 AND t.check_s > 30), 0),
    coalesce(count(*) FILTER (WHERE t.check_s > 60), 0),
    coalesce(count(*) FILTER (WHERE t.flagged), 0),
    coalesce(count(*) FILTER (WHERE t.flagged AND 'low_fps' = ANY(t.reasons)), 0),
    coalesce(count(*) FILTER (WHERE t.flagged AND 'high_delay' = ANY(t.reasons)), 0)
FROM tickets t WHERE t.has_row GROUP BY 1, 2, 3, 4;

INSERT INTO hourly_failing (part, hour, language, topic, criterion, n)
SELECT t.part, floor(t.joined_at / 3600)::integer, t.language, t.topic, f, count(*)
FROM tickets t, unnest(t.failing) f WHERE t.has_row AND t.check_status NOT IN ('passed', 'none')
GROUP BY 1, 2, 3, 4, 5;

INSERT INTO hourly_agents (part, hour, agent, c_handled, c_handle_sum, c_handle_n, c_talk_sum, c_offers, c_declined, c_timed_out, c_rating_sum, c_rating_n)
SELECT a.part, floor(a.joined_at / 3600)::integer, a.agent, coalesce(sum(a.handled), 0), coalesce(sum(a.handle_sum), 0), coalesce(sum(a.handle_n), 0), coalesce(sum(a.talk_sum), 0), coalesce(sum(a.offers), 0), coalesce(sum(a.declined), 0), coalesce(sum(a.timed_out), 0), coalesce(sum(a.rating_sum), 0), coalesce(sum(a.rating_n), 0)
FROM ticket_agents a GROUP BY 1, 2, 3;
