"""The staffing page, called directly (its address is wired with the reception pages)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.utils import translation

from cityhealth.core.roles import Role
from cityhealth.reception.staffing import counters_needed
from cityhealth.reception.staffing_views import staffing_page

pytestmark = pytest.mark.django_db

PATH = "/reception/staffing/"


def _get(user: Any, params: dict[str, Any] | None = None, language: str = "vi") -> Any:
    request = RequestFactory().get(PATH, params or {})
    request.user = user
    with translation.override(language):
        return staffing_page(request)


def test_signed_out_visitors_are_sent_to_sign_in():
    response = _get(AnonymousUser())
    assert response.status_code == 302
    assert f"next={PATH}" in response["Location"]


def test_the_empty_form_is_shown_first(make_staff):
    response = _get(make_staff(Role.RECEPTIONIST))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="staffing-form"' in body
    assert 'id="erlang"' not in body


def test_the_page_recommends_counters_and_simulates_the_morning(make_staff):
    params = {
        "arrivals_per_hour": "200",
        "service_minutes": "3",
        "target_minutes": "0.5",
        "target_percent": "80",
        "priority_percent": "20",
        "seed": "1",
    }
    response = _get(make_staff(Role.MANAGER), params)
    assert response.status_code == 200
    body = response.content.decode()
    expected = counters_needed(
        arrivals_per_hour=200, service_minutes=3, target_minutes=0.5, target_share=0.8
    ).counters
    assert f'<strong id="recommended-counters">{expected}</strong>' in body
    for table in ('id="stations"', 'id="end-to-end"', 'id="queues-by-hour"'):
        assert table in body
    assert "06:00" in body  # the morning's first hour


def test_too_few_counters_are_explained_in_vietnamese_then_english(make_staff):
    params = {
        "arrivals_per_hour": "200",
        "service_minutes": "3",
        "target_minutes": "0.5",
        "target_percent": "80",
        "counters": "9",  # the load is 10 Erlangs
        "priority_percent": "0",
        "seed": "1",
    }
    user = make_staff(Role.RECEPTIONIST)
    vietnamese = _get(user, params)
    assert vietnamese.status_code == 400
    assert "9 quầy không đủ" in vietnamese.content.decode()
    english = _get(user, params, language="en")
    assert "9 counters are not enough" in english.content.decode()


def test_a_named_number_of_counters_is_checked_not_recommended(make_staff):
    params = {
        "arrivals_per_hour": "200",
        "service_minutes": "3",
        "target_minutes": "0.5",
        "target_percent": "80",
        "counters": "12",
        "priority_percent": "20",
        "seed": "2",
    }
    response = _get(make_staff(Role.RECEPTIONIST), params, language="en")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Counters checked" in body
    assert '<strong id="recommended-counters">12</strong>' in body


def test_a_form_out_of_range_is_sent_back(make_staff):
    params = {
        "arrivals_per_hour": "-4",
        "service_minutes": "3",
        "target_minutes": "1",
        "target_percent": "80",
        "priority_percent": "0",
        "seed": "1",
    }
    response = _get(make_staff(Role.RECEPTIONIST), params)
    assert response.status_code == 400
    assert 'id="erlang"' not in response.content.decode()
