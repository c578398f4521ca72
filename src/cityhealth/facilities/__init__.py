"""The facility registry: hospitals, the 115 centre and its stations, commune health stations,
and inside each facility its departments and the rooms and counters where people are served.

Public: `services.load_facilities`, `selectors.list_facilities`, `selectors.get_facility`,
`selectors.count_facilities_by_kind`; enums in `enums`.
Command: `cityhealth load_facilities [--province 01]` (after `load_administrative_units`).
"""
