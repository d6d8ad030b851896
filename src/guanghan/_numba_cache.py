"""Numba's on-disk cache for Guanghan's own kernels, keyed by a hash of Guanghan's source.

Numba checks a cached kernel only against the file that defines it, so after an edit to a kernel
that another file's kernel calls (``forces.rhs`` calls ``gravity_kernels.sh_acceleration``), the
caller would silently keep the old code. Guanghan's kernels are therefore cached in a folder named
after a hash of every ``.py`` file of the package, ``<user cache>/guanghan/numba-<hash>``
(``GUANGHAN_CACHE_DIR`` moves it): any source change starts a fresh cache.
When a fresh one is made, older ones beyond the newest few are removed
(:func:`guanghan.environment.cache_files.prune`), so edits and upgrades do not fill the disk.

Only Guanghan's functions go there: :func:`configure` puts a cache locator in front of numba's
own (``numba.core.caching``'s list of locator classes, which numba tries in order for each
``cache=True`` function), and it answers only for files inside this package. The process's
environment and numba's global ``NUMBA_CACHE_DIR`` are left alone, so a user's own cached
functions go where numba puts them by default. A user who sets ``NUMBA_CACHE_DIR`` gets every
kernel, Guanghan's included, in that folder (and then this protection is theirs to manage).

The locator is installed when numba's caching module is imported (a one-shot import hook), so
``import guanghan`` does not import numba; if numba is already imported it is installed at once.

Limitations: this relies on numba's locator list (``CacheImpl._locator_classes``, named
``_CacheImpl`` before numba 0.61) and its ``_CacheLocator`` base and
``_SourceFileBackedLocatorMixin``, present since numba 0.49; an unwritable cache folder leaves
Guanghan's kernels to numba's default locators (``__pycache__`` or the user-wide cache).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.abc
import importlib.util
import os
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parent
_MODULE = "numba.core.caching"


@functools.lru_cache(maxsize=1)
def source_hash() -> str:
    """SHA-256 (16 hex digits) of the package's Python sources, in path order (once a process)."""
    digest = hashlib.sha256()
    for path in sorted(_ROOT.rglob("*.py")):
        digest.update(path.relative_to(_ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def cache_folder() -> Path | None:
    """``<GUANGHAN_CACHE_DIR or user cache>/numba-<source hash>``, created; None if it cannot be."""
    base = os.environ.get("GUANGHAN_CACHE_DIR")
    if not base:
        from platformdirs import user_cache_dir

        base = user_cache_dir("guanghan")
    folder = Path(base) / f"numba-{source_hash()}"
    try:
        folder.mkdir(parents=True)
    except FileExistsError:
        return folder
    except OSError:
        return None
    from guanghan.environment.cache_files import prune  # a new source: older caches beyond a few go

    prune(folder.parent, "numba-", "", folder.name)
    return folder


def _inside_package(py_file: str) -> Path | None:
    try:
        return Path(py_file).resolve().relative_to(_ROOT)
    except (ValueError, OSError):
        return None


def _locator_class(caching):
    class GuanghanCacheLocator(caching._SourceFileBackedLocatorMixin, caching._CacheLocator):
        """Guanghan's kernels in :func:`cache_folder`, one sub-folder per package folder."""

        def __init__(self, py_func, py_file):
            self._py_file = py_file
            self._lineno = py_func.__code__.co_firstlineno
            self._cache_path = str(cache_folder() / _inside_package(py_file).parent)

        def get_cache_path(self):
            return self._cache_path

        @classmethod
        def from_function(cls, py_func, py_file):
            from numba.core import config

            if config.CACHE_DIR or _inside_package(py_file) is None or cache_folder() is None:
                return None                 # the user's NUMBA_CACHE_DIR, or not Guanghan's code
            return super().from_function(py_func, py_file)

    return GuanghanCacheLocator


def _install(caching) -> None:
    impl = getattr(caching, "CacheImpl", None) or caching._CacheImpl
    if not any(c.__name__ == "GuanghanCacheLocator" for c in impl._locator_classes):
        impl._locator_classes.insert(0, _locator_class(caching))


class _InstallOnImport(importlib.abc.MetaPathFinder):
    """Lets numba's caching module load as usual, then installs the locator (once)."""

    def find_spec(self, name, path, target=None):
        if name != _MODULE:
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            _install(module)

        spec.loader.exec_module = exec_module
        return spec


def configure() -> None:
    """Point Guanghan's own ``cache=True`` kernels at :func:`cache_folder`; nothing else changes."""
    if _MODULE in sys.modules:
        _install(sys.modules[_MODULE])
    elif not any(isinstance(f, _InstallOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _InstallOnImport())
