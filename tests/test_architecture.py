"""The architecture in docs/architecture.md, checked against the code.

import-linter (in `make test`) enforces the layers; these tests check what it cannot: that the
contract names every domain app, that the document shows the same layers, and that an app
reaches into another only through its public modules.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import grimp
from django.apps import apps

ROOT = Path(__file__).resolve().parents[1]
PUBLIC_MODULES = {"services", "selectors", "types", "enums", "errors", "models"}
# `core` is the kernel: its modules are all shared on purpose.
KERNEL = "core"
# Interfaces an app offers beyond those, by design: the shared record's search engine, consent
# predicate, access trail, bulk writer and Patient projection; the registry's write hooks.
# Only the module itself is public, never what lies inside a package.
INTERFACES = {
    "records": {"search", "consent", "trail", "bulk", "patients"},
    "people": {"hooks"},
}
WIRING = {"web", "tools", "api", "urls", "settings", "asgi", "wsgi", "cli", "testing"}


def _layers() -> list[list[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contract = config["tool"]["importlinter"]["contracts"][0]
    return [[name.strip().strip("()") for name in layer.split("|")] for layer in contract["layers"]]


def _domain_apps() -> set[str]:
    return {
        config.label
        for config in apps.get_app_configs()
        if config.name.startswith("cityhealth.") and config.label != "web"
    }


def test_contract_names_every_domain_app():
    in_contract = {name for layer in _layers() for name in layer}
    assert _domain_apps() <= in_contract


def test_architecture_document_shows_the_contract_layers_in_order():
    text = (ROOT / "docs" / "architecture.md").read_text()
    diagram = text.split("```")[1]
    rows = [re.findall(r"[a-z]+", line.split("  ")[0]) for line in diagram.strip().splitlines()]
    rows = [row for row in rows if row]
    assert rows == _layers()


def test_apps_use_each_other_only_through_public_modules():
    graph = grimp.build_graph("cityhealth")
    offences = []
    for importer in sorted(graph.modules):
        parts = importer.split(".")
        if len(parts) < 3 or parts[1] in WIRING:
            continue
        for imported in graph.find_modules_directly_imported_by(importer):
            target = imported.split(".")
            if len(target) < 3 or target[1] in (parts[1], KERNEL) or target[1] in WIRING:
                continue
            offered = target[2] in INTERFACES.get(target[1], set()) and len(target) == 3
            if target[2] not in PUBLIC_MODULES and not offered and parts[2] != "tests":
                offences.append(f"{importer} imports {imported}")
    assert not offences, "\n".join(offences)
