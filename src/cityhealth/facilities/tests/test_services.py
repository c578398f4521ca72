from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from django.db.models import Count

from cityhealth.core.errors import InvalidInput, NotFound
from cityhealth.facilities.enums import DepartmentKind, FacilityKind, ListingStatus
from cityhealth.facilities.models import Department, Facility, ServicePoint
from cityhealth.facilities.selectors import (
    count_facilities_by_kind,
    get_facility,
    list_facilities,
)
from cityhealth.facilities.services import load_facilities
from cityhealth.geo.models import Ward

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("hanoi_registry")]

# The Department of Health's hospitals; the central ones are a kind of their own.
HOSPITALS = [FacilityKind.GENERAL_HOSPITAL, FacilityKind.SPECIALIST_HOSPITAL]
CENTRAL_HOSPITALS = 13
ALL_FACILITIES = 42 + CENTRAL_HOSPITALS + 8 + 126


def test_first_load_creates_the_registry(hanoi_registry):
    assert hanoi_registry["facilities"].created == ALL_FACILITIES
    assert Facility.objects.filter(kind__in=HOSPITALS).count() == 42
    assert Facility.objects.filter(kind=FacilityKind.GENERAL_HOSPITAL).count() == 26
    central = Facility.objects.filter(kind=FacilityKind.CENTRAL_HOSPITAL).count()
    assert central == CENTRAL_HOSPITALS
    assert Facility.objects.filter(kind=FacilityKind.EMERGENCY_CENTRE).count() == 1
    assert Facility.objects.filter(kind=FacilityKind.EMERGENCY_STATION).count() == 7
    assert Facility.objects.filter(kind=FacilityKind.COMMUNE_HEALTH_STATION).count() == 126


def test_running_again_creates_and_changes_nothing():
    departments_before = Department.objects.count()
    points_before = ServicePoint.objects.count()
    report = load_facilities()
    assert report.created == 0
    assert report.updated == 0
    assert report["facilities"].unchanged == ALL_FACILITIES
    assert Facility.objects.count() == ALL_FACILITIES
    assert Department.objects.count() == departments_before
    assert ServicePoint.objects.count() == points_before
    duplicated = (
        Department.objects.values("facility_id", "code").annotate(n=Count("id")).filter(n__gt=1)
    )
    assert not duplicated.exists()


def test_every_hospital_has_the_core_services():
    needed = {
        DepartmentKind.RECEPTION,
        DepartmentKind.CLINIC,
        DepartmentKind.LAB,
        DepartmentKind.IMAGING,
        DepartmentKind.PHARMACY,
        DepartmentKind.CASHIER,
    }
    for hospital in Facility.objects.filter(kind__in=HOSPITALS).prefetch_related("departments"):
        kinds = {d.kind for d in hospital.departments.all()}
        assert needed <= kinds, hospital.code
    empty = Department.objects.annotate(n=Count("service_points")).filter(n=0)
    assert not empty.exists()


def test_specialist_hospitals_get_clinics_of_their_specialty():
    eye = get_facility("BV-MAT-HANOI")
    clinics = [d for d in eye.departments.all() if d.kind == DepartmentKind.CLINIC]
    assert clinics
    assert all(d.specialty == "ophthalmology" for d in clinics)
    day_hospital = get_facility("BV-TAMTHAN-MAIHUONG")
    assert DepartmentKind.EMERGENCY not in {d.kind for d in day_hospital.departments.all()}
    general = get_facility("BV-XANHPON")
    specialties = {d.specialty for d in general.departments.all() if d.kind == "clinic"}
    assert {"internal_medicine", "surgery", "paediatrics", "obstetrics_gynaecology"} <= specialties


def test_reception_has_numbered_kiosks_and_counters_on_the_ground_floor():
    reception = Department.objects.get(facility__code="BV-XANHPON", code="RECEPTION")
    points = list(reception.service_points.all())
    assert [p.code for p in points if p.kind == "kiosk"] == ["K01", "K02", "K03", "K04"]
    assert next(p for p in points if p.code == "K02").name == "Ki-ốt đăng ký khám 2"
    assert all(p.floor == 1 for p in points)


def test_hospital_locations_are_sourced_or_blank():
    for hospital in Facility.objects.filter(kind__in=HOSPITALS):
        if hospital.latitude is None:
            assert hospital.ward_id is None
            assert hospital.location_source == ""
        else:
            assert hospital.location_source.startswith("osm:")
            assert not hospital.location_is_approximate
    xanh_pon = Facility.objects.get(code="BV-XANHPON")
    assert (xanh_pon.insurance_code, xanh_pon.ward_id) == ("01003", "00004")
    assert Facility.objects.get(code="BV-BAVI").latitude is None  # outside the OSM extract
    assert Facility.objects.get(code="BV-09").listing_status == ListingStatus.PROBABLE


def test_central_hospitals_load_as_their_own_kind_with_osm_locations():
    central = Facility.objects.filter(kind=FacilityKind.CENTRAL_HOSPITAL)
    assert {
        "BV-BACHMAI",
        "BV-VIETDUC",
        "BV-NHI-TW",
        "BV-PHUSAN-TW",
        "BV-108",
        "BV-HUUNGHI",
        "BV-E",
        "BV-BONG-QG",
        "BV-NHIETDOI-TW",
    } <= {h.code for h in central}
    for hospital in central:
        # Every one is mapped in the OSM extract, with the 2025 ward its point falls in.
        assert hospital.latitude is not None, hospital.code
        assert hospital.longitude is not None, hospital.code
        assert hospital.location_source.startswith("osm:"), hospital.code
        assert not hospital.location_is_approximate
        assert hospital.ward_id is not None, hospital.code
        assert hospital.insurance_code == ""  # no source gives one
        assert hospital.source_note.startswith("central hospital")
    bach_mai = get_facility("BV-BACHMAI")
    assert (bach_mai.latitude, bach_mai.longitude) == pytest.approx((21.00181, 105.8394))
    assert (bach_mai.ward_id, bach_mai.location_source) == ("00229", "osm:way/218625367")
    assert bach_mai.kind == FacilityKind.CENTRAL_HOSPITAL
    assert Facility.objects.get(code="BV-VIETDUC").ward_id == "00070"  # Phường Hoàn Kiếm
    assert Facility.objects.get(code="BV-BONG-QG").ward_id == "09556"  # Phường Hà Đông


def test_central_hospitals_are_laid_out_like_the_hospital_they_are():
    def clinic_specialties(code: str) -> set[str]:
        departments = get_facility(code).departments.all()
        return {d.specialty for d in departments if d.kind == DepartmentKind.CLINIC}

    # A general hospital's clinics, a children's hospital's, a surgical hospital's.
    assert {"internal_medicine", "surgery", "paediatrics"} <= clinic_specialties("BV-BACHMAI")
    assert clinic_specialties("BV-NHI-TW") == {"paediatrics"}
    assert clinic_specialties("BV-VIETDUC") == {"surgery"}
    for hospital in Facility.objects.filter(kind=FacilityKind.CENTRAL_HOSPITAL):
        kinds = {d.kind for d in hospital.departments.all()}
        assert {DepartmentKind.RECEPTION, DepartmentKind.EMERGENCY, DepartmentKind.CASHIER} <= kinds


def test_115_network():
    centre = Facility.objects.get(kind=FacilityKind.EMERGENCY_CENTRE)
    assert centre.code == "115-00"
    assert centre.insurance_code == "01081"
    stations = Facility.objects.filter(kind=FacilityKind.EMERGENCY_STATION)
    assert {s.parent_id for s in stations} == {centre.pk}
    assert centre.departments.filter(kind=DepartmentKind.DISPATCH).exists()
    for station in stations:
        assert station.latitude is not None
        assert ServicePoint.objects.filter(department__facility=station, kind="bay").count() == 1
    approximate = {s.code for s in stations if s.location_is_approximate}
    assert approximate == {"115-01", "115-03", "115-04", "115-05", "115-06"}


def test_one_commune_health_station_per_ward():
    stations = Facility.objects.filter(kind=FacilityKind.COMMUNE_HEALTH_STATION)
    assert {s.code for s in stations} == {
        f"TYT-{code}" for code in Ward.objects.values_list("code", flat=True)
    }
    station = get_facility("TYT-00004")
    assert station.name == "Trạm Y tế phường Ba Đình"
    assert station.ward_id == "00004"
    assert station.location_is_approximate
    assert station.listing_status == ListingStatus.GENERATED
    assert [d.kind for d in station.departments.all()] == [
        "reception",
        "clinic",
        "vaccination",
        "pharmacy",
    ]


def test_admin_flags_survive_a_reload():
    point = ServicePoint.objects.filter(department__facility__code="BV-DONGDA").first()
    assert point is not None
    point.is_active = False
    point.save()
    Facility.objects.filter(code="BV-DONGDA").update(is_active=False)
    load_facilities()
    point.refresh_from_db()
    assert point.is_active is False
    assert Facility.objects.get(code="BV-DONGDA").is_active is False


def test_a_changed_source_row_updates_its_facility(tmp_path: Path, settings):
    data = tmp_path / "data"
    shutil.copytree(Path(settings.DATA_DIR) / "facilities", data / "facilities")
    hospitals = data / "facilities" / "hanoi_hospitals.csv"
    text = hospitals.read_text(encoding="utf-8")
    hospitals.write_text(
        text.replace("Saint Paul General Hospital", "Saint Paul Hospital"), encoding="utf-8"
    )
    settings.DATA_DIR = data
    report = load_facilities()
    assert report["facilities"].updated == 1
    assert report.created == 0
    xanh_pon = Facility.objects.get(code="BV-XANHPON")
    assert xanh_pon.name_en == "Saint Paul Hospital"
    assert "saint paul hospital" in xanh_pon.search_text


def test_province_without_profile_is_refused():
    with pytest.raises(InvalidInput) as caught:
        load_facilities(province_code="04")
    assert caught.value.code == "facilities.no_profile"


def test_profile_of_a_province_without_units_is_refused(tmp_path: Path, settings):
    data = tmp_path / "data"
    shutil.copytree(Path(settings.DATA_DIR) / "facilities", data / "facilities")
    profiles = data / "facilities" / "profiles.json"
    content = json.loads(profiles.read_text(encoding="utf-8"))
    content["profiles"]["04"] = content["profiles"]["01"]
    profiles.write_text(json.dumps(content), encoding="utf-8")
    settings.DATA_DIR = data
    with pytest.raises(InvalidInput) as caught:
        load_facilities(province_code="04")
    assert caught.value.code == "facilities.units_not_loaded"


def test_list_facilities_filters():
    assert list_facilities(kind=FacilityKind.EMERGENCY_STATION).count() == 7
    in_bach_mai = {f.code for f in list_facilities(ward="00292")}
    assert in_bach_mai == {"BV-THANHNHAN", "BV-PHOI-HANOI", "BV-UNGBUOU-HANOI", "TYT-00292"}
    assert [f.code for f in list_facilities(q="xanh pon")] == ["BV-XANHPON"]
    assert [f.code for f in list_facilities(q="Xanh Pôn")] == ["BV-XANHPON"]
    assert {f.code for f in list_facilities(q="phoi ha noi")} == {"BV-PHOI-HANOI"}
    # The address counts too: Bắc Thăng Long's OSM address is in the old Đông Anh district.
    in_dong_anh = {
        f.code for f in list_facilities(kind=FacilityKind.GENERAL_HOSPITAL, q="dong anh")
    }
    assert in_dong_anh == {"BV-DONGANH", "BV-BACTHANGLONG"}


def test_counts_by_kind():
    counts = {c.kind: c.count for c in count_facilities_by_kind()}
    assert counts == {
        FacilityKind.GENERAL_HOSPITAL: 26,
        FacilityKind.SPECIALIST_HOSPITAL: 16,
        FacilityKind.CENTRAL_HOSPITAL: CENTRAL_HOSPITALS,
        FacilityKind.EMERGENCY_CENTRE: 1,
        FacilityKind.EMERGENCY_STATION: 7,
        FacilityKind.COMMUNE_HEALTH_STATION: 126,
    }


def test_get_facility_unknown_code():
    with pytest.raises(NotFound) as caught:
        get_facility("NO-SUCH")
    assert caught.value.code == "facility.not_found"


def test_a_changed_template_updates_and_extends_every_facility_using_it(tmp_path: Path, settings):
    data = tmp_path / "data"
    shutil.copytree(Path(settings.DATA_DIR) / "facilities", data / "facilities")
    templates_file = data / "facilities" / "department_templates.json"
    templates = json.loads(templates_file.read_text(encoding="utf-8"))
    templates["departments"]["CASHIER"]["name"] = "Thu ngân viện phí"
    templates["departments"]["CHS-CLINIC"]["points"].append(
        {"code": "KB2", "kind": "room", "name": "Phòng khám 2", "name_en": "Room 2"}
    )
    templates_file.write_text(json.dumps(templates, ensure_ascii=False), encoding="utf-8")
    settings.DATA_DIR = data
    report = load_facilities()
    # Every hospital has a cashier, the central ones too.
    hospitals = 42 + CENTRAL_HOSPITALS
    assert report["departments"].updated == hospitals
    assert report["departments"].created == 0
    assert report["service_points"].created == 126
    assert Department.objects.filter(code="CASHIER", name="Thu ngân viện phí").count() == hospitals


def test_saving_a_facility_refreshes_its_search_text():
    facility = Facility.objects.get(code="BV-DONGDA")
    facility.name_en = "Dong Da City Hospital"
    facility.save(update_fields=["name_en"])
    assert [f.code for f in list_facilities(q="dong da city")] == ["BV-DONGDA"]
