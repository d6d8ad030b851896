"""Numba's on-disk cache, keyed by a hash of Guanghan's own source.

Numba checks a cached kernel only against the file that defines it, so after an edit to a kernel
that another file's kernel calls (``forces.rhs`` calls ``gravity_kernels.sh_acceleration``), the
caller would silently keep the old code. Pointing ``NUMBA_CACHE_DIR`` at a folder named after a
hash of every ``.py`` file of the package makes any source change start a fresh cache. A user's own
``NUMBA_CACHE_DIR`` is respected (and then this protection is theirs to manage).
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path


def source_hash() -> str:
    """SHA-256 (16 hex digits) of the package's Python sources, in path order."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def configure() -> None:
    """Set ``NUMBA_CACHE_DIR`` to ``<user cache>/guanghan/numba-<hash>`` unless the user set it."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    base = os.environ.get("GUANGHAN_CACHE_DIR")
    if not base:
        from platformdirs import user_cache_dir

        base = user_cache_dir("guanghan")
    folder = Path(base) / f"numba-{source_hash()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return                                   # read-only home: numba falls back to __pycache__
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    if "numba" in sys.modules:                   # numba read its config already: re-read it
        from numba.core import config

        config.reload_config()
