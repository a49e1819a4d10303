"""The WHIP offer's candidates: the count limit, port and address validation, the operator's policy."""

from __future__ import annotations

import pytest

from signlink.check.candidates import DEFAULT_NETWORKS, AddressPolicy, screen
from signlink.errors import BadRequest

HEAD = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"


def cand(host: str, port: object = 50000, transport: str = "udp", extra: str = "") -> str:
    return f"a=candidate:1 1 {transport} 2130706431 {host} {port} typ host{extra}"


def offer(*lines: str) -> str:
    return HEAD + "".join(f"{line}\r\n" for line in lines)


def kept(policy: AddressPolicy, *lines: str) -> list[str]:
    result = screen(offer(*lines), policy, 20)
    return [line for line in result.sdp.splitlines() if line.startswith("a=candidate:")]


DEFAULT = AddressPolicy.parse(DEFAULT_NETWORKS)


def test_the_default_keeps_what_a_browser_on_a_lan_or_the_internet_sends() -> None:
    lines = [
        cand("192.168.1.20"),
        cand("10.0.0.5"),
        cand("100.64.3.4"),
        cand("8.8.4.4"),
        cand("2a00:1450::1"),
    ]
    assert kept(DEFAULT, *lines) == lines


def test_the_default_drops_loopback_link_local_documentation_tcp_and_mdns() -> None:
    lines = [
        cand("127.0.0.1"),
        cand("::1"),
        cand("169.254.10.1"),
        cand("fe80::1"),
        cand("192.0.2.7"),  # documentation range: neither public nor private
        cand("192.168.1.20", 9, "tcp", " tcptype active"),
        cand("3f2a1b9e-0000-4000-8000-000000000000.local"),
    ]
    assert kept(DEFAULT, *lines) == []


def test_loopback_is_kept_when_the_server_itself_gathers_on_loopback() -> None:
    policy = AddressPolicy.parse(DEFAULT_NETWORKS, allow_loopback=True)
    assert kept(policy, cand("127.0.0.1"), cand("::1")) == [cand("127.0.0.1"), cand("::1")]


def test_an_operator_can_narrow_the_policy_to_named_networks() -> None:
    policy = AddressPolicy.parse(("10.20.0.0/16", "mdns"))
    lines = [cand("10.20.1.1"), cand("10.21.1.1"), cand("8.8.4.4"), cand("x.local")]
    assert kept(policy, *lines) == [cand("10.20.1.1"), cand("x.local")]


@pytest.mark.parametrize("entry", ["everything", "10.0.0.0/33", "", "300.1.1.1"])
def test_a_bad_policy_entry_is_refused(entry: str) -> None:
    with pytest.raises(ValueError, match="CIDR"):
        AddressPolicy.parse((entry,))


def test_more_candidates_than_the_limit_is_400() -> None:
    lines = [cand("192.168.1.20", 40000 + i) for i in range(21)]
    with pytest.raises(BadRequest) as caught:
        screen(offer(*lines), DEFAULT, 20)
    assert caught.value.code == "too_many_candidates" and "21" in str(caught.value)
    assert screen(offer(*lines[:20]), DEFAULT, 20).kept == 20


@pytest.mark.parametrize(
    "line",
    [
        cand("192.168.1.20", 70000),  # once an OverflowError deep in aioice
        cand("192.168.1.20", 0),
        cand("192.168.1.20", -1),
        cand("192.168.1.20", "http"),
        cand("192.168.1.20", 50000, extra=" raddr 0.0.0.0 rport 99999"),
        cand("224.0.0.251"),
        cand("ff02::1"),
        cand("0.0.0.0"),
        cand("::"),
        cand("255.255.255.255"),
        cand("240.0.0.1"),
        cand("evil.example.com"),
        "a=candidate:1 1 udp",
        "a=candidate:1 x udp 1 192.168.1.20 5000 typ host",
    ],
)
def test_nonsense_candidates_are_400_never_dropped_quietly(line: str) -> None:
    with pytest.raises(BadRequest) as caught:
        screen(offer(line), DEFAULT, 20)
    assert caught.value.code == "bad_candidate"
    assert caught.value.status == 400
