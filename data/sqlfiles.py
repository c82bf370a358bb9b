"""Access to the SQL files shipped in the `sql` package, wherever the project is installed."""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def read_sql(relative_path: str) -> str:
    """Return the text of `sql/<relative_path>` (e.g. 'queries/pipeline.sql')."""
    return files("sql").joinpath(relative_path).read_text(encoding="utf-8")


def migration_files() -> list[tuple[str, str]]:
    """(version, text) of every numbered migration `NNN_name.sql`, in version order."""
    found = []
    for entry in files("sql").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:3].isdigit() and name[3] == "_":
            found.append((name.removesuffix(".sql"), entry.read_text(encoding="utf-8")))
    return sorted(found)
