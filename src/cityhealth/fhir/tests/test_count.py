"""`_count` reads the same everywhere in the FHIR API: absent means the default, a whole number
below the least that interaction takes is a 400 with one code, a large one is capped."""

from __future__ import annotations

import pytest

from cityhealth.fhir.tests.test_access import created, observation, send, token_client
from cityhealth.people.models import Person

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("method", "url", "least"),
    [
        ("get", "/Observation?_count={count}", 0),
        ("get", "/Observation/_history?_count={count}", 1),
        ("get", "/Observation/{obs}/_history?_count={count}", 1),
        ("get", "/_history?_count={count}", 1),
        ("get", "/Patient/{person}/$everything?_count={count}", 1),
        ("get", "/AuditEvent?_count={count}", 1),
        ("delete", "/Observation?code=8302-2&_count={count}", 1),
    ],
)
def test_count_is_one_parameter_with_one_error(method, url, least):
    client = token_client("system/*.cruds", "system/AuditEvent.rs")
    person = Person.objects.create(full_name="Lan")
    obs = created(client, observation())
    for bad in ("x", "-1", "1.5", "", str(least - 1) if least else "x"):
        answer = send(client, method, url.format(count=bad, obs=obs, person=person.pk))
        assert answer.status_code == 400, (bad, answer.content)
        issue = answer.json()["issue"][0]
        assert issue["details"]["coding"][0]["code"] == "request.bad_count"
        assert (
            f"{least} or more" in issue["diagnostics"]
            or f"{least} trở lên" in (issue["diagnostics"])
        )
    if method == "get":
        capped = send(client, "get", url.format(count="99999", obs=obs, person=person.pk))
        assert capped.status_code == 200, capped.content
        assert (
            send(client, "get", url.format(count=least, obs=obs, person=person.pk)).status_code
            == 200
        )
