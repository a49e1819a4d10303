"""Build the Chinese web font the app serves (signlink/web/static/fonts/noto-sans-sc/).

Source: npm `@fontsource/noto-sans-sc` (Noto Sans SC, SIL Open Font License 1.1, in package.json).
Each of its unicode-range chunks (weight 400) is cut down to the characters the product needs: every
character of the zh-CN catalogue plus the 3,755 common characters of GB 2312 level 1 (so most typed
chat renders too). The chunks keep their unicode-range, so a browser downloads only those a page uses,
and only when the system has no Chinese font (font-sc.css lists local() fonts first).

Run after `npm ci`:  .venv/bin/python scripts/build_cjk_font.py   (the output is committed)
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "node_modules" / "@fontsource" / "noto-sans-sc"
OUT = ROOT / "signlink" / "web" / "static" / "fonts" / "noto-sans-sc"
CSS = ROOT / "signlink" / "web" / "static" / "css" / "font-sc.css"
CATALOGUE = ROOT / "signlink" / "web" / "locales" / "zh-CN.json"


def wanted() -> set[int]:
    chars = {ord(c) for text in json.loads(CATALOGUE.read_text("utf-8")).values() for c in text}
    for hi in range(0xB0, 0xD8):  # GB 2312 level 1: rows 16-55
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(ord(bytes([hi, lo]).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    chars |= set(range(0x3000, 0x3040)) | set(range(0xFF00, 0xFFF0))  # CJK and full-width punctuation
    return {c for c in chars if c > 0x2E7F}  # Latin stays with the system font


def _ranges(codes: list[int]) -> list[str]:
    """Consecutive code points as one unicode-range item (U+4e00-4e05)."""
    out: list[str] = []
    start = prev = codes[0]
    for code in [*codes[1:], -1]:
        if code == prev + 1:
            prev = code
            continue
        out.append(f"U+{start:x}" if start == prev else f"U+{start:x}-{prev:x}")
        start = prev = code
    return out


def main() -> int:
    css_path = SOURCE / "400.css"
    if not css_path.is_file():
        print(f"missing {css_path}: run `npm ci` first", file=sys.stderr)
        return 1
    need = wanted()
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    faces: list[str] = []
    total = 0
    for block in re.findall(r"@font-face \{(.*?)\}", css_path.read_text("utf-8"), re.S):
        name = re.search(r"url\(\./files/([^)]+\.woff2)\)", block)
        assert name is not None
        font = TTFont(SOURCE / "files" / name.group(1))
        keep = need & set(font.getBestCmap())
        if not keep:
            continue
        options = subset.Options()
        options.flavor = "woff2"
        options.layout_features = ["*"]
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=keep)
        subsetter.subset(font)
        out = OUT / name.group(1)
        font.flavor = "woff2"
        font.save(out)
        total += out.stat().st_size
        ranges = ",".join(_ranges(sorted(keep)))
        faces.append(
            '@font-face {\n  font-family: "signlink sc";\n  font-style: normal;\n  font-weight: 100 900;\n'
            "  font-display: swap;\n"
            f'  src: url("/static/fonts/noto-sans-sc/{out.name}") format("woff2");\n'
            f"  unicode-range: {ranges};\n}}\n"
        )
    shutil.copy(SOURCE / "LICENSE", OUT / "LICENSE.txt")
    header = (
        "/* Noto Sans SC (SIL OFL 1.1, static/fonts/noto-sans-sc/LICENSE.txt), cut to the product's\n"
        "   characters by scripts/build_cjk_font.py (generated: do not edit). Used only after the system's\n"
        "   own Chinese fonts (app.css). */\n\n"
    )
    CSS.write_text(header + "\n".join(faces), "utf-8")
    print(json.dumps({"chunks": len(faces), "bytes": total, "characters": len(need)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
