"""The FHIR R4 REST API at /fhir/R4/, assembled from its parts.

The order matters: a literal segment (`metadata`, `_history`, `$export`, `$match`) must be
routed before the `/{resource_type}/{logical_id}` pattern that would otherwise take it.

Hospital systems authenticate with a bearer token; staff with their session. Every answer is
`application/fhir+json`; every error an OperationOutcome (`outcome.py`).
"""

from __future__ import annotations

from ninja import Router

from cityhealth.fhir import access_api, instance_api, operations_api, system_api, type_api
from cityhealth.fhir.negotiation import negotiated

router = Router()
router.add_decorator(negotiated)  # _format, Accept, _pretty for every interaction
router.add_router("", system_api.router)  # /metadata, system history, batch/transaction
router.add_router("", operations_api.router)  # $match, $everything, $export
router.add_router("", access_api.router)  # SMART configuration, AuditEvent (the trail)
router.add_router("", type_api.router)  # /{type}: create, search, conditional, _history
router.add_router("", instance_api.router)  # /{type}/{id}...
