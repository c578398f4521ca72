from __future__ import annotations

import pytest
from django.core.management import call_command

from cityhealth.accounts.models import ApiToken, Membership, User
from cityhealth.core.audit import verify_chain
from cityhealth.core.roles import Role
from cityhealth.facilities.models import Department, Facility
from cityhealth.geo.models import Ward

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count() for model in (Ward, Facility, Department, User, Membership, ApiToken)
    )


def test_seed_demo_twice_duplicates_nothing(capsys):
    call_command("seed_demo")
    first_output = capsys.readouterr().out
    first = _counts()
    call_command("seed_demo")
    second_output = capsys.readouterr().out
    assert _counts() == first
    assert first[0] == 126
    assert first[3] == len(Role)
    assert "demo-receptionist" in first_output
    assert "shown once" in first_output  # the demo API token, issued on the first run only
    assert "shown once" not in second_output
    crew = Membership.objects.get(user__username="demo-crew")
    assert crew.facility is not None
    assert crew.facility.code == "115-00"
    reception = Membership.objects.get(user__username="demo-receptionist").facility
    assert reception is not None
    assert reception.name.endswith("Xanh Pôn")
    assert verify_chain().intact


def test_seed_demo_refuses_production(settings):
    from django.core.management.base import CommandError

    settings.PRODUCTION = True
    with pytest.raises(CommandError):
        call_command("seed_demo")
