"""Type-level interactions of the FHIR API: search (GET and POST `_search`)."""

from __future__ import annotations

from ninja import Router

router = Router()
