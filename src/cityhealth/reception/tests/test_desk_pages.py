"""The desk's pages through Django's test client: its tabs, each walk-in kind from the form to
the ticket, a refused check-in that keeps the registered person for the next try, the visit
page with its corrections and log, and a visit of another hospital not found."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from cityhealth.accounts.models import User
from cityhealth.accounts.services import grant_role
from cityhealth.core import clock
from cityhealth.core.roles import Role
from cityhealth.people.models import Guardianship, Person
from cityhealth.people.services import UNKNOWN_NAME
from cityhealth.reception.models import QueueEntry, Visit, VisitCorrection
from cityhealth.reception.tests.conftest import HOSPITAL, WOMAN, WOMAN_CARD, make_small_hospital

pytestmark = pytest.mark.django_db
MORNING = dt.datetime(2026, 11, 26, 1, 30, tzinfo=dt.UTC)  # 08:30 in Hà Nội


@pytest.fixture
def desk(receptionist: User) -> Client:
    client = Client()
    client.force_login(receptionist)
    return client


def post(client: Client, url: str, data: dict[str, Any]) -> Any:
    with clock.frozen_at(MORNING):
        return client.post(url, {"facility": HOSPITAL, **data})


def html(page: Any) -> str:
    text: str = page.content.decode()
    return text


def test_the_desk_has_a_tab_per_kind_of_walk_in(hospital, desk):
    page = html(desk.get(f"/reception/desk/?facility={HOSPITAL}"))
    for tab in ("tab-child", "tab-foreigner", "tab-unknown"):
        assert f'id="{tab}"' in page
    assert "Trẻ em theo căn cước người giám hộ" in page  # Vietnamese first
    assert 'value="CLINIC-PAEDIATRICS"' in page  # the hospital's clinics to choose
    for url in ("/reception/desk/child/", "/reception/desk/foreigner/", "/reception/desk/unknown/"):
        assert desk.get(url).status_code == 200


def test_a_child_on_the_guardians_card_from_scan_to_ticket(hospital, desk):
    found = post(desk, "/reception/desk/child/", {"guardian_scan": WOMAN_CARD, "action": "find"})
    page = html(found)
    assert 'id="desk-guardian"' in page
    assert "Trần Thị Minh Anh" in page
    assert 'name="full_name"' in page
    done = post(
        desk, "/reception/desk/child/",
        {
            "guardian_scan": WOMAN, "action": "check_in", "child": "",
            "full_name": "Nguyễn Minh An", "birth_date": "2023-04-01", "sex": "male",
            "relationship": "father", "clinic": "CLINIC-PAEDIATRICS",
        },
    )  # fmt: skip
    page = html(done)
    assert 'id="desk-ticket"' in page
    assert 'id="desk-registered"' in page
    visit = Visit.objects.select_related("person", "guardian").get()
    assert visit.person.full_name == "Nguyễn Minh An"
    assert visit.guardian is not None
    assert visit.guardian.full_name == "Trần Thị Minh Anh"
    assert visit.identified_by == "guardian"
    assert Guardianship.objects.get(child=visit.person).relationship == "father"
    assert f"/reception/desk/visits/{visit.pk}/" in page
    # The guardian's card now lists the child, to be picked next time.
    again = html(post(desk, "/reception/desk/child/", {"guardian_scan": WOMAN}))
    assert f'name="child" value="{visit.person_id}"' in again


def test_a_child_refused_a_clinic_is_kept_and_picked_on_the_next_try(hospital, desk):
    form = {
        "guardian_scan": WOMAN_CARD, "action": "check_in", "full_name": "Nguyễn Minh An",
        "birth_date": "2023-04-01", "sex": "male", "clinic": "CLINIC-INTERNAL",
    }  # fmt: skip
    refused = html(post(desk, "/reception/desk/child/", form))
    kid = Person.objects.get(full_name="Nguyễn Minh An")
    assert 'id="desk-error"' in refused
    assert str(kid.pk) in refused
    assert f'name="child" value="{kid.pk}" checked' in refused
    done = post(
        desk, "/reception/desk/child/",
        {**form, "child": str(kid.pk), "clinic": "CLINIC-PAEDIATRICS"},
    )  # fmt: skip
    assert 'id="desk-ticket"' in html(done)
    assert Person.objects.filter(full_name="Nguyễn Minh An").count() == 1
    assert Visit.objects.get().person_id == kid.pk


def test_a_foreigner_by_passport_pays_unless_ticked(hospital, desk):
    done = post(
        desk, "/reception/desk/foreigner/",
        {
            "passport": "M1234567", "country": "KR", "full_name": "Kim Min Jun",
            "birth_date": "1990-05-06", "sex": "male", "clinic": "CLINIC-INTERNAL",
        },
    )  # fmt: skip
    page = html(done)
    assert 'id="desk-ticket"' in page
    assert "Kim Min Jun" in page
    visit = Visit.objects.get()
    assert visit.identified_by == "passport"
    assert visit.eligibility_check_id is None
    bad = post(desk, "/reception/desk/foreigner/", {"passport": "", "clinic": "CLINIC-INTERNAL"})
    assert 'id="desk-form-errors"' in html(bad)
    assert Visit.objects.count() == 1


def test_an_unknown_person_kept_after_a_refusal_is_checked_in_on_the_next_try(hospital, desk):
    refused = html(
        post(
            desk, "/reception/desk/unknown/",
            {"approximate_age": "30", "sex": "male", "clinic": "CLINIC-OBGYN", "emergency": "1"},
        )
    )  # fmt: skip
    kept = Person.objects.get(full_name=UNKNOWN_NAME)
    assert 'id="desk-error"' in refused
    assert f'name="person" value="{kept.pk}"' in refused
    done = post(
        desk, "/reception/desk/unknown/",
        {"approximate_age": "30", "sex": "male", "clinic": "CLINIC-INTERNAL", "emergency": "1",
         "person": str(kept.pk)},
    )  # fmt: skip
    page = html(done)
    assert 'id="desk-ticket"' in page
    assert f"/people/{kept.pk}/" in page  # where the record is merged once identified
    assert Person.objects.filter(full_name=UNKNOWN_NAME).count() == 1
    assert Visit.objects.get().ticket == "C001"


def test_the_visit_page_corrects_and_logs(hospital, desk):
    post(desk, "/reception/desk/", {"scan": WOMAN_CARD, "clinic": "CLINIC-INTERNAL"})
    visit = Visit.objects.get()
    url = f"/reception/desk/visits/{visit.pk}/"
    page = html(desk.get(url))
    assert 'id="visit-entries"' in page
    assert 'id="correct-clinic"' in page
    assert "Trần Thị Minh Anh" in page
    missing_reason = post(desk, url, {"action": "clinic", "clinic": "CLINIC-OBGYN"})
    assert 'id="visit-error"' in html(missing_reason)
    assert "lý do" in html(missing_reason)
    moved = post(desk, url, {"action": "clinic", "clinic": "CLINIC-OBGYN", "reason": "Khám sản"})
    assert moved.status_code == 302
    page = html(desk.get(url))
    assert "Khám sản" in page  # the log row
    assert QueueEntry.objects.get().department.code == "CLINIC-OBGYN"
    post(desk, url, {"action": "priority", "groups": ["pregnant"], "reason": "Có thai"})
    post(desk, url, {"action": "cancel", "reason": "Mở nhầm"})
    visit.refresh_from_db()
    assert visit.status == "cancelled"
    assert list(VisitCorrection.objects.order_by("id").values_list("kind", flat=True)) == [
        "clinic", "priority", "cancel",
    ]  # fmt: skip
    closed = html(desk.get(url))
    assert 'id="correct-clinic"' not in closed  # nothing more to correct
    assert "Mở nhầm" in closed
    bogus = post(desk, url, {"action": "explode", "reason": "x"})
    assert "Thao tác không hợp lệ" in html(bogus)


def test_a_ticket_number_opens_its_visit(hospital, desk):
    post(desk, "/reception/desk/", {"scan": WOMAN_CARD, "clinic": "CLINIC-INTERNAL"})
    visit = Visit.objects.get()
    with clock.frozen_at(MORNING):
        found = desk.get("/reception/desk/", {"facility": HOSPITAL, "ticket": " a001 "})
        nowhere = desk.get("/reception/desk/", {"facility": HOSPITAL, "ticket": "A999"})
    assert found["Location"] == f"/reception/desk/visits/{visit.pk}/"
    assert 'id="desk-error"' in html(nowhere)


def test_a_visit_of_another_hospital_is_not_found(hospital, desk, make_staff):
    post(desk, "/reception/desk/", {"scan": WOMAN_CARD, "clinic": "CLINIC-INTERNAL"})
    visit = Visit.objects.get()
    elsewhere = make_staff()
    grant_role(user=elsewhere, role=Role.RECEPTIONIST, facility=make_small_hospital("BV-KHAC"))
    other = Client()
    other.force_login(elsewhere)
    hidden = other.get(f"/reception/desk/visits/{visit.pk}/")
    missing = other.get("/reception/desk/visits/99999999/")
    assert hidden.status_code == missing.status_code == 404
    assert "visit.not_found" in html(hidden)
    assert "visit.not_found" in html(missing)
    refused = other.post(f"/reception/desk/visits/{visit.pk}/", {"action": "cancel", "reason": "x"})
    assert refused.status_code == 404
    assert Visit.objects.get().status == "open"
    cashier = Client()
    cashier.force_login(make_staff(Role.CASHIER))
    assert cashier.get(f"/reception/desk/visits/{visit.pk}/").status_code == 403


def test_the_desk_speaks_english_when_asked(hospital, desk):
    desk.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    refused = html(post(desk, "/reception/desk/unknown/", {"clinic": "CLINIC-NOWHERE"}))
    assert "There is no clinic" in refused
    assert "Unknown person" in refused
