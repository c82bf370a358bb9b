import pickle
from decimal import Decimal

import numpy as np
import pandas as pd

from data.framepickle import frame_state
from data.masking import MaskResult

MONEY = [Decimal("1234.50"), None, Decimal("-0.01"), Decimal("1E+3"), Decimal("0.00"), Decimal("-0")]


def test_a_mask_result_comes_back_from_the_cache_exactly_with_its_decimals():
    frame = pd.DataFrame({
        "facility_id": np.arange(6, dtype=np.int64),
        "revenue": pd.Series(MONEY, dtype=object),
        "channel": pd.Series(["sms", None, "email", "sms", "phone", "email"], dtype=object),
        "rate": [0.5, np.nan, 1.0, 0.0, 0.25, 0.125],
        "suppressed": pd.Series([[], ["revenue"], [], [], ["rate"], []], dtype=object),
    })
    result = MaskResult(frame, 2)
    _, (rest, texts, _order, _cells) = result.__reduce__()
    assert list(texts) == ["revenue"] and "revenue" not in rest  # the money travels as one string
    back = pickle.loads(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    pd.testing.assert_frame_equal(back.frame, frame)
    assert back.suppressed_cells == 2
    # The same objects, not only equal ones: Decimal('1E+3') stays '1E+3', -0 keeps its sign, None stays None.
    assert [None if v is None else str(v) for v in back.frame["revenue"]] == [
        None if v is None else str(v) for v in MONEY]


def test_only_columns_of_decimals_are_written_as_text():
    frame = pd.DataFrame({"revenue": pd.Series(MONEY, dtype=object), "channel": ["a", "b", "c", "d", "e", "f"],
                          "empty": pd.Series([None] * 6, dtype=object)})
    rest, texts, order = frame_state(frame)
    assert list(texts) == ["revenue"] and list(rest.columns) == ["channel", "empty"]
    assert order == ["revenue", "channel", "empty"]
