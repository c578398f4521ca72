"""OAuth2 client credentials at POST /oauth/token (RFC 6749 §4.4), SMART scopes, and the
command that makes a client."""

from __future__ import annotations

import base64
import io

import pytest
from django.core.management import call_command
from django.test import Client

from cityhealth.accounts.models import ApiClient, ApiToken
from cityhealth.accounts.selectors import authenticate_api_token, hash_secret
from cityhealth.accounts.services import create_api_client
from cityhealth.accounts.types import grant, narrow, parse_scope
from cityhealth.core.roles import Permission
from cityhealth.facilities.models import Facility

pytestmark = pytest.mark.django_db


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def ask(form: dict[str, str], **headers: str):
    return Client().post("/oauth/token", form, headers=headers)


def test_a_client_gets_a_short_lived_bearer_token_with_the_scope_it_asked_for(settings):
    settings.CITYHEALTH_ACCESS_TOKEN_SECONDS = 600
    made = create_api_client(name="HIS Xanh Pôn", scopes=["system/*.cruds"])
    answer = ask(
        {"grant_type": "client_credentials", "scope": "system/Observation.rs system/*.write"},
        **basic(made.client_id, made.secret),
    )
    assert answer.status_code == 200
    assert answer["Cache-Control"] == "no-store"
    body = answer.json()
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 600)
    assert body["scope"] == "system/Observation.rs system/*.write"
    token = authenticate_api_token(body["access_token"])
    assert token is not None
    assert token.client == made.client
    assert token.scopes == ["system/Observation.rs", "system/*.write"]
    assert token.expires_at is not None
    # Only a hash of the token is kept.
    stored = ApiToken.objects.get(pk=token.pk)
    assert body["access_token"].split("_")[2] not in stored.secret_hash
    assert stored.secret_hash == hash_secret(body["access_token"].split("_")[2])


def test_form_credentials_work_and_no_scope_asked_gives_the_clients_scopes():
    made = create_api_client(name="HIS", scopes=["system/*.read", "dispatch"])
    answer = ask(
        {
            "grant_type": "client_credentials",
            "client_id": made.client_id,
            "client_secret": made.secret,
        }
    )
    assert answer.status_code == 200
    assert answer.json()["scope"] == "system/*.read dispatch"


def test_the_granted_scope_is_the_requested_narrowed_to_the_clients():
    made = create_api_client(name="HIS", scopes=["system/Observation.rs"])
    answer = ask(
        {"grant_type": "client_credentials", "scope": "system/*.cruds"},
        **basic(made.client_id, made.secret),
    )
    assert answer.json()["scope"] == "system/Observation.rs"


@pytest.mark.parametrize(
    ("form", "secret_ok", "status", "error"),
    [
        ({"grant_type": "client_credentials"}, False, 401, "invalid_client"),
        ({"grant_type": "password"}, True, 400, "unsupported_grant_type"),
        ({"grant_type": "client_credentials", "scope": "system/Condition.rs"}, True, 400,
         "invalid_scope"),
        ({"grant_type": "client_credentials", "scope": "admin"}, True, 400, "invalid_scope"),
    ],
)  # fmt: skip
def test_refusals_follow_rfc_6749(form, secret_ok, status, error):
    made = create_api_client(name="HIS", scopes=["system/Observation.rs"])
    answer = ask(form, **basic(made.client_id, made.secret if secret_ok else "wrong"))
    assert answer.status_code == status
    assert answer.json()["error"] == error
    if status == 401:
        assert answer["WWW-Authenticate"].startswith("Basic")
    assert not ApiToken.objects.exists()


def test_an_inactive_client_and_a_get_are_refused():
    made = create_api_client(name="HIS", scopes=["system/*.read"])
    ApiClient.objects.filter(pk=made.client.pk).update(is_active=False)
    refused = ask({"grant_type": "client_credentials"}, **basic(made.client_id, made.secret))
    assert refused.status_code == 401
    assert Client().get("/oauth/token").status_code == 405


def test_making_a_client_again_rotates_its_secret():
    first = create_api_client(name="HIS", scopes=["system/*.read"])
    second = create_api_client(name="HIS", scopes=["system/*.rs"])
    assert first.client_id == second.client_id
    old = ask({"grant_type": "client_credentials"}, **basic(first.client_id, first.secret))
    assert old.status_code == 401
    new = ask({"grant_type": "client_credentials"}, **basic(second.client_id, second.secret))
    assert new.json()["scope"] == "system/*.rs"


def test_the_command_prints_the_id_secret_and_token_url_once():
    Facility.objects.create(code="BV-XANHPON", name="Xanh Pôn", kind="general_hospital")
    out = io.StringIO()
    call_command(
        "accounts", "create-client", "--name", "Demo HIS", "--facility", "BV-XANHPON",
        "--scope", "system/*.read system/*.write", stdout=out,
    )  # fmt: skip
    printed = dict(line.split(":", 1) for line in out.getvalue().splitlines() if ":" in line)
    client = ApiClient.objects.get(name="Demo HIS")
    assert printed["client_id"].strip() == client.client_id
    assert client.secret_hash == hash_secret(printed["client_secret"].strip())
    assert printed["token URL"].strip().endswith("/oauth/token")
    assert client.facility is not None
    assert client.facility.code == "BV-XANHPON"
    assert client.scopes == ["system/*.read", "system/*.write"]


def test_unknown_scopes_are_refused_when_a_client_is_made():
    with pytest.raises(Exception, match="Unknown scope"):
        create_api_client(name="HIS", scopes=["system/Observation.fly"])


# --- SMART scope grammar -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "context", "resource_type", "actions"),
    [
        ("system/Observation.read", "system", "Observation", "rs"),
        ("system/*.write", "system", "*", "cud"),
        ("system/*.*", "system", "*", "cruds"),
        ("user/Encounter.cruds", "user", "Encounter", "cruds"),
        ("patient/*.rs", "patient", "*", "rs"),
        ("read_records", "system", "*", "rs"),
        ("write_records", "system", "*", "cud"),
    ],
)
def test_smart_v1_v2_and_the_coarse_scopes_parse(text, context, resource_type, actions):
    scope = parse_scope(text)
    assert scope is not None
    assert (scope.context, scope.resource_type, scope.actions) == (
        context,
        resource_type,
        frozenset(actions),
    )


@pytest.mark.parametrize(
    "text",
    [
        "system/Observation.sr",
        "system/Observation.rr",
        "dispatch",
        "system/Observation.rs?category=lab",
        "robot/*.read",
    ],
)
def test_malformed_or_unsupported_scopes_are_not_smart_scopes(text):
    assert parse_scope(text) is None


def test_narrowing_keeps_the_requested_form_or_states_what_is_left():
    assert narrow("system/Observation.read", ["system/*.*"]) == ["system/Observation.read"]
    assert narrow("system/*.*", ["system/Observation.rs"]) == ["system/Observation.rs"]
    assert narrow("patient/*.read", ["system/*.*"]) == []
    assert grant(["break_glass", "system/*.rs"], ["break_glass", "system/*.r"]) == [
        "break_glass",
        "system/*.r",
    ]


def test_smart_scopes_imply_the_record_permissions_but_coarse_ones_no_person_lookup():
    smart = create_api_client(name="A", scopes=["system/Patient.rs"]).client
    coarse = create_api_client(name="B", scopes=["read_records"]).client
    smart_token = ApiToken(client=smart, key_id="a", secret_hash="")
    coarse_token = ApiToken(client=coarse, key_id="b", secret_hash="")
    assert smart_token.has_permission(Permission.READ_RECORDS)
    assert smart_token.has_permission(Permission.VIEW_PERSONS)
    assert not smart_token.has_permission(Permission.WRITE_RECORDS)
    assert coarse_token.has_permission(Permission.READ_RECORDS)
    assert not coarse_token.has_permission(Permission.VIEW_PERSONS)
