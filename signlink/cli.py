"""The `signlink` command line (also `python -m signlink`). Logging is configured here and only here."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from signlink import modelfiles
from signlink.accounts import command as user_command
from signlink.cases import command as centres_command
from signlink.config import Settings
from signlink.db import command as db_command
from signlink.errors import SignlinkError

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
        print(f"signlink is listening on {url}/  (Ctrl+C stops it)", flush=True)
        web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=None)
    return 0


def _models(settings: Settings, action: str) -> int:
    if action == "build":
        bundle, face = modelfiles.build(settings.model_dir)
        print(f"built {bundle} and {face}")
    else:
        bundle, face = modelfiles.verify(settings.model_dir)
        print(f"ok: {bundle} and {face} are intact")
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
