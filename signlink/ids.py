"""The shared vocabulary of identifiers: the id and token alphabets, and minting customer tokens.

Queue, protocol and web check ids and tokens with these patterns and nothing else:
- ID: what the queue makes and names things by (tickets, offers, sessions, agents, verdicts): 1-64 of
  letters, digits and `_.:@-`.
- CLIENT_ID: ids a client makes itself (a chat message's uuid): 1-64 URL-safe characters.
- TOKEN: a customer's bearer token as it may come back (16-128 URL-safe characters). Only the server
  makes tokens (`mint_token`, 256 bits from `secrets`); a client's token is used only to resume.
"""

from __future__ import annotations

import re
import secrets

ID_MAX_CHARS = 64
ID = re.compile(r"[A-Za-z0-9_.:@-]{1,64}")
CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,128}")
TOKEN_MAX_CHARS = 128
TOKEN_BYTES = 32  # 256 bits; token_urlsafe writes 43 characters


def mint_token() -> str:
    """A new customer token: the only way one comes to exist."""
    return secrets.token_urlsafe(TOKEN_BYTES)
