"""A seeded generator of hostile client input: documented messages and bodies, then broken on purpose.

`Hostile(seed)` is deterministic: the same seed gives the same cases, so a failure names its seed and
case number and can be replayed. Mutations: drop or retype a field, add unknown ones, long strings
(within the frame limit), lone surrogates and control characters, deep nesting, odd numbers (NaN,
huge, negative, floats for ints), other message types' fields, non-object roots, broken JSON text.
"""

from __future__ import annotations

import json
import random
from typing import Any

# Strings a client should never be able to get past the edge, or that stress it.
NASTY_STRINGS = [
    "",
    " ",
    "\ud800",  # lone surrogate (json.dumps writes it as \\ud800)
    "a\udfffb",
    "\x00",
    "line\nbreak",
    "\x1b[31mred",
    "\u202eevil",
    "'; DROP TABLE tickets; --",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "%s%s%s%n",
    "{prefix}:queue:tickets",
    "c:t000000000001",
    "\U0001f44b" * 40,
    "x" * 65,
    "x" * 129,
    "手语" * 300,
]
NASTY_NUMBERS: list[Any] = [0, -1, 1.5, 2**63, -(2**63), 1e308, float("nan"), float("inf"), True, None]


def _deep(depth: int) -> Any:
    value: Any = "bottom"
    for i in range(depth):
        value = [value] if i % 2 else {"x": value}
    return value


class Hostile:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)

    def value(self) -> Any:
        """Any JSON value a field should not get."""
        pick = self.rng.randrange(7)
        if pick == 0:
            return self.rng.choice(NASTY_STRINGS)
        if pick == 1:
            return self.rng.choice(NASTY_NUMBERS)
        if pick == 2:
            return [self.rng.choice(NASTY_STRINGS) for _ in range(self.rng.randrange(4))]
        if pick == 3:
            return {self.rng.choice(NASTY_STRINGS): self.rng.choice(NASTY_NUMBERS)}
        if pick == 4:
            return _deep(self.rng.randrange(2, 40))
        if pick == 5:
            return "".join(chr(self.rng.randrange(0, 0x3000)) for _ in range(self.rng.randrange(1, 80)))
        return self.rng.choice(["", "null", "true", "{}", "[]", "0"])

    def mutate(self, template: dict[str, Any]) -> dict[str, Any]:
        """The template with one to three things broken."""
        message = dict(template)
        for _ in range(self.rng.randrange(1, 4)):
            fields = [k for k in message if k != "type"] or ["type"]
            action = self.rng.randrange(6)
            if action == 0 and fields != ["type"]:
                del message[self.rng.choice(fields)]
            elif action in (1, 2):
                message[self.rng.choice(fields)] = self.value()
            elif action == 3:
                message[self.rng.choice(NASTY_STRINGS) or "extra"] = self.value()
            elif action == 4:
                message["type"] = self.rng.choice(["", "HELLO", "chat ", "__proto__", self.value()])
            else:
                field = self.rng.choice(fields)
                if isinstance(message.get(field), dict):
                    message[field] = self.mutate(message[field])
                else:
                    message[field] = _deep(self.rng.randrange(5, 30))
        return message

    def text(self, template: dict[str, Any]) -> str:
        """One frame's text: usually a mutated message, sometimes not an object or not JSON at all."""
        pick = self.rng.randrange(10)
        if pick == 0:
            return json.dumps(self.value())  # a JSON value that is not a message object
        if pick == 1:
            good = json.dumps(template)
            cut = self.rng.randrange(len(good))
            return good[:cut] + self.rng.choice(["", "\\", '"', "}", "\\ud800", "\x00"])
        if pick == 2:
            return self.rng.choice(["[" * 5000, '{"a":' * 3000, "\ufeff{}", "NaN", "{'type':'ping'}"])
        return json.dumps(self.mutate(template))

    def choice(self, options: list[Any]) -> Any:
        return self.rng.choice(options)

    def cases(self, templates: list[dict[str, Any]], count: int) -> list[str]:
        return [self.text(self.choice(templates)) for _ in range(count)]
