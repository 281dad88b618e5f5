"""Reading policy documents: JSON or YAML text, duplicate keys refused, key paths located.

A duplicated key is an error in both forms (``invalid_policy``): JSON and YAML loaders keep
the last value silently, so a later, looser ``accepted_tcb_statuses`` would override the first.
The error names the key and both lines (YAML: a loader that checks each mapping's keys with
their marks; JSON: ``object_pairs_hook`` finds them, the YAML composer, which reads JSON, or
a text search gives their lines).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any

from cocoverify._core.io import POLICY_LIMIT, read_capped
from cocoverify.errors import ConfigurationError, Reason

__all__ = ["Duplicate", "locate", "parse_document", "parse_with_duplicates", "read_policy"]


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A key given twice in one mapping: its name and the 1-based lines (None: unknown)."""

    key: str
    first: int | None
    second: int | None

    def error(self, source: str) -> ConfigurationError:
        """The located error (``SOURCE:LINE: duplicate key ...``)."""
        where = f"{source}:{self.second}" if self.second else source
        lines = (
            f"lines {self.first} and {self.second}"
            if self.first and self.second
            else "more than once"
        )
        return ConfigurationError(
            f"{where}: duplicate key {self.key!r} ({lines}); a later value would silently "
            "override the first",
            reason=Reason.INVALID_POLICY,
            line=self.second,
        )


def read_policy(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a policy file, capped as ``Policy.from_file`` reads them (OSError as
    raised; too large or not a regular file: ConfigurationError(invalid_policy))."""
    return read_capped(path, POLICY_LIMIT, kind="policy")


def locate(text: bytes, path: str) -> int | None:
    """1-based line of a dotted key path (``tdx.rtmr2[1]``) in a YAML/JSON document."""

    import yaml  # loaded when a YAML policy is read: keeps `import cocoverify` light

    try:
        node: Any = yaml.compose(text.decode("utf-8", "replace"))
    except yaml.YAMLError:
        return None
    line = None
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if node is None:
            break
        if part.startswith("[") and isinstance(node, yaml.SequenceNode):
            i = int(part[1:-1])
            node = node.value[i] if i < len(node.value) else None
        elif isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == part), None)
            if match is None:
                break
            line = match[0].start_mark.line + 1
            node = match[1]
            continue
        else:
            break
        if node is not None:
            line = node.start_mark.line + 1
    return line


def _yaml_duplicates(node: Any) -> list[Duplicate]:
    """Duplicated keys of every mapping under ``node`` (a composed YAML node), in order."""
    import yaml  # loaded when a YAML policy is read: keeps `import cocoverify` light

    out: list[Duplicate] = []
    stack = [node]
    visited: set[int] = set()  # an alias shares its node: walk each node once
    while stack:
        n = stack.pop()
        if id(n) in visited:
            continue
        visited.add(id(n))
        if isinstance(n, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key, value in n.value:
                if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                    name = key.value
                    line = key.start_mark.line + 1
                    if name in seen:
                        out.append(Duplicate(str(name), seen[name], line))
                    else:
                        seen[name] = line
                stack.append(value)
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
    return sorted(out, key=lambda d: d.second or 0)


def _json_duplicates(text: bytes) -> list[Duplicate]:
    names: list[str] = []

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                names.append(key)
            seen.add(key)
        return dict(pairs)

    json.loads(text, object_pairs_hook=hook)
    if not names:
        return []
    import yaml  # loaded only to locate the duplicates: YAML reads JSON with marks

    try:
        found = _yaml_duplicates(yaml.compose(text.decode("utf-8", "replace")))
    except yaml.YAMLError:
        found = []
    if {d.key for d in found} == set(names):
        return found
    out = []
    decoded = text.decode("utf-8", "replace")
    for name in dict.fromkeys(names):  # the text's occurrences of "name":
        pattern = re.escape(json.dumps(name)) + r"\s*:"
        lines = [decoded.count("\n", 0, m.start()) + 1 for m in re.finditer(pattern, decoded)]
        out.append(
            Duplicate(name, lines[0] if lines else None, lines[1] if len(lines) > 1 else None)
        )
    return out


def parse_with_duplicates(text: bytes, source: str) -> tuple[Any, list[Duplicate]]:
    """The document and its duplicated keys (``policy check`` reports each of them)."""
    stripped = text.lstrip()
    if stripped.startswith((b"{", b"[")):
        try:
            return json.loads(text), _json_duplicates(text)
        except ValueError as exc:
            raise ConfigurationError(
                f"{source}: invalid JSON: {exc}", reason=Reason.INVALID_POLICY
            ) from None
    import yaml  # loaded when a YAML policy is read: keeps `import cocoverify` light

    try:
        node = yaml.compose(text)
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigurationError(
            f"{source}: invalid YAML: {exc}", reason=Reason.INVALID_POLICY
        ) from None
    return doc, _yaml_duplicates(node) if node is not None else []


def parse_document(text: bytes, source: str) -> Any:
    """The document; ConfigurationError(invalid_policy) for bad syntax or a duplicated key."""
    doc, duplicates = parse_with_duplicates(text, source)
    if duplicates:
        raise duplicates[0].error(source)
    return doc
