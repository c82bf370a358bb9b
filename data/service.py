"""The one way figures leave the data layer: cached masked views, narrowed by an explicit scope and filters.

Order of work: read a whole view -> mask it once per data generation -> cache -> narrow by the
caller's facilities (always an explicit list, resolved by auth/) and filters -> aggregate published cells only.
Nothing here knows about users: scope arrives as facility ids, so no cached object belongs to anyone.
Frames handed out are shared with the cache: callers treat them as read-only (derive new frames, never assign).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import pandas as pd
from sqlalchemy import Engine

from data.cache import DatasetCache
from data.engine import gc_paused
from data.filters import DataFilter
from data.live import data_as_of
from data.masking import SUPPRESSED, MaskPolicy, MaskResult, mask
from data.queries import DATASET_NAMES, facilities, fetch_dataset
from data.specs import DATASETS
from data.totals import aggregate_published, kpi_totals

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


class AnalyticsService:
    def __init__(self, engine: Engine, cache: DatasetCache, policy: MaskPolicy) -> None:
        self.engine = engine
        self.cache = cache
        self.policy = policy

    def masked_view(self, dataset: str, *, unmasked: bool = False) -> MaskResult:
        """The whole view, masked (or, for an admin who asked, with suppression off), from the cache."""
        policy = MaskPolicy(enabled=False, threshold=self.policy.threshold) if unmasked else self.policy
        mode = "masked" if policy.enabled else "unmasked"
        # The whole read, mask and (un)pickle of a view allocates hundreds of thousands of objects: no GC pauses.
        with gc_paused():
            return self.cache.get_or_compute(
                (dataset, mode, policy.threshold),
                lambda: mask(fetch_dataset(self.engine, dataset), DATASETS[dataset], policy),
            )

    def refreshed(self) -> None:
        """After a refresh: retire every cached entry (one generation bump) and rebuild the masked views at once.

        The first reader after a refresh then finds the views already masked (in Redis, for every process)
        instead of paying to read and mask all four.
        """
        self.cache.generation.bump()
        for dataset in DATASET_NAMES:
            self.masked_view(dataset)
        self.facilities()
        self.as_of()

    def facilities(self) -> pd.DataFrame:
        """Every facility (id, name, region, state, kind); callers narrow it to a scope."""
        return self.cache.get_or_compute(("facilities",), lambda: facilities(self.engine))

    def as_of(self) -> dict[str, datetime | None]:
        """When each view's data is from: its store holds every change captured up to then (data/live.py)."""
        return self.cache.get_or_compute(("as_of",), lambda: data_as_of(self.engine))

    def select(self, dataset: str, filt: DataFilter, *, unmasked: bool = False) -> Selection:
        """Masked rows of `dataset` for the facilities, months and channel of `filt`."""
        if filt.facility_ids is None:
            raise ScopeRequired("resolve the caller's facility scope to an explicit list before selecting data")
        frame = self.masked_view(dataset, unmasked=unmasked).frame
        keep = frame["facility_id"].isin(filt.facility_ids) & frame["month"].between(
            pd.Timestamp(filt.start), pd.Timestamp(filt.end)
        )
        if filt.channel is not None and "channel" in frame:
            keep &= frame["channel"] == filt.channel
        rows = frame.loc[keep].reset_index(drop=True)
        names = self.facilities().set_index("id")["name"]
        rows.insert(1, "facility_name", rows["facility_id"].map(names).astype(object))
        suppressed_cells = int(rows[SUPPRESSED].map(len).sum()) if len(rows) else 0
        return Selection(dataset, rows, suppressed_cells, self.as_of().get(dataset))

    def aggregate(
        self, dataset: str, filt: DataFilter, by: list[str], *, unmasked: bool = False
    ) -> pd.DataFrame:
        """Totals of the selection grouped by `by` (e.g. ['month']), from published cells only."""
        return self.aggregates(dataset, filt, [by], unmasked=unmasked)[0]

    def aggregates(
        self, dataset: str, filt: DataFilter, groupings: Sequence[Sequence[str]], *, unmasked: bool = False
    ) -> list[pd.DataFrame]:
        """Several groupings of one selection (a page's charts), selecting the rows once; cached per selection."""
        parts = ("aggregates", dataset, self._selection_key(filt, unmasked), "|".join(",".join(by) for by in groupings))

        def compute() -> list[pd.DataFrame]:
            frame = self.select(dataset, filt, unmasked=unmasked).frame
            k = None if unmasked else self.policy.threshold
            return [aggregate_published(frame, list(by), DATASETS[dataset], threshold=k) for by in groupings]

        return self.cache.get_or_compute(parts, compute, layer="selections")

    def kpis(self, filt: DataFilter, *, unmasked: bool = False) -> dict[str, Any]:
        """The kpis row (docs/KPIS.md) of the selection; the channel filter narrows the outreach figures only."""

        def compute() -> dict[str, Any]:
            frames = {name: self.select(name, filt, unmasked=unmasked).frame for name in DATASET_NAMES}
            return kpi_totals(frames, threshold=None if unmasked else self.policy.threshold)

        return dict(self.cache.get_or_compute(("kpis", self._selection_key(filt, unmasked)), compute,
                                              layer="selections"))

    def remember(self, kind: tuple[object, ...], filt: DataFilter, compute: Callable[[], T], *,
                 unmasked: bool = False) -> T:
        """Cache something built only from this selection's published totals (e.g. a page's figures).

        Keyed like the totals: selection, masking mode and data generation, never the user.
        """
        return self.cache.get_or_compute((*kind, self._selection_key(filt, unmasked)), compute, layer="selections")

    def _selection_key(self, filt: DataFilter, unmasked: bool) -> str:
        """A cache key part for a selection: its explicit facilities (hashed), months, channel and masking mode.

        Totals of published cells depend only on these, never on who asks, so users with the same selection share
        them; the facility list is always the caller's resolved scope (select() refuses anything else).
        """
        if filt.facility_ids is None:
            raise ScopeRequired("resolve the caller's facility scope to an explicit list before selecting data")
        facilities = hashlib.sha256(",".join(map(str, filt.facility_ids)).encode()).hexdigest()[:20]
        mode = "unmasked" if unmasked else f"masked-k{self.policy.threshold}-{int(self.policy.enabled)}"
        return f"{facilities}:{filt.start:%Y-%m}:{filt.end:%Y-%m}:{filt.channel or '*'}:{mode}"

    def oldest_as_of(self) -> datetime | None:
        stamps = list(self.as_of().values())
        return None if any(s is None for s in stamps) else min(stamps)
