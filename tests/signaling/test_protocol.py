"""The WebSocket protocol's edge: parsing client frames into typed messages, roles, server encoding."""

from __future__ import annotations

import json
from typing import Any

import pytest

from signlink.queue.models import AgentStatus, QueueLine, QueueSnapshot
from signlink.signaling import outgoing as out
from signlink.signaling import protocol as p

TOKEN = "k" * 43


def frame(**fields: Any) -> str:
    return json.dumps(fields)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            frame(type="hello", role="customer", token=TOKEN, pc="live"),
            p.Hello(p.Role.CUSTOMER, p.PcState.LIVE, TOKEN),
        ),
        (frame(type="hello", role="customer", token=TOKEN), p.Hello(p.Role.CUSTOMER, p.PcState.NEW, TOKEN)),
        (frame(type="hello", role="agent", token="ignored"), p.Hello(p.Role.AGENT, p.PcState.NEW, None)),
        (frame(type="ping"), p.Ping()),
        (frame(type="status", status="away"), p.SetStatus(p.AgentChoice.AWAY)),
        (frame(type="accept", offer_id="o000000000001"), p.Accept("o000000000001")),
        (frame(type="decline", offer_id="o000000000001"), p.Decline("o000000000001")),
        (frame(type="chat", id="6f1c-77", text="你好\nline two"), p.Chat("6f1c-77", "你好\nline two")),
        (frame(type="chat_ack", id="6f1c-77", session_id="s1"), p.ChatAck("6f1c-77", "s1")),
        (frame(type="end"), p.End()),
        (frame(type="leave"), p.Leave()),
        (frame(type="transfer", language="BSL", topic="pc"), p.Transfer("BSL", "pc")),
        (
            frame(type="note", session_id="s1", text="asked for a callback"),
            p.Note("s1", "asked for a callback"),
        ),
        (
            frame(type="wrap_up", session_id="s1", outcome="follow_up", notes="call back", next="away"),
            p.WrapUp("s1", p.Outcome.FOLLOW_UP, "call back", p.AgentChoice.AWAY),
        ),
        (frame(type="wrap_up", session_id="s1", outcome="resolved"), p.WrapUp("s1", p.Outcome.RESOLVED, "")),
    ],
)
def test_each_client_message_parses_into_its_type(text: str, expected: p.ClientMessage) -> None:
    assert p.parse(text) == expected


def test_signals_parse_and_re_encode_exactly_the_fields_of_sdp_and_candidates() -> None:
    sdp = {"type": "offer", "sdp": "v=0\r\n"}
    parsed = p.parse(frame(type="signal", data={"sdp": sdp}))
    assert isinstance(parsed, p.Signal)
    assert parsed.data.to_wire() == {"sdp": sdp}

    candidate = {
        "candidate": "candidate:1 1 udp 2113937151 192.0.2.1 5000 typ host",
        "sdpMid": "0",
        "sdpMLineIndex": 0,
        "usernameFragment": "abcd",
    }
    parsed = p.parse(
        frame(type="signal", data={"candidate": {**candidate, "extra": "dropped"}}, session_id="s9")
    )
    assert isinstance(parsed, p.Signal)
    assert parsed.session_id == "s9"
    assert parsed.data.to_wire() == {"candidate": candidate}

    parsed = p.parse(frame(type="signal", data={"candidate": None}))
    assert isinstance(parsed, p.Signal)
    assert parsed.data.to_wire() == {"candidate": None}
    rollback = p.parse(frame(type="signal", data={"sdp": {"type": "rollback"}}))
    assert isinstance(rollback, p.Signal)
    assert rollback.data.to_wire() == {"sdp": {"type": "rollback", "sdp": ""}}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("{", "malformed_json"),
        ("", "malformed_json"),
        (b"\xff\xfe", "malformed_json"),
        ("[]", "not_an_object"),
        ('"hello"', "not_an_object"),
        (frame(), "unknown_type"),
        (frame(type=7), "unknown_type"),
        (frame(type="Hello"), "unknown_type"),
        (frame(type="hello", role="supervisor"), "bad_field"),
        (frame(type="hello", role="customer"), "bad_field"),
        (frame(type="hello", role="customer", token="short"), "bad_field"),
        (frame(type="hello", role="customer", token="bad token with spaces!!"), "bad_field"),
        (frame(type="hello", role="customer", token=TOKEN, pc="dead"), "bad_field"),
        (frame(type="status", status="busy"), "bad_field"),
        (frame(type="accept"), "bad_field"),
        (frame(type="accept", offer_id="o 1"), "bad_field"),
        (frame(type="accept", offer_id="o" * 65), "too_long"),
        (frame(type="chat", id="1", text=None), "bad_field"),
        (frame(type="chat", id="has space", text="x"), "bad_field"),
        (frame(type="chat", id="1", text="bell\x07"), "bad_field"),
        (frame(type="chat", id="1", text="x" * 2001), "too_long"),
        (frame(type="chat", id="1", text="x", session_id=5), "bad_field"),
        (frame(type="signal"), "bad_field"),
        (frame(type="signal", data="sdp"), "bad_field"),
        (frame(type="signal", data={}), "bad_field"),
        (frame(type="signal", data={"sdp": {"type": "offer"}}), "bad_field"),
        (frame(type="signal", data={"sdp": {"type": "bogus", "sdp": "v=0"}}), "bad_field"),
        (frame(type="signal", data={"sdp": {"type": "offer", "sdp": "x" * 50_000}}), "too_long"),
        (frame(type="signal", data={"candidate": "candidate:1"}), "bad_field"),
        (frame(type="signal", data={"candidate": {"candidate": "c", "sdpMLineIndex": "0"}}), "bad_field"),
        (frame(type="signal", data={"candidate": {"candidate": "c", "sdpMLineIndex": True}}), "bad_field"),
        (frame(type="wrap_up", session_id="s1", outcome="great"), "bad_field"),
        (frame(type="wrap_up", outcome="resolved"), "bad_field"),
        (frame(type="wrap_up", session_id="s1", outcome="resolved", next="lunch"), "bad_field"),
        (frame(type="note", session_id="s1", text="x" * 4001), "too_long"),
        (frame(type="transfer", language="BSL"), "bad_field"),
    ],
)
def test_bad_frames_raise_a_protocol_error_with_a_stable_code(text: str | bytes, code: str) -> None:
    with pytest.raises(p.ProtocolError) as caught:
        p.parse(text)
    assert caught.value.code == code
    assert caught.value.close is None  # parsing never decides to close
    assert str(caught.value)


def test_the_error_names_the_type_it_answers_when_there_is_one() -> None:
    with pytest.raises(p.ProtocolError) as caught:
        p.parse(frame(type="chat", id="1"))
    assert caught.value.ref == "chat"
    with pytest.raises(p.ProtocolError) as unknown:
        p.parse(frame(type="nope"))
    assert unknown.value.ref is None


def test_roles_may_send_only_their_own_messages() -> None:
    agent_only: list[p.ClientMessage] = [
        p.SetStatus(p.AgentChoice.AVAILABLE),
        p.Accept("o1"),
        p.Decline("o1"),
        p.WrapUp("s1", p.Outcome.OTHER, ""),
        p.Transfer("ASL", "pc"),
        p.Note("s1", "n"),
    ]
    both: list[p.ClientMessage] = [
        p.Ping(),
        p.Chat("1", "x"),
        p.ChatAck("1"),
        p.End(),
        p.Signal(p.CandidateSignal(None)),
    ]
    for message in agent_only:
        assert p.allowed(p.Role.AGENT, message) and not p.allowed(p.Role.CUSTOMER, message)
    for message in both:
        assert p.allowed(p.Role.AGENT, message) and p.allowed(p.Role.CUSTOMER, message)
    assert p.allowed(p.Role.CUSTOMER, p.Leave()) and not p.allowed(p.Role.AGENT, p.Leave())


def test_every_message_type_has_a_parser() -> None:
    names = {"hello", "ping", "status", "accept", "decline", "signal", "chat", "chat_ack", "end"}
    assert names | {"wrap_up", "transfer", "note", "leave", "stats", "typing"} == p.MESSAGE_TYPES


def test_server_messages_encode_to_compact_json_with_their_type() -> None:
    assert out.encode(out.Pong()) == '{"type":"pong"}'
    assert json.loads(out.encode(out.ChatRelay("m1", "你好"))) == {"type": "chat", "id": "m1", "text": "你好"}
    assert "你好" in out.encode(out.ChatRelay("m1", "你好"))  # UTF-8, not \\u escapes
    error = json.loads(out.encode(out.Error("bad_field", "text must be a string", "chat")))
    assert error == {"type": "error", "code": "bad_field", "message": "text must be a string", "ref": "chat"}
    assert "ref" not in json.loads(out.encode(out.Error("unknown_type", "?")))
    update = json.loads(out.encode(out.QueueUpdate(2, 61.4, 1)))
    assert update == {"type": "queue", "position": 2, "estimated_wait_s": 61, "waiting_ahead": 1}
    ended = json.loads(out.encode(out.Ended("s1", "system")))
    assert ended == {"type": "ended", "session_id": "s1", "by": "system"}


def test_a_snapshot_message_lists_each_line_and_the_agents_by_status() -> None:
    line = QueueLine(
        "ASL",
        "phone",
        waiting=2,
        offered=1,
        longest_wait_s=95.25,
        online_agents=3,
        serving_agents=2,
        in_call_agents=1,
    )
    snapshot = QueueSnapshot(at=1795608039.6823, lines=(line,), agents={s: 0 for s in AgentStatus})
    wire = json.loads(out.encode(out.Snapshot(snapshot)))
    assert wire["type"] == "queue_snapshot"
    assert (wire["waiting"], wire["longest_wait_s"]) == (2, 95.2)
    assert wire["lines"] == [
        {
            "language": "ASL",
            "topic": "phone",
            "waiting": 2,
            "offered": 1,
            "longest_wait_s": 95.2,
            "online_agents": 3,
            "serving_agents": 2,
            "in_call_agents": 1,
        }
    ]
    assert set(wire["agents"]) == {s.value for s in AgentStatus}
