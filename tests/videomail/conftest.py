"""Video-mail tests: the shared browser kit (tests/support/browser.py) for the page tests."""

from tests.support.browser import fake_cameras, launch, playwright, serve

__all__ = ["fake_cameras", "launch", "playwright", "serve"]
