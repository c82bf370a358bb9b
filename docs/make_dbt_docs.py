"""Write sql/dbt/models/kpis_docs.md (the dbt column descriptions) from docs/KPIS.md.

KPIS.md is the one wording: the grain table under "**Grain.**" and each dataset's formula table (`## pipeline ...`,
`## compliance ...`, `## revenue ...`, `## outreach ...`) become dbt doc blocks named `<dataset>__<column>` (and
`grain__<column>`, `<dataset>__dataset` for the section heading), which sql/dbt/models/kpis/schema.yml reads with
`{{ doc(...) }}`. Run `python docs/make_dbt_docs.py` after editing KPIS.md; tests/dbt/test_docs.py fails while the
two disagree.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KPIS_MD = ROOT / "docs" / "KPIS.md"
TARGET = ROOT / "sql" / "dbt" / "models" / "kpis_docs.md"
DATASETS = ("pipeline", "compliance", "revenue", "outreach")


def _table_rows(text: str) -> list[tuple[str, str]]:
    """(first cell, second cell) of the first markdown table in `text`, header and rule skipped."""
    rows: list[tuple[str, str]] = []
    started = False
    for line in text.splitlines():
        if line.startswith("|"):
            started = True
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 2 and cells[0] not in ("column", "---", "field"):
                rows.append((cells[0], " | ".join(cells[1:])))
        elif started:
            break
    return rows


def _columns(cell: str) -> list[str]:
    """`screened, interviewed` -> both; `violations_low, _medium` -> violations_low, violations_medium."""
    names: list[str] = []
    for part in (p.strip() for p in cell.split(",")):
        if part.startswith("_") and names:
            names.append(names[0].rsplit("_", 1)[0] + part)
        else:
            names.append(part)
    return names


def blocks(markdown: str) -> dict[str, str]:
    """Doc block name -> text, in the order of the document."""
    out: dict[str, str] = {}
    grain = markdown.split("**Grain.**", 1)[1]
    for cell, text in _table_rows(grain):
        out[f"grain__{cell}"] = text
    for match in re.finditer(r"^## (\w+) \((.*?)\)\n(.*?)(?=^## |\Z)", markdown, re.M | re.S):
        dataset = match.group(1)
        if dataset not in DATASETS:
            continue
        out[f"{dataset}__dataset"] = (f"The {dataset} dataset at the facility x month grain (the {match.group(2)}), "
                                      "as in docs/KPIS.md.")
        for cell, text in _table_rows(match.group(3)):
            for column in _columns(cell):
                out[f"{dataset}__{column}"] = text
    return out


def render(found: dict[str, str]) -> str:
    parts = ["{#- Generated from docs/KPIS.md by `python docs/make_dbt_docs.py` (do not edit). -#}", ""]
    for name, text in found.items():
        parts += [f"{{% docs {name} %}}", text, "{% enddocs %}", ""]
    return "\n".join(parts)


def main() -> None:
    TARGET.write_text(render(blocks(KPIS_MD.read_text(encoding="utf-8"))), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
