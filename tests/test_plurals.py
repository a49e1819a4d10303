"""Counting texts take the locale's plural form (CLDR, through Babel): "1 customer", "2 customers"."""

from __future__ import annotations

import re

import pytest

from signlink.web import i18n


def stems(locale: str) -> set[str]:
    # By the "one" form: "other" is also a code in some groups (qa.wrap.other).
    return {key.removesuffix(".one") for key in i18n.catalog(locale) if key.endswith(".one")}


def test_english_picks_one_for_1_and_other_for_the_rest() -> None:
    assert i18n.plural("en", "qa.live.customers", 1) == "customer"
    assert [i18n.plural("en", "qa.live.customers", n) for n in (0, 2, 11)] == ["customers"] * 3
    assert i18n.plural("en", "qa.head.rating_detail", 1) == "From 1 rating."
    assert i18n.plural("en", "qa.head.rating_detail", 1204, shown="1,204") == "From 1,204 ratings."
    assert i18n.plural("en", "state.busy_retry", 1) == "We try again in 1 second."
    assert i18n.plural("en", "qa.head.counts", 1, answered=1, abandoned=0, unserved=0).startswith(
        "1 customer: 1 answered"
    )


def test_chinese_has_one_form() -> None:
    assert i18n.plural("zh-CN", "wait.minutes", 1) == "约 1 分钟"
    assert i18n.plural("zh-CN", "wait.minutes", 5) == "约 5 分钟"


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_every_counting_text_has_the_forms_its_language_needs(locale: str) -> None:
    texts = i18n.catalog(locale)
    assert len(stems(locale)) >= 10
    for stem in stems(locale):
        assert f"{stem}.other" in texts, stem
        assert stem not in texts, f"{stem}: a counting text is only used through its forms"
    if locale == "zh-CN":
        assert all(texts[f"{s}.one"] == texts[f"{s}.other"] for s in stems(locale))
    else:
        # The English singular never says "1 ...s" (the bug this replaces).
        assert [s for s in stems(locale) if re.search(r"\b1 \w+s\b", texts[f"{s}.one"])] == []
