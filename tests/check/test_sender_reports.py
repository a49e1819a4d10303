"""Sender reports: the page's getStats figures reach the live check, validated at the edge."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from signlink.check.sender import SenderReport, TakesSenderReports, parse_report
from signlink.errors import BadRequest
from signlink.web import keys
from tests.check.conftest import App
from tests.check.whip_client import EncodedClip, Publication, events

Publisher = Callable[[App, EncodedClip], Awaitable[Publication]]
StartApp = Callable[..., Awaitable[App]]
GOOD = {
    "fps": 29.5,
    "bitrate_kbps": 850.0,
    "quality_limitation_reason": "bandwidth",
    "packet_loss": 0.02,
    "frames_encoded": 1200,
    "track_muted": False,
}


def test_a_full_report_parses_with_the_servers_clock() -> None:
    assert parse_report(GOOD, 12.5) == SenderReport(12.5, 29.5, 850.0, "bandwidth", 0.02, 1200, False)
    assert parse_report({}, 0.0) == SenderReport(0.0, None, None, None, None, None, None)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "object"),
        ({"fps": "30"}, "fps"),
        ({"fps": True}, "fps"),
        ({"fps": 1e9}, "fps"),
        ({"bitrate_kbps": -1}, "bitrate_kbps"),
        ({"packet_loss": 1.5}, "packet_loss"),
        ({"frames_encoded": 1.5}, "frames_encoded"),
        ({"frames_encoded": -1}, "frames_encoded"),
        ({"quality_limitation_reason": "aliens"}, "quality_limitation_reason"),
        ({"track_muted": "no"}, "track_muted"),
        ({"t_s": 3}, "t_s"),  # the clock is the server's
    ],
)
def test_bad_reports_name_the_field(body: object, field: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_report(body, 0.0)
    assert caught.value.code == "bad_report" and field in str(caught.value)


async def test_reports_reach_the_live_check_and_bad_ones_are_400(
    start_app: StartApp, publisher: Publisher, no_hands_clip: EncodedClip
) -> None:
    app = await start_app(check_timeout_s=20.0)
    publication = await publisher(app, no_hands_clip)
    async for name, data in events(app.session, publication.events_url):
        if name == "feedback" and data["state"] == "analysing":
            break
    url = f"{publication.url}/sender"
    async with app.session.post(url, json={**GOOD, "track_muted": True}) as response:
        assert response.status == 204
    session = app.app[keys.CHECKS].get(publication.url.rsplit("/", 1)[1])
    assert session.sender_reports == 1
    assert session.last_sender is not None and session.last_sender.track_muted is True
    assert session.last_sender.t_s > 0  # stamped with the stream's clock of the latest frame
    async with app.session.post(url, json={"packet_loss": 7}) as response:
        assert response.status == 400
        assert (await response.json())["error"] == "bad_report"
    async with app.session.post(url, data="x" * 5000, headers={"Content-Type": "application/json"}) as r:
        assert r.status == 413
    async with app.session.post(f"{app.make_url('/api/checks/nope/sender')}", json=GOOD) as response:
        assert response.status == 404
    async with app.session.delete(publication.url) as response:
        assert response.status == 204


class RecordingAnalyser:
    """Implements the quality room's add_sender_report contract; records the calls."""

    def __init__(self) -> None:
        self.reports: list[SenderReport] = []

    def add_sender_report(self, report: SenderReport) -> None:
        self.reports.append(report)


def test_an_analyser_with_add_sender_report_is_recognised() -> None:
    assert isinstance(RecordingAnalyser(), TakesSenderReports)
    assert not isinstance(object(), TakesSenderReports)
