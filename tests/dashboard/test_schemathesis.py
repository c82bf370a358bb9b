"""The API against its own OpenAPI document (issue 12, item 15): schemathesis (pinned in the test extra) generates
valid and invalid requests for every operation, as a viewer and as an admin, and every built-in check must pass.

Kept short (MAX_EXAMPLES per operation and mode) so the whole suite stays within its time budget; the refresh
operation runs against a database of the test's own (its jobs write there, never to the shared seeded one).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks

from auth.context import services_of
from auth.tokens import create_token
from dashboard.schema import openapi_document
from data.filters import current_month

MAX_EXAMPLES = 4
OPENAPI_PATH = "/api/v1/openapi.json"


def all_checks() -> list[Any]:
    load_all_checks()
    return [check for check in CHECKS.get_all() if callable(check) and not isinstance(check, type)]


def expressible(case: Any) -> bool:
    """A valid request as the document can say it: `start` after `end` is valid for each parameter alone, but the
    pair is refused (400, described in the parameters; end defaults to this month); the schema language cannot
    state the rule, so positive cases keep to it."""
    if case.meta is None or case.meta.generation.mode is not GenerationMode.POSITIVE:
        return True
    query = case.query or {}
    start, end = query.get("start"), query.get("end")
    if isinstance(start, str) and not isinstance(end, str):
        end = f"{current_month():%Y-%m}"  # the default end
    return not (isinstance(start, str) and isinstance(end, str) and start > end)


def test_the_document_is_served_and_is_the_generated_one(client, make_user):
    user, _ = make_user("viewer")
    token = create_token(services_of(client.application).engine, user)
    response = client.get(OPENAPI_PATH, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.get_json() == openapi_document()


@pytest.mark.parametrize("role", ["viewer", "admin"])
def test_every_operation_conforms_to_the_openapi_document(app, own_db, role):
    user = own_db.user(role)
    token = create_token(own_db.engine, user)
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_wsgi(OPENAPI_PATH, app.server, headers=headers)
    checks = all_checks()
    assert len(checks) >= 8
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode).filter(expressible))
            def run(case: Any) -> None:
                case.call_and_validate(headers=headers, checks=checks)

            try:
                run()
            except Exception as exc:  # every operation is tried; all failures are reported together
                failures.append(f"{operation.label} ({mode.value}): {str(exc).strip()[:1500]}")
    assert not failures, "\n\n".join(failures)
