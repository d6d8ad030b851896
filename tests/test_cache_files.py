"""Caches survive damage: a truncated or altered array is rebuilt, a read-only folder falls back to
a temporary one with a warning; and the GRGM1200A cache recovers from a truncated file."""

from __future__ import annotations

import os
import time
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


def _entry(folder, names, age_s):
    t = time.time() - age_s
    for name in names:
        path = folder / name
        if name.endswith("/"):
            path.mkdir()
            (path / "kernel.nbi").write_text("x")
        else:
            path.write_text("x")
        os.utime(path, (t, t))


def test_prune_keeps_the_current_and_newest_entries_and_removes_older_ones_whole(tmp_path):
    # four GRGM-like entries (array pair + sidecars), an hour and more old, newest first
    for k, age in enumerate((7200, 8000, 9000, 10000)):
        _entry(tmp_path, [f"g_v2_{k}_c.npy", f"g_v2_{k}_c.npy.sha256", f"g_v2_{k}_s.npy",
                          f"g_v2_{k}_s.npy.sha256"], age)
    _entry(tmp_path, ["other_1_c.npy"], 99999)                    # another kind: untouched
    removed = cf.prune(tmp_path, "g_", "_c.npy", "g_v2_0", keep=2)
    assert removed == ["g_v2_2", "g_v2_3"]
    left = sorted(os.listdir(tmp_path))
    assert [n for n in left if n.startswith("g_v2_")] == sorted(
        f"g_v2_{k}_{a}.npy{s}" for k in (0, 1) for a in "cs" for s in ("", ".sha256"))
    assert "other_1_c.npy" in left
    # the current entry stays even when it is the oldest; a young entry is spared
    _entry(tmp_path, ["g_v1_9_c.npy"], 60)
    assert cf.prune(tmp_path, "g_", "_c.npy", "g_v2_1", keep=0) == ["g_v2_0"]
    assert {"g_v2_1_c.npy", "g_v1_9_c.npy"} <= set(os.listdir(tmp_path))


def test_prune_removes_stale_kernel_folders_and_a_missing_folder_is_no_error(tmp_path):
    for k, age in enumerate((4000, 5000, 6000)):
        _entry(tmp_path, [f"numba-{k:016x}/"], age)
    assert cf.prune(tmp_path, "numba-", "", f"numba-{0:016x}", keep=1) == [f"numba-{k:016x}" for k in (1, 2)]
    assert os.listdir(tmp_path) == [f"numba-{0:016x}"]
    assert cf.prune(tmp_path / "absent", "numba-", "", "numba-x") == []


def test_memoised_builds_once_and_rebuilds_a_damaged_entry(tmp_path, monkeypatch):
    monkeypatch.setenv("GUANGHAN_CACHE_DIR", str(tmp_path))
    calls = []

    def build():
        calls.append(1)
        return {"a": np.arange(6.0).reshape(2, 3), "b": np.array([1, 2], np.int64)}, {"note": 1.5}

    first = cf.memoised("thing", ("key", 0.1), build)
    again = cf.memoised("thing", ("key", 0.1), build)
    assert len(calls) == 1 and again[1] == {"note": 1.5}
    assert all(np.array_equal(first[0][k], again[0][k]) and again[0][k].flags.writeable for k in "ab")
    cf.memoised("thing", ("key", 0.2), build)                 # another key: built
    assert len(calls) == 2
    for k in range(5):                                        # a loop over keys keeps the newest three
        cf.memoised("thing", ("loop", k), build)
    assert len(list(tmp_path.glob("thing-*.json"))) == cf.KEEP_ENTRIES
    monkeypatch.setenv("GUANGHAN_CACHE_DIR", str(tmp_path / "one"))
    cf.memoised("thing", ("key", 0.1), build)
    path = next((tmp_path / "one").glob("thing-*.a.npy"))
    cf._verified.cache_clear()
    path.write_bytes(path.read_bytes()[:-8])                  # truncated: rebuilt, not read
    again = cf.memoised("thing", ("key", 0.1), build)
    assert len(calls) == 9 and np.array_equal(again[0]["a"], first[0]["a"])


def test_a_kept_descent_dem_grid_is_the_resampled_one(tmp_path, monkeypatch):
    from guanghan.environment.landing_terrain import DescentTerrain

    monkeypatch.setenv("GUANGHAN_CACHE_DIR", str(tmp_path))
    plain = DescentTerrain(43.06, -51.92, 20e3)
    for _ in range(2):                                      # resampled and kept, then loaded
        kept = DescentTerrain(43.06, -51.92, 20e3, keep=True)
        assert np.array_equal(kept.z, plain.z) and (kept.x0, kept.dx) == (plain.x0, plain.dx)
    assert len(list(tmp_path.glob("descent-dem-grid-*.json"))) == 1
