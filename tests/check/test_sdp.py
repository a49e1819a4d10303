"""The offer checks and the answer's bitrate hints (pure functions, on offers made by real aiortc peers)."""

from __future__ import annotations

import pytest

from signlink.check import sdp
from signlink.errors import BadRequest
from tests.check.whip_client import offer_of, peer_with


async def real_offer(*, video: bool = True, audio: bool = False) -> str:
    from aiortc import VideoStreamTrack

    pc = peer_with(VideoStreamTrack() if video else None, audio=audio)
    try:
        return await offer_of(pc)
    finally:
        await pc.close()


def refused(text: str) -> BadRequest:
    with pytest.raises(BadRequest) as info:
        sdp.parse_offer(text)
    return info.value


async def test_a_video_offer_is_accepted_and_audio_is_marked_for_refusal() -> None:
    offer = sdp.parse_offer(await real_offer(audio=True))
    assert offer.video_mid == "0"
    assert offer.refused_mids == ("1",)


@pytest.mark.parametrize(
    "text", ["", "hello", "v=1\r\n", "v=0\r\nm=video\r\n", "v=0\r\nthis is not sdp\r\n", "v=0\r\ns=-\r\n"]
)
def test_garbage_is_malformed(text: str) -> None:
    error = refused(text)
    assert error.status == 400
    assert error.code == "malformed_sdp"


async def test_an_audio_only_offer_is_refused_for_lack_of_video() -> None:
    error = refused(await real_offer(video=False, audio=True))
    assert (error.status, error.code) == (400, "no_video")
    assert "no video" in str(error)


async def test_a_video_line_that_does_not_send_is_refused() -> None:
    text = (await real_offer()).replace("a=sendonly", "a=recvonly")
    assert refused(text).code == "no_video"


async def test_two_cameras_are_refused() -> None:
    text = await real_offer()
    video = text[text.index("m=video") :]
    second = video.replace("a=mid:0", "a=mid:1")
    assert refused(text + second).code == "too_many_videos"


async def test_an_offer_without_vp8_or_h264_is_refused() -> None:
    text = (await real_offer()).replace("VP8/90000", "AV1/90000")
    error = refused(text)
    assert error.code == "no_common_codec"


async def test_an_offer_without_ice_credentials_or_fingerprint_is_malformed() -> None:
    text = await real_offer()
    no_ice = "\r\n".join(line for line in text.split("\r\n") if not line.startswith("a=ice-pwd"))
    assert "ICE credentials" in str(refused(no_ice))
    no_dtls = "\r\n".join(line for line in text.split("\r\n") if not line.startswith("a=fingerprint"))
    assert "fingerprint" in str(refused(no_dtls))


async def test_data_channels_are_refused() -> None:
    text = await real_offer() + "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:1\r\n"
    assert refused(text).code == "unsupported_media"


ANSWER = "\r\n".join(
    [
        "v=0",
        "m=video 9 UDP/TLS/RTP/SAVPF 97 99",
        "a=rtpmap:97 VP8/90000",
        "a=rtcp-fb:97 nack",
        "a=rtpmap:99 H264/90000",
        "a=fmtp:99 packetization-mode=1;profile-level-id=42e01f",
        "m=audio 9 UDP/TLS/RTP/SAVPF 96",
        "a=rtpmap:96 opus/48000/2",
        "a=fmtp:96 minptime=10",
        "",
    ]
)


def test_the_answer_asks_for_a_vga_bitrate_on_every_video_codec() -> None:
    tuned = sdp.tune_answer(ANSWER).split("\r\n")
    hint = "x-google-start-bitrate=1500;x-google-min-bitrate=600;x-google-max-bitrate=2500"
    assert f"a=fmtp:97 {hint}" in tuned
    assert tuned.index(f"a=fmtp:97 {hint}") == tuned.index("a=rtpmap:97 VP8/90000") + 1
    assert f"a=fmtp:99 packetization-mode=1;profile-level-id=42e01f;{hint}" in tuned
    assert "a=fmtp:96 minptime=10" in tuned  # audio untouched
