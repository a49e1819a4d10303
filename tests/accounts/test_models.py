"""Account validation: the CLI and the web refuse the same bad usernames, names and skills."""

from __future__ import annotations

import pytest

from signlink.accounts.models import (
    Account,
    Role,
    validate_display_name,
    validate_skills,
    validate_username,
)
from signlink.config import Settings
from signlink.errors import BadRequest

SETTINGS = Settings()


@pytest.mark.parametrize(("raw", "clean"), [("ana", "ana"), ("  Ana.Li ", "ana.li"), ("a_1-b", "a_1-b")])
def test_usernames_are_normalised_to_lower_case(raw: str, clean: str) -> None:
    assert validate_username(raw) == clean


@pytest.mark.parametrize("raw", ["", "a", "-ana", "ana li", "ana@x", "é", "a" * 33, "an\na"])
def test_bad_usernames_are_refused(raw: str) -> None:
    with pytest.raises(BadRequest, match="username"):
        validate_username(raw)


def test_display_names_keep_unicode_and_refuse_control_characters() -> None:
    assert validate_display_name("  李安娜 ") == "李安娜"
    for bad in ("", "   ", "Ana\nLi", "Ana\u202eiL", "x" * 65):
        with pytest.raises(BadRequest):
            validate_display_name(bad)


def test_agent_skills_must_be_served_languages_and_topics() -> None:
    langs, topics = validate_skills(
        Role.AGENT,
        ["CSL", " ASL", "CSL", ""],
        ["phone"],
        allowed_languages=SETTINGS.sign_languages,
        allowed_topics=SETTINGS.topics,
    )
    assert (langs, topics) == (("CSL", "ASL"), ("phone",))
    with pytest.raises(BadRequest, match="unknown sign language XSL"):
        validate_skills(
            Role.AGENT,
            ["XSL"],
            ["phone"],
            allowed_languages=SETTINGS.sign_languages,
            allowed_topics=SETTINGS.topics,
        )
    with pytest.raises(BadRequest, match="unknown topic cars"):
        validate_skills(
            Role.AGENT,
            ["CSL"],
            ["cars"],
            allowed_languages=SETTINGS.sign_languages,
            allowed_topics=SETTINGS.topics,
        )


def test_an_agent_needs_skills_but_qa_does_not() -> None:
    with pytest.raises(BadRequest, match="at least one sign language"):
        validate_skills(
            Role.AGENT,
            [],
            ["phone"],
            allowed_languages=SETTINGS.sign_languages,
            allowed_topics=SETTINGS.topics,
        )
    assert validate_skills(
        Role.QA, [], [], allowed_languages=SETTINGS.sign_languages, allowed_topics=SETTINGS.topics
    ) == ((), ())


def test_account_round_trips_through_redis_fields() -> None:
    account = Account("ana", "Ana Li", Role.AGENT, ("CSL",), ("phone", "pc"), 1700000000.5, disabled=True)
    assert Account.from_fields(account.to_fields()) == account
