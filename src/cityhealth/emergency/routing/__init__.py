"""Travel times over Hà Nội's roads at the hour of the call, for choosing the fastest unit.

Two layers: a city-wide graph of the 126 wards (always there), refined by street-level graphs
built from OpenStreetMap extracts wherever one is loaded (the shipped extract covers central
Hà Nội; an operator may supply a city-wide one). Congestion comes from the editable table
`data/emergency/traffic.json`. Road data © OpenStreetMap contributors (ODbL).

    model = TravelModel.shared()
    estimate = model.travel_seconds(origins=[...], destination=(lat, lon), at=now)
"""

from cityhealth.emergency.routing.errors import RoutingError
from cityhealth.emergency.routing.model import (
    Access,
    Method,
    Note,
    Route,
    TravelEstimate,
    TravelModel,
)
from cityhealth.emergency.routing.traffic import Vehicle

__all__ = [
    "Access",
    "Method",
    "Note",
    "Route",
    "RoutingError",
    "TravelEstimate",
    "TravelModel",
    "Vehicle",
]
