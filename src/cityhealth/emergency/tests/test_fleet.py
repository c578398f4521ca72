import pytest

from cityhealth.emergency.enums import UnitKind, UnitStatus
from cityhealth.emergency.models import Unit
from cityhealth.emergency.services import ensure_demo_fleet


@pytest.mark.django_db
@pytest.mark.usefixtures("hanoi_registry")
def test_demo_fleet_puts_units_at_the_centre_and_every_station_once():
    made = ensure_demo_fleet()
    assert made == 5 + 7  # the centre's five, one ambulance at each of the 7 stations
    assert ensure_demo_fleet() == 0
    assert Unit.objects.filter(kind=UnitKind.MOTORBIKE).count() == 2
    assert set(Unit.objects.values_list("status", flat=True)) == {UnitStatus.AVAILABLE}
    assert not Unit.objects.filter(home__isnull=True).exists()
    assert Unit.objects.filter(latitude__isnull=False).count() == 12
