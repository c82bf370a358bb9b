"""Running the privacy audit over the current KPI stores, and remembering its results (app.privacy_audits)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from data.engine import psycopg_connection
from data.masking import MaskPolicy
from data.privacy_audit import DatasetAudit, audit_dataset
from data.queries import DATASET_NAMES, fetch_dataset
from data.specs import DATASETS

NAMED_CELLS = 10  # recoverable or undecided cells named per dataset in a stored result (never their values)


@dataclass(frozen=True)
class AuditRun:
    """One audit of every published row of the named datasets."""

    at: datetime | None
    threshold: int
    ok: bool
    duration_ms: int
    datasets: list[dict[str, Any]]


def run_audit(engine: Engine, policy: MaskPolicy, datasets: Iterable[str] = DATASET_NAMES) -> list[DatasetAudit]:
    """Read each whole store, mask it with `policy` and search every published row."""
    return [audit_dataset(fetch_dataset(engine, name), DATASETS[name], policy) for name in datasets]


def summary(result: DatasetAudit) -> dict[str, Any]:
    """What is stored and shown of one dataset's audit: counts, shares and the first cells named, no values."""
    return {
        "dataset": result.dataset,
        "rows": result.rows,
        "rows_with_hidden_counts": result.rows_with_hidden_counts,
        "hidden_counts": result.hidden_counts,
        "recoverable": len(result.recoverable),
        "undecided": len(result.undecided),
        "named": [c.describe() for c in (*result.recoverable, *result.undecided)][:NAMED_CELLS],
        "fewest_completions": result.fewest_completions,
        "cells_hidden_share": round(result.cells_hidden_share, 6),
        "volume_hidden_share": round(result.volume_hidden_share, 6),
        "seconds": round(result.seconds, 3),
    }


def record_run(engine: Engine, results: list[DatasetAudit], threshold: int) -> AuditRun:
    ok = all(r.ok for r in results)
    duration_ms = int(sum(r.seconds for r in results) * 1000)
    datasets = [summary(r) for r in results]
    with psycopg_connection(engine, autocommit=True) as conn:
        at = conn.execute(
            "insert into app.privacy_audits (threshold, ok, duration_ms, datasets) values (%s, %s, %s, %s::jsonb)"
            " returning at",
            (threshold, ok, duration_ms, json.dumps(datasets)),
        ).fetchone()[0]
    return AuditRun(at, threshold, ok, duration_ms, datasets)


def last_run(engine: Engine) -> AuditRun | None:
    """The newest recorded audit, or None if none ran yet."""
    with psycopg_connection(engine) as conn:
        row = conn.execute(
            "select at, threshold, ok, duration_ms, datasets from app.privacy_audits order by at desc, id desc"
            " limit 1"
        ).fetchone()
    return AuditRun(*row) if row else None
