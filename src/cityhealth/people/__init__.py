"""The master person index: one person per real human, with identifier history.

Public (services): `register_from_scan`, `register_person`, `record_id_reissue`,
`merge_persons`, `unmerge`, `resolve_review_item`; (selectors): `access_person`,
`lookup_by_citizen_id`, `search_persons`; (matching): `match_record`;
(fhir): `person_as_fhir_patient`.
"""
