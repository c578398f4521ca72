"""Builds `r4-structure.json` from HL7's R4 package (see SOURCE.md).

    .venv/bin/python data/fhir/build_r4_structure.py /path/to/hl7.fhir.r4.examples-4.0.1

For every type the shared record stores (and those often contained in them), and every
data type and backbone element they reach, each element's JSON name with what validation
needs: its type `t` (to walk into it), `n` if it repeats, the codes `c` of its
*required* binding when that value set can be enumerated from the package, the resource
types `r` a Reference may point to, `m` if it is required, and the choice element `x`
(`value[x]`) a name belongs to (then `m` means one of the choice is required). Also the
pattern of each primitive type's value and the names of all R4 resource types.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "src"))

from cityhealth.records.types import SUPPORTED_TYPES  # noqa: E402

PRIMITIVES = {
    "boolean", "integer", "string", "decimal", "uri", "url", "canonical", "base64Binary",
    "instant", "date", "dateTime", "time", "code", "oid", "id", "markdown", "unsignedInt",
    "positiveInt", "uuid", "xhtml",
}  # fmt: skip
STRUCTURE_BASE = "http://hl7.org/fhir/StructureDefinition/"
# Resources often sent `contained` in the stored types (a MedicationRequest's Medication).
CONTAINED = ("Medication", "Specimen", "RelatedPerson", "Device", "Group", "Substance")


class Package:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.value_sets: dict[str, dict[str, Any]] = {}
        self.code_systems: dict[str, dict[str, Any]] = {}
        self.resource_types: list[str] = []
        for path in folder.glob("ValueSet-*.json"):
            vs = json.loads(path.read_text(encoding="utf-8"))
            self.value_sets[vs["url"]] = vs
        for path in folder.glob("CodeSystem-*.json"):
            cs = json.loads(path.read_text(encoding="utf-8"))
            self.code_systems[cs["url"]] = cs
        for path in folder.glob("StructureDefinition-*.json"):
            sd = json.loads(path.read_text(encoding="utf-8"))
            if sd.get("kind") == "resource" and sd.get("derivation") == "specialization":
                self.resource_types.append(sd["type"])

    def structure(self, name: str) -> dict[str, Any]:
        path = self.folder / f"StructureDefinition-{name}.json"
        return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]

    def regex(self, primitive: str) -> str | None:
        """The pattern R4 gives the value of a primitive type (none for xhtml)."""
        for element in self.structure(primitive)["snapshot"]["element"]:
            if element["path"] == f"{primitive}.value":
                for kind in element.get("type", []):
                    for extension in kind.get("extension", []):
                        if extension["url"].endswith("/regex"):
                            return extension["valueString"]  # type: ignore[no-any-return]
        return None

    def codes(self, canonical: str) -> set[tuple[str, str]] | None:
        """(system, code) of every concept in the value set, or None if it can't be listed."""
        vs = self.value_sets.get(canonical.split("|")[0])
        if vs is None or "compose" not in vs:
            return None
        found: set[tuple[str, str]] = set()
        for include in vs["compose"].get("include", []):
            part = self._include(include)
            if part is None:
                return None
            found |= part
        for exclude in vs["compose"].get("exclude", []):
            part = self._include(exclude)
            if part is None:
                return None
            found -= part
        return found

    def _include(self, include: dict[str, Any]) -> set[tuple[str, str]] | None:
        if include.get("filter"):
            return None
        found: set[tuple[str, str]] | None = None
        system = include.get("system")
        if system:
            if include.get("concept"):
                found = {(system, concept["code"]) for concept in include["concept"]}
            else:
                cs = self.code_systems.get(system)
                if cs is None or cs.get("content") != "complete":
                    return None
                found = {(system, code) for code in _all_codes(cs.get("concept", []))}
        for nested in include.get("valueSet", []):
            part = self.codes(nested)
            if part is None:
                return None
            found = part if found is None else found & part
        return found


def _all_codes(concepts: list[dict[str, Any]]) -> list[str]:
    codes: list[str] = []
    for concept in concepts:
        codes.append(concept["code"])
        codes.extend(_all_codes(concept.get("concept", [])))
    return codes


def build(package: Package) -> dict[str, Any]:
    types: dict[str, dict[str, dict[str, Any]]] = {}
    pending = [*SUPPORTED_TYPES, *CONTAINED]
    while pending:
        name = pending.pop()
        if name in types:
            continue
        sd = package.structure(name)
        root = sd["type"]  # a profile of a data type (Age, SimpleQuantity) keeps its base paths
        elements = sd["snapshot"]["element"]
        for element in elements:
            path: str = element["path"]
            if "." not in path:
                continue
            parent, leaf = path.rsplit(".", 1)
            key = name if parent == root else name + parent[len(root) :]
            entries = types.setdefault(key, {})
            types.setdefault(name, {})
            shape: dict[str, Any] = {}
            if element.get("max") == "*":
                shape["n"] = 1
            if element.get("min", 0) > 0:
                shape["m"] = 1
            if "contentReference" in element:  # e.g. component.referenceRange
                target = element["contentReference"].lstrip("#")
                entries[leaf] = {"t": name + target[len(root) :], **shape}
                continue
            kinds = element.get("type", [])
            choice = leaf.endswith("[x]")
            for kind in kinds:
                code = kind["code"]
                if code.startswith("http://hl7.org/fhirpath/"):
                    code = "string"  # the id of an element, the value of a primitive
                json_name = leaf[:-3] + code[0].upper() + code[1:] if choice else leaf
                if code in ("BackboneElement", "Element") and not choice:
                    child = name + path[len(root) :]
                elif code in PRIMITIVES:
                    child = code
                else:
                    child = code
                    if code not in types and code != "Resource":
                        pending.append(code)
                entry: dict[str, Any] = {"t": child, **shape}
                if choice:
                    entry["x"] = leaf[:-3]
                binding = element.get("binding", {})
                if binding.get("strength") == "required" and binding.get("valueSet"):
                    codes = package.codes(binding["valueSet"])
                    if codes is not None and code == "code":
                        entry["c"] = sorted({c for _, c in codes})
                    elif codes is not None and code in ("Coding", "CodeableConcept"):
                        entry["c"] = sorted(f"{s}|{c}" for s, c in codes)
                targets = [
                    profile.removeprefix(STRUCTURE_BASE)
                    for profile in kind.get("targetProfile", [])
                    if profile.startswith(STRUCTURE_BASE)
                ]
                if code == "Reference" and targets and "Resource" not in targets:
                    entry["r"] = sorted(targets)
                entries[json_name] = entry
    return {
        "fhirVersion": "4.0.1",
        "primitives": {code: package.regex(code) for code in sorted(PRIMITIVES)},
        "resourceTypes": sorted(package.resource_types),
        "types": {key: types[key] for key in sorted(types)},
    }


def main() -> None:
    package = Package(Path(sys.argv[1]))
    out = HERE / "r4-structure.json"
    out.write_text(
        json.dumps(build(package), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {out} ({out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
