"""The camera check: WHIP ingest (aiortc peer), frame sampling into quality/, SDP, video files for the CLI.

May use `quality` and Redis; never `web`, `queue`, `signaling` or `records` (narrow Protocols are handed in).

outcome.py    how a check ended; the no-verdict placeholder
sdp.py        validate the offer (candidates, address policy), tune the answer
session.py    one check: its peer connection, frame sampling, feedback, the end
service.py    every check of this process: limits, the shared analysis pool, shutdown
videofile.py  the analyser over a video file, as the live check runs it (`signlink check`)
"""
