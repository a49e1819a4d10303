"""Helpers shared by the tests: private Redis servers, media files, loopback-only ICE."""
