"""Write components/definitions.py (the chart definitions behind each chart's "i" button) from docs/KPIS.md.

KPIS.md's section "What each chart shows" is the one wording: each `### <page>/<chart>` heading is followed by its
definition. Run `python docs/make_definitions.py` after editing it; tests/components/test_definitions.py fails
while the two disagree.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KPIS_MD = ROOT / "docs" / "KPIS.md"
TARGET = ROOT / "components" / "definitions.py"
SECTION = "## What each chart shows"


def definitions(markdown: str) -> dict[tuple[str, str], str]:
    """(page, chart) -> definition, in the order of the document."""
    section = markdown.split(SECTION, 1)[1]
    out: dict[tuple[str, str], str] = {}
    for match in re.finditer(r"^### (\w+)/([\w-]+)\n(.*?)(?=^### |\Z)", section, re.M | re.S):
        out[(match.group(1), match.group(2))] = " ".join(match.group(3).split())
    return out


def render(found: dict[tuple[str, str], str]) -> str:
    lines = [
        '"""What each chart shows: generated from docs/KPIS.md by `python docs/make_definitions.py` (do not edit)."""',
        "",
        "DEFINITIONS: dict[tuple[str, str], str] = {",
    ]
    for (page, chart), text in found.items():
        lines.append(f"    ({page!r}, {chart!r}): (")
        words, line = text.split(" "), ""
        for word in words:
            if len(line) + len(word) + 1 > 100:
                lines.append(f"        {line + ' '!r}")
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.append(f"        {line!r}")
        lines.append("    ),")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> None:
    TARGET.write_text(render(definitions(KPIS_MD.read_text(encoding="utf-8"))), encoding="utf-8")


if __name__ == "__main__":
    main()
