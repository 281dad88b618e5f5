"""Reading policy documents: JSON or YAML text, and locating a key path's line for errors."""

from __future__ import annotations

import json
import re
from typing import Any

from cocoverify.errors import ConfigurationError, Reason

__all__ = ["locate", "parse_document"]


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


def parse_document(text: bytes, source: str) -> Any:
    stripped = text.lstrip()
    if stripped.startswith((b"{", b"[")):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ConfigurationError(
                f"{source}: invalid JSON: {exc}", reason=Reason.INVALID_POLICY
            ) from None
    import yaml  # loaded when a YAML policy is read: keeps `import cocoverify` light

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigurationError(
            f"{source}: invalid YAML: {exc}", reason=Reason.INVALID_POLICY
        ) from None
