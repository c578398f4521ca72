"""No input makes the JSON API answer 500: random path values, queries and bodies for every
operation in the OpenAPI schema, sent as an administrator (who passes every permission check,
so the input reaches the code behind it)."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityhealth.api import api
from cityhealth.core.roles import Role

OPERATIONS = [
    (method, path)
    for path, item in api.get_openapi_schema()["paths"].items()
    for method in item
    if method in {"get", "post", "put", "patch", "delete"}
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)
bodies = (
    json_values.map(json.dumps)
    | st.fixed_dictionaries({"raw": st.text(max_size=200)}).map(json.dumps)
    | st.text(max_size=80)
)


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_no_input_gives_a_500(method, path, client_as):
    client: Client = client_as(Role.ADMIN)

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        values=st.lists(st.text(min_size=1, max_size=30), min_size=4, max_size=4),
        query=st.dictionaries(
            st.sampled_from(
                ["q", "kind", "ward", "province", "page", "page_size", "sex", "birth_date"]
            ),
            st.text(max_size=20),
            max_size=3,
        ),
        body=bodies,
    )
    def probe(values: list[str], query: dict[str, str], body: str) -> None:
        slots = iter(values)
        url = "/api" + re.sub(r"\{[^}]+\}", lambda _m: quote(next(slots), safe=""), path)
        if method == "get":
            response = client.get(url, query)
        else:
            response = client.generic(method.upper(), url, body, "application/json")
        assert response.status_code < 500, (url, query, body, response.content[:300])
        if response.status_code >= 400:
            assert response["Content-Type"] == "application/problem+json"

    probe()
