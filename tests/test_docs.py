"""The repository stands on its own: every document its code, tests and docs cite is in it, and nothing points at
a numbered section of a document the reader does not have."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEXT_SUFFIXES = {".py", ".md", ".sql", ".toml", ".yaml", ".yml", ".cfg", ".ini", ".txt", ".css", ".js", ".html"}
TEXT_NAMES = {"Dockerfile", "Procfile"}
SECTION_SIGN = "\u00a7"
CITED_DOCUMENT = re.compile(r"[\w./-]*[\w-]+\.md\b")


def repository_files() -> list[Path]:
    found = []
    for path in ROOT.rglob("*"):
        parts = path.relative_to(ROOT).parts
        # vendor/ holds third-party files copied unchanged (tests/browser/vendor: axe-core), not the project's docs.
        if any(part.startswith(".") or part.endswith(".egg-info") or part in ("__pycache__", "vendor")
               for part in parts):
            continue
        if path.is_file() and (path.suffix in TEXT_SUFFIXES or path.name in TEXT_NAMES):
            found.append(path)
    return found


def dangling_citations(path: Path, documents: set[str]) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    problems = sorted(
        name for name in set(CITED_DOCUMENT.findall(text))
        if not ((ROOT / name).exists() or (path.parent / name).exists() or Path(name).name in documents)
    )
    if SECTION_SIGN in text:
        problems.append(f"{SECTION_SIGN} (a section of a document the repository does not have)")
    return problems


@pytest.fixture(scope="module")
def documents() -> set[str]:
    return {path.name for path in repository_files() if path.suffix == ".md"}


def test_every_cited_document_is_in_the_repository(documents: set[str]) -> None:
    files = repository_files()
    assert len(files) > 50 and ROOT / "README.md" in files
    problems = {path.relative_to(ROOT).as_posix(): found for path in files
                if (found := dangling_citations(path, documents))}
    assert problems == {}

