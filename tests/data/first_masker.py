"""The first version of the masker's complementary rule, kept as an adversary for the privacy tests.

It hid, in a group with exactly one hidden member (or whose hidden parts added up to 1..k-1), the smallest
non-zero published member, ties to the earlier member, whole first. The tests show that the exact search of
data/privacy_audit.py solves cells it hid, so the attack tests demonstrably fail on it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from data.masking import SUPPRESSED, MaskPolicy, MaskResult, mask
from data.specs import DatasetSpec, Kind


def first_masker(df: pd.DataFrame, spec: DatasetSpec, policy: MaskPolicy) -> MaskResult:
    """Mask `df` with the first version's rules (same primary, derived and growth rules as today)."""
    k = policy.threshold
    frame = mask(df, spec, MaskPolicy(enabled=False, threshold=k)).frame.copy()
    lists = []
    for r in df.to_dict("records"):
        h = {c for c in spec.count_columns if 1 <= r[c] < k}
        changed = True
        while changed:
            changed = False
            for g in spec.groups:
                n_hidden = sum(m in h for m in g.members)
                remainder = r[g.whole] - sum(r[m] for m in g.parts if m not in h) if g.whole not in h else None
                small_remainder = n_hidden >= 2 and remainder is not None and 1 <= remainder < k
                if n_hidden != 1 and not small_remainder:
                    continue
                candidates = [(r[m], i) for i, m in enumerate(g.members) if m not in h and r[m] > 0]
                if candidates:
                    h.add(g.members[min(candidates)[1]])
                else:
                    h.add(g.whole if g.whole not in h else next(m for m in g.members if m not in h))
                changed = True
        for col in spec.fields:
            if col.kind in (Kind.DERIVED, Kind.MONEY, Kind.GROWTH):
                d = col.denominator
                if any(i in h for i in col.inputs) or (d is not None and d not in h and 0 < r[d] < k):
                    h.add(col.name)
        lists.append([c for c in spec.value_columns if c in h])
    for c in spec.value_columns:
        gone = np.array([c in listed for listed in lists], dtype=bool)
        if gone.any():
            frame[c] = frame[c].mask(gone)
    frame[SUPPRESSED] = pd.Series(lists, index=frame.index, dtype=object)
    return MaskResult(frame=frame, suppressed_cells=sum(len(x) for x in lists))
