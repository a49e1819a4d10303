"""Browser tests: the shared kit from tests/support/browser.py."""

from tests.support.browser import fake_cameras, launch, playwright, serve

__all__ = ["fake_cameras", "launch", "playwright", "serve"]
