"""How a check ended, and the placeholder a page passes on when there is no verdict (one definition each)."""

from __future__ import annotations

from enum import StrEnum

# What the check page passes on as the verdict id when the check was skipped or could not be recorded.
# The page reads it from the template (data-no-verdict), never from its own literal.
NO_VERDICT = "none"


class Outcome(StrEnum):
    """How a check ended."""

    PASSED = "passed"  # a complete passing verdict
    FAILED = "failed"  # ended with a failing verdict for another reason than those below
    TIMED_OUT = "timed_out"  # check_timeout_s passed without a passing verdict
    ENDED_BY_CLIENT = "ended_by_client"  # DELETE, the peer closed or failed, the video stopped
    INTERRUPTED = "interrupted"  # the server shut down during the check
    NO_MEDIA = "no_media"  # no video frame ever arrived (a connection fault): never recorded as a verdict
