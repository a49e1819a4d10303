"""WebRTC ingest: the live video check (WHIP), frames sampled into the quality analyser.

sdp.py            validate the offer, tune the answer
check_session.py  one check: its peer connection, frame sampling, feedback, the end
check_service.py  every check of this process: limits, the shared analysis pool, shutdown
"""
