"""115 emergency medical dispatch: calls and incidents, triage, units and crews, the fastest
right unit over the city's roads, the dispatch room's screens, simulation and planning.

Public (services): `receive_call`, `save_call_draft`, `triage_call`, `assign_unit`,
`record_unit_status`; (routing): `TravelModel`; (triage): `current_protocol`.
"""
