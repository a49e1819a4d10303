"""The `signlink` command line (also `python -m signlink`). Logging is configured here and only here."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import sys
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from signlink import modelfiles
from signlink.accounts import Account
from signlink.accounts import command as user_command
from signlink.cases import command as centres_command
from signlink.config import Settings
from signlink.db import command as db_command
from signlink.errors import SignlinkError

if TYPE_CHECKING:
    from aiohttp import web

log = logging.getLogger("signlink")


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


async def _settle_gc(_app: object) -> None:
    # Everything loaded at start (models, libraries: ~1M objects) is kept for good: freezing it spares
    # every later full collection a scan of it, which otherwise stalls the event loop for 50-450 ms
    # (measured during benchmarks/relay.py) and with it every live call's signalling.
    gc.collect()
    gc.freeze()


ADD_COMMAND = (
    "    .venv/bin/signlink user add --username ana --name 'Ana Li' --role agent"
    " --languages CSL --topics phone"
)


def first_run_text(url: str, min_length: int, staff: Sequence[Account] | None) -> str:
    """What `signlink serve` prints: where each page is, the staff accounts there are (None: could
    not be read) and, when there is none, the exact command for the first one."""
    lines = [
        f"signlink is listening on {url}/  (Ctrl+C stops it)",
        f"  customers:      {url}/",
        f"  agent console:  {url}/agent   (staff login)",
        f"  QA dashboard:   {url}/qa      (staff login)",
    ]
    active = [a for a in staff or () if not a.disabled]
    if staff is not None and active:
        roles = Counter(a.role.value for a in active)
        counts = ", ".join(f"{n} {role}" for role, n in sorted(roles.items()))
        lines.append(f"  staff accounts: {counts}  (`signlink user list`; `signlink user add` adds one)")
        return "\n".join(lines)
    if staff is None:
        lines.append(
            "  staff accounts could not be read; if there is none yet, make one (in another terminal):"
        )
    else:
        none = "no staff account exists yet" if not staff else "every staff account is disabled"
        lines.append(f"  {none}: nobody can log in to /agent or /qa.")
        lines.append("  Make the first one (in another terminal):")
    lines += [
        ADD_COMMAND,
        f"  (it asks for a password of at least {min_length} characters; --password-stdin reads a pipe;",
        "   --role qa for the QA dashboard)",
        "  or, to try a call at once: .venv/bin/signlink demo  (a demo agent and QA account)",
    ]
    return "\n".join(lines)


def _announce(url: str, settings: Settings) -> Callable[[web.Application], Awaitable[None]]:
    async def announce(app: web.Application) -> None:
        # After the app's own start-up (its Redis is open): the accounts there are now.
        from signlink.web import keys

        try:
            staff: list[Account] | None = await app[keys.ACCOUNTS].list_accounts()
        except SignlinkError as exc:
            log.warning("cannot list the staff accounts: %s", exc)
            staff = None
        print(first_run_text(url, settings.password_min_length, staff), flush=True)

    return announce


def _serve(settings: Settings) -> int:
    from aiohttp import web

    from signlink.redis_server import DEFAULT_HOST, DEFAULT_PORT, EmbeddedRedis, is_listening
    from signlink.web.app import create_app

    modelfiles.verify(settings.model_dir)
    with contextlib.ExitStack() as stack:
        if not settings.redis_url:
            if is_listening(DEFAULT_HOST, DEFAULT_PORT):
                url = f"redis://{DEFAULT_HOST}:{DEFAULT_PORT}/0"
                log.info("using the Redis already listening on %s", url)
            else:
                url = stack.enter_context(EmbeddedRedis(settings.data_dir)).url
            settings = settings.replace(redis_url=url)
        if not settings.database_url:
            # The embedded default (like Redis): a local or private PostgreSQL, migrated here.
            from signlink.db.command import _migrate
            from signlink.db.locate import resolve

            db_url = resolve(settings.database_name, settings.data_dir, stack)
            asyncio.run(_migrate(db_url))
            settings = settings.replace(database_url=db_url)
        app = create_app(settings)
        app.on_startup.append(_settle_gc)
        shown_host = "localhost" if settings.host in ("127.0.0.1", "0.0.0.0") else settings.host
        url = f"http://{shown_host}:{settings.port}"
        app.on_startup.append(_announce(url, settings))
        web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=None)
    return 0


def _models(settings: Settings, action: str) -> int:
    names = ", ".join(modelfiles.MODEL_FILES)
    if action == "build":
        modelfiles.build(settings.model_dir)
        print(f"built {names} in {settings.model_dir}")
    else:
        modelfiles.verify(settings.model_dir)
        print(f"ok: {names} in {settings.model_dir} are intact")
    return 0


def _check(settings: Settings, video: Path, as_json: bool) -> int:
    """Run the live check's analyser over a video file: 0 passed, 1 failed (2: unreadable, via main)."""
    import json

    from signlink.check.videofile import check_file
    from signlink.quality.summary import describe

    hand_model, face_model = modelfiles.verify(settings.model_dir)
    result = check_file(
        video,
        hand_model,
        face_model,
        window_s=settings.check_window_s,
        analysis_fps=settings.check_analysis_fps,
    )
    verdict = result.verdict
    if as_json:
        report = {"file": str(video), "media_s": round(result.media_s, 3), **verdict.to_dict()}
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(describe(verdict, name=str(video), media_s=result.media_s, window_s=settings.check_window_s))
    return 0 if verdict.passed else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="signlink", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the web service (settings from SIGNLINK_* variables)")
    models = commands.add_parser("models", help="build or verify the hand and face models")
    models.add_argument("action", choices=["build", "verify"])
    check = commands.add_parser("check", help="check a video file as the live camera check would")
    check.add_argument("video", type=Path, help="the video file (any format ffmpeg reads)")
    check.add_argument("--json", action="store_true", help="print the verdict as JSON")
    user_command.add_parser(commands)
    user_command.add_demo_parser(commands)
    db_command.add_parser(commands)
    centres_command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        _configure_logging(settings.log_level)
        if args.command == "serve":
            return _serve(settings)
        if args.command == "models":
            return _models(settings, args.action)
        if args.command == "check":
            return _check(settings, args.video, args.json)
        if args.command == "user":
            return user_command.run(settings, args)
        if args.command == "demo":
            return user_command.run_demo(settings)
        if args.command == "db":
            return db_command.run(settings, args)
        if args.command == "centres":
            return centres_command.run(settings, args)
    except SignlinkError as exc:
        print(f"signlink: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 2
