"""Queue errors beyond the common hierarchy in signlink/errors.py (all map to HTTP 409)."""

from __future__ import annotations

from signlink.errors import Conflict


class NotServed(Conflict):
    """No online agent could serve this language and topic: said at once instead of queueing.

    `languages`: the sign languages some online agent serves now; `topics`: the topics served now in
    the language asked for (empty if that language is not served at all).
    """

    code = "not_served"

    def __init__(self, message: str, *, languages: tuple[str, ...], topics: tuple[str, ...]) -> None:
        super().__init__(message)
        self.languages = languages
        self.topics = topics


class AlreadyQueued(Conflict):
    """This customer already has an active ticket (`ticket_id`): resume it rather than join again."""

    code = "already_queued"

    def __init__(self, message: str, *, ticket_id: str) -> None:
        super().__init__(message)
        self.ticket_id = ticket_id


class Closed(Conflict):
    """The offer, session or ticket is no longer open (answered, expired, ended, abandoned)."""

    code = "closed"


class OfferExpired(Closed):
    """The offer passed its deadline before the agent accepted it."""

    code = "offer_expired"
