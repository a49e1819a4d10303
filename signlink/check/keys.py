"""Every Redis key and channel of check/, built in one place through the deployment's Keyspace
(`<root>:check:...`, redisio/keyspace.py): on Cluster they carry the queue's hash tag."""

from __future__ import annotations

from dataclasses import dataclass

from signlink.redisio import Keyspace


@dataclass(frozen=True)
class CheckKeys:
    keys: Keyspace

    def latest(self, verdict_id: str) -> str:
        """The waiting room's latest watched state of a customer's check (string, JSON, TTL)."""
        return self.keys.key("check", "latest", verdict_id)

    def owner(self, check_id: str) -> str:
        """Which process holds a live check's peer (string, TTL refreshed while it lives)."""
        return self.keys.key("check", "owner", check_id)

    def requests(self, process_id: str) -> str:
        """Pub/sub channel: requests for the checks a process holds (events, DELETE) from any process."""
        return self.keys.key("check", "to", process_id)

    def replies(self, request_id: str) -> str:
        """Pub/sub channel: the owner's answers to one forwarded request (events stream or DELETE)."""
        return self.keys.key("check", "reply", request_id)
