"""E-mail through a real SMTP server (aiosmtpd on loopback, started here): the call-back link in the
customer's language, what arrives read back from the server."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis

from signlink.accounts import Role
from signlink.config import Settings
from signlink.errors import BackendUnavailable, ConfigError
from signlink.videomail import mailer
from signlink.web.app import create_app
from tests.support.redis_proc import free_port
from tests.support.staff import add_account, csrf_token, login
from tests.videomail.test_video_mail_api import VIDEO, announce, upload_from

App = TestClient[Any, Any]


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[Envelope, EmailMessage]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((envelope, parsed))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


async def test_english_and_chinese_content(settings: Settings, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    mail_settings = settings.replace(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
    for locale, words in (("en", "Open this link"), ("zh-CN", "请打开下面的链接")):
        message = mailer.compose(
            mail_settings, "li@example.com", locale, "callback", language="CSL", link="http://x/"
        )
        await mailer.send(mail_settings, message)
        envelope, got = inbox.messages[-1]
        assert envelope.rcpt_tos == ["li@example.com"]
        body = got.get_body(("plain",))
        assert body is not None and words in body.get_content() and "http://x/" in body.get_content()


async def test_no_server_configured_or_reachable_is_a_clear_error(settings: Settings) -> None:
    message = mailer.compose(settings, "li@example.com", "en", "callback", language="CSL", link="http://x/")
    with pytest.raises(ConfigError, match="SIGNLINK_SMTP_HOST"):
        await mailer.send(settings, message)
    away = settings.replace(smtp_host="127.0.0.1", smtp_port=free_port(), smtp_starttls=False)
    with pytest.raises(BackendUnavailable, match="SMTP"):
        await mailer.send(away, message)


async def test_agent_calls_back_by_e_mail_with_a_link_to_the_start_with_details(
    aiohttp_client: AiohttpClient, settings: Settings, redis: Redis, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    config = settings.replace(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
        video_mail_chunk_bytes=4096,
        public_url="https://help.example.com",
    )
    app: App = await aiohttp_client(create_app(config))
    created = await announce(app)  # zh-CN customer, CSL, phone, Mate 60, li@example.com
    await upload_from(app, created, 0, len(VIDEO))
    auth = {"Authorization": f"Bearer {created['token']}"}
    assert (await app.post(f"{created['upload_url']}/send", headers=auth)).status == 200
    await add_account(config, redis, "ana", role=Role.AGENT, languages=("CSL",))
    await login(app, "ana")
    token = await csrf_token(app)
    response = await app.post(
        f"/api/staff/video-mail/{created['id']}/call-back", headers={"X-CSRF-Token": token}
    )
    body = await response.json()
    assert response.status == 200 and body["emailed"] is True
    link = "https://help.example.com/?language=CSL&topic=phone&lang=zh-CN&device_model=Mate+60"
    assert body["link"] == link
    ((envelope, got),) = inbox.messages
    assert envelope.rcpt_tos == ["li@example.com"] and got["Subject"] == "手语客服准备好给您回电（视频）"
    text = got.get_body(("plain",))
    assert text is not None and link in text.get_content() and "中国手语" in text.get_content()
