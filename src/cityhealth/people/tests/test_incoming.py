"""Records from other systems: the match use case, its API and the review decisions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from cityhealth.accounts.selectors import actor_of
from cityhealth.core.errors import InvalidInput
from cityhealth.core.models import AuditEntry
from cityhealth.core.roles import Role
from cityhealth.people import selectors, services
from cityhealth.people.enums import (
    DatePrecision,
    IdentifierKind,
    MatchOutcome,
    ReviewKind,
    ReviewStatus,
    Sex,
)
from cityhealth.people.matching import IncomingRecord
from cityhealth.people.models import Person, PersonIdentifier, ReviewItem
from cityhealth.people.tests.test_matching_factory import save_person

pytestmark = pytest.mark.django_db

HOSPITAL = "01003"


def resident(**fields: Any) -> Person:
    fields.setdefault("sex", Sex.MALE)
    fields.setdefault("birth_year", fields["birth_date"].year)
    return save_person(**fields)


@pytest.fixture
def thai(hanoi_units: Any) -> Person:
    return resident(
        full_name="Hoàng Văn Thái",
        birth_date=dt.date(1968, 10, 21),
        ward_id="00008",
        phone="0912000111",
        address="Số 5 ngõ 7 phố Kim Mã",
    )


@pytest.fixture
def namesakes(hanoi_units: Any) -> list[Person]:
    return [
        resident(full_name="Đinh Công Tráng", birth_date=day, ward_id="00025")
        for day in (dt.date(1951, 2, 2), dt.date(1951, 9, 30))
    ]


def thai_record(**changes: Any) -> IncomingRecord:
    fields: dict[str, Any] = {
        "full_name": "Hoang Van Thai",  # a legacy system without diacritics
        "birth_date": dt.date(1968, 10, 21),
        "sex": "male",
        "ward_code": "00008",
        "phone": "0912000111",
        "source_record_id": "BA-2019-000123",
    }
    return IncomingRecord(**(fields | changes))


VAGUE_TRANG = IncomingRecord(
    full_name="Đinh Công Tráng",
    birth_year=1951,
    birth_date_precision=DatePrecision.YEAR,
    sex="male",
)


def test_link_keeps_the_hospital_number_and_the_next_record_needs_no_matching(thai):
    first = services.match_incoming_record(
        record=thai_record(), actor="test", facility_code=HOSPITAL
    )
    assert first.result.outcome == MatchOutcome.LINK
    assert first.person == thai
    assert first.result.method == "probabilistic"
    kept = PersonIdentifier.objects.get(kind=IdentifierKind.HOSPITAL_RECORD, issuer=HOSPITAL)
    assert (kept.person_id, kept.value) == (thai.pk, "BA-2019-000123")

    # The same hospital number again, now with a name too mangled to match on its own.
    again = services.match_incoming_record(
        record=thai_record(full_name="Hoàng V. T.", ward_code="", phone=""),
        actor="test",
        facility_code=HOSPITAL,
    )
    assert (again.result.method, again.person) == ("hospital_record", thai)
    audit = AuditEntry.objects.filter(action="person.matched").order_by("id")
    assert [e.details["outcome"] for e in audit] == ["link", "link"]


def test_review_keeps_the_record_and_its_candidates(namesakes):
    found = services.match_incoming_record(record=VAGUE_TRANG, actor="test", facility_code=HOSPITAL)
    assert found.result.outcome == MatchOutcome.REVIEW
    assert found.person is None
    item = found.review_item
    assert item is not None
    assert item.kind == ReviewKind.MATCH_REVIEW
    assert {c["person_id"] for c in item.payload["candidates"]} == {p.pk for p in namesakes}
    assert item.payload["record"]["full_name"] == "Đinh Công Tráng"
    assert services.decisions_for(item) == [
        services.ReviewDecision.LINK,
        services.ReviewDecision.REGISTER_NEW,
        services.ReviewDecision.DISMISS,
    ]
    view = selectors.review_view(item)
    assert [c.person.pk for c in view.candidates] == [
        c["person_id"] for c in item.payload["candidates"]
    ]
    assert view.rows[0].left == "Đinh Công Tráng"


def test_link_decision_must_name_one_of_the_candidates(namesakes, thai):
    item = services.match_incoming_record(record=VAGUE_TRANG, actor="test").review_item
    assert item is not None
    for wrong in (None, thai.pk):
        with pytest.raises(InvalidInput) as raised:
            services.resolve_review_item(item=item, decision="link", actor="clerk", person_id=wrong)
        assert raised.value.code == "review_item.bad_decision"
    services.resolve_review_item(
        item=item, decision="link", actor="clerk", person_id=namesakes[1].pk
    )
    item.refresh_from_db()
    assert item.status == ReviewStatus.RESOLVED
    assert item.resolution == "link"
    entry = AuditEntry.objects.filter(action="review_item.resolved").get()
    assert entry.details["person_id"] == namesakes[1].pk


def test_register_new_decision_creates_the_person_from_the_record(namesakes):
    record = IncomingRecord(
        full_name="Đinh Công Tráng",
        birth_year=1951,
        birth_date_precision=DatePrecision.YEAR,
        sex="male",
        source_record_id="HS-77",
    )
    item = services.match_incoming_record(
        record=record, actor="test", facility_code=HOSPITAL
    ).review_item
    assert item is not None
    before = Person.objects.count()
    services.resolve_review_item(item=item, decision="register_new", actor="clerk")
    assert Person.objects.count() == before + 1
    created = Person.objects.latest("id")
    assert (created.full_name, created.birth_year, created.birth_date) == (
        "Đinh Công Tráng",
        1951,
        None,
    )
    assert created.identifiers.get().value == "HS-77"


# --- API -----------------------------------------------------------------------------------


@pytest.fixture
def clerk(client_as: Any) -> Client:
    signed_in: Client = client_as(Role.RECEPTIONIST)
    return signed_in


def post_match(client: Client, body: dict[str, Any]) -> Any:
    return client.post("/api/people/match", body, content_type="application/json")


def test_api_link_review_and_new(clerk, thai, namesakes):
    linked = post_match(
        clerk,
        {
            "full_name": "Hoang Van Thai",
            "birth_date": "1968-10-21",
            "sex": "male",
            "ward": "00008",
            "phone": "+84 912 000 111",
        },
    )
    assert linked.status_code == 200, linked.content
    body = linked.json()
    assert (body["outcome"], body["person"]["id"], body["registered"]) == ("link", thai.pk, False)
    assert body["candidates"][0]["person_id"] == thai.pk

    review = post_match(
        clerk,
        {
            "full_name": "Đinh Công Tráng",
            "birth_year": 1951,
            "birth_date_precision": "year",
            "sex": "male",
        },
    )
    assert review.json()["outcome"] == "review"
    assert ReviewItem.objects.filter(pk=review.json()["review_item_id"]).exists()

    stranger = {"full_name": "Tạ Quang Bửu", "birth_date": "1911-07-23", "sex": "male"}
    new = post_match(clerk, stranger)
    assert (new.status_code, new.json()["outcome"], new.json()["person"]) == (200, "new", None)
    registered = post_match(clerk, stranger | {"register_if_new": True})
    assert registered.status_code == 201
    assert registered.json()["person"]["full_name"] == "Tạ Quang Bửu"
    # Registered once: the same record now links to that person.
    assert post_match(clerk, stranger).json()["outcome"] == "link"


def test_api_refuses_bad_input_and_unauthorised_callers(clerk, client_as, thai):
    bad_year = post_match(clerk, {"full_name": "Hoang Van Thai", "birth_year": 3000})
    assert bad_year.status_code == 400
    assert bad_year.json()["code"].startswith("person")
    broken = clerk.post("/api/people/match", "{not json", content_type="application/json")
    assert broken.status_code == 400
    bad_facility = post_match(clerk, {"full_name": "Hoang Van Thai", "facility_code": "x y"})
    assert bad_facility.status_code == 400
    viewer = client_as(Role.MANAGER)
    assert post_match(viewer, {"full_name": "Hoang Van Thai"}).status_code == 403
    assert (
        Client().post("/api/people/match", {}, content_type="application/json").status_code == 401
    )
    assert not AuditEntry.objects.filter(action="person.matched").exists()


# --- review page ---------------------------------------------------------------------------


def test_review_page_shows_the_record_beside_its_candidates_and_links_one(clerk, namesakes):
    item = services.match_incoming_record(
        record=VAGUE_TRANG, actor="test", facility_code=HOSPITAL
    ).review_item
    assert item is not None
    page = clerk.get(reverse("people:review_queue"), {"kind": "match_review"})
    html = page.content.decode()
    assert page.status_code == 200
    for person in namesakes:
        assert reverse("people:detail", args=[person.pk]) in html
    assert html.count('name="person_id"') == 2
    response = clerk.post(
        reverse("people:resolve_review", args=[item.pk]),
        {"decision": "link", "person_id": namesakes[0].pk},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.resolved_by) == (
        ReviewStatus.RESOLVED,
        actor_of(response.wsgi_request.user),
    )
