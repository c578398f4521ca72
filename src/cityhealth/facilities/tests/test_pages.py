from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from cityhealth.core.roles import Role
from cityhealth.facilities.models import Facility

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("hanoi_registry")]


@pytest.fixture
def clinician(client_as):
    return client_as(Role.CLINICIAN)


def test_directory_lists_facilities_with_counts(clinician):
    response = clinician.get(reverse("facilities:directory"))
    assert response.status_code == 200
    page = response.context["page"]
    assert page.paginator.count == 189  # 42 + 13 central hospitals + 8 (115) + 126
    counts = {c.kind.value: c.count for c in response.context["kind_counts"]}
    assert counts["commune_health_station"] == 126
    assert "Bệnh viện Đa khoa Đống Đa" in response.content.decode()


def test_directory_filters(clinician):
    url = reverse("facilities:directory")
    by_kind = clinician.get(url, {"kind": "emergency_station"})
    assert by_kind.context["page"].paginator.count == 7
    by_ward = clinician.get(url, {"ward": "00292"})
    assert by_ward.context["page"].paginator.count == 4
    searched = clinician.get(url, {"q": "xanh pon"})
    assert [f.code for f in searched.context["page"]] == ["BV-XANHPON"]
    # An invalid filter value is dropped, not an error.
    assert clinician.get(url, {"kind": "spa"}).context["page"].paginator.count == 189


def test_directory_answers_htmx_with_the_results_only(clinician):
    response = clinician.get(
        reverse("facilities:directory"), {"q": "thanh nhan"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert reverse("facilities:detail", args=["BV-THANHNHAN"]) in html


def test_detail_lists_departments_rooms_and_floors(clinician):
    response = clinician.get(reverse("facilities:detail", args=["BV-XANHPON"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Bệnh viện Đa khoa Xanh Pôn" in html
    assert "Khoa Xét nghiệm" in html
    assert "Quầy lấy mẫu 1" in html
    assert "Phòng khám Nội 4" in html


def test_detail_of_an_emergency_station_links_its_centre(clinician):
    response = clinician.get(reverse("facilities:detail", args=["115-07"]))
    assert response.status_code == 200
    assert reverse("facilities:detail", args=["115-00"]) in response.content.decode()


def test_unknown_facility_page_is_404(clinician):
    response = clinician.get(reverse("facilities:detail", args=["NO-SUCH"]))
    assert response.status_code == 404


@pytest.mark.parametrize(
    "url", [reverse("facilities:directory"), reverse("facilities:detail", args=["BV-XANHPON"])]
)
def test_anonymous_visitor_is_sent_to_sign_in(url):
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_pages_refuse_post(clinician):
    assert clinician.post(reverse("facilities:directory")).status_code == 405


def test_detail_credits_openstreetmap_for_mapped_locations(clinician):
    html = clinician.get(reverse("facilities:detail", args=["BV-XANHPON"])).content.decode()
    assert "https://www.openstreetmap.org/copyright" in html
    assert "21.03123, 105.83516" in html  # not localised to "21,03123"
    unmapped = clinician.get(reverse("facilities:detail", args=["BV-BAVI"])).content.decode()
    assert "openstreetmap.org/copyright" not in unmapped


def test_admin_pages_render_for_the_admin(client_as):
    admin = client_as(Role.ADMIN)
    facility = Facility.objects.get(code="BV-XANHPON")
    department = facility.departments.get(code="LAB")
    for url in [
        reverse("admin:facilities_facility_changelist") + "?q=xanh+pon",
        reverse("admin:facilities_facility_change", args=[facility.pk]),
        reverse("admin:facilities_department_change", args=[department.pk]),
        reverse("admin:geo_ward_changelist") + "?q=hoan+kiem",
        reverse("admin:geo_ward_change", args=["00070"]),
    ]:
        assert admin.get(url).status_code == 200, url
