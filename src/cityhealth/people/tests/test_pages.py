from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from cityhealth.core.models import AuditEntry
from cityhealth.core.roles import Role
from cityhealth.people import services
from cityhealth.people.enums import ReviewKind, ReviewStatus
from cityhealth.people.models import Person, ReviewItem

pytestmark = pytest.mark.django_db

ANH = "001195012345"
CARD = f"{ANH}||TRẦN THỊ MINH ANH|12071995|Nữ|Số 8 phố Ví Dụ, Hà Nội|03052022"


@pytest.fixture
def clerk(client_as):
    return client_as(Role.RECEPTIONIST)


@pytest.fixture
def anh() -> Person:
    return services.register_from_scan(qr=CARD, actor="system").person


def test_search_page_finds_without_diacritics_and_masks_names(clerk, anh):
    page = clerk.get(reverse("people:search"), {"q": "tran thi minh anh"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'lang="vi"' in html
    assert "Trần T. M. Anh" in html
    assert "Trần Thị Minh Anh" not in html
    assert reverse("people:detail", args=[anh.pk]) in html
    assert AuditEntry.objects.filter(action="person.search").count() == 1


def test_search_page_by_name_start_and_date_of_birth(clerk, anh):
    born = clerk.get(reverse("people:search"), {"q": "tran thi", "birth_date": "12/07/1995"})
    assert [p.id for p in born.context["result"].items] == [anh.pk]
    other_day = clerk.get(reverse("people:search"), {"q": "tran thi", "birth_date": "1995-07-13"})
    assert other_day.context["result"].items == []


def test_search_page_takes_a_12_digit_id(clerk, anh):
    page = clerk.get(reverse("people:search"), {"q": ANH})
    assert [p.id for p in page.context["result"].items] == [anh.pk]
    assert AuditEntry.objects.filter(action="person.read", target_id=str(anh.pk)).exists()


def test_search_page_without_criteria_and_with_bad_ones(clerk):
    blank = clerk.get(reverse("people:search"))
    assert blank.status_code == 200
    assert blank.context["result"] is None
    bad = clerk.get(reverse("people:search"), {"phone": "abc"})
    assert bad.status_code == 200
    assert bad.context["problem"]
    assert not AuditEntry.objects.filter(action="person.search").exists()


def test_search_answers_htmx_with_the_results_only(clerk, anh):
    response = clerk.get(reverse("people:search"), {"q": "tran"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html
    assert reverse("people:detail", args=[anh.pk]) in html


def test_person_page_shows_the_record_and_is_audited(clerk, anh):
    services.record_id_reissue(
        person=anh, new_citizen_id="001195099999", reason="Cấp lại", actor="system"
    )
    page = clerk.get(reverse("people:detail", args=[anh.pk]), {"reason": "khám bệnh"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Trần Thị Minh Anh" in html
    assert "001195099999" in html
    assert ANH in html  # the cancelled number, in the history
    entry = AuditEntry.objects.get(action="person.read", target_id=str(anh.pk))
    assert entry.reason == "khám bệnh"


def test_person_page_of_a_merged_record_shows_the_survivor(clerk, anh):
    other = services.register_person(actor="x", full_name="Tran Thi Minh Anh").person
    services.merge_persons(survivor=anh, retired=other, reason="trùng", actor="x")
    page = clerk.get(reverse("people:detail", args=[other.pk]))
    assert page.status_code == 200
    assert page.context["person"].pk == anh.pk
    assert f"#{other.pk}" in page.content.decode()


def error_section(response) -> str:
    """The error message of a page (the rest carries the path asked for and a CSRF token)."""
    html: str = response.content.decode()
    return html[html.index('<section class="error">') : html.index("</section>")]


def test_person_page_missing_and_forbidden(client_as, anh):
    clerk = client_as(Role.RECEPTIONIST)
    missing = clerk.get(reverse("people:detail", args=[anh.pk + 1000]))
    assert missing.status_code == 404
    assert "person.not_found" in missing.content.decode()
    crew = client_as(Role.CREW)
    forbidden = crew.get(reverse("people:detail", args=[anh.pk]))
    nothing = crew.get(reverse("people:detail", args=[anh.pk + 1000]))
    assert forbidden.status_code == nothing.status_code == 403
    assert error_section(forbidden) == error_section(nothing)
    anonymous = Client().get(reverse("people:detail", args=[anh.pk]))
    assert anonymous.status_code == 302
    assert "/login/" in anonymous["Location"]


def conflict_item(anh: Person) -> ReviewItem:
    services.register_from_scan(qr=CARD.replace("12071995", "21071995"), actor="system")
    return ReviewItem.objects.get(kind=ReviewKind.SCAN_CONFLICT, person=anh)


def test_review_queue_shows_both_versions_side_by_side(clerk, anh):
    item = conflict_item(anh)
    page = clerk.get(reverse("people:review_queue"))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'id="item-{item.pk}"' in html
    assert "1995-07-12" in html  # the registry
    assert "1995-07-21" in html  # the card
    assert reverse("people:resolve_review", args=[item.pk]) in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'value="accept_scanned"' in html
    assert 'value="merge"' not in html
    entry = AuditEntry.objects.get(action="person.review_queue")
    assert entry.details["person_ids"] == [anh.pk]


def test_review_queue_shows_claims_and_inconsistent_ids(clerk, anh):
    services.register_person(actor="x", full_name="Lê Văn Tám", birth_year=1990, old_id="012345678")
    services.register_from_scan(qr=CARD.replace("||", "|012345678|"), actor="system")
    services.register_from_scan(qr=CARD.replace(ANH, "001095012345"), actor="system")
    page = clerk.get(reverse("people:review_queue"))
    html = page.content.decode()
    assert page.context["total"] == 2
    assert "Lê Văn Tám" in html
    assert "Trần Thị Minh Anh" in html
    filtered = clerk.get(reverse("people:review_queue"), {"kind": "id_inconsistent"})
    assert filtered.context["total"] == 1


def test_resolving_from_the_queue(clerk, anh):
    item = conflict_item(anh)
    url = reverse("people:resolve_review", args=[item.pk])
    response = clerk.post(url, {"decision": "accept_scanned", "note": "xem thẻ"})
    assert response.status_code == 302
    assert response["Location"] == reverse("people:review_queue")
    anh.refresh_from_db()
    assert anh.birth_date == dt.date(1995, 7, 21)
    item.refresh_from_db()
    assert item.status == ReviewStatus.RESOLVED
    # A second click (or a colleague) finds it closed: told so, nothing breaks.
    again = clerk.post(url, {"decision": "dismiss"}, follow=True)
    assert again.status_code == 200
    assert "Mục này đã được xử lý." in again.content.decode()


def test_resolving_needs_a_valid_decision_and_the_right_to_merge(clerk, anh):
    item = conflict_item(anh)
    url = reverse("people:resolve_review", args=[item.pk])
    assert clerk.post(url, {"decision": "shrug"}).status_code == 302
    assert clerk.post(url, {"decision": "merge"}).status_code == 302
    item.refresh_from_db()
    assert item.status == ReviewStatus.OPEN
    assert clerk.get(url).status_code == 405


def test_resolving_checks_csrf(make_staff, anh):
    item = conflict_item(anh)
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_staff(Role.RECEPTIONIST))
    response = client.post(
        reverse("people:resolve_review", args=[item.pk]), {"decision": "dismiss"}
    )
    assert response.status_code == 403
    item.refresh_from_db()
    assert item.status == ReviewStatus.OPEN


def test_review_queue_is_for_reviewers_only(client_as):
    assert client_as(Role.CLINICIAN).get(reverse("people:review_queue")).status_code == 403


def test_home_shows_the_person_modules_by_role(client_as):
    clinician = client_as(Role.CLINICIAN).get("/").content.decode()
    assert reverse("people:search") in clinician
    assert reverse("people:review_queue") not in clinician
    receptionist = client_as(Role.RECEPTIONIST).get("/").content.decode()
    assert reverse("people:review_queue") in receptionist
    crew = client_as(Role.CREW).get("/").content.decode()
    assert reverse("people:search") not in crew
