"""The demo city: reference data through each app's services, then demo accounts."""

from __future__ import annotations

from dataclasses import dataclass, field

from cityhealth.accounts.models import ApiClient
from cityhealth.accounts.services import DemoAccount, ensure_demo_accounts, issue_api_token
from cityhealth.core.roles import Permission, Role
from cityhealth.emergency.services import ensure_demo_fleet, load_hospital_capabilities
from cityhealth.facilities.enums import FacilityKind
from cityhealth.facilities.models import Facility
from cityhealth.facilities.services import load_facilities
from cityhealth.geo.services import load_administrative_units

DEMO_HOSPITAL_CODE = "01003"  # Bệnh viện Đa khoa Xanh Pôn: central, with a known BHYT code
DEMO_API_CLIENT = "demo-hospital-his"


@dataclass
class DemoSummary:
    password: str
    accounts: list[DemoAccount]
    reference: list[str] = field(default_factory=list)
    new_api_token: str | None = None

    def lines(self) -> list[str]:
        out = [*self.reference, "", "Demo accounts (password: " + self.password + "):"]
        out += [
            f"  {a.username:<22} {a.role.value:<13} {a.facility_code or 'city-wide'}"
            for a in self.accounts
        ]
        if self.new_api_token:
            out += ["", f"API token of {DEMO_API_CLIENT} (shown once): {self.new_api_token}"]
        return out


def seed_demo(*, password: str, province_code: str = "01") -> DemoSummary:
    geo_report = load_administrative_units(province_code=province_code)
    facility_report = load_facilities(province_code=province_code)
    hospital = Facility.objects.filter(insurance_code=DEMO_HOSPITAL_CODE).first()
    centre = Facility.objects.filter(kind=FacilityKind.EMERGENCY_CENTRE).first()
    accounts = ensure_demo_accounts(
        password=password,
        facility_of_role={
            Role.RECEPTIONIST: hospital,
            Role.CLINICIAN: hospital,
            Role.CASHIER: hospital,
            Role.ED_STAFF: hospital,
            Role.KIOSK: hospital,
            Role.DISPATCHER: centre,
            Role.CREW: centre,
        },
    )
    client, created = ApiClient.objects.get_or_create(
        name=DEMO_API_CLIENT,
        defaults={
            "facility": hospital,
            "scopes": [str(Permission.VIEW_FACILITIES), str(Permission.PARSE_IDENTIFIERS)],
        },
    )
    token = issue_api_token(client=client, label="demo").raw if created else None
    units = ensure_demo_fleet()
    capabilities = load_hospital_capabilities()
    return DemoSummary(
        password=password,
        accounts=accounts,
        reference=[
            f"geo: {geo_report}",
            f"facilities: {facility_report}",
            f"115 fleet: {units} unit(s) added",
            f"emergency departments: {capabilities}",
        ],
        new_api_token=token,
    )
