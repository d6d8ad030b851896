"""Guanghan's on-disk caches: where they live, and arrays saved with a checksum and verified on load.

The cache folder is ``$GUANGHAN_CACHE_DIR`` or the user cache (``platformdirs``). A folder that
cannot be written falls back to a temporary one, with a warning. An array is written through a
temporary file and ``os.replace`` (so a killed writer leaves no half file under the real name),
with a ``.sha256`` sidecar; :func:`load_verified` checks the file's size against its header and
its SHA-256 against the sidecar (once per process and file), and reports a damaged or truncated
file as missing so the caller rebuilds it.

Entries are keyed by what they were made from (a data file's size and time, a source hash), so a
reinstalled data package or an edited source adds a new entry beside the old. :func:`prune` keeps
the folder bounded: after a new entry is written, the same kind's older entries beyond the newest
few are removed (never one written within the last hour, which another process may be using).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np


def cache_dir() -> Path:
    """Cache folder: ``$GUANGHAN_CACHE_DIR`` or ``platformdirs.user_cache_dir("guanghan")``."""
    env = os.environ.get("GUANGHAN_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs
    return Path(platformdirs.user_cache_dir("guanghan"))


@functools.lru_cache(maxsize=4)
def writable(folder: Path) -> Path:
    """``folder`` if it can be created and written, else a temporary cache folder (with a warning)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=folder, prefix=".probe", delete=True)
        probe.close()
        return folder
    except OSError as exc:
        user = os.getuid() if hasattr(os, "getuid") else 0
        fallback = Path(tempfile.gettempdir()) / f"guanghan-cache-{user}"
        fallback.mkdir(parents=True, exist_ok=True)
        warnings.warn(f"cache folder {folder} is not writable ({exc.strerror}); using {fallback}",
                      RuntimeWarning, stacklevel=2)
        return fallback


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_verified(path: Path, array: np.ndarray) -> None:
    """Write ``array`` to ``path`` (``.npy``) atomically, with its SHA-256 in ``path.sha256``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, array)
        digest = _digest(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    sidecar = path.with_name(path.name + ".sha256")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=sidecar.name, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(digest + "\n")
    os.replace(tmp, sidecar)
    _verified.cache_clear()


@functools.lru_cache(maxsize=16)
def _verified(path: Path, mtime_ns: int, size: int) -> bool:
    sidecar = path.with_name(path.name + ".sha256")
    try:
        expected = sidecar.read_text().strip()
        arr = np.load(path, mmap_mode="r")
        whole = arr.dtype.itemsize * arr.size
    except (OSError, ValueError):
        return False
    return size >= whole and _digest(path) == expected


def load_verified(path: Path) -> np.ndarray | None:
    """The memory-mapped array at ``path`` if it is whole and matches its checksum; else None
    (the damaged file and its sidecar are removed, so the caller rebuilds them)."""
    try:
        st = path.stat()
    except OSError:
        return None
    if _verified(path, st.st_mtime_ns, st.st_size):
        return np.load(path, mmap_mode="r")
    for stale in (path, path.with_name(path.name + ".sha256")):
        try:
            stale.unlink(missing_ok=True)
        except OSError:
            pass
    return None


KEEP_ENTRIES = 3            # entries of one kind kept: the current one and two alternates (venvs)
SPARE_YOUNGER_S = 3600.0    # an entry written within this time is never removed


def prune(folder: Path, prefix: str, suffix: str, current: str, *, keep: int = KEEP_ENTRIES,
          spare_younger_s: float = SPARE_YOUNGER_S) -> list[str]:
    """Remove ``folder``'s stale entries of one kind; returns the removed entries' keys.

    An entry is a name ``<prefix>…<suffix>`` (a file, or a folder when ``suffix`` is empty); its
    key is that name without ``suffix``, and every name in ``folder`` starting with the key
    (sidecars, companion arrays) goes with it. The entry whose key is ``current`` and the newest
    ``keep`` by modification time stay, and so does any entry younger than ``spare_younger_s``
    (s; 0 for entries read whole into memory, which no process holds open).
    Errors (a file in use on Windows, a concurrent pruner) leave the entry for the next time.
    """
    try:
        names = [n for n in os.listdir(folder) if n.startswith(prefix) and n.endswith(suffix)
                 and not n.endswith(".tmp") and not n.endswith(".sha256")]
        dated = sorted(((os.stat(folder / n).st_mtime, n[:len(n) - len(suffix)]) for n in names),
                       reverse=True)
        everything = os.listdir(folder)
    except OSError:
        return []
    removed, now = [], time.time()
    for rank, (mtime, key) in enumerate(dated):
        if key == current or rank < keep or now - mtime < spare_younger_s:
            continue
        for name in (n for n in everything if n.startswith(key)):
            path = folder / name
            try:
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
            except OSError:
                continue
        removed.append(key)
    return removed


def memoised(kind: str, key: object, build: Callable[[], tuple[dict[str, np.ndarray], dict]]
             ) -> tuple[dict[str, np.ndarray], dict]:
    """``build()``'s (arrays, JSON-ready metadata), kept in the cache folder for later calls.

    The entry is named after ``kind`` and a SHA-256 of ``repr(key)`` (give exact values: a float's
    repr round-trips), of Guanghan's source (:func:`guanghan._numba_cache.source_hash`: a changed
    builder makes new entries) and of numpy's version: each array a verified ``.npy``
    (:func:`save_verified`), then a manifest ``<kind>-<hash>.json`` naming them with the metadata,
    written last, so only a whole entry is read. A damaged entry is rebuilt; an unwritable folder
    only costs the build; older entries of the kind beyond the newest few are pruned (:func:`prune`),
    however young: a loop over many seeds keeps three terrains, not one per seed.
    """
    from guanghan._numba_cache import source_hash

    digest = hashlib.sha256(repr((key, source_hash(), np.__version__)).encode()).hexdigest()[:16]
    folder = writable(cache_dir())
    stem = f"{kind}-{digest}"
    manifest = folder / f"{stem}.json"
    try:
        meta = json.loads(manifest.read_text())
        arrays = {name: load_verified(folder / f"{stem}.{name}.npy") for name in meta["arrays"]}
        if all(a is not None for a in arrays.values()):
            return {k: np.array(a) for k, a in arrays.items()}, meta["meta"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    arrays, meta = build()
    try:
        for name, array in arrays.items():
            save_verified(folder / f"{stem}.{name}.npy", np.ascontiguousarray(array))
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=manifest.name, suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump({"arrays": list(arrays), "meta": meta}, fh)
        os.replace(tmp, manifest)
        prune(folder, f"{kind}-", ".json", stem, spare_younger_s=0.0)   # read whole, never held open
    except OSError:
        pass
    return arrays, meta
