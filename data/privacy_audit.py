"""The privacy audit: an exact search, as an attacker who knows the masking algorithm would run it.

The attacker (docs/PRIVACY.md) sees a published row, knows k, every part/whole group and order relation of the
dataset (`DatasetSpec.groups`, `DatasetSpec.orders`), that counts are whole numbers >= 0, and the complete masker.
A *completion* of a published row fills its hidden counts with whole numbers that satisfy those relations; it is
*feasible* when the masker, run on it, publishes exactly that row again. A hidden cell is *recoverable* when every
feasible completion gives it the same value. The invariant the product keeps: no hidden cell is recoverable.

How the search stays small (it runs on every published row of a million-application database in seconds):
- Rows sharing a hiding pattern share the group equations, so each pattern is solved once by exact elimination:
  some hidden counts are *free*, the others follow from them. Only completions that satisfy every group equation
  are ever generated.
- Proving a cell safe needs two feasible values, not all of them. Completions are generated in rings around the
  true row (free counts within +-1, then +-2, 4, 8, ...); a row leaves the search as soon as every hidden cell has
  shown two values. Only rows still undecided go further, up to the box their published relations allow, which
  proves a cell recoverable by exhausting it. A box larger than the search budget leaves the cell *undecided*,
  which the audit reports as a failure, never as safe.
- The masker runs once per ring on all candidate rows of a dataset together (it is vectorised).
Rows are independent here because the masker decides each row alone; month-over-month growth, the one rule that
reads another row, hides money only, never a count, so the audit leaves growth columns out of the comparison.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import pandas as pd

from data.masking import SUPPRESSED, MaskPolicy, MaskResult, mask
from data.specs import DatasetSpec

Masker = Callable[[pd.DataFrame, DatasetSpec, MaskPolicy], MaskResult]

# A row's candidate grid grows as (2R + 1)^free; past this many completions a still-undecided cell is reported
# as undecided (a failure) instead of searched further.
MAX_CANDIDATES_PER_ROW = 250_000
# Completions tested per masker call, so memory stays bounded on large views.
BATCH_CANDIDATES = 400_000


@dataclass(frozen=True)
class CellRef:
    """A hidden cell, named without its value."""

    dataset: str
    key: tuple[tuple[str, object], ...]  # grain column -> value (facility_id, month, channel)
    field: str

    def describe(self) -> str:
        parts = []
        for name, value in self.key:
            parts.append(f"{name}={pd.Timestamp(value):%Y-%m}" if name == "month" else f"{name}={value}")
        return f"{self.dataset} {' '.join(parts)} {self.field}"


@dataclass(frozen=True)
class DatasetAudit:
    """What the search found for one dataset."""

    dataset: str
    threshold: int
    rows: int
    rows_with_hidden_counts: int
    hidden_counts: int
    recoverable: tuple[CellRef, ...]
    undecided: tuple[CellRef, ...]
    fewest_completions: int | None  # feasible completions found for the least ambiguous row (a lower bound)
    cells_hidden_share: float  # hidden value cells / all value cells
    volume_hidden_share: float  # sum of hidden counts / sum of all counts
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.recoverable and not self.undecided


@dataclass
class _Pattern:
    """The hidden counts of a group of rows and the solved group equations over them."""

    unknowns: tuple[str, ...]
    free: tuple[int, ...]  # positions in `unknowns`
    pivots: tuple[int, ...]
    # pivot values = base + free values @ step.T, with base = published constants @ transform.T
    transform: np.ndarray  # (pivots, equations)
    step: np.ndarray  # (pivots, free)
    equations: list[tuple[str, list[tuple[str, int]]]] = field(default_factory=list)


def audit_dataset(
    raw: pd.DataFrame, spec: DatasetSpec, policy: MaskPolicy, *, masker: Masker = mask
) -> DatasetAudit:
    """Run the exact algorithm-aware search on every row `masker` publishes from `raw` (a whole view)."""
    started = time.perf_counter()
    raw = raw.reset_index(drop=True)
    published = masker(raw, spec, policy).frame
    hidden_lists = published[SUPPRESSED].tolist()
    counts = list(spec.count_columns)
    cells_hidden = sum(len(h) for h in hidden_lists)
    cells_total = len(raw) * len(spec.value_columns)
    values = raw[counts].to_numpy(dtype=np.int64) if len(raw) else np.zeros((0, len(counts)), dtype=np.int64)
    hidden_mask = np.array([[c in h for c in counts] for h in hidden_lists], dtype=bool).reshape(len(raw),
                                                                                                 len(counts))
    volume_total = int(values.sum())
    volume_hidden = int(values[hidden_mask].sum())

    by_pattern: dict[tuple[str, ...], list[int]] = {}
    for i, row_hidden in enumerate(hidden_mask):
        if row_hidden.any():
            by_pattern.setdefault(tuple(c for c, h in zip(counts, row_hidden, strict=True) if h), []).append(i)

    search = _Search(raw, published, spec, policy, masker)
    recoverable: list[CellRef] = []
    undecided: list[CellRef] = []
    fewest: int | None = None
    for unknowns, rows in by_pattern.items():
        outcome = search.run(_solve(spec, unknowns), np.array(rows, dtype=np.int64))
        recoverable += [search.ref(r, c) for r, c in outcome.recoverable]
        undecided += [search.ref(r, c) for r, c in outcome.undecided]
        if outcome.fewest is not None:
            fewest = outcome.fewest if fewest is None else min(fewest, outcome.fewest)
    return DatasetAudit(
        dataset=spec.name,
        threshold=policy.threshold,
        rows=len(raw),
        rows_with_hidden_counts=sum(len(r) for r in by_pattern.values()),
        hidden_counts=int(hidden_mask.sum()),
        recoverable=tuple(sorted(recoverable, key=CellRef.describe)),
        undecided=tuple(sorted(undecided, key=CellRef.describe)),
        fewest_completions=fewest,
        cells_hidden_share=cells_hidden / cells_total if cells_total else 0.0,
        volume_hidden_share=volume_hidden / volume_total if volume_total else 0.0,
        seconds=time.perf_counter() - started,
    )


def _solve(spec: DatasetSpec, unknowns: tuple[str, ...]) -> _Pattern:
    """Exact elimination of the group equations over the hidden counts `unknowns`.

    Equation j reads sum_u coef[j][u] * u = constant_j, where the constant is minus the published members' terms;
    the reduced form gives each pivot unknown as (transformed constants) - step @ free unknowns.
    """
    position = {u: i for i, u in enumerate(unknowns)}
    equations = []
    rows: list[list[Fraction]] = []
    for group in spec.groups:
        terms = [(group.whole, 1), *((p, -1) for p in group.parts)]
        coefficients = [Fraction(0)] * len(unknowns)
        for member, sign in terms:
            if member in position:
                coefficients[position[member]] += sign
        equations.append((group.whole, terms))
        rows.append(coefficients)
    n_eq = len(rows)
    # Reduced row echelon form of [coefficients | identity]: the identity part records the row operations.
    augmented = [row + [Fraction(int(i == j)) for j in range(n_eq)] for i, row in enumerate(rows)]
    pivots: list[int] = []
    r = 0
    for c in range(len(unknowns)):
        pivot = next((i for i in range(r, n_eq) if augmented[i][c] != 0), None)
        if pivot is None:
            continue
        augmented[r], augmented[pivot] = augmented[pivot], augmented[r]
        lead = augmented[r][c]
        augmented[r] = [v / lead for v in augmented[r]]
        for i in range(n_eq):
            if i != r and augmented[i][c] != 0:
                f = augmented[i][c]
                augmented[i] = [a - f * b for a, b in zip(augmented[i], augmented[r], strict=True)]
        pivots.append(c)
        r += 1
    free = tuple(c for c in range(len(unknowns)) if c not in pivots)
    transform = np.array([[float(v) for v in augmented[i][len(unknowns):]] for i in range(r)]).reshape(r, n_eq)
    step = np.array([[float(augmented[i][c]) for c in free] for i in range(r)]).reshape(r, len(free))
    return _Pattern(unknowns, free, tuple(pivots), transform, step, equations)


@dataclass
class _Outcome:
    recoverable: list[tuple[int, str]]
    undecided: list[tuple[int, str]]
    fewest: int | None


class _Search:
    """Ring search over completions of the rows sharing one hiding pattern."""

    def __init__(self, raw: pd.DataFrame, published: pd.DataFrame, spec: DatasetSpec, policy: MaskPolicy,
                 masker: Masker) -> None:
        self.raw, self.spec, self.policy, self.masker = raw, spec, policy, masker
        self.counts = list(spec.count_columns)
        self.values = raw[self.counts].to_numpy(dtype=np.int64)
        self.compared = [c for c in spec.value_columns if c not in spec.growth_columns]
        self.target = _pattern_codes(published[SUPPRESSED].tolist(), self.compared)
        self.dominators = _dominators(spec)

    def ref(self, row: int, column: str) -> CellRef:
        record = self.raw.iloc[row]
        return CellRef(self.spec.name, tuple((g, _plain(record[g])) for g in self.spec.grain), column)

    def run(self, pattern: _Pattern, rows: np.ndarray) -> _Outcome:
        col = {c: i for i, c in enumerate(self.counts)}
        unknown_cols = [col[u] for u in pattern.unknowns]
        truth = self.values[np.ix_(rows, unknown_cols)]  # (n, U)
        constants = self._constants(pattern, rows)  # (n, equations)
        base = constants @ pattern.transform.T if pattern.pivots else np.zeros((len(rows), 0))
        upper = self._upper_bounds(pattern, rows, truth)  # (n, U)
        n, u = truth.shape
        low = np.full((n, u), np.iinfo(np.int64).max, dtype=np.int64)
        high = np.full((n, u), -1, dtype=np.int64)
        found = np.zeros(n, dtype=np.int64)
        free = list(pattern.free)
        # The radius that covers each row's whole box of free values.
        needed = np.max(np.maximum(truth[:, free], upper[:, free] - truth[:, free]), axis=1, initial=0)
        active = np.ones(n, dtype=bool)
        exhausted = np.zeros(n, dtype=bool)
        undecided_rows = np.zeros(n, dtype=bool)
        previous = -1
        radius = 0 if not free else 1
        while active.any():
            offsets = _ring(len(free), previous, radius)
            if len(free) and (2 * radius + 1) ** len(free) > MAX_CANDIDATES_PER_ROW:
                undecided_rows |= active
                break
            idx = np.flatnonzero(active)
            self._evaluate(pattern, rows, idx, truth, base, offsets, low, high, found)
            resolved = (high[idx] > low[idx]).all(axis=1)
            covered = needed[idx] <= radius
            exhausted[idx[covered]] = True
            active[idx[resolved | covered]] = False
            previous, radius = radius, radius * 2 if radius else 1
            if not free:
                active[:] = False
                exhausted[:] = True
        recoverable, undecided = [], []
        single = high <= low  # at most one value found (the truth is always found)
        for i in range(n):
            for j, name in enumerate(pattern.unknowns):
                if not single[i, j]:
                    continue
                if exhausted[i] and not undecided_rows[i]:
                    recoverable.append((int(rows[i]), name))
                else:
                    undecided.append((int(rows[i]), name))
        return _Outcome(recoverable, undecided, int(found.min()) if n else None)

    def _constants(self, pattern: _Pattern, rows: np.ndarray) -> np.ndarray:
        """Per row and equation: minus the published members' terms (so that coefficients @ unknowns = it)."""
        col = {c: i for i, c in enumerate(self.counts)}
        unknown = set(pattern.unknowns)
        out = np.zeros((len(rows), len(pattern.equations)), dtype=np.float64)
        for j, (_, terms) in enumerate(pattern.equations):
            for member, sign in terms:
                if member not in unknown:
                    out[:, j] -= sign * self.values[rows, col[member]]
        return out

    def _upper_bounds(self, pattern: _Pattern, rows: np.ndarray, truth: np.ndarray) -> np.ndarray:
        """Per row and unknown: the smallest published count that must be at least as large (group whole or
        order relation, transitively); without one, a generous cap above every value of the row."""
        col = {c: i for i, c in enumerate(self.counts)}
        unknown = set(pattern.unknowns)
        row_values = self.values[rows]
        cap = 2 * row_values.max(axis=1) + 2 * self.policy.threshold + 2
        out = np.empty_like(truth)
        for j, name in enumerate(pattern.unknowns):
            bound = cap.copy()
            for dominator in self.dominators.get(name, ()):
                if dominator not in unknown:
                    bound = np.minimum(bound, row_values[:, col[dominator]])
            out[:, j] = np.maximum(bound, truth[:, j])
        return out

    def _evaluate(self, pattern: _Pattern, rows: np.ndarray, idx: np.ndarray, truth: np.ndarray, base: np.ndarray,
                  offsets: np.ndarray, low: np.ndarray, high: np.ndarray, found: np.ndarray) -> None:
        """Test the completions truth[free] + offsets of rows `idx`; widen each row's seen range per unknown."""
        per_row = max(len(offsets), 1)
        chunk = max(1, BATCH_CANDIDATES // per_row)
        for start in range(0, len(idx), chunk):
            part = idx[start:start + chunk]
            candidates, owner = self._candidates(pattern, rows, part, truth, base, offsets)
            if not len(owner):
                continue
            ok = self._feasible(rows[owner], pattern, candidates)
            owner, candidates = owner[ok], candidates[ok]
            np.minimum.at(low, owner, candidates)
            np.maximum.at(high, owner, candidates)
            np.add.at(found, owner, 1)

    def _candidates(self, pattern: _Pattern, rows: np.ndarray, part: np.ndarray, truth: np.ndarray,
                    base: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Completions of rows `part` (positions in `rows`) that satisfy every group equation and order relation,
        with the position each belongs to."""
        n, u = len(part), len(pattern.unknowns)
        m = max(len(offsets), 1)
        owner = np.repeat(part, m)
        values = np.repeat(truth[part], m, axis=0).astype(np.float64)
        free = list(pattern.free)
        if free:
            values[:, free] += np.tile(offsets, (n, 1))
        if pattern.pivots:
            pivot_values = np.repeat(base[part], m, axis=0) - values[:, free] @ pattern.step.T
            values[:, list(pattern.pivots)] = pivot_values
        rounded = np.rint(values)
        keep = (np.abs(values - rounded) < 1e-6).all(axis=1) & (rounded >= 0).all(axis=1)
        candidates = rounded.astype(np.int64).reshape(len(owner), u)
        if self.spec.orders:
            col = {c: i for i, c in enumerate(self.counts)}
            full = self.values[rows[owner]].copy()
            full[:, [col[x] for x in pattern.unknowns]] = candidates
            for larger, smaller in self.spec.orders:
                keep &= full[:, col[larger]] >= full[:, col[smaller]]
        return candidates[keep], owner[keep]

    def _feasible(self, source_rows: np.ndarray, pattern: _Pattern, candidates: np.ndarray) -> np.ndarray:
        """Whether the masker publishes each completed row exactly as it published the true row."""
        frame = self.raw.iloc[source_rows].reset_index(drop=True)
        for j, name in enumerate(pattern.unknowns):
            frame[name] = candidates[:, j]
        # Candidates of one row share its grain: give each its own series so the growth rule sees no neighbours.
        frame[self.spec.grain[0]] = np.arange(len(frame))
        masked = self.masker(frame, self.spec, self.policy).frame
        return _pattern_codes(masked[SUPPRESSED].tolist(), self.compared) == self.target[source_rows]


def _pattern_codes(hidden_lists: list[list[str]], columns: list[str]) -> np.ndarray:
    bit = {c: 1 << i for i, c in enumerate(columns)}
    return np.array([sum(bit.get(c, 0) for c in h) for h in hidden_lists], dtype=np.int64)


def _ring(dimensions: int, inner: int, outer: int) -> np.ndarray:
    """Integer offsets with max-norm in (inner, outer]; all of [-outer, outer]^d when inner < 0."""
    if dimensions == 0:
        return np.zeros((1, 0), dtype=np.float64)
    axis = np.arange(-outer, outer + 1)
    grid = np.array(list(itertools.product(axis, repeat=dimensions)), dtype=np.float64)
    norm = np.abs(grid).max(axis=1)
    return grid[norm > inner] if inner >= 0 else grid


def _dominators(spec: DatasetSpec) -> dict[str, set[str]]:
    """For each count, the counts that are always at least as large (group wholes, order relations), transitively."""
    edges: dict[str, set[str]] = {}
    for group in spec.groups:
        for part in group.parts:
            edges.setdefault(part, set()).add(group.whole)
    for larger, smaller in spec.orders:
        edges.setdefault(smaller, set()).add(larger)
    closed: dict[str, set[str]] = {}
    for start in spec.count_columns:
        seen: set[str] = set()
        stack = list(edges.get(start, ()))
        while stack:
            node = stack.pop()
            if node not in seen:
                seen.add(node)
                stack.extend(edges.get(node, ()))
        closed[start] = seen
    return closed


def _plain(value: object) -> object:
    if isinstance(value, np.integer):
        return int(value)
    return value


def audit(frames: Iterable[tuple[pd.DataFrame, DatasetSpec]], policy: MaskPolicy) -> list[DatasetAudit]:
    """Audit several whole views."""
    return [audit_dataset(frame, spec, policy) for frame, spec in frames]

