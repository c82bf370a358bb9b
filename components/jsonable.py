"""Figures and Dash components as plain JSON data, in one pass of orjson.

What `json.loads(plotly.io.json.to_json_plotly(obj))` gives, without its costs: plotly deep-copies every figure
(`Figure.to_dict`) and, as soon as anything in the object is not plain data (a Dash component, a Decimal), walks the
whole tree in Python (`clean_to_json_compatible`) before encoding it. At 1M applications that walk was most of a
cold outreach callback's time, twice over: once when its figures and table were cached, and again when Dash encoded
the callback's answer. Here orjson encodes the tree in C and calls back into Python only for the few objects it does
not know. Callbacks that return what this gives (plain dicts, lists, strings and numbers) let Dash's own encoding
take orjson's fast path too.

Figures are read from their own data (`_data`, `_layout`): the builders give traces plain lists (components/figures
`plain`), so plotly's base64 packing of numpy arrays has nothing to pack; tests/components/test_jsonable.py pins
the output to plotly's for every page's figures.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import orjson
import pandas as pd
from dash.development.base_component import Component
from plotly.basedatatypes import BaseFigure

OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def _default(obj: Any) -> Any:
    """What orjson cannot encode itself, as something it can (its `default` hook; called again on the result)."""
    if isinstance(obj, Component):
        return component_json(obj)
    if isinstance(obj, BaseFigure):
        return {"data": obj._data, "layout": obj._layout}
    if isinstance(obj, Decimal):
        return float(obj)
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, pd.Timestamp):  # orjson takes only the exact datetime type
        return obj.to_pydatetime()
    if obj is pd.NaT or obj is pd.NA:
        return None
    if isinstance(obj, np.ndarray):  # an array of objects (strings, None)
        return obj.tolist()
    raise TypeError(f"cannot encode {type(obj).__name__} as JSON")


# Per component class: its prop names and wildcard prefixes (data-, aria-), as Dash sets them on every instance.
_PROPS: dict[type, tuple[frozenset[str], tuple[str, ...]]] = {}


def component_json(component: Component) -> dict[str, Any]:
    """`component.to_plotly_json()`, from the attributes the component was given rather than by asking for each of
    its possible props (`hasattr` on every one of an html element's twenty-odd names): a data table of a thousand
    cells was ten milliseconds of a cold callback. tests/components/test_jsonable.py checks it against Dash's own
    for every component class the app uses."""
    kind = type(component)
    known = _PROPS.get(kind)
    if known is None:
        known = _PROPS[kind] = (frozenset(component._prop_names), tuple(component._valid_wildcard_attributes))
    names, wildcards = known
    props = {k: v for k, v in vars(component).items() if k in names or (wildcards and k.startswith(wildcards))}
    return _component(component._type, component._namespace, props)


def html_json(tag: str, children: Any, **props: Any) -> dict[str, Any]:
    """`html.<tag>(children, **props).to_plotly_json()` without building the component: for tables of a thousand
    cells, where building a Dash component per cell took longer than building the chart."""
    return _component(tag, "dash_html_components", {"children": children, **props})


def _component(kind: str, namespace: str, props: dict[str, Any]) -> dict[str, Any]:
    """The JSON Dash sends for a component (tests/components/test_jsonable.py checks it against Dash's own)."""
    return {"props": props, "type": kind, "namespace": namespace}


def json_bytes(obj: Any) -> bytes:
    """`obj` encoded as JSON."""
    return orjson.dumps(obj, default=_default, option=OPTIONS)


def as_json(obj: Any) -> Any:
    """`obj` (figures, components, or any nesting of them in dicts and lists) as plain JSON data."""
    return orjson.loads(json_bytes(obj))
