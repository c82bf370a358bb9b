"""The exact algorithm-aware search (data/privacy_audit.py) against the product's masker and the first one.

The attack rows are built the way an attacker would pick them: two small members adding up to 2(k-1), a lone
small member next to a tie, groups where every member is small, zeros, and funnel edge cases (every stage equal,
a stage just above the next), for k = 5 and 11. The product's masker must leave every hidden cell at least two
possible values; the same attacks must break the first masker (so these tests would have caught it).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from data.masking import MaskPolicy, mask
from data.privacy_audit import MAX_CANDIDATES_PER_ROW, audit_dataset
from data.specs import COMPLIANCE, OUTREACH, PIPELINE, REVENUE, DatasetSpec

from .first_masker import first_masker
from .test_masking import compliance_row, frame, outreach_row, pipeline_row, revenue_row

ATTACK = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def the_issue_row() -> pd.DataFrame:
    """Issue 11's compliance row: failed 20, low 5, medium 7, high and critical hidden (both 4)."""
    return frame(COMPLIANCE, [compliance_row(passed=100, low=5, medium=7, high=4, critical=4)])


def test_the_issue_example_is_solved_exactly_under_the_first_masker() -> None:
    result = audit_dataset(the_issue_row(), COMPLIANCE, MaskPolicy(threshold=5), masker=first_masker)
    assert [c.field for c in result.recoverable] == ["violations_critical", "violations_high"]
    assert result.recoverable[0].describe() == "compliance facility_id=1 month=2024-01 violations_critical"
    assert not result.ok


def test_the_issue_example_is_safe_under_the_product_masker() -> None:
    result = audit_dataset(the_issue_row(), COMPLIANCE, MaskPolicy(threshold=5))
    assert result.ok
    assert result.hidden_counts == 4 and result.fewest_completions >= 2


def test_the_search_finds_a_cell_left_alone_in_its_group() -> None:
    def careless(df: pd.DataFrame, spec: DatasetSpec, policy: MaskPolicy):  # primary suppression only
        return mask(df, DatasetSpec(spec.name, spec.grain, spec.fields, period=spec.period), policy)

    df = frame(PIPELINE, [pipeline_row(hired=3, rejected=20, pending=30, screened=53, interviewed=40, offered=30)])
    result = audit_dataset(df, PIPELINE, MaskPolicy(threshold=5), masker=careless)
    assert [c.field for c in result.recoverable] == ["hired"]


def test_a_search_too_large_is_undecided_never_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("data.privacy_audit.MAX_CANDIDATES_PER_ROW", 2)
    result = audit_dataset(the_issue_row(), COMPLIANCE, MaskPolicy(threshold=5), masker=first_masker)
    assert result.undecided and not result.ok
    assert MAX_CANDIDATES_PER_ROW > 2


def test_rows_without_hidden_cells_and_empty_views() -> None:
    df = frame(OUTREACH, [outreach_row(sent=40, responded=10, converted=5)])
    assert audit_dataset(df, OUTREACH, MaskPolicy(threshold=5)).rows_with_hidden_counts == 0
    empty = audit_dataset(df.iloc[0:0], OUTREACH, MaskPolicy(threshold=5))
    assert empty.ok and empty.rows == 0 and empty.fewest_completions is None


def test_shares_of_cells_and_volume_hidden() -> None:
    df = frame(OUTREACH, [outreach_row(sent=40, responded=3, converted=0)])
    result = audit_dataset(df, OUTREACH, MaskPolicy(threshold=5))
    assert result.cells_hidden_share == pytest.approx(2 / 5)  # responded and its rate, of five value cells
    assert result.volume_hidden_share == pytest.approx(3 / 43)


# --- Attack rows


def small(k: int) -> st.SearchStrategy[int]:
    """Values where masks break: 0, 1, just below and at k, and a few larger."""
    return st.one_of(st.sampled_from([0, 1, 2, k - 2, k - 1, k - 1, k, k + 1]), st.integers(0, 3 * k))


SHAPES = ("pair", "tie", "all_small", "zeros", "funnel", "random")


@st.composite
def pipeline_attack(draw: st.DrawFn, k: int, shapes: tuple[str, ...] = SHAPES) -> dict[str, Any]:
    shape = draw(st.sampled_from(shapes))
    if shape == "pair":  # two small members adding up to 2(k-1)
        hired, rejected, pending = k - 1, k - 1, draw(st.sampled_from([0, k, k + 1, draw(small(k))]))
    elif shape == "tie":  # a lone small member next to two equal ones
        tie = draw(st.integers(k, 3 * k))
        hired, rejected, pending = draw(st.integers(1, k - 1)), tie, tie
    elif shape == "all_small":
        hired, rejected, pending = (draw(st.integers(0, k - 1)) for _ in range(3))
    elif shape == "zeros":
        hired, rejected, pending = draw(st.permutations([draw(st.integers(1, 2 * k)), 0, 0]))
    else:
        hired, rejected, pending = (draw(small(k)) for _ in range(3))
    if hired + rejected + pending == 0:
        pending = 1
    applications = hired + rejected + pending
    if shape == "funnel":  # every stage as tight as the funnel allows
        offered = interviewed = screened = applications
        offered = hired + draw(st.sampled_from([0, 1]))
        interviewed = min(applications, offered + draw(st.sampled_from([0, 1])))
        screened = min(applications, max(interviewed, applications - draw(st.sampled_from([0, 1]))))
    else:
        offered = hired + draw(st.integers(0, k))
        interviewed = offered + draw(st.integers(0, k))
        screened = interviewed + draw(st.integers(0, k))
    screened = min(max(screened, interviewed), applications) if interviewed <= applications else interviewed
    if screened > applications:  # keep the funnel: more applications pending
        pending += screened - applications
        applications = screened
    return pipeline_row(hired=hired, rejected=rejected, pending=pending, offered=min(offered, interviewed),
                        interviewed=interviewed, screened=screened)


@st.composite
def compliance_attack(draw: st.DrawFn, k: int, shapes: tuple[str, ...] = SHAPES) -> dict[str, Any]:
    shape = draw(st.sampled_from([s for s in shapes if s != "funnel"]))
    levels = [draw(small(k)) for _ in range(4)]
    if shape == "pair":
        i, j = draw(st.lists(st.integers(0, 3), min_size=2, max_size=2, unique=True))
        levels[i] = levels[j] = k - 1
    elif shape == "tie":
        i = draw(st.integers(0, 3))
        tie = draw(st.integers(k, 3 * k))
        levels = [tie] * 4
        levels[i] = draw(st.integers(1, k - 1))
    elif shape == "all_small":
        levels = [draw(st.integers(0, k - 1)) for _ in range(4)]
    elif shape == "zeros":
        levels = [0, 0, 0, 0]
        levels[draw(st.integers(0, 3))] = draw(st.integers(1, 2 * k))
    passed = draw(small(k))
    if passed + sum(levels) == 0:
        passed = 1
    return compliance_row(passed=passed, low=levels[0], medium=levels[1], high=levels[2], critical=levels[3])


@st.composite
def outreach_attack(draw: st.DrawFn, k: int, shapes: tuple[str, ...] = SHAPES) -> dict[str, Any]:
    sent = max(1, draw(small(k)))
    return outreach_row(sent=sent, responded=draw(st.integers(0, sent)), converted=draw(st.integers(0, sent)))


@st.composite
def revenue_attack(draw: st.DrawFn, k: int, shapes: tuple[str, ...] = SHAPES) -> dict[str, Any]:
    placements = draw(small(k))
    return revenue_row(placements=placements, invoices=max(1, placements + draw(st.sampled_from([0, 1, k]))))


ATTACKS = {"pipeline": pipeline_attack, "compliance": compliance_attack, "outreach": outreach_attack,
           "revenue": revenue_attack}
SPECS = {"pipeline": PIPELINE, "compliance": COMPLIANCE, "outreach": OUTREACH, "revenue": REVENUE}


@st.composite
def attack(draw: st.DrawFn, dataset: str, shapes: tuple[str, ...] = SHAPES, most: int = 6
           ) -> tuple[pd.DataFrame, int]:
    """Up to `most` attack rows of one dataset (one facility each) and the threshold they aim at."""
    k = draw(st.sampled_from([5, 11]))
    rows = draw(st.lists(ATTACKS[dataset](k, shapes), min_size=1, max_size=most))
    for i, row in enumerate(rows):
        row["facility_id"] = i + 1
        if dataset == "revenue":
            row["mom_growth"] = math.nan
    return frame(SPECS[dataset], rows), k


@pytest.mark.parametrize("dataset", ["pipeline", "compliance", "outreach", "revenue"])
def test_no_attack_row_has_a_recoverable_cell(dataset: str) -> None:
    @ATTACK
    @given(case=attack(dataset))
    def check(case: tuple[pd.DataFrame, int]) -> None:
        df, k = case
        result = audit_dataset(df, SPECS[dataset], MaskPolicy(threshold=k))
        assert result.ok, [c.describe() for c in (*result.recoverable, *result.undecided)]

    check()


# Rows the attack strategies found against the first masker (k, counts in spec order).
FIRST_MASKER_BREAKERS = [
    ("pipeline", 11, dict(applications=32, screened=10, interviewed=10, offered=10, hired=10, rejected=11,
                          pending=11)),
    ("pipeline", 5, dict(applications=13, screened=13, interviewed=4, offered=4, hired=4, rejected=5, pending=4)),
    ("compliance", 5, dict(checks=120, passed=100, failed=20, violations_low=5, violations_medium=7,
                           violations_high=4, violations_critical=4)),
]


@pytest.mark.parametrize("dataset, k, counts", FIRST_MASKER_BREAKERS)
def test_attack_rows_break_the_first_masker_not_this_one(dataset: str, k: int, counts: dict[str, int]) -> None:
    spec = SPECS[dataset]
    row = (pipeline_row(hired=0, rejected=0, pending=1) if dataset == "pipeline"
           else compliance_row(passed=1))
    df = frame(spec, [{**row, **counts}])
    assert not audit_dataset(df, spec, MaskPolicy(threshold=k), masker=first_masker).ok
    assert audit_dataset(df, spec, MaskPolicy(threshold=k)).ok


def test_the_pair_attack_finds_a_break_in_the_first_masker() -> None:
    """Two small members adding up to 2(k-1), searched for by hypothesis rather than written down."""

    def broken(case: tuple[pd.DataFrame, int]) -> bool:
        df, k = case
        return not audit_dataset(df, COMPLIANCE, MaskPolicy(threshold=k), masker=first_masker).ok

    df, k = find(attack("compliance", ("pair",), most=1), broken,
                 settings=settings(max_examples=300, deadline=None, database=None, derandomize=True))
    assert audit_dataset(df, COMPLIANCE, MaskPolicy(threshold=k)).ok
