"""Bearer tokens: a token checked once is trusted for a few seconds, never past its expiry."""

from __future__ import annotations

import time
from datetime import timedelta

from django.test import Client, override_settings

from cityhealth.accounts.models import ApiToken
from cityhealth.accounts.services import create_api_client, issue_api_token, revoke_api_token
from cityhealth.core import clock


def status(raw: str) -> int:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client.get("/fhir/R4/Observation/none").status_code


@override_settings(CITYHEALTH_TOKEN_CACHE_SECONDS=0.3)
def test_a_revocation_made_elsewhere_is_honoured_within_the_cache_bound(db):
    made = create_api_client(name="HIS", scopes=["system/*.rs"])
    issued = issue_api_token(client=made.client, scopes=["system/*.rs"])
    assert status(issued.raw) == 404  # authorized; no such Observation
    # Another worker process revokes it: no signal reaches this one.
    ApiToken.objects.filter(pk=issued.token.pk).update(revoked_at=clock.now())
    assert status(issued.raw) == 404  # still trusted, within the bound
    time.sleep(0.35)
    assert status(issued.raw) == 401


@override_settings(CITYHEALTH_TOKEN_CACHE_SECONDS=60)
def test_a_revocation_in_this_process_and_an_expiry_take_effect_at_once(db):
    made = create_api_client(name="HIS", scopes=["system/*.rs"])
    revoked = issue_api_token(client=made.client, scopes=["system/*.rs"])
    assert status(revoked.raw) == 404
    revoke_api_token(token=revoked.token)
    assert status(revoked.raw) == 401
    expiring = issue_api_token(
        client=made.client, scopes=["system/*.rs"], expires_at=clock.now() + timedelta(seconds=1)
    )
    assert status(expiring.raw) == 404  # now in the cache, for a minute
    with clock.frozen_at(clock.now() + timedelta(seconds=1, milliseconds=50)):
        assert status(expiring.raw) == 401
