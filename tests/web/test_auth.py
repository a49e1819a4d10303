"""Staff login through the real app: cookies, rate limits across processes, roles, CSRF, escaping."""

from __future__ import annotations

import hashlib
import html
from http.cookies import SimpleCookie

import pytest
from aiohttp import web
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis

from signlink.accounts import AccountStore, Role
from signlink.config import Settings
from signlink.web.app import create_app
from signlink.web.auth import COOKIE, SECURE_COOKIE, current_account, require_role, safe_next
from tests.support.staff import PASSWORD, Client, add_account, csrf_token, login


async def _whoami(request: web.Request) -> web.Response:
    account = current_account(request)
    return web.json_response({"user": account.username if account else None})


def make_app(settings: Settings) -> web.Application:
    """The real app plus tiny routes that stand for the agent console, the QA pages and a form."""
    app = create_app(settings)
    app.router.add_get("/test/agent", require_role(Role.AGENT)(_whoami))
    app.router.add_get("/test/qa", require_role(Role.QA, Role.SUPERVISOR)(_whoami))
    app.router.add_get("/api/test/qa", require_role(Role.QA)(_whoami))
    app.router.add_post("/test/form", require_role(Role.AGENT)(_whoami))
    app.router.add_post("/test/anyone", _whoami)
    return app


@pytest.fixture
async def client(aiohttp_client: AiohttpClient, settings: Settings) -> Client:
    return await aiohttp_client(make_app(settings))


def set_cookie(response_headers: object, name: str) -> SimpleCookie:
    cookie: SimpleCookie = SimpleCookie()
    for header in response_headers.getall("Set-Cookie", []):  # type: ignore[attr-defined]
        cookie.load(header)
    assert name in cookie, f"no {name} cookie set"
    return cookie


def session_cookie(client: Client) -> str:
    return next(c.value for c in client.session.cookie_jar if c.key == COOKIE)


# Logging in


async def test_login_sets_an_httponly_samesite_strict_session_cookie(
    client: Client, settings: Settings, redis: Redis
) -> None:
    await add_account(settings, redis)
    response = await login(client)
    assert response.status == 303
    assert response.headers["Location"] == "/agent"  # the agent's home
    morsel = set_cookie(response.headers, COOKIE)[COOKIE]
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Strict"
    assert morsel["path"] == "/"
    assert not morsel["secure"]
    assert int(morsel["max-age"]) == settings.session_lifetime_s
    # Stored server-side (hashed id) with an expiry: any process can validate it.
    digest = hashlib.sha256(morsel.value.encode()).hexdigest()
    assert 0 < await redis.ttl(f"signlink:staff-session:{digest}") <= settings.session_lifetime_s
    assert (await (await client.get("/test/agent")).json()) == {"user": "ana"}


async def test_secure_cookies_use_the_host_prefix_and_secure_flag(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis
) -> None:
    secure = settings.replace(secure_cookies=True)
    client = await aiohttp_client(make_app(secure))
    await add_account(secure, redis)
    morsel = set_cookie((await login(client)).headers, SECURE_COOKIE)[SECURE_COOKIE]
    assert morsel["secure"] is True and morsel["httponly"] is True and morsel["samesite"] == "Strict"


async def test_wrong_password_and_unknown_user_get_the_same_answer(
    client: Client, settings: Settings, redis: Redis
) -> None:
    await add_account(settings, redis)
    wrong = await login(client, password="not the password at all")
    unknown = await login(client, username="nobody")
    assert wrong.status == unknown.status == 401
    assert "Set-Cookie" not in wrong.headers or COOKIE not in wrong.headers["Set-Cookie"]
    wrong_html, unknown_html = await wrong.text(), await unknown.text()
    assert 'role="alert"' in wrong_html
    assert "Wrong username or password" in wrong_html and "Wrong username or password" in unknown_html
    assert (await client.get("/test/anyone", allow_redirects=False)).status == 405
    assert (await (await client.post("/test/anyone")).json()) == {"user": None}


async def test_qa_goes_to_qa_home_and_safe_next_is_followed(
    client: Client, settings: Settings, redis: Redis
) -> None:
    await add_account(settings, redis, "quinn", role=Role.QA)
    assert (await login(client, "quinn")).headers["Location"] == "/qa"
    response = await login(client, "quinn", next_path="/test/qa?x=1")
    assert response.headers["Location"] == "/test/qa?x=1"
    for evil in ("//evil.example/", "https://evil.example/", "/\\evil.example", "/login"):
        assert (await login(client, "quinn", next_path=evil)).headers["Location"] == "/qa"


@pytest.mark.parametrize("value", ["/agent", "/qa/sessions?agent=ana&from=2026-01-01"])
def test_safe_next_keeps_local_paths(value: str) -> None:
    assert safe_next(value) == value


async def test_login_rotates_the_session(client: Client, settings: Settings, redis: Redis) -> None:
    await add_account(settings, redis)
    await login(client)
    first = session_cookie(client)
    await login(client)
    second = session_cookie(client)
    assert first != second
    store = AccountStore(redis, settings.redis_prefix)
    assert await store.session(first) is None
    assert await store.session(second) is not None


async def test_a_dead_session_cookie_is_cleared_and_login_still_works(
    client: Client, settings: Settings, redis: Redis
) -> None:
    await add_account(settings, redis)
    client.session.cookie_jar.update_cookies({COOKIE: "expired-or-made-up"})
    response = await client.get("/login")
    assert set_cookie(response.headers, COOKIE)[COOKIE].value == ""  # told to forget it
    client.session.cookie_jar.update_cookies({COOKIE: "expired-or-made-up"})
    response = await login(client)
    assert response.status == 303
    assert set_cookie(response.headers, COOKIE)[COOKIE].value not in ("", "expired-or-made-up")
    assert (await client.get("/test/agent")).status == 200


async def test_disabled_account_cannot_log_in_and_is_logged_out(
    client: Client, settings: Settings, redis: Redis
) -> None:
    await add_account(settings, redis)
    await login(client)
    store = AccountStore(redis, settings.redis_prefix)
    await store.set_disabled("ana", True)
    assert (await client.get("/api/test/qa")).status == 401  # the open session no longer counts
    response = await login(client)
    assert response.status == 403
    assert "turned off" in await response.text()
    assert (await client.get("/test/agent", allow_redirects=False)).status == 303


# Rate limiting


async def test_rate_limit_is_shared_by_two_processes(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis
) -> None:
    await add_account(settings, redis)
    first = await aiohttp_client(make_app(settings))
    second = await aiohttp_client(make_app(settings))  # another process on the same Redis
    for _ in range(settings.login_max_per_user):
        assert (await login(first, password="guess guess guess")).status == 401
    blocked = await login(second, password="guess guess guess")
    assert blocked.status == 429
    assert 0 < int(blocked.headers["Retry-After"]) <= settings.login_window_s
    assert 'role="alert"' in await blocked.text()
    # Even the right password waits until the window has passed.
    assert (await login(second)).status == 429
    assert COOKIE not in {c.key for c in second.session.cookie_jar}


async def test_rate_limit_per_client_address(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis
) -> None:
    limited = settings.replace(login_max_per_address=3)
    client = await aiohttp_client(make_app(limited))
    await add_account(limited, redis)
    for name in ("a1", "a2", "a3"):
        assert (await login(client, name, "whatever whatever")).status == 401
    assert (await login(client, "a4", "whatever whatever")).status == 429
    assert (await login(client)).status == 429  # a real account from the same address too


async def test_a_successful_login_resets_the_username_count(
    client: Client, settings: Settings, redis: Redis
) -> None:
    await add_account(settings, redis)
    for _ in range(settings.login_max_per_user - 1):
        await login(client, password="guess guess guess")
    assert (await login(client)).status == 303
    for _ in range(settings.login_max_per_user - 1):
        assert (await login(client, password="guess guess guess")).status == 401


# Logout


async def test_logout_ends_the_session_server_side(client: Client, settings: Settings, redis: Redis) -> None:
    await add_account(settings, redis)
    await login(client)
    sid = session_cookie(client)
    token = await csrf_token(client)
    response = await client.post("/logout", data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/login"
    assert await AccountStore(redis, settings.redis_prefix).session(sid) is None
    # A copy of the old cookie is worth nothing now.
    replay = await client.get("/api/test/qa", cookies={COOKIE: sid})
    assert replay.status == 401


async def test_logout_without_csrf_token_is_refused(client: Client, settings: Settings, redis: Redis) -> None:
    await add_account(settings, redis)
    await login(client)
    assert (await client.post("/logout")).status == 403
    assert (await client.get("/test/agent")).status == 200


# Roles


async def test_require_role_anonymous_page_redirects_to_login(client: Client) -> None:
    response = await client.get("/test/qa?period=7d", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/login?next=%2Ftest%2Fqa%3Fperiod%3D7d"
    page = await client.get(response.headers["Location"])
    assert 'name="next" value="/test/qa?period=7d"' in await page.text()


async def test_require_role_anonymous_api_is_401(client: Client) -> None:
    response = await client.get("/api/test/qa")
    assert response.status == 401
    assert (await response.json())["error"] == "unauthorized"


async def test_require_role_wrong_role_is_403_right_role_200(
    client: Client, settings: Settings, redis: Redis
) -> None:
    await add_account(settings, redis)
    await login(client)
    assert (await client.get("/test/qa")).status == 403
    assert (await client.get("/api/test/qa")).status == 403
    assert (await client.get("/test/agent")).status == 200


async def test_supervisor_reaches_qa_pages_and_admin_reaches_all(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis
) -> None:
    await add_account(settings, redis, "sam", role=Role.SUPERVISOR)
    await add_account(settings, redis, "root", role=Role.ADMIN)
    sup = await aiohttp_client(make_app(settings))
    await login(sup, "sam")
    assert (await sup.get("/test/qa")).status == 200
    assert (await sup.get("/test/agent")).status == 403
    admin = await aiohttp_client(make_app(settings))
    await login(admin, "root")
    assert (await admin.get("/test/qa")).status == 200
    assert (await admin.get("/test/agent")).status == 200


# CSRF and cross-site requests


async def test_csrf_token_required_for_logged_in_posts(
    client: Client, settings: Settings, redis: Redis
) -> None:
    await add_account(settings, redis)
    await login(client)
    token = await csrf_token(client)
    assert (await client.post("/test/form")).status == 403
    assert (await client.post("/test/form", headers={"X-CSRF-Token": "x" * len(token)})).status == 403
    assert (await client.post("/test/form", data={"csrf_token": "nope"})).status == 403
    assert (await client.post("/test/form", headers={"X-CSRF-Token": token})).status == 200
    assert (await client.post("/test/form", data={"csrf_token": token, "a": "b"})).status == 200
    # A session's token is its own: another login gets another one.
    await login(client)
    assert await csrf_token(client) != token


async def test_cross_origin_posts_are_refused(client: Client, settings: Settings, redis: Redis) -> None:
    await add_account(settings, redis)
    own = f"http://{client.server.host}:{client.server.port}"
    # Not logged in: a cross-site login attempt (login CSRF) is refused before any password check.
    evil = await client.post(
        "/login", data={"username": "ana", "password": PASSWORD}, headers={"Origin": "https://evil.example"}
    )
    assert evil.status == 403
    assert (await client.post("/test/anyone", headers={"Sec-Fetch-Site": "cross-site"})).status == 403
    assert (await client.post("/test/anyone", headers={"Origin": "null"})).status == 403
    assert (await client.post("/test/anyone", headers={"Origin": own})).status == 200
    await login(client)
    token = await csrf_token(client)
    headers = {"X-CSRF-Token": token, "Origin": "https://evil.example"}
    assert (await client.post("/test/form", headers=headers)).status == 403
    headers["Origin"] = own
    assert (await client.post("/test/form", headers=headers)).status == 200


async def test_configured_extra_origin_is_allowed(aiohttp_client: AiohttpClient, settings: Settings) -> None:
    proxied = settings.replace(allowed_origins=("https://support.example.com",))
    client = await aiohttp_client(make_app(proxied))
    headers = {"Origin": "https://support.example.com"}
    assert (await client.post("/test/anyone", headers=headers)).status == 200
    headers = {"Origin": "https://other.example.com"}
    assert (await client.post("/test/anyone", headers=headers)).status == 403


# The login page


async def test_login_page_labels_fields_and_ties_errors_to_them(client: Client) -> None:
    page = await (await client.get("/login")).text()
    for field, kind, purpose in (
        ("username", "text", "username"),
        ("password", "password", "current-password"),
    ):
        assert f'<label for="{field}">' in page
        assert f'id="{field}" name="{field}" type="{kind}"' in page
        assert f'autocomplete="{purpose}"' in page
    assert 'role="alert"' not in page
    failed = await (await login(client, "ana", "wrong wrong wrong")).text()
    assert '<div id="login-error" class="login-error" role="alert">' in failed
    assert failed.count('aria-describedby="login-error"') == 2
    assert 'value="ana"' in failed  # the typed username is kept; the password never is
    assert "wrong wrong wrong" not in failed
    assert "<script>" not in page.split("</main>")[0].split("<main")[1]  # CSP: no inline script


async def test_login_page_in_chinese(client: Client) -> None:
    page = await (await client.get("/login?lang=zh-CN")).text()
    assert '<html lang="zh-CN">' in page
    assert "员工登录" in page and "用户名" in page and "密码" in page


async def test_display_names_and_typed_input_are_escaped(
    client: Client, settings: Settings, redis: Redis
) -> None:
    name = '<script>alert("x")</script> & <b>Co</b>'
    await add_account(settings, redis, display_name=name)
    failed = await (await login(client, '"><img src=x onerror=alert(1)>', "whatever whatever")).text()
    assert "<img src=x" not in failed
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in failed
    await login(client)
    page = await (await client.get("/login")).text()
    assert "<script>alert" not in page and "<b>Co</b>" not in page
    assert html.escape(name, quote=False).replace('"', "&#34;") in page
