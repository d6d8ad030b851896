"""The scenarios that ship with Guanghan, and the sources their published figures cite.

``resolve("chang-e-5")`` finds the packaged ``chang-e-5.toml``; anything that names an existing
file (or ends in ``.toml``) is taken as a path. ``SOURCES.md`` lists the source keys (``[CE5-LROC]``)
with their addresses.
"""

from __future__ import annotations

import tomllib
from importlib.resources import files
from pathlib import Path

from guanghan.errors import ScenarioError


def _folder():
    return files("guanghan").joinpath("scenarios")


def packaged() -> dict[str, str]:
    """Packaged scenario names → their one-line descriptions."""
    out = {}
    for entry in sorted(_folder().iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            try:
                info = tomllib.loads(entry.read_text(encoding="utf-8")).get("mission", {})
            except tomllib.TOMLDecodeError:      # pragma: no cover - packaged files are tested
                info = {}
            out[entry.name.removesuffix(".toml")] = str(info.get("description", ""))
    return out


def resolve(name_or_path: str | Path) -> Path:
    """Path of a packaged scenario by name, or the given path; ScenarioError naming the choices."""
    path = Path(name_or_path)
    if path.exists() or path.suffix == ".toml" or len(path.parts) > 1:
        return path
    entry = _folder().joinpath(f"{name_or_path}.toml")
    if entry.is_file():
        return Path(str(entry))
    raise ScenarioError(f"no file and no packaged scenario of that name; packaged: "
                        f"{', '.join(packaged())}", file=str(name_or_path))


def sources_text() -> str:
    """The packaged list of source keys and addresses (Markdown)."""
    return _folder().joinpath("SOURCES.md").read_text(encoding="utf-8")
