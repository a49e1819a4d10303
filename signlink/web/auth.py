"""Staff authentication for the web: session cookies, role checks, CSRF and the login/logout pages.

- A session is an unguessable id in an HttpOnly, SameSite=Strict cookie (Secure and `__Host-` named
  when `secure_cookies`); its state lives in Redis, so any process validates it. Login rotates it,
  logout deletes it server-side.
- Every POST/PUT/PATCH/DELETE must come from our own origin (Origin / Sec-Fetch-Site). One that carries
  a session must also carry the session's CSRF token (header X-CSRF-Token or form field csrf_token);
  pages get the token through `csrf_token(request)` (a `<meta name="csrf-token">` for fetch()).
- Handlers use `@require_role(Role.AGENT)` and `current_account(request)`.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from aiohttp import web
from multidict import MultiDictProxy

from signlink.accounts import Account, AccountStore, Passwords, Role, Session
from signlink.accounts.models import USERNAME_RE, normalise_username
from signlink.config import Settings
from signlink.errors import Forbidden
from signlink.redisio import is_cluster, keyspace_for
from signlink.web import keys, redirects
from signlink.web.render import render

log = logging.getLogger(__name__)

COOKIE = "signlink_session"
# The __Host- prefix makes browsers refuse the cookie unless it is Secure, host-only and Path=/.
SECURE_COOKIE = "__Host-signlink_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ROLE_HOME = {Role.AGENT: "/agent", Role.QA: "/qa", Role.SUPERVISOR: "/qa", Role.ADMIN: "/qa"}
# Paths that never need to know who is asking: no Redis lookup for them.
_ANONYMOUS_PREFIXES = ("/static/", "/healthz")
# Logging in replaces the session anyway (a stale tab's form must still work); the Origin check
# guards it against cross-site posts.
_CSRF_EXEMPT = frozenset({"/login"})
# Customer endpoints act with a ticket token or check id, never with the staff session, so a staff
# cookie in the same browser (an agent trying the customer pages) must not make them need its token.
_CUSTOMER_API_PREFIXES = (
    "/api/checks",
    "/api/verdicts/",
    "/api/tickets",
    "/api/ratings",
    "/api/video-mail",
    "/api/mycase/",
)


@dataclass(frozen=True)
class Auth:
    account: Account
    session: Session


AUTH = web.RequestKey("signlink_auth", Auth)

R = TypeVar("R", bound=web.StreamResponse)
Handler = Callable[[web.Request], Awaitable[R]]


# Helpers for other handlers


def current_account(request: web.Request) -> Account | None:
    """The logged-in, enabled staff account of this request, or None."""
    auth = request.get(AUTH)
    return auth.account if auth else None


def csrf_token(request: web.Request) -> str | None:
    """The token a page embeds (meta tag / hidden field) so its POSTs pass; None when not logged in."""
    auth = request.get(AUTH)
    return auth.session.csrf_token if auth else None


def require_role(*roles: Role) -> Callable[[Handler[R]], Handler[R | web.Response]]:
    """Let the handler run only for a logged-in account with one of `roles` (ADMIN passes every check).

    Not logged in: pages (GET/HEAD outside /api/) redirect to /login?next=<this page>; everything else
    answers 401 JSON. Logged in with another role: 403.
    """
    allowed = frozenset(roles)

    def decorate(handler: Handler[R]) -> Handler[R | web.Response]:
        @functools.wraps(handler)
        async def guarded(request: web.Request) -> R | web.Response:
            account = current_account(request)
            if account is None:
                return _unauthenticated(request)
            if account.role not in allowed and account.role is not Role.ADMIN:
                raise Forbidden("your account's role may not open this")
            return await handler(request)

        return guarded

    return decorate


def check_origin(request: web.Request) -> None:
    """Refuse a request a browser sent from another site. WebSocket handlers call this on upgrade."""
    settings = request.app[keys.SETTINGS]
    origin = request.headers.get("Origin")
    if origin is not None and origin in settings.allowed_origins:
        return  # first: an allowed origin may be another site (a WHIP client page elsewhere)
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        raise Forbidden("cross-site requests are not accepted")
    if origin is None:
        return  # not a browser, or one too old to say; SameSite cookies still protect sessions
    if origin == "null" or urlsplit(origin).netloc.lower() != request.host.lower():
        raise Forbidden("cross-origin requests are not accepted")


def safe_next(value: str | None) -> str | None:
    """A same-site path to go to after login (never back to /login or /logout), else None."""
    path = redirects.safe_next(value)
    if path is None or urlsplit(path).path in ("/login", "/logout"):
        return None
    return path


def client_address(request: web.Request) -> str:
    """The address limits count against (logins, tickets, ratings, checks): behind a trusted proxy the
    last X-Forwarded-For hop it did not add; IPv6 by /64, what one subscriber usually holds."""
    trusted = request.app[keys.SETTINGS].trusted_proxies
    remote = request.remote or "unknown"
    if remote in trusted:
        hops = [h.strip() for h in ",".join(request.headers.getall("X-Forwarded-For", [])).split(",")]
        remote = next((hop for hop in reversed(hops) if hop and hop not in trusted), remote)
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return remote
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def cookie_name(settings: Settings) -> str:
    return SECURE_COOKIE if settings.secure_cookies else COOKIE


def set_session_cookie(response: web.StreamResponse, settings: Settings, session: Session) -> None:
    response.set_cookie(
        cookie_name(settings),
        session.id,
        max_age=settings.session_lifetime_s,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=settings.secure_cookies,
    )


def clear_session_cookie(response: web.StreamResponse, settings: Settings) -> None:
    response.del_cookie(
        cookie_name(settings), path="/", httponly=True, samesite="Strict", secure=settings.secure_cookies
    )


# The middleware


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler[web.StreamResponse]) -> web.StreamResponse:
    unsafe = request.method in UNSAFE_METHODS
    if unsafe:
        check_origin(request)
    settings = request.app[keys.SETTINGS]
    session_id = request.cookies.get(cookie_name(settings))
    stale = False
    if session_id and not request.path.startswith(_ANONYMOUS_PREFIXES):
        auth = await _authenticate(request.app[keys.ACCOUNTS], session_id)
        if auth is None:
            stale = True
        else:
            request[AUTH] = auth
            customer_api = request.path.startswith(_CUSTOMER_API_PREFIXES)
            if unsafe and request.path not in _CSRF_EXEMPT and not customer_api:
                await _check_csrf(request, auth.session)
    response = await handler(request)
    # Forget a dead cookie, unless this very response (a login) sets a new one.
    if stale and not response.prepared and cookie_name(settings) not in response.cookies:
        clear_session_cookie(response, settings)
    return response


async def _authenticate(store: AccountStore, session_id: str) -> Auth | None:
    session = await store.session(session_id)
    if session is None:
        return None
    account = await store.get(session.username)
    if account is None or account.disabled:
        await store.delete_session(session_id)
        return None
    return Auth(account, session)


async def _check_csrf(request: web.Request, session: Session) -> None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        value = (await request.post()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
        raise Forbidden("missing or wrong CSRF token; reload the page and try again")


def _unauthenticated(request: web.Request) -> web.Response:
    is_page = request.method in ("GET", "HEAD") and not request.path.startswith("/api/")
    if is_page and request.headers.get("Upgrade", "").lower() != "websocket":
        return _see_other(f"/login?next={quote(request.path_qs, safe='')}")
    return web.json_response({"error": "unauthorized", "message": "log in first"}, status=401)


# Login and logout


async def login_page(request: web.Request) -> web.Response:
    return _login_form(request, next_path=safe_next(request.query.get("next")))


async def login(request: web.Request) -> web.Response:
    app, settings = request.app, request.app[keys.SETTINGS]
    store, passwords = app[keys.ACCOUNTS], app[keys.PASSWORDS]
    form = await request.post()
    typed = _field(form, "username")[:256]
    password = _field(form, "password")
    next_path = safe_next(_field(form, "next"))
    address = client_address(request)

    retry_after = await store.login_attempt(
        typed,
        address,
        window_s=settings.login_window_s,
        per_user=settings.login_max_per_user,
        per_address=settings.login_max_per_address,
        per_user_overall=settings.login_max_per_user_overall,
    )
    if retry_after:
        log.warning("login refused: too many attempts (address %s)", address)
        minutes = max(1, -(-retry_after // 60))
        response = _login_form(request, next_path, "login.error.too_many", typed, status=429, minutes=minutes)
        response.headers["Retry-After"] = str(retry_after)
        return response

    username = normalise_username(typed)
    found = await store.credentials(username) if USERNAME_RE.fullmatch(username) else None
    # An unknown name is checked against a dummy hash: both paths cost one argon2 verify.
    matched = await passwords.verify(found[1] if found else None, password)
    if found is None or not matched:
        log.info("failed login for %s from %s", username if found else "an unknown username", address)
        return _login_form(request, next_path, "login.error.wrong", typed, status=401)

    account, stored_hash = found
    await store.login_succeeded(typed, address)
    if account.disabled:
        log.info("login refused: account %s is disabled", account.username)
        return _login_form(request, next_path, "login.error.disabled", typed, status=403)
    if passwords.needs_rehash(stored_hash):
        await store.set_password_hash(account.username, await passwords.hash(password), revoke=False)

    # Rotate: whatever session this browser had ends; a fresh id is issued.
    old = request.get(AUTH)
    if old is not None:
        await store.delete_session(old.session.id)
    session = await store.create_session(account.username, settings.session_lifetime_s)
    log.info("account %s logged in from %s", account.username, address)
    response = _see_other(next_path or ROLE_HOME[account.role])
    set_session_cookie(response, settings, session)
    return response


async def logout(request: web.Request) -> web.Response:
    # The middleware has already checked the CSRF token of a logged-in request.
    settings = request.app[keys.SETTINGS]
    auth = request.get(AUTH)
    if auth is not None:
        await request.app[keys.ACCOUNTS].delete_session(auth.session.id)
        log.info("account %s logged out", auth.account.username)
    response = _see_other("/login")
    clear_session_cookie(response, settings)
    return response


def _see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def _field(form: MultiDictProxy[Any], name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _login_form(
    request: web.Request,
    next_path: str | None,
    error_key: str = "",
    username: str = "",
    status: int = 200,
    **values: int,
) -> web.Response:
    account = current_account(request)
    return render(
        request,
        "login.html",
        status=status,
        account=account,
        home=ROLE_HOME[account.role] if account else "",
        csrf_token=csrf_token(request) or "",
        error_key=error_key,
        error_values=values,
        username=username,
        next_path=next_path or "",
    )


# Wiring


async def _accounts_ctx(app: web.Application) -> AsyncIterator[None]:
    from signlink.web import limits  # it uses client_address from here

    redis, settings = app[keys.REDIS], app[keys.SETTINGS]
    space = keyspace_for(settings, cluster=is_cluster(redis))
    app[keys.ACCOUNTS] = AccountStore(redis, space)
    app[limits.LIMITS] = limits.RequestLimits(redis, space, settings)  # anonymous endpoints
    yield


def setup(app: web.Application) -> None:
    """Install the middleware and the account store; call after the Redis cleanup context is added."""
    app[keys.PASSWORDS] = Passwords()
    app.middlewares.append(auth_middleware)
    app.cleanup_ctx.append(_accounts_ctx)
