"""A minimal TOML writer for scenarios (the standard library reads TOML but does not write it).

Writes nested dicts and lists of str, bool, int and float; tables get a header only where they hold
keys of their own. References: TOML v1.0.0 specification, https://toml.io/en/v1.0.0.
"""

from __future__ import annotations

import json
import re
from typing import Any


def _toml_string(text: str) -> str:
    """A TOML basic string: JSON escapes, plus DEL, which TOML (unlike JSON) forbids unescaped."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_key(key: str) -> str:
    return key if re.match(r"^[A-Za-z0-9_-]+$", key) else _toml_string(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _emit(table: dict, prefix: str, out: list[str]) -> None:
    for key, value in table.items():
        if not isinstance(value, dict) and not _is_table_array(value):
            out.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for key, value in table.items():
        name = f"{prefix}.{_toml_key(key)}" if prefix else _toml_key(key)
        if isinstance(value, dict):
            if not value or any(not isinstance(v, dict) and not _is_table_array(v)
                                for v in value.values()):
                out.extend(["", f"[{name}]"])  # a header only where it holds keys of its own
            _emit(value, name, out)
        elif _is_table_array(value):
            for item in value:
                out.extend(["", f"[[{name}]]"])
                _emit(item, name, out)


def dumps_toml(data: dict) -> str:
    """TOML text of nested dicts/lists of str, bool, int and float (no dates, no None)."""
    out: list[str] = []
    _emit(data, "", out)
    return "\n".join(out).lstrip("\n") + "\n"
