"""Helpers for page tests: drive Dash callbacks through the real `/_dash-update-component` endpoint."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from tests.conftest import csrf_headers

# The seeded data ends 2026-06 (tests/conftest.py SEED_NOW); pages default to the current month, so tests say.
START, END = "2025-07", "2026-06"


class DashCaller:
    """POST a callback's inputs as the browser would and return its outputs by id (None when no update)."""

    def __init__(self, app: Any, client: Any) -> None:
        self.app, self.client = app, client

    def key(self, output_ids: Sequence[str]) -> str:
        """The callback_map key of the callback whose outputs include every one of `output_ids`."""
        self.client.get("/health")  # the first request moves the global callbacks onto the app
        for key in self.app.callback_map:
            if all(f"{oid}." in key for oid in output_ids):
                return key
        raise KeyError(f"no callback outputs {output_ids}")

    def response(self, output_id: str, inputs: dict[str, Any], prop: str = "value") -> Any:
        key = self.key([output_id])
        outputs = [
            {"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]}
            for part in key.strip(".").split("...")
        ]
        body = {
            "output": key,
            "outputs": outputs if key.startswith("..") else outputs[0],
            "inputs": self.inputs(key, inputs, prop),
            "changedPropIds": [_prop_id(next(iter(inputs)), prop)],
            "state": [],
        }
        return self.client.post("/_dash-update-component", json=body, headers=csrf_headers(self.client))

    def inputs(self, key: str, given: dict[str, Any], prop: str) -> list[dict[str, Any]]:
        """The callback's declared inputs in order, valued from `given`; inputs not given (a switch the test does
        not care about, say) are sent as None, as for a component that has no value yet."""
        values = {_prop_id(name, prop): value for name, value in given.items()}
        declared = self.app.callback_map[key]["inputs"]
        unknown = set(values) - {f"{d['id']}.{d['property']}" for d in declared}
        assert not unknown, f"{key} has no input(s) {sorted(unknown)}"
        return [{**d, "value": values.get(f"{d['id']}.{d['property']}")} for d in declared]

    def __call__(self, output_id: str, inputs: dict[str, Any], prop: str = "value") -> dict[str, Any] | None:
        answer = self.response(output_id, inputs, prop)
        if answer.status_code == 204:
            return None
        assert answer.status_code == 200, answer.get_data(as_text=True)[:2000]
        payload = answer.get_json()
        return {cid: next(iter(props.values())) for cid, props in payload["response"].items()}


def _prop_id(name: str, prop: str) -> str:
    """`name` is a component id (property `prop`) or 'id.property'."""
    return name if "." in name else f"{name}.{prop}"


@pytest.fixture
def dash_call(app: Any, client: Any) -> DashCaller:
    return DashCaller(app, client)


def filters(page: str, facility_ids: Sequence[int] = (), start: str = START, end: str = END, **extra: Any) -> dict:
    """The inputs of a page's main callback."""
    values = {f"{page}-facility": list(facility_ids), f"{page}-start": start, f"{page}-end": end}
    values.update({f"{page}-{name}": value for name, value in extra.items()})
    return values
