"""E-mail to customers through the configured SMTP server (aiosmtplib), in the customer's language.

Content is plain text (readable by any client and by screen readers); each message names why it was
sent and the one link that brings the customer back to a video call. No SMTP host set: `send` raises
ConfigError, which the API answers as "e-mail is not configured" (the link is still shown on screen).
"""

from __future__ import annotations

import logging
from email.message import EmailMessage

import aiosmtplib

from signlink.config import Settings
from signlink.errors import BackendUnavailable, ConfigError

log = logging.getLogger(__name__)
TIMEOUT_S = 10.0

TEXTS = {
    "en": {
        "callback.subject": "An agent is ready to call you back in sign language",
        "callback.body": (
            "Hello,\n\nthank you for your video message. An agent who signs {language} would like to talk "
            "with you by video.\n\nOpen this link to start the video call (your sign language, topic and "
            "device are already filled in):\n{link}\n\nNo phone call: everything happens by video in sign "
            "language.\n\nsignlink video support\n"
        ),
    },
    "zh-CN": {
        "callback.subject": "手语客服准备好给您回电（视频）",
        "callback.body": (
            "您好，\n\n感谢您的视频留言。一位会{language}的客服希望通过视频与您交流。\n\n"
            "请打开下面的链接开始视频通话（您的手语、主题和设备已经填好）：\n{link}\n\n"
            "不会打电话：全程用手语视频交流。\n\nsignlink 视频客服\n"
        ),
    },
}


def compose(settings: Settings, to: str, locale: str, kind: str, **values: str) -> EmailMessage:
    texts = TEXTS.get(locale, TEXTS["en"])
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = texts[f"{kind}.subject"]
    message.set_content(texts[f"{kind}.body"].format(**values))
    return message


async def send(settings: Settings, message: EmailMessage) -> None:
    if not settings.smtp_host:
        raise ConfigError("e-mail is not configured (SIGNLINK_SMTP_HOST is empty)")
    try:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            start_tls=settings.smtp_starttls,
            timeout=TIMEOUT_S,
        )
    except (aiosmtplib.SMTPException, OSError) as exc:
        log.warning("e-mail to a customer failed: %s", exc)
        raise BackendUnavailable(f"the SMTP server did not take the e-mail: {exc}") from exc
