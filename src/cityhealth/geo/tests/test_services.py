from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cityhealth.core.errors import InvalidInput, NotFound
from cityhealth.core.text import fold_for_search
from cityhealth.geo.models import FormerProvince, Province, Ward
from cityhealth.geo.selectors import get_ward, list_provinces, list_wards, split_formed_from
from cityhealth.geo.services import load_administrative_units

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("hanoi_units")]

# Official NSO codes where the 2025.10.1 release of vietnam-provinces drifted (reference hanoi.md).
OFFICIAL_CODES = {
    "00082": "Phường Cửa Nam",
    "00226": "Phường Văn Miếu - Quốc Tử Giám",
    "00229": "Phường Kim Liên",
    "00331": "Phường Hoàng Mai",
    "00340": "Phường Yên Sở",
    "00430": "Xã Đa Phúc",
    "09952": "Xã Phú Cát",
    "10342": "Xã Đại Xuyên",
}


def test_first_load_creates_every_unit(hanoi_units):
    assert hanoi_units["provinces"].created == 34
    assert hanoi_units["former_provinces"].created == 63
    assert hanoi_units["wards"].created == 126
    assert Province.objects.count() == 34
    assert FormerProvince.objects.count() == 63
    assert Ward.objects.filter(province_id="01").count() == 126


def test_wards_carry_official_codes_and_kinds():
    wards = {w.code: w for w in Ward.objects.filter(province_id="01")}
    for code, name in OFFICIAL_CODES.items():
        assert wards[code].name == name
    assert sum(w.kind == "phường" for w in wards.values()) == 51
    assert sum(w.kind == "xã" for w in wards.values()) == 75
    assert all(len(code) == 5 and code.isdigit() for code in wards)
    for ward in wards.values():
        assert ward.population
        assert ward.latitude is not None
        assert ward.longitude is not None
        assert 20.5 < ward.latitude < 21.4
        assert 105.2 < ward.longitude < 106.1


def test_former_provinces_point_to_their_2025_province():
    assert FormerProvince.objects.get(id_code="001").province_id == "01"
    assert FormerProvince.objects.get(id_code="002").province_id == "08"  # Hà Giang → Tuyên Quang


def test_running_again_creates_and_changes_nothing():
    report = load_administrative_units()
    assert report.created == 0
    assert report.updated == 0
    assert report["wards"].unchanged == 126
    assert Ward.objects.count() == 126
    assert Province.objects.count() == 34


def test_a_drifted_record_is_set_back():
    Ward.objects.filter(code="00070").update(name="Phường Sai Tên", search_text="x")
    report = load_administrative_units()
    assert report["wards"].updated == 1
    ward = Ward.objects.get(code="00070")
    assert ward.name == "Phường Hoàn Kiếm"
    assert ward.search_text == "phuong hoan kiem"


def test_a_changed_source_row_updates_its_ward(tmp_path: Path, settings):
    data = tmp_path / "data"
    shutil.copytree(Path(settings.DATA_DIR) / "geo", data / "geo")
    ward_file = data / "geo" / "hanoi_wards_2025.csv"
    text = ward_file.read_text(encoding="utf-8")
    assert ",65023," in text  # population of Phường Ba Đình
    ward_file.write_text(text.replace(",65023,", ",65024,"), encoding="utf-8")
    settings.DATA_DIR = data
    report = load_administrative_units()
    assert report["wards"].updated == 1
    assert report.created == 0
    assert Ward.objects.get(code="00004").population == 65024


def test_unknown_province_is_refused():
    with pytest.raises(InvalidInput) as caught:
        load_administrative_units(province_code="99")
    assert caught.value.code == "geo.unknown_province"


def test_province_without_ward_data_is_refused():
    with pytest.raises(InvalidInput) as caught:
        load_administrative_units(province_code="04")
    assert caught.value.code == "geo.no_ward_data"


def test_ward_search_ignores_diacritics_and_case():
    assert [w.code for w in list_wards(q="van mieu")] == ["00226"]
    assert [w.code for w in list_wards(q="VĂN MIẾU")] == ["00226"]
    assert [w.code for w in list_wards(province="01", q="dong da")] == ["00235"]
    assert "00004" in [w.code for w in list_wards(q="0000")]
    assert not list_wards(province="04").exists()


def test_province_search_and_ward_count():
    hanoi = list_provinces(q="ha noi").get()
    assert hanoi.code == "01"
    assert hanoi.ward_count == 126  # type: ignore[attr-defined]
    assert list_provinces().count() == 34


def test_get_ward_and_unknown_ward():
    assert get_ward("00070").name == "Phường Hoàn Kiếm"
    with pytest.raises(NotFound) as caught:
        get_ward("99999")
    assert caught.value.code == "ward.not_found"


def test_formed_from_splits_outside_parentheses():
    text = "Phường A, Phường B (phần còn lại sau khi sáp nhập vào phường C, phường D), Xã E"
    assert split_formed_from(text) == [
        "Phường A",
        "Phường B (phần còn lại sau khi sáp nhập vào phường C, phường D)",
        "Xã E",
    ]
    assert split_formed_from("") == []


def test_fold_for_search():
    assert fold_for_search("Bệnh viện Đống Đa") == "benh vien dong da"
    assert fold_for_search("  Hòa  ", "Hoà") == "hoa hoa"
