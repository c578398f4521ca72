"""Where a caller is: the gazetteer a call-taker searches (streets and alleys of the loaded
extracts, wards under their current and pre-2025 names, hospitals and health stations, typed
coordinates), and the street lines the maps draw without online tiles."""

from cityhealth.emergency.places.gazetteer import Place, search_places
from cityhealth.emergency.places.streets import StreetLine, roads_geojson, street_lines

__all__ = ["Place", "StreetLine", "roads_geojson", "search_places", "street_lines"]
