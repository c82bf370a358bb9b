"""`dashboard dbt run|test|build|docs|freshness [dbt args...]`: the dbt project (sql/dbt) against DATABASE_URL.

dbt runs in this process through its Python runner with a profile made from DATABASE_URL (data/dbt.py) and prints
its own output. Exit status: 0 done, 1 a model or test failed (or dbt is not installed), 2 dbt could not run (a
usage error, a broken project). A successful run or build tells web processes which stores changed, as
`dashboard refresh` does; it is not recorded in app.refresh_runs (`DBT_ENABLED=true dashboard refresh` is).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from data.dbt import INSTALL_HINT, DbtRun, dbt_available, run_dbt, state_dir
from data.refresh import VIEWS

COMMANDS = ("run", "test", "build", "docs", "freshness")
DOCS_FILES = ("index.html", "static_index.html", "manifest.json", "catalog.json")


def dbt_arguments(command: str, extra: tuple[str, ...]) -> list[str]:
    """The dbt command line for one of COMMANDS."""
    if command == "docs":
        return ["docs", "generate", "--static", *extra]
    if command == "freshness":
        return ["source", "freshness", *extra]
    return [command, *extra]


def publish_docs(target: Path, into: Path) -> Path:
    """Copy the generated site out of dbt's target folder; returns the single-file page."""
    into.mkdir(parents=True, exist_ok=True)
    for name in DOCS_FILES:
        if (target / name).exists():
            shutil.copy2(target / name, into / name)
    return into / "static_index.html"


@click.command("dbt", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("command", type=click.Choice(COMMANDS))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def dbt_command(command: str, args: tuple[str, ...]) -> None:
    """Run the dbt project (sql/dbt) against DATABASE_URL.

    COMMAND is run, test, build, docs (the static documentation site) or freshness (the sources' freshness); any
    further arguments go to dbt as they are (e.g. `dashboard dbt run --select pipeline_kpis`). Needs the dbt extra:
    pip install -e '.[dbt]'.
    """
    from dashboard.cli import _announcer, database_url

    if not dbt_available():
        raise click.ClickException(INSTALL_HINT)
    url = database_url()
    run: DbtRun = run_dbt(url, dbt_arguments(command, args))
    if command == "docs" and run.success:
        page = publish_docs(state_dir() / "target", state_dir() / "docs")
        click.echo(f"documentation site: {page.parent} (open {page}: one self-contained HTML file)")
    if command in ("run", "build"):
        built = [v for v in VIEWS if any(n.name == f"{v}_kpis" and n.status == "success" for n in run.nodes)]
        if built:
            _announcer(url)(dict.fromkeys(built))
    if not run.success:
        click.echo(f"dbt {command} failed: {run.error}", err=True)
        sys.exit(run.exit_code)
