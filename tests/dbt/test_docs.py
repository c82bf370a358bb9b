"""The dbt project's documentation and packaging: one wording with docs/KPIS.md, every store column described,
the whole project shipped in the wheel."""

from __future__ import annotations

import fnmatch
import importlib.util
import tomllib
from pathlib import Path

import yaml

from data.dbt import project_dir
from data.engine import get_engine, psycopg_connection
from data.refresh import VIEWS

ROOT = Path(__file__).resolve().parents[2]


def _generator():
    spec = importlib.util.spec_from_file_location("make_dbt_docs", ROOT / "docs" / "make_dbt_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_column_descriptions_are_generated_from_kpis_md():
    generator = _generator()
    expected = generator.render(generator.blocks((ROOT / "docs" / "KPIS.md").read_text(encoding="utf-8")))
    assert (ROOT / "sql" / "dbt" / "models" / "kpis_docs.md").read_text(encoding="utf-8") == expected, (
        "sql/dbt/models/kpis_docs.md is out of date: run `python docs/make_dbt_docs.py`")


def test_every_store_column_is_a_described_model_column(scratch_url):
    blocks = _generator().blocks((ROOT / "docs" / "KPIS.md").read_text(encoding="utf-8"))
    schema = yaml.safe_load((project_dir() / "models" / "kpis" / "schema.yml").read_text(encoding="utf-8"))
    models = {m["name"]: m for m in schema["models"]}
    with psycopg_connection(get_engine(scratch_url)) as conn:
        for view in VIEWS:
            stored = [r[0] for r in conn.execute(
                "select attname from pg_attribute where attrelid = %s::regclass and attnum > 0 and not attisdropped"
                " order by attnum", (f"analytics.{view}_kpis_materialized",)).fetchall()]
            model = models[f"{view}_kpis"]
            assert [c["name"] for c in model["columns"]] == stored
            for column in model["columns"]:
                name = column["description"].split("'")[1]
                assert column["description"] == f"{{{{ doc('{name}') }}}}" and name in blocks, column


def test_the_wheel_ships_the_whole_project():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["sql"]
    shipped = ROOT / "sql"
    for path in (shipped / "dbt").rglob("*"):
        if path.is_file():
            relative = path.relative_to(shipped).as_posix()
            assert any(fnmatch.fnmatchcase(relative, p) and relative.count("/") == p.count("/") for p in patterns), (
                f"sql/{relative} is not in [tool.setuptools.package-data] sql")
    no_dbt_modules = [p.name for p in ROOT.rglob("dbt_*.py") if ".git" not in p.parts]
    assert no_dbt_modules == [], "dbt imports every top-level module named dbt_*: never name one so"
