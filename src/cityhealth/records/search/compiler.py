"""A compiler from the FHIRPath the R4 search parameters use into plain Python extractors.

Ingest must not evaluate general FHIRPath per resource, so each per-type expression is parsed
once into a chain of small functions over lists of JSON nodes. The subset is what HL7's
definitions of the served types use: paths (choice elements `value[x]` expanded from a table),
`|`, `as T`/`.as(T)`/`.ofType(T)` on a choice element, `.where(resolve() is T)`,
`.where(field='literal')`, `.extension('url')`, and `X.exists() and X != false`. Anything
else raises `Unsupported` at load time, never at write time. The equivalence of every
extractor with fhirpathpy over HL7's examples is checked by the tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# An extractor takes the resource and returns the values the expression selects.
Extractor = Callable[[dict[str, Any]], list[Any]]
# Inside a chain: (root resource, nodes) → nodes.
_Step = Callable[[dict[str, Any], list[Any]], list[Any]]

_TOKEN = re.compile(r"\s*(?:('(?:[^'\\]|\\.)*')|([A-Za-z_][A-Za-z0-9_]*)|(!=|[=.()|]))")


class Unsupported(ValueError):
    """An expression outside the compiled subset."""


def _tokens(expression: str) -> list[str]:
    found: list[str] = []
    position = 0
    text = expression.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise Unsupported(f"cannot read {text[position:]!r}")
        found.append(match.group(0).strip())
        position = match.end()
    return found


def reference_type(reference: Any, root: dict[str, Any]) -> str | None:
    """The type a Reference points to, as `resolve()` would find it: from a relative or
    absolute URL (`Patient/1`, `https://x/fhir/Patient/1/_history/2`) or a contained id."""
    if not isinstance(reference, dict):
        return None
    ref = reference.get("reference")
    if not isinstance(ref, str) or not ref:
        return None
    if ref.startswith("#"):
        for contained in root.get("contained") or ():
            if isinstance(contained, dict) and contained.get("id") == ref[1:]:
                found = contained.get("resourceType")
                return found if isinstance(found, str) else None
        return None
    parts = ref.split("/")
    if len(parts) >= 4 and parts[-2] == "_history":
        parts = parts[:-2]
    if len(parts) >= 2 and parts[-2][:1].isupper():
        return parts[-2]
    return None


class _Parser:
    def __init__(self, expression: str, choices: dict[str, tuple[str, ...]]) -> None:
        self.tokens = _tokens(expression)
        self.position = 0
        self.choices = choices
        # The last choice element read (before it, parent path, name): `as T` narrows it.
        self._last_choice: tuple[_Step, str, str] | None = None
        # The resource's own elements the expression starts from (for skipping it fast).
        self.top_keys: set[str] = set()

    def peek(self, offset: int = 0) -> str | None:
        index = self.position + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise Unsupported(f"expected {expected or 'more'} at {token!r}")
        self.position += 1
        return token

    def parse(self) -> tuple[_Step, str | None]:
        step, path = self.union()
        if self.peek() is not None:
            raise Unsupported(f"unexpected {self.peek()!r}")
        return step, path

    def union(self) -> tuple[_Step, str | None]:
        parts = [self.conjunction()]
        while self.peek() == "|":
            self.take("|")
            parts.append(self.conjunction())
        if len(parts) == 1:
            return parts[0]
        steps = [s for s, _ in parts]

        def union(root: dict[str, Any], nodes: list[Any]) -> list[Any]:
            out: list[Any] = []
            for step in steps:
                for value in step(root, nodes):
                    if value not in out:
                        out.append(value)
            return out

        return union, None

    def conjunction(self) -> tuple[_Step, str | None]:
        start = self.position
        step, path = self.typed()
        if self.peek() != "and":
            return step, path
        # Only `X.exists() and X != false` (Patient.deceased): true when X is there and is
        # not the boolean false.
        end = self.position
        if self.tokens[end - 4 : end] != [".", "exists", "(", ")"]:
            raise Unsupported("'and' other than X.exists() and X != false")
        subject = self.tokens[start : end - 4]
        self.take("and")
        if self.tokens[self.position : self.position + len(subject)] != subject:
            raise Unsupported("'and' over two different paths")
        inner, _ = _Parser(" ".join(subject), self.choices).typed()
        self.position += len(subject)
        self.take("!=")
        self.take("false")

        def truthy(root: dict[str, Any], nodes: list[Any]) -> list[Any]:
            found = inner(root, nodes)
            return [bool(found) and found != [False]]

        return truthy, None

    def typed(self) -> tuple[_Step, str | None]:
        step, path = self.postfix()
        if self.peek() == "as":
            self.take("as")
            return self.choice_of(step, path, self.take())
        return step, path

    def postfix(self) -> tuple[_Step, str | None]:
        if self.peek() == "(":
            self.take("(")
            step, path = self.union()
            self.take(")")
        else:
            root = self.take()
            if not root[:1].isupper():
                raise Unsupported(f"path must start at a type, not {root!r}")

            step, path = _ROOT, root
        while self.peek() == ".":
            self.take(".")
            name = self.take()
            if self.peek() == "(":
                step, path = self.function(step, path, name)
            else:
                step, path = self.field(step, path, name)
        return step, path

    def field(self, before: _Step, path: str | None, name: str) -> tuple[_Step, str | None]:
        if path is None or path.startswith("Extension"):
            raise Unsupported(f"cannot follow .{name} from an untyped node")
        full = f"{path}.{name}"
        types = self.choices.get(full)
        keys = tuple(name + t[0].upper() + t[1:] for t in types) if types else (name,)
        if "." not in path:
            self.top_keys.update(keys)
        step = _child(before, keys)
        self._last_choice = (before, path, name) if types else None
        return step, full

    def choice_of(self, step: _Step, path: str | None, type_name: str) -> tuple[_Step, str]:
        last = self._last_choice
        if last is None or path is None or f"{last[1]}.{last[2]}" != path:
            raise Unsupported(f"'as {type_name}' on an element that is not a choice")
        before, _, name = last
        allowed = self.choices[path]
        if type_name[0].upper() + type_name[1:] not in allowed:
            raise Unsupported(f"{path} cannot be {type_name}")
        self._last_choice = None
        return _child(before, (name + type_name[0].upper() + type_name[1:],)), path

    def function(self, before: _Step, path: str | None, name: str) -> tuple[_Step, str | None]:
        self.take("(")
        if name in ("as", "ofType"):
            type_name = self.take()
            self.take(")")
            return self.choice_of(before, path, type_name)
        if name == "exists":
            self.take(")")
            return before, path  # handled by conjunction(), which checks the tokens
        if name == "extension":
            url = self.take()
            self.take(")")
            if not url.startswith("'"):
                raise Unsupported("extension() needs a literal url")
            wanted = url[1:-1]

            def extension(root: dict[str, Any], nodes: list[Any]) -> list[Any]:
                return [
                    e
                    for node in before(root, nodes)
                    if isinstance(node, dict)
                    for e in node.get("extension") or ()
                    if isinstance(e, dict) and e.get("url") == wanted
                ]

            return extension, "Extension"
        if name == "where":
            if self.tokens[self.position : self.position + 4] == ["resolve", "(", ")", "is"]:
                self.position += 4
                wanted_type = self.take()
                self.take(")")

                def where_type(root: dict[str, Any], nodes: list[Any]) -> list[Any]:
                    return [
                        n for n in before(root, nodes) if reference_type(n, root) == wanted_type
                    ]

                return where_type, path
            element = self.take()
            self.take("=")
            literal = self.take()
            self.take(")")
            if not literal.startswith("'"):
                raise Unsupported("where() compares to a string literal only")
            value = literal[1:-1]

            def where_equals(root: dict[str, Any], nodes: list[Any]) -> list[Any]:
                return [
                    n
                    for n in before(root, nodes)
                    if isinstance(n, dict) and n.get(element) == value
                ]

            return where_equals, path
        raise Unsupported(f"function {name}()")


def _root(resource: dict[str, Any], nodes: list[Any]) -> list[Any]:
    return nodes


# The start of a path: the resource itself (the first step reads the resource directly).
_ROOT: _Step = _root


def _add_value(out: list[Any], value: Any) -> None:
    if isinstance(value, list):
        out.extend(v for v in value if v is not None)
    elif value is not None:
        out.append(value)


def _child(before: _Step, keys: tuple[str, ...]) -> _Step:
    if before is _ROOT:
        # Top-level steps always run on [resource]: read it without walking a list.
        if len(keys) == 1:
            only = keys[0]

            def top(root: dict[str, Any], nodes: list[Any]) -> list[Any]:
                value = root.get(only)
                if value is None:
                    return []
                if isinstance(value, list):
                    return [v for v in value if v is not None]
                return [value]

            return top

        def top_choice(root: dict[str, Any], nodes: list[Any]) -> list[Any]:
            out: list[Any] = []
            for key in keys:
                _add_value(out, root.get(key))
            return out

        return top_choice
    if len(keys) == 1:
        key = keys[0]

        def child(root: dict[str, Any], nodes: list[Any]) -> list[Any]:
            out: list[Any] = []
            for node in before(root, nodes):
                if isinstance(node, dict):
                    value = node.get(key)
                    if value is None:
                        continue
                    if isinstance(value, list):
                        out.extend(v for v in value if v is not None)
                    else:
                        out.append(value)
            return out

        return child

    def choice(root: dict[str, Any], nodes: list[Any]) -> list[Any]:
        out: list[Any] = []
        for node in before(root, nodes):
            if isinstance(node, dict):
                for key in keys:
                    value = node.get(key)
                    if value is None:
                        continue
                    if isinstance(value, list):
                        out.extend(v for v in value if v is not None)
                    else:
                        out.append(value)
        return out

    return choice


def compile_path(expression: str, *, choices: dict[str, tuple[str, ...]]) -> Extractor:
    """An extractor for one type's expression (rooted at that type)."""
    return compile_with_keys(expression, choices=choices)[0]


def compile_with_keys(
    expression: str, *, choices: dict[str, tuple[str, ...]]
) -> tuple[Extractor, frozenset[str]]:
    """The extractor and the top-level elements it reads: a resource with none of them
    yields nothing, so indexing need not run it."""
    parser = _Parser(expression, choices)
    step, _ = parser.parse()

    def extract(resource: dict[str, Any]) -> list[Any]:
        return step(resource, [resource])

    return extract, frozenset(parser.top_keys)
