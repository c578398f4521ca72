"""Move-ups over the JSON API (mounted at /api/emergency beside `api.py`).

| endpoint | permission | answers |
|---|---|---|
| `GET /move-ups` | DISPATCH | the suggestion waiting for the dispatcher, if any |
| `POST /move-ups` | DISPATCH | 201 a fresh suggestion; 204 when no move is worth making |
| `POST /move-ups/{id}/order` | DISPATCH | 200; 409 `move_up.closed`, `unit.not_available` |
| `POST /move-ups/{id}/dismiss` | DISPATCH | 200; 409 `move_up.closed` |
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from cityhealth.accounts.selectors import actor_of
from cityhealth.core.access import api_principal, ensure_permission
from cityhealth.core.roles import Permission
from cityhealth.emergency import selectors, services

router = Router()


def _dispatcher(request: HttpRequest) -> str:
    principal = api_principal(request)
    ensure_permission(principal, Permission.DISPATCH)
    return actor_of(principal)


@router.get("/move-ups", response=list[dict[str, Any]], summary="Move-ups waiting")
def list_move_ups(request: HttpRequest) -> list[dict[str, Any]]:
    _dispatcher(request)
    return [selectors.move_up_as_json(m) for m in selectors.open_move_ups()]


@router.post(
    "/move-ups", response={201: dict[str, Any], 204: None}, summary="Work out a move-up now"
)
def suggest_move_up(request: HttpRequest) -> Status[dict[str, Any] | None]:
    move_up = services.suggest_move_up(actor=_dispatcher(request))
    if move_up is None:
        return Status(204, None)
    return Status(201, selectors.move_up_as_json(move_up))


@router.post("/move-ups/{move_up_id}/order", response=dict[str, Any], summary="Order it")
def order_move_up(request: HttpRequest, move_up_id: int) -> dict[str, Any]:
    actor = _dispatcher(request)
    ordered = services.order_move_up(move_up=selectors.get_move_up(move_up_id), actor=actor)
    return selectors.move_up_as_json(ordered)


@router.post("/move-ups/{move_up_id}/dismiss", response=dict[str, Any], summary="Dismiss it")
def dismiss_move_up(request: HttpRequest, move_up_id: int) -> dict[str, Any]:
    actor = _dispatcher(request)
    dismissed = services.dismiss_move_up(move_up=selectors.get_move_up(move_up_id), actor=actor)
    return selectors.move_up_as_json(dismissed)
