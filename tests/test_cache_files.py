"""Caches survive damage: a truncated or altered array is rebuilt, a read-only folder falls back to
a temporary one with a warning; and the GRGM1200A cache recovers from a truncated file."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

from guanghan.environment import cache_files as cf
from guanghan.environment import gravity_field as gf


def test_verified_array_round_trips_and_damage_is_detected(tmp_path):
    path = tmp_path / "a.npy"
    data = np.arange(1000.0).reshape(10, 100)
    cf.save_verified(path, data)
    assert np.array_equal(cf.load_verified(path), data)
    raw = path.read_bytes()
    path.write_bytes(raw[:-800])                     # truncated: "mmap length > file size" before
    assert cf.load_verified(path) is None and not path.exists()
    cf.save_verified(path, data)
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 0xFF                                  # one flipped byte: the checksum catches it
    path.write_bytes(bytes(raw))
    assert cf.load_verified(path) is None


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True,
                    reason="root ignores folder permissions")
def test_read_only_cache_folder_falls_back_with_a_warning(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        cf.writable.cache_clear()
        with pytest.warns(RuntimeWarning, match="not writable"):
            folder = cf.writable(ro)
        assert folder != ro and os.access(folder, os.W_OK)
    finally:
        ro.chmod(0o700)


def test_unwritable_cache_path_falls_back(tmp_path):
    """A cache 'folder' that is a file cannot be created, whoever runs the test."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cf.writable.cache_clear()
    with pytest.warns(RuntimeWarning, match="not writable"):
        folder = cf.writable(blocker / "cache")
    assert folder.is_dir()


def test_truncated_grgm_cache_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("GUANGHAN_CACHE_DIR", str(tmp_path))
    cf.writable.cache_clear()
    first = gf.load_grgm1200a(8)
    c_path, _ = gf._grgm_cache_paths(gf._grgm_tab())
    assert c_path.parent == tmp_path and c_path.is_file()
    c_path.write_bytes(c_path.read_bytes()[:4096])   # a killed writer / a full disk
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = gf.load_grgm1200a(8)
    assert np.array_equal(first.c, again.c) and np.array_equal(first.s, again.s)
    cf.writable.cache_clear()
