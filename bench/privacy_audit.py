"""Run time of the privacy audit (the exact algorithm-aware search over every published row) at a given size, and
the utility cost of the masker against the first one (share of cells and of volume hidden).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        python -m bench.privacy_audit --applications 1000000 [--keep | --database NAME]

Seeds a scratch database on the DATABASE_URL server (200 facilities, 36 months, as the other benchmarks), or
reuses `--database`, then audits all four views with k = 5 and 11. The scratch database is dropped at the end
unless --keep.
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import os
import time
import uuid

import numpy as np
import psycopg
from sqlalchemy.engine import make_url

from dashboard.settings import parse_database_url
from data.engine import dispose_all, get_engine
from data.masking import SUPPRESSED, MaskPolicy, mask
from data.migrations import migrate
from data.privacy_audit import audit_dataset
from data.queries import DATASET_NAMES, fetch_dataset
from data.refresh import refresh_views
from data.seed import SeedConfig, seed
from data.specs import DATASETS


def shares(frame, spec, masker, k: int) -> tuple[float, float]:
    """(share of value cells hidden, share of the counted volume hidden)."""
    out = masker(frame, spec, MaskPolicy(threshold=k)).frame
    lists = out[SUPPRESSED].tolist()
    cells = sum(len(h) for h in lists) / max(1, len(frame) * len(spec.value_columns))
    counts = list(spec.count_columns)
    values = frame[counts].to_numpy(dtype=np.int64)
    hidden = np.array([[c in h for c in counts] for h in lists], dtype=bool).reshape(len(frame), len(counts))
    return cells, float(values[hidden].sum() / max(1, values.sum()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=1_000_000)
    parser.add_argument("--database", help="reuse this seeded database instead of seeding a scratch one")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    server = parse_database_url(os.environ["DATABASE_URL"])
    name = args.database or f"bench_audit_{uuid.uuid4().hex[:8]}"
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    admin_url = server.replace("postgresql+psycopg://", "postgresql://", 1)
    if not args.database:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'create database "{name}"')
    try:
        engine = get_engine(url)
        if not args.database:
            migrate(engine)
            started = time.perf_counter()
            seed(engine, SeedConfig(applications=args.applications, facilities=200, months=36, seed=11))
            refresh_views(engine, ["all"], trigger="cli")
            print(f"seeded {args.applications:,} applications in {time.perf_counter() - started:.1f} s")
        try:
            from tests.data.first_masker import first_masker
        except ImportError:
            first_masker = None
        frames = {d: fetch_dataset(engine, d) for d in DATASET_NAMES}
        print("| k | dataset | rows | rows with hidden counts | unsafe | fewest completions | seconds |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for k in (5, 11):
            total = 0.0
            for dataset, frame in frames.items():
                result = audit_dataset(frame, DATASETS[dataset], MaskPolicy(threshold=k))
                total += result.seconds
                unsafe = len(result.recoverable) + len(result.undecided)
                print(f"| {k} | {dataset} | {result.rows:,} | {result.rows_with_hidden_counts:,} | {unsafe} | "
                      f"{result.fewest_completions} | {result.seconds:.1f} |")
            print(f"| {k} | all | | | | | {total:.1f} |")
        if first_masker is not None:
            print("\n| dataset | cells hidden before | after | volume hidden before | after |")
            print("| --- | --- | --- | --- | --- |")
            for dataset, frame in frames.items():
                spec = DATASETS[dataset]
                before, after = shares(frame, spec, first_masker, 5), shares(frame, spec, mask, 5)
                print(f"| {dataset} | {before[0]:.1%} | {after[0]:.1%} | {before[1]:.2%} | {after[1]:.2%} |")
    finally:
        dispose_all()
        if not args.database and not args.keep:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'drop database if exists "{name}" with (force)')


if __name__ == "__main__":
    main()
