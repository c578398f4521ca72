"""Production mode refuses unsafe settings; checked in a fresh interpreter each time."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

GOOD_SECRET = "x" * 50


def _start(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CITYHEALTH_")}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        env={**clean, "DJANGO_SETTINGS_MODULE": "cityhealth.settings"},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"CITYHEALTH_ALLOWED_HOSTS": "health.example"}, "CITYHEALTH_SECRET_KEY"),
        (
            {"CITYHEALTH_SECRET_KEY": "short", "CITYHEALTH_ALLOWED_HOSTS": "health.example"},
            "CITYHEALTH_SECRET_KEY",
        ),
        (
            {
                "CITYHEALTH_SECRET_KEY": GOOD_SECRET,
                "CITYHEALTH_DEBUG": "true",
                "CITYHEALTH_ALLOWED_HOSTS": "health.example",
            },
            "DEBUG",
        ),
        ({"CITYHEALTH_SECRET_KEY": GOOD_SECRET}, "CITYHEALTH_ALLOWED_HOSTS"),
    ],
)
def test_production_refuses_unsafe_settings(env, complaint):
    result = _start(CITYHEALTH_MODE="production", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert complaint in result.stderr


def test_production_starts_when_configured():
    result = _start(
        CITYHEALTH_MODE="production",
        CITYHEALTH_SECRET_KEY=GOOD_SECRET,
        CITYHEALTH_ALLOWED_HOSTS="health.example",
    )
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_development_is_the_default():
    result = _start()
    assert result.returncode == 0, result.stderr


def test_bad_boolean_is_refused():
    result = _start(CITYHEALTH_DEBUG="perhaps")
    assert result.returncode != 0
    assert "CITYHEALTH_DEBUG" in result.stderr


def test_times_are_stored_in_utc_and_shown_in_hanoi():
    from django.conf import settings

    assert settings.USE_TZ is True
    assert settings.TIME_ZONE == "Asia/Ho_Chi_Minh"
    assert settings.LANGUAGE_CODE == "vi"
