"""Staff accounts (agents, QA, supervisors, admins): models, password hashing, the Redis store."""

from signlink.accounts.models import Account, Role, Session
from signlink.accounts.passwords import Passwords
from signlink.accounts.store import AccountStore

__all__ = ["Account", "AccountStore", "Passwords", "Role", "Session"]
