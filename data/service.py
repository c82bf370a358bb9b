"""The one way figures leave the data layer: cached masked views, narrowed by an explicit scope and filters.

Order of work: read a whole view -> mask it once per data version -> cache -> narrow by the caller's facilities
(always an explicit list, resolved by auth/) and filters -> aggregate published cells only. Nothing here knows
about users: scope arrives as facility ids, so no cached object belongs to anyone. Frames handed out are shared with
the cache: callers treat them as read-only (derive new frames, never assign).

Each view has its own data version (data/cache.py). A change to some facilities of a view re-masks only their rows:
the masker decides each row alone, except growth, which reads the same facility's earlier months, so replacing a
facility's rows with its newly masked rows gives exactly the frame a full masking would. Masked data is read at
the version its release slot started with (MASKED_RELEASE_INTERVAL); unmasked data (admins) at the current one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from data.cache import DatasetCache
from data.engine import gc_paused
from data.filters import MAX_MONTH, MIN_MONTH, DataFilter
from data.live import data_as_of
from data.masking import SUPPRESSED, MaskPolicy, MaskResult, mask
from data.queries import DATASET_NAMES, facilities, fetch_dataset
from data.specs import DATASETS
from data.totals import RowState, aggregate_published, kpi_totals, row_state

T = TypeVar("T")


class ScopeRequired(ValueError):
    """A selection was asked for without an explicit facility list (scope must be resolved first)."""


@dataclass(frozen=True)
class Selection:
    """Masked rows of one dataset within a scope and filters, with the facility name joined."""

    dataset: str
    frame: pd.DataFrame
    suppressed_cells: int
    as_of: datetime | None


# Reads whole views side by side for masked_views(); a view is built once at a time whoever asks (data/cache.py).
_VIEW_READERS = ThreadPoolExecutor(max_workers=len(DATASET_NAMES), thread_name_prefix="view-read")


class AnalyticsService:
    def __init__(self, engine: Engine, cache: DatasetCache, policy: MaskPolicy,
                 request_memo: Callable[[], dict[Any, Any] | None] | None = None) -> None:
        self.engine = engine
        self.cache = cache
        self.policy = policy
        # A dict that lives as long as the current web request (None outside one): the data versions are read from
        # Redis once per request (one MGET, not one per cache lookup), and a selection is narrowed once per request
        # however many totals read it. It also keeps every figure of one answer at the same data versions.
        self.request_memo = request_memo or (lambda: None)
        self._released: dict[tuple[str, int], int] = {}
        self._last_built: dict[tuple[str, str], int] = {}

    def versions(self, datasets: Sequence[str], *, unmasked: bool = False) -> tuple[int, ...]:
        """The data version each dataset is read at: the current one for unmasked data; for masked data the one
        its release slot started with (every process agrees on it, and it stays fixed for the slot)."""
        if unmasked or not self.policy.enabled or self.cache.release_seconds <= 0:
            return tuple(self._current(datasets))
        slot = self.cache.release_slot()
        out = []
        for dataset in datasets:
            key = (dataset, slot)
            if key not in self._released:
                self._released[key] = self.cache.versions.released(dataset, slot)
            out.append(self._released[key])
        return tuple(out)

    def _current(self, datasets: Sequence[str]) -> list[int]:
        """The current data versions, read once per request (all views in one MGET)."""
        memo = self.request_memo()
        if memo is None:
            return list(self.cache.versions.current(list(datasets)))
        known = memo.get("versions")
        if known is None or any(d not in known for d in datasets):
            names = list(dict.fromkeys([*DATASET_NAMES, *datasets]))
            known = dict(zip(names, self.cache.versions.current(names), strict=True))
            memo["versions"] = known
        return [known[d] for d in datasets]

    def masked_view(self, dataset: str, *, unmasked: bool = False, version: int | None = None) -> MaskResult:
        """The whole view, masked (or, for an admin who asked, with suppression off), from the cache."""
        policy = MaskPolicy(enabled=False, threshold=self.policy.threshold) if unmasked else self.policy
        mode = "masked" if policy.enabled else "unmasked"
        if version is None:
            (version,) = self.versions([dataset], unmasked=unmasked)
        # The whole read, mask and (un)pickle of a view allocates hundreds of thousands of objects: no GC pauses.
        with gc_paused():
            result = self.cache.get_or_compute((dataset, mode, policy.threshold, f"v{version}"),
                                               lambda: self._build(dataset, mode, policy, version))
        self._last_built[(dataset, mode)] = max(version, self._last_built.get((dataset, mode), 0))
        return result

    def masked_views(self, datasets: Sequence[str], *, unmasked: bool = False) -> None:
        """Make sure the whole views of `datasets` are cached, reading and masking the missing ones side by side:
        while one thread decodes and masks, PostgreSQL runs the other reads (the overview's cold path reads all
        four views)."""
        versions = self.versions(datasets, unmasked=unmasked)
        if len(datasets) < 2:
            for dataset, version in zip(datasets, versions, strict=True):
                self.masked_view(dataset, unmasked=unmasked, version=version)
            return
        futures = [_VIEW_READERS.submit(self.masked_view, dataset, unmasked=unmasked, version=version)
                   for dataset, version in zip(datasets, versions, strict=True)]
        for future in futures:
            future.result()

    def _build(self, dataset: str, mode: str, policy: MaskPolicy, version: int) -> MaskResult:
        """Mask the view at `version`: re-mask only the facilities changed since an older masked frame this process
        built, when their change records are still known; otherwise read and mask the whole view."""
        spec = DATASETS[dataset]
        older = self._last_built.get((dataset, mode))
        if older is not None and older < version:
            previous = self.cache.peek((dataset, mode, policy.threshold, f"v{older}"))
            changed = self.cache.versions.changed(dataset, older, version)
            if previous is not None and changed is not None:
                fresh = fetch_dataset(self.engine, dataset, DataFilter(tuple(sorted(changed)), MIN_MONTH, MAX_MONTH))
                patched = mask(fresh, spec, policy).frame if changed else fresh.iloc[0:0]
                kept = previous.frame[~previous.frame["facility_id"].isin(changed)]
                frame = (pd.concat([kept, patched], ignore_index=True) if len(patched) else kept.reset_index(drop=True))
                frame = frame.sort_values(list(spec.grain), kind="stable").reset_index(drop=True)
                return MaskResult(frame, int(frame[SUPPRESSED].map(len).sum()) if len(frame) else 0)
        return mask(fetch_dataset(self.engine, dataset), spec, policy)

    def data_changed(self, changes: dict[str, tuple[int, ...] | None], *, warm: bool = False) -> None:
        """After a refresh or a live batch: bump the version of each changed view, recording which facilities
        changed (None: all of them). With `warm`, re-mask the views at once, so the first reader after a full
        refresh finds them ready (in Redis, for every process)."""
        for view, facility_ids in changes.items():
            self.cache.versions.bump(view, facility_ids)
        memo = self.request_memo()
        if memo is not None:
            memo.clear()
        if warm:
            for dataset in changes:
                self.masked_view(dataset)
            self.facilities()
            self.as_of()

    def facilities(self) -> pd.DataFrame:
        """Every facility (id, name, region, state, kind); callers narrow it to a scope."""
        versions = ".".join(map(str, self._current(DATASET_NAMES)))
        return self.cache.get_or_compute(("facilities", versions), lambda: facilities(self.engine))

    def as_of(self, *, unmasked: bool = False) -> dict[str, datetime | None]:
        """When each view's data is from: its store holds every change captured up to then (data/live.py)."""
        versions = ".".join(map(str, self.versions(DATASET_NAMES, unmasked=unmasked)))
        return self.cache.get_or_compute(("as_of", versions), lambda: data_as_of(self.engine))

    def select(self, dataset: str, filt: DataFilter, *, unmasked: bool = False) -> Selection:
        """Masked rows of `dataset` for the facilities, months and channel of `filt`."""
        if filt.facility_ids is None:
            raise ScopeRequired("resolve the caller's facility scope to an explicit list before selecting data")
        memo = self.request_memo()
        key = ("select", dataset, filt, unmasked, self.versions([dataset], unmasked=unmasked))
        if memo is not None and key in memo:
            return memo[key]
        frame = self.masked_view(dataset, unmasked=unmasked, version=key[-1][0]).frame
        months = frame["month"].to_numpy()
        keep = (np.isin(frame["facility_id"].to_numpy(), filt.facility_ids)
                & (months >= np.datetime64(filt.start)) & (months <= np.datetime64(filt.end)))
        if filt.channel is not None and "channel" in frame:
            keep &= (frame["channel"] == filt.channel).to_numpy()
        rows = frame.take(np.flatnonzero(keep)).reset_index(drop=True)
        facilities = self.facilities()
        names = dict(zip(facilities["id"].tolist(), facilities["name"].tolist(), strict=True))
        labels = [names.get(i, np.nan) for i in rows["facility_id"].tolist()]
        rows.insert(1, "facility_name", np.array(labels, dtype=object))
        suppressed_cells = sum(map(len, rows[SUPPRESSED].tolist()))
        selection = Selection(dataset, rows, suppressed_cells, self.as_of(unmasked=unmasked).get(dataset))
        if memo is not None:
            memo[key] = selection
        return selection

    def aggregate(
        self, dataset: str, filt: DataFilter, by: list[str], *, unmasked: bool = False
    ) -> pd.DataFrame:
        """Totals of the selection grouped by `by` (e.g. ['month']), from published cells only."""
        return self.aggregates(dataset, filt, [by], unmasked=unmasked)[0]

    def aggregates(
        self, dataset: str, filt: DataFilter, groupings: Sequence[Sequence[str]], *, unmasked: bool = False
    ) -> list[pd.DataFrame]:
        """Several groupings of one selection (a page's charts), selecting the rows once; cached per selection."""
        parts = ("aggregates", dataset, self._selection_key(filt, unmasked, (dataset,)),
                 "|".join(",".join(by) for by in groupings))

        def compute() -> list[pd.DataFrame]:
            frame = self.select(dataset, filt, unmasked=unmasked).frame
            k = None if unmasked else self.policy.threshold
            rows = self._row_state(dataset, filt, unmasked, frame)
            return [aggregate_published(frame, list(by), DATASETS[dataset], threshold=k, rows=rows)
                    for by in groupings]

        return self.cache.get_or_compute(parts, compute, layer="selections")

    def kpis(self, filt: DataFilter, *, unmasked: bool = False) -> dict[str, Any]:
        """The kpis row (docs/KPIS.md) of the selection; the channel filter narrows the outreach figures only."""

        def compute() -> dict[str, Any]:
            self.masked_views(DATASET_NAMES, unmasked=unmasked)
            frames = {name: self.select(name, filt, unmasked=unmasked).frame for name in DATASET_NAMES}
            rows = {name: self._row_state(name, filt, unmasked, frame) for name, frame in frames.items()}
            return kpi_totals(frames, threshold=None if unmasked else self.policy.threshold, rows=rows)

        return dict(self.cache.get_or_compute(("kpis", self._selection_key(filt, unmasked, DATASET_NAMES)), compute,
                                              layer="selections"))

    def _row_state(self, dataset: str, filt: DataFilter, unmasked: bool, frame: pd.DataFrame) -> RowState:
        """The per-row work of totalling a selection, shared by every grouping of it in this request."""
        memo = self.request_memo()
        key = ("rows", dataset, filt, unmasked, self.versions([dataset], unmasked=unmasked))
        state = memo.get(key) if memo is not None else None
        if state is None or state.frame is not frame:
            state = row_state(frame, DATASETS[dataset], threshold=None if unmasked else self.policy.threshold)
            if memo is not None:
                memo[key] = state
        return state

    def remember(self, kind: tuple[object, ...], filt: DataFilter, compute: Callable[[], T], *,
                 unmasked: bool = False, datasets: Sequence[str] = DATASET_NAMES) -> T:
        """Cache something built only from this selection's published totals of `datasets` (e.g. a page's
        figures). Keyed like the totals: selection, masking mode and the datasets' data versions, never the user."""
        return self.cache.get_or_compute((*kind, self._selection_key(filt, unmasked, datasets)), compute,
                                         layer="selections")

    def _selection_key(self, filt: DataFilter, unmasked: bool, datasets: Sequence[str]) -> str:
        """A cache key part for a selection: its explicit facilities (hashed), months, channel, masking mode and
        the data versions of the datasets it reads.

        Totals of published cells depend only on these, never on who asks, so users with the same selection share
        them; the facility list is always the caller's resolved scope (select() refuses anything else).
        """
        if filt.facility_ids is None:
            raise ScopeRequired("resolve the caller's facility scope to an explicit list before selecting data")
        facilities = hashlib.sha256(",".join(map(str, filt.facility_ids)).encode()).hexdigest()[:20]
        mode = "unmasked" if unmasked else f"masked-k{self.policy.threshold}-{int(self.policy.enabled)}"
        versions = ".".join(f"{d}{v}" for d, v in zip(datasets, self.versions(datasets, unmasked=unmasked),
                                                         strict=True))
        return f"{facilities}:{filt.start:%Y-%m}:{filt.end:%Y-%m}:{filt.channel or '*'}:{mode}:{versions}"

    def oldest_as_of(self, *, unmasked: bool = False) -> datetime | None:
        stamps = list(self.as_of(unmasked=unmasked).values())
        return None if any(s is None for s in stamps) else min(stamps)
