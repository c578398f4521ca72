"""Operations of the FHIR API on a type or an instance (`$match`, `$everything`, `$export`)."""

from __future__ import annotations

from ninja import Router

router = Router()
