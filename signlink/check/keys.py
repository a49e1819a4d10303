"""Every Redis key and channel of check/, built in one place from the deployment's prefix.

The Redis seam (issue 8 part 2) will hand in a namespace object; until then these follow the
prefix style of the other stores (`{prefix}:...`), so adapting them is one edit here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CheckKeys:
    prefix: str

    def latest(self, verdict_id: str) -> str:
        """The waiting room's latest watched state of a customer's check (string, JSON, TTL)."""
        return f"{self.prefix}:check:latest:{verdict_id}"

    def owner(self, check_id: str) -> str:
        """Which process holds a live check's peer (string, TTL refreshed while it lives)."""
        return f"{self.prefix}:check:owner:{check_id}"

    def requests(self, process_id: str) -> str:
        """Pub/sub channel: requests for the checks a process holds (events, DELETE) from any process."""
        return f"{self.prefix}:check:to:{process_id}"

    def replies(self, request_id: str) -> str:
        """Pub/sub channel: the owner's answers to one forwarded request (events stream or DELETE)."""
        return f"{self.prefix}:check:reply:{request_id}"
