"""How the QA pages write figures: durations, shares, times and codes, in the page's language.

Every figure carries its unit (a share is never a bare 0.83, a wait never a bare 42). Times are UTC,
as the filters are, and the pages say so. A missing figure (no data in the period) is an en dash,
never a zero that could be read as a measurement.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from signlink.web import i18n

MISSING = "–"


@dataclass(frozen=True)
class Part:
    """One number and its unit, e.g. ("6", "min"): pages set the unit smaller than the number."""

    value: str
    unit: str


@dataclass(frozen=True)
class Fmt:
    locale: str

    def t(self, key: str, **values: object) -> str:
        return i18n.translate(self.locale, key, **values)

    def plural(self, key: str, count: float, *, shown: str | None = None, **values: object) -> str:
        """A counting text in the locale's plural form ("1 customer"), see i18n.plural."""
        return i18n.plural(self.locale, key, count, shown=shown, **values)

    def label(self, group: str, code: object) -> str:
        """The catalog's word for `code` in `group` (e.g. "qa.outcome"), else the code as it came."""
        if code is None or code == "":
            return MISSING
        text = str(code)
        key = f"{group}.{text}"
        return self.t(key) if key in i18n.catalog(i18n.DEFAULT_LOCALE) else text

    # numbers

    def number(self, value: object, digits: int = 0) -> str:
        number = _finite(value)
        if number is None:
            return MISSING
        return f"{number:,.{digits}f}"

    def pct(self, share: object, digits: int = 0) -> str:
        """A share 0..1 as "83%"."""
        number = _finite(share)
        return MISSING if number is None else f"{number * 100:.{digits}f}%"

    # durations

    def duration_parts(self, seconds: object) -> list[Part]:
        number = _finite(seconds)
        if number is None:
            return []
        total = round(number)
        if total < 60:
            return [Part(str(total), self.t("qa.unit.s"))]
        hours, rest = divmod(total, 3600)
        minutes, secs = divmod(rest, 60)
        if hours:
            return [Part(str(hours), self.t("qa.unit.h")), Part(f"{minutes:02d}", self.t("qa.unit.min"))]
        return [Part(str(minutes), self.t("qa.unit.min")), Part(f"{secs:02d}", self.t("qa.unit.s"))]

    def limit(self, seconds: object) -> str:
        """A threshold as people quote it: "120 s" (the relay rule's own words), "5 min", "1 h"."""
        number = _finite(seconds)
        if number is None:
            return MISSING
        total = round(number)
        if total >= 3600 and total % 3600 == 0:
            return f"{total // 3600} {self.t('qa.unit.h')}"
        if total >= 300 and total % 60 == 0:
            return f"{total // 60} {self.t('qa.unit.min')}"
        return f"{total} {self.t('qa.unit.s')}"

    def duration(self, seconds: object) -> str:
        parts = self.duration_parts(seconds)
        return " ".join(f"{p.value} {p.unit}" for p in parts) if parts else MISSING

    # times

    def when(self, at: object) -> str:
        """A moment as "2025-03-07 14:05:12" (UTC)."""
        moment = parse_time(at)
        return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else MISSING

    def day(self, at: object) -> str:
        moment = parse_time(at)
        return moment.strftime("%Y-%m-%d") if moment else MISSING

    def iso(self, at: object) -> str:
        """For `<time datetime=...>`."""
        moment = parse_time(at)
        return moment.isoformat(timespec="seconds").replace("+00:00", "Z") if moment else ""


def parse_time(at: object) -> datetime | None:
    """Epoch seconds or an ISO 8601 string (the API uses both) as an aware UTC datetime."""
    if isinstance(at, bool) or at is None or at == "":
        return None
    if isinstance(at, int | float):
        return datetime.fromtimestamp(at, UTC) if math.isfinite(at) else None
    if isinstance(at, str):
        try:
            moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError:
            try:
                return datetime.fromtimestamp(float(at), UTC)
            except ValueError:
                return None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def _finite(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None
