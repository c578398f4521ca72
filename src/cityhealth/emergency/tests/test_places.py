"""The call-taker's address search: streets, alleys, wards old and new, hospitals, coordinates."""

from __future__ import annotations

import json

import pytest

from cityhealth.emergency.places import roads_geojson, search_places

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("hanoi_registry")]


def test_a_street_is_found_without_diacritics_and_the_house_number_is_dropped():
    found = search_places("số 12 ngõ 100 doi can")
    assert found[0].kind == "street"
    assert found[0].label == "Ngõ 100 Đội Cấn"
    assert found[0].alley is True  # the form then asks whether a car reaches the door
    assert found[0].precision_m < 300


def test_a_ward_after_the_comma_decides_between_two_stretches_of_one_street():
    plain = search_places("Đội Cấn")
    hinted = search_places("Đội Cấn, phường Ngọc Hà")
    assert {p.ward_name for p in plain[:2]} == {"Phường Ba Đình", "Phường Ngọc Hà"}
    assert hinted[0].label == "Phố Đội Cấn"
    assert hinted[0].ward_name == "Phường Ngọc Hà"
    assert hinted[0].alley is False


def test_a_ward_name_from_before_the_2025_merger_leads_to_todays_ward():
    found = search_places("Quán Thánh")
    assert found[0].kind == "former_ward"
    assert found[0].label == "Phường Quán Thánh"
    assert found[0].ward_name == "Phường Ba Đình"


def test_a_hospital_is_a_landmark():
    found = search_places("gần bệnh viện Thanh Nhàn")
    assert found[0].kind == "facility"
    assert found[0].label == "Bệnh viện Thanh Nhàn"
    assert found[0].ward_name == "Phường Bạch Mai"


def test_typed_coordinates_are_taken_as_they_are_and_outside_the_city_give_nothing():
    [place] = search_places("21.0287, 105.8524")
    assert (place.kind, place.ward_name) == ("coordinates", "Phường Hoàn Kiếm")
    assert (place.latitude, place.longitude) == (21.0287, 105.8524)
    assert search_places("10.7769, 106.7009") == []  # Hồ Chí Minh City


@pytest.mark.parametrize("query", ["", " ", "x", "xyzzy qwerty", ",,,", "12"])
def test_nothing_close_gives_an_empty_list(query):
    assert search_places(query) == []


def test_every_place_found_lies_in_the_ward_it_names():
    from cityhealth.emergency.routing import TravelModel

    model = TravelModel.shared()
    for query in ["hang bai", "pho hue", "kim ma", "bach mai", "xanh pon", "nguyen thai hoc"]:
        for place in search_places(query):
            if place.kind in {"street", "coordinates"}:
                assert model.ward_of(place.latitude, place.longitude) == place.ward_code


def test_the_road_map_holds_the_extracts_ways_with_their_names():
    roads = json.loads(roads_geojson())
    names = {f["properties"]["name"] for f in roads["features"]}
    assert "Phố Huế" in names
    assert any(f["properties"]["main"] for f in roads["features"])
    first = roads["features"][0]["geometry"]["coordinates"][0]
    assert 105 < first[0] < 107  # GeoJSON order: longitude first
    assert 20 < first[1] < 22
