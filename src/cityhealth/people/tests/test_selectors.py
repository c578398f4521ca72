from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection

from cityhealth.core.errors import (
    AuthenticationRequired,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from cityhealth.core.models import AuditEntry
from cityhealth.core.roles import Role
from cityhealth.people import selectors, services
from cityhealth.people.enums import IdentifierKind
from cityhealth.people.models import Person, PersonIdentifier
from cityhealth.people.selectors import mask_name

pytestmark = pytest.mark.django_db

ACTOR = "user:1"


def person(name: str, year: int | None = None, **fields) -> Person:
    return services.register_person(actor=ACTOR, full_name=name, birth_year=year, **fields).person


@pytest.fixture
def clerk(make_staff):
    return make_staff(Role.RECEPTIONIST)


@pytest.fixture
def crew(make_staff):
    return make_staff(Role.CREW)  # holds no VIEW_PERSONS


# --- access_person -------------------------------------------------------------------------


def test_access_person_reads_and_audits(clerk):
    anh = person("Trần Thị Minh Anh", 1995, citizen_id="001195012345")
    found = selectors.access_person(
        principal=clerk, person_id=anh.pk, reason="khám bệnh", source_ip="10.0.0.7"
    )
    assert found.pk == anh.pk
    assert [i.value for i in found.identifiers.all()] == ["001195012345"]
    entry = AuditEntry.objects.get(action="person.read")
    assert (entry.actor, entry.target_type, entry.target_id) == (
        f"user:{clerk.pk}",
        "person",
        str(anh.pk),
    )
    assert (entry.reason, entry.source_ip) == ("khám bệnh", "10.0.0.7")


def test_missing_and_forbidden_give_the_same_answer(clerk, crew):
    anh = person("Trần Thị Minh Anh", 1995)
    answers = []
    for principal, person_id in ((clerk, anh.pk + 1000), (crew, anh.pk), (None, anh.pk)):
        with pytest.raises(NotFound) as info:
            selectors.access_person(principal=principal, person_id=person_id)
        error = info.value
        answers.append((type(error), error.code, error.message_vi, error.message_en, error.params))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][1] == "person.not_found"
    assert not AuditEntry.objects.filter(action="person.read").exists()


@pytest.mark.parametrize("person_id", [0, -1, 2**63, 10**30])
def test_impossible_ids_are_simply_not_found(clerk, person_id):
    with pytest.raises(NotFound):
        selectors.access_person(principal=clerk, person_id=person_id)


def test_a_merged_record_answers_with_its_survivor(clerk):
    survivor = person("Trần Thị Minh Anh", 1995)
    retired = person("Tran Thi Minh Anh", 1995)
    services.merge_persons(survivor=survivor, retired=retired, reason="trùng", actor=ACTOR)
    found = selectors.access_person(principal=clerk, person_id=retired.pk)
    assert found.pk == survivor.pk
    entry = AuditEntry.objects.get(action="person.read")
    assert entry.target_id == str(survivor.pk)
    assert entry.details == {"requested_id": retired.pk}


# --- lookup by citizen ID ------------------------------------------------------------------


def test_lookup_by_current_and_earlier_number(clerk):
    anh = person("Trần Thị Minh Anh", 1995, citizen_id="001195012345")
    services.record_id_reissue(
        person=anh, new_citizen_id="001195099999", reason="cấp lại", actor=ACTOR
    )
    by_new = selectors.lookup_by_citizen_id(principal=clerk, citizen_id="001195099999")
    by_old = selectors.lookup_by_citizen_id(principal=clerk, citizen_id=" 001195012345 ")
    assert by_new is not None
    assert by_old is not None
    assert by_new.pk == by_old.pk == anh.pk
    assert selectors.lookup_by_citizen_id(principal=clerk, citizen_id="001195000000") is None
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions[-3:] == ["person.read", "person.read", "person.lookup"]


def test_lookup_prefers_the_current_holder_and_refuses_to_guess(clerk):
    anh = person("Trần Thị Minh Anh", 1995)
    binh = person("Lê Văn Bình", 1990)
    for holder in (anh, binh):
        PersonIdentifier.objects.create(
            person=holder, kind=IdentifierKind.CITIZEN_ID, value="001195012345", status="cancelled"
        )
    with pytest.raises(Conflict) as info:
        selectors.lookup_by_citizen_id(principal=clerk, citizen_id="001195012345")
    assert info.value.code == "person.citizen_id_ambiguous"
    PersonIdentifier.objects.create(
        person=binh, kind=IdentifierKind.CITIZEN_ID, value="001195012345"
    )
    found = selectors.lookup_by_citizen_id(principal=clerk, citizen_id="001195012345")
    assert found is not None
    assert found.pk == binh.pk


@pytest.mark.parametrize("number", ["", "00119501234", "0011950123456", "00119501234a", "١٢٣"])
def test_lookup_validates_the_number_first(clerk, number):
    with pytest.raises(InvalidInput) as info:
        selectors.lookup_by_citizen_id(principal=clerk, citizen_id=number)
    assert info.value.code == "citizen_id.not_12_digits"


def test_lookup_without_the_right_looks_like_nobody(crew):
    person("Trần Thị Minh Anh", 1995, citizen_id="001195012345")
    assert selectors.lookup_by_citizen_id(principal=crew, citizen_id="001195012345") is None


# --- search --------------------------------------------------------------------------------


@pytest.fixture
def residents():
    return {
        "anh": person("Nguyễn Thị Minh Anh", 1985, phone="0912345678"),
        "anh_young": person("Nguyễn Thị Minh Anh", 2001),
        "anna": person("Nguyễn Thị Minh Anna", 1985),
        "hong": person("Võ Thị Hồng", 1970),
        "vu": person("Vũ Văn Nam", 1970),
        "huynh": person("Huỳnh Văn Lộc", 1962),
        "dong": person("Đặng Văn Đông", 1950),
    }


def names(result: selectors.SearchResult) -> list[tuple[int, int | None]]:
    return [(item.id, item.birth_year) for item in result.items]


@pytest.mark.parametrize(
    "query", ["Nguyễn Thị Minh Anh", "nguyen thi minh anh", "NGUYEN  THI MINH ANH", "nguyễn thị"]
)
def test_search_ignores_case_and_diacritics(clerk, residents, query):
    result = selectors.search_persons(principal=clerk, q=query, birth_year=1985)
    assert residents["anh"].pk in [item.id for item in result.items]


def test_exact_key_matches_come_first_then_prefixes(clerk, residents):
    an = person("Nguyễn Văn An", 1990)
    anh = person("Nguyễn Văn Anh", 1980)
    result = selectors.search_persons(principal=clerk, q="nguyen van an")
    assert names(result) == [(an.pk, 1990), (anh.pk, 1980)]
    prefixed = selectors.search_persons(principal=clerk, q="Nguyễn Thị Minh An")
    assert names(prefixed) == [
        (residents["anh"].pk, 1985),
        (residents["anh_young"].pk, 2001),
        (residents["anna"].pk, 1985),
    ]
    assert not prefixed.more
    assert prefixed.items[0].name == "Nguyễn T. M. Anh"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("vo thi hong", "hong"),
        ("Vũ Thị Hồng", "hong"),
        ("vo van nam", "vu"),
        ("hoang van loc", "huynh"),
    ],
)
def test_southern_and_northern_surnames_match_each_other(clerk, residents, query, expected):
    result = selectors.search_persons(principal=clerk, q=query)
    assert [item.id for item in result.items] == [residents[expected].pk]


def test_d_with_stroke_is_folded(clerk, residents):
    result = selectors.search_persons(principal=clerk, q="dang van dong")
    assert [item.id for item in result.items] == [residents["dong"].pk]


def test_filters_combine(clerk, residents):
    assert names(selectors.search_persons(principal=clerk, q="nguyen", birth_year=2001)) == [
        (residents["anh_young"].pk, 2001)
    ]
    by_phone = selectors.search_persons(principal=clerk, phone="091 234 5678")
    assert [item.id for item in by_phone.items] == [residents["anh"].pk]
    by_year = selectors.search_persons(principal=clerk, birth_year=1970)
    assert {item.id for item in by_year.items} == {residents["hong"].pk, residents["vu"].pk}
    assert selectors.search_persons(principal=clerk, q="tran", birth_year=1985).items == []


@pytest.mark.usefixtures("hanoi_units")
def test_search_by_ward(clerk):
    here = person("Lê Văn Tám", 1990, ward_code="00004")
    person("Lê Văn Tám", 1990, ward_code="00008")
    result = selectors.search_persons(principal=clerk, q="le van tam", ward="00004")
    assert [item.id for item in result.items] == [here.pk]
    assert result.items[0].ward_name == "Phường Ba Đình"


def test_limit_and_more(clerk, residents):
    result = selectors.search_persons(principal=clerk, q="nguyen", limit=2)
    assert len(result.items) == 2
    assert result.more


def test_merged_away_records_are_not_listed(clerk, residents):
    services.merge_persons(
        survivor=residents["anh"], retired=residents["anh_young"], reason="x", actor=ACTOR
    )
    result = selectors.search_persons(principal=clerk, q="nguyen thi minh anh")
    assert residents["anh_young"].pk not in [item.id for item in result.items]


def test_one_audit_entry_per_search(clerk, residents):
    result = selectors.search_persons(principal=clerk, q="Nguyễn", source_ip="10.1.1.1")
    (entry,) = AuditEntry.objects.filter(action="person.search")
    assert entry.details["result_ids"] == [item.id for item in result.items]
    assert entry.details["criteria"]["q"] == "nguyen"
    assert not AuditEntry.objects.filter(action="person.read").exists()


@pytest.mark.parametrize(
    ("criteria", "code"),
    [
        ({}, "person_search.no_criteria"),
        ({"q": "   "}, "person_search.no_criteria"),
        ({"q": "\x00\x01"}, "person_search.no_criteria"),
        ({"birth_year": 1850}, "person.bad_birth_year"),
        ({"birth_year": 40000}, "person.bad_birth_year"),
        ({"ward": "ba dinh"}, "person_search.bad_ward"),
        ({"phone": "abc"}, "person.bad_phone"),
        (
            {"q": "an", "birth_year": 1990, "birth_date": dt.date(1991, 1, 1)},
            "person_search.year_date_disagree",
        ),
    ],
)
def test_bad_search_input(clerk, criteria, code):
    with pytest.raises(InvalidInput) as info:
        selectors.search_persons(principal=clerk, **criteria)
    assert info.value.code == code


def test_search_needs_the_right(crew):
    with pytest.raises(PermissionDenied):
        selectors.search_persons(principal=crew, q="nguyen")
    with pytest.raises(AuthenticationRequired):
        selectors.search_persons(principal=None, q="nguyen")


def test_birth_date_filter(clerk):
    exact = services.register_person(
        actor=ACTOR, full_name="Lê Thị Hoa", birth_date=dt.date(1960, 5, 6)
    ).person
    person("Lê Thị Hoa", 1960)
    result = selectors.search_persons(
        principal=clerk, q="le thi hoa", birth_date=dt.date(1960, 5, 6)
    )
    assert [item.id for item in result.items] == [exact.pk]


@pytest.mark.parametrize(
    ("full", "masked"),
    [
        ("Nguyễn Thị Minh Anh", "Nguyễn T. M. Anh"),
        ("Lê Văn Tám", "Lê V. Tám"),
        ("Lê Na", "Lê Na"),
        ("Madonna", "Madonna"),
        ("", ""),
    ],
)
def test_mask_name(full, masked):
    assert mask_name(full) == masked


# --- the index serves the search -----------------------------------------------------------


def _plan(sql: str, params: Any) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(str(row) for row in cursor.fetchall())


def test_name_prefix_and_year_are_answered_from_an_index(residents):
    prefix = Person.objects.filter(selectors._prefix("nguyen thi"), birth_year=1985)
    exact = Person.objects.filter(search_text="nguyen thi minh anh", birth_year=1985)
    for queryset in (prefix, exact):
        sql, params = queryset.values("id").query.sql_with_params()
        plan = _plan(sql, params)
        assert "people_name_year" in plan, plan
