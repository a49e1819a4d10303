"""Which ICE candidates of a WHIP offer the server may send checks to: a count limit and an address policy.

An offer names the addresses the server's peer will send STUN checks to, so an unscreened offer could
point the server's UDP at any host and port (issue 11 item 8). Pure text and address functions: the
offer is screened before any WebRTC state exists.

- More than `max_candidates` candidate lines, a port outside 1..65535, a malformed line, an address
  no browser would send (multicast, unspecified, broadcast, reserved) or a host name that is neither
  an IP address nor an mDNS `.local` name: 400, nothing started.
- A well-formed candidate outside the operator's policy (`SIGNLINK_CHECK_REMOTE_NETWORKS`), or not UDP
  (aioice uses only UDP): dropped from the offer, logged at debug. The browser can still reach the
  server: its checks to the server's own candidates work whatever it listed.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass

from signlink.errors import BadRequest

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Named address classes an operator may list beside CIDRs.
KEYWORDS: dict[str, tuple[str, ...]] = {
    "private": ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"),
    "link-local": ("169.254.0.0/16", "fe80::/10"),
    "loopback": ("127.0.0.0/8", "::1/128"),
}
PUBLIC = "public"  # every globally routable unicast address (ipaddress's is_global)
MDNS = "mdns"  # `<uuid>.local` host names, resolved by multicast DNS on the server's LAN (off by default)
DEFAULT_NETWORKS = (PUBLIC, "private")
_CANDIDATE = "a=candidate:"


def _nonsense(address: IPAddress) -> str | None:
    """Why no browser would offer this address, or None."""
    if address.is_unspecified:
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv4Address) and (
        address == ipaddress.IPv4Address("255.255.255.255") or address in ipaddress.IPv4Network("240.0.0.0/4")
    ):
        return "broadcast or reserved"
    return None


@dataclass(frozen=True)
class AddressPolicy:
    """The remote addresses the check's peer may send to."""

    networks: tuple[Network, ...]
    public: bool
    mdns: bool = False

    @classmethod
    def parse(cls, entries: tuple[str, ...], *, allow_loopback: bool = False) -> AddressPolicy:
        """From the setting: CIDRs and the names public, private, link-local, loopback.

        `allow_loopback`: the server itself gathers on loopback (a loopback-only test network), so a
        loopback candidate can only be the client on the same host.
        """
        networks: list[Network] = []
        public = mdns = False
        for entry in entries:
            name = entry.strip().lower()
            if name == PUBLIC:
                public = True
            elif name == MDNS:
                mdns = True
            elif name in KEYWORDS:
                networks += [ipaddress.ip_network(cidr) for cidr in KEYWORDS[name]]
            else:
                try:
                    networks.append(ipaddress.ip_network(name, strict=False))
                except ValueError as exc:
                    raise ValueError(
                        f"{entry!r} is neither a network (CIDR) nor one of "
                        f"{', '.join([PUBLIC, *KEYWORDS, MDNS])}"
                    ) from exc
        if allow_loopback:
            networks += [ipaddress.ip_network(cidr) for cidr in KEYWORDS["loopback"]]
        return cls(networks=tuple(networks), public=public, mdns=mdns)

    def allows(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        if _nonsense(ip) is not None:
            return False
        if self.public and ip.is_global:
            return True
        return any(ip.version == net.version and ip in net for net in self.networks)


def _bad(reason: str) -> BadRequest:
    return BadRequest(f"refused ICE candidate: {reason}", code="bad_candidate")


def _check_port(text: str, what: str) -> None:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise _bad(f"{what} {text[:12]!r} is not a port (1-65535)")


def _keep(line: str, policy: AddressPolicy) -> bool:
    """Validate one `a=candidate:` line; whether the policy keeps it. BadRequest on nonsense."""
    fields = line[len(_CANDIDATE) :].split()
    # foundation component transport priority address port "typ" type [extensions]
    if len(fields) < 8 or fields[6] != "typ" or not fields[1].isdigit() or not fields[3].isdigit():
        raise _bad(f"malformed line {line[:60]!r}")
    transport, host, port = fields[2].lower(), fields[4], fields[5]
    _check_port(port, "port")
    extensions = fields[8:]
    for key, value in zip(extensions[::2], extensions[1::2], strict=False):
        if key == "rport":
            _check_port(value, "rport")
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        if host.lower().endswith(".local") and len(host) <= 255:
            # With camera permission browsers show their real addresses; mDNS names only if allowed.
            return transport == "udp" and policy.mdns
        raise _bad(f"{host[:40]!r} is neither an IP address nor an mDNS .local name") from None
    why = _nonsense(ip)
    if why is not None:
        raise _bad(f"{host} is a {why} address")
    return transport == "udp" and policy.allows(host)


@dataclass(frozen=True)
class Screened:
    sdp: str
    kept: int
    dropped: int


def screen(sdp: str, policy: AddressPolicy, max_candidates: int) -> Screened:
    """The offer with only the candidates the policy allows; BadRequest for too many or nonsense."""
    lines = sdp.replace("\r\n", "\n").rstrip("\n").split("\n")
    count = sum(1 for line in lines if line.startswith(_CANDIDATE))
    if count > max_candidates:
        raise BadRequest(
            f"the offer has {count} ICE candidates; at most {max_candidates} are accepted",
            code="too_many_candidates",
        )
    out: list[str] = []
    dropped = 0
    for line in lines:
        if line.startswith(_CANDIDATE) and not _keep(line, policy):
            dropped += 1
            log.debug("offer candidate dropped by the address policy: %s", line[:120])
            continue
        out.append(line)
    return Screened(sdp="\r\n".join(out) + "\r\n", kept=count - dropped, dropped=dropped)
