"""User DEM loaders: PDS3 IMG+LBL (real LDEM_4 and synthetic files) and GeoTIFF (rasterio)."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest
from helpers import DATA

from guanghan.environment import lunar_dem, user_dem
from guanghan.environment.lunar_dem import TerrainError

LDEM_4_LBL = DATA / "LDEM_4.LBL"
R = 1737400.0


# --------------------------------------------------------------------------- real LOLA product


@pytest.mark.skipif(not LDEM_4_LBL.exists(), reason="LOLA LDEM_4 not in tests/data")
def test_ldem4_label_and_values():
    dem = user_dem.read_pds3(LDEM_4_LBL)
    assert dem.height_m.shape == (720, 1440)
    assert dem.resolution_m == pytest.approx(7580.84, abs=0.01)
    assert dem.projection == "SIMPLE CYLINDRICAL"
    lat, lon = dem.latlon_from_pixel(0, 0)
    assert (float(lat), float(lon)) == pytest.approx((89.875, 0.125))
    lat, lon = dem.latlon_from_pixel(719, 1439)
    assert (float(lat), float(lon)) == pytest.approx((-89.875, -0.125))
    raw = np.fromfile(LDEM_4_LBL.with_suffix(".IMG"), "<i2").reshape(720, 1440)
    np.testing.assert_array_equal(dem.height_m, raw * 0.5)      # HEIGHT = DN · 0.5 (OFFSET is a radius)
    # Reading through the .IMG finds its label; the grid wraps in longitude.
    again = user_dem.read_dem(LDEM_4_LBL.with_suffix(".IMG"))
    np.testing.assert_array_equal(again.height_m, dem.height_m)
    assert dem.is_global
    assert dem.height_at(10.0, 0.0) == pytest.approx(dem.height_at(10.0, 360.0))
    # Same Moon as the built-in DEM (different product, 4 vs 8 px/deg): within a few hundred m.
    for lat, lon in [(-43.3, -11.2), (41.0, -58.0), (-36.0, -151.0), (0.0, 0.0)]:
        assert dem.height_at(lat, lon) == pytest.approx(lunar_dem.height_m(lat, lon), abs=400.0)


# --------------------------------------------------------------------------- synthetic PDS3


def _write_pds(tmp_path, data, *, sample_type, extra_image="", projection=None, name="SYN"):
    lines, samples = data.shape
    proj = projection or """
 MAP_PROJECTION_TYPE = "EQUIRECTANGULAR"
 A_AXIS_RADIUS = 1737.4 <KM>
 CENTER_LATITUDE = 43.0 <DEG>
 CENTER_LONGITUDE = 308.0 <DEG>
 MAP_SCALE = 100.0 <METERS/PIXEL>
 LINE_PROJECTION_OFFSET = 52000.5 <PIXEL>
 SAMPLE_PROJECTION_OFFSET = -3.5 <PIXEL>
 POSITIVE_LONGITUDE_DIRECTION = "EAST"
"""
    label = f"""PDS_VERSION_ID = PDS3
/* synthetic test product */
RECORD_TYPE = FIXED_LENGTH
RECORD_BYTES = {samples * data.dtype.itemsize}
^IMAGE = "{name}.IMG"
OBJECT = IMAGE
  LINES = {lines}
  LINE_SAMPLES = {samples}
  SAMPLE_TYPE = {sample_type}
  SAMPLE_BITS = {data.dtype.itemsize * 8}
  UNIT = METER
{extra_image}
END_OBJECT = IMAGE
OBJECT = IMAGE_MAP_PROJECTION
{proj}
END_OBJECT = IMAGE_MAP_PROJECTION
END
"""
    (tmp_path / f"{name}.LBL").write_text(label)
    data.tofile(tmp_path / f"{name}.IMG")
    return tmp_path / f"{name}.LBL"


def test_synthetic_msb_integer_radius_offset(tmp_path):
    """MSB int16, SCALING 0.5, OFFSET = 1737400 m (radius), one missing value; known geometry."""
    rows, cols = np.mgrid[0:6, 0:8]
    dn = (2 * cols + 30 * rows - 40).astype(">i2")
    dn[2, 3] = -32768
    lbl = _write_pds(tmp_path, dn, sample_type="MSB_INTEGER",
                     extra_image="  SCALING_FACTOR = 0.5\n  OFFSET = 1737400.\n  MISSING_CONSTANT = -32768")
    dem = user_dem.read_pds3(lbl)
    expect = dn.astype(float) * 0.5
    expect[2, 3] = np.nan
    np.testing.assert_array_equal(dem.height_m, expect)
    assert dem.resolution_m == 100.0
    # Geometry: x = (col + 3.5)·100, y = (52000.5 − row)·100, lon = 308° + x/(R cos 43°), lat = y/R.
    lat, lon = dem.latlon_from_pixel(1.0, 4.0)
    assert float(lat) == pytest.approx(np.rad2deg(51999.5 * 100 / R))
    assert float(lon) == pytest.approx(-52.0 + np.rad2deg(750.0 / (R * np.cos(np.deg2rad(43.0)))))
    # Round trip and bilinear interpolation of a linear field are exact.
    r, c = dem.pixel_from_latlon(lat, lon)
    assert (float(r), float(c)) == pytest.approx((1.0, 4.0))
    la, lo = dem.latlon_from_pixel(4.25, 5.5)
    assert dem.height_at(la, lo) == pytest.approx(0.5 * (2 * 5.5 + 30 * 4.25 - 40))
    assert np.isnan(dem.height_at(*dem.latlon_from_pixel(2.0, 3.0)))   # next to the missing pixel
    assert np.isnan(dem.height_at(*dem.latlon_from_pixel(-3.0, 3.0)))  # off the grid


def test_synthetic_pc_real_isis_null_and_shifted_offsets(tmp_path):
    """PC_REAL with ISIS NULL (16#FF7FFFFB#) and an offset written half a pixel off its extent."""
    data = np.full((4, 5), 12.5, dtype="<f4")
    data[0, 0] = np.frombuffer(bytes.fromhex("FBFF7FFF"), "<f4")[0]      # ISIS NULL, LE bytes
    data[3, 4] = np.frombuffer(bytes.fromhex("FFFF7FFF"), "<f4")[0]      # ISIS HRS special pixel
    proj = """
 MAP_PROJECTION_TYPE = "SIMPLE CYLINDRICAL"
 CENTER_LATITUDE = 0.0
 CENTER_LONGITUDE = 0.0
 MAP_RESOLUTION = 4 <PIX/DEG>
 MAXIMUM_LATITUDE = 10.0 <DEG>
 WESTERNMOST_LONGITUDE = 20.0 <DEG>
 LINE_PROJECTION_OFFSET = 40.0
 SAMPLE_PROJECTION_OFFSET = -80.0
"""
    lbl = _write_pds(tmp_path, data, sample_type="PC_REAL", projection=proj,
                     extra_image="  MISSING_CONSTANT = 16#FF7FFFFB#")
    with pytest.warns(UserWarning, match="half/one-pixel"):
        dem = user_dem.read_pds3(lbl)
    assert np.isnan(dem.height_m[0, 0]) and np.isnan(dem.height_m[3, 4])
    assert np.nanmax(dem.height_m) == 12.5 and np.nanmin(dem.height_m) == 12.5
    lat, lon = dem.latlon_from_pixel(0, 0)
    assert (float(lat), float(lon)) == pytest.approx((10.0 - 0.125, 20.0 + 0.125))  # centre of pixel 0


def test_consistent_offsets_do_not_warn(tmp_path):
    data = np.zeros((4, 4), dtype="<i2")
    proj = """
 MAP_PROJECTION_TYPE = "SIMPLE CYLINDRICAL"
 CENTER_LATITUDE = 0.0
 CENTER_LONGITUDE = 180.0
 MAP_RESOLUTION = 4 <PIX/DEG>
 MAXIMUM_LATITUDE = 1.0
 WESTERNMOST_LONGITUDE = 179.0
 LINE_PROJECTION_OFFSET = 3.5
 SAMPLE_PROJECTION_OFFSET = 3.5
"""
    lbl = _write_pds(tmp_path, data, sample_type="LSB_INTEGER", projection=proj)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dem = user_dem.read_pds3(lbl)
    lat, lon = dem.latlon_from_pixel(0, 0)
    assert (float(lat), float(lon)) == pytest.approx((0.875, 179.125))


def test_pds_errors(tmp_path):
    data = np.zeros((3, 3), dtype="<i2")
    proj = ' MAP_PROJECTION_TYPE = "POLAR STEREOGRAPHIC"\n MAP_SCALE = 5 <M/PIX>\n'
    lbl = _write_pds(tmp_path, data, sample_type="LSB_INTEGER", projection=proj, name="POLAR")
    with pytest.raises(TerrainError) as err:
        user_dem.read_pds3(lbl)
    assert err.value.field == "MAP_PROJECTION_TYPE"
    lbl = _write_pds(tmp_path, data, sample_type="LSB_INTEGER", name="SHORT")
    (tmp_path / "SHORT.IMG").write_bytes(b"\0" * 10)
    with pytest.raises(TerrainError) as err:
        user_dem.read_pds3(lbl)
    assert err.value.field == "LINES"
    lbl = _write_pds(tmp_path, data, sample_type="VAX_REAL", name="VAX")
    with pytest.raises(TerrainError) as err:
        user_dem.read_pds3(lbl)
    assert err.value.field == "SAMPLE_TYPE"
    with pytest.raises(TerrainError):
        user_dem.read_pds3(tmp_path / "NOPE.LBL")


# --------------------------------------------------------------------------- GeoTIFF


def test_geotiff_eqc_and_geographic(tmp_path):
    rasterio = pytest.importorskip("rasterio")
    from affine import Affine

    def from_origin(west, north, xsize, ysize):
        return Affine(xsize, 0.0, west, 0.0, -ysize, north)

    data = (np.arange(20 * 30, dtype="f4").reshape(20, 30) - 100.0)
    data[5, 6] = -9999.0
    eqc = "+proj=eqc +lat_ts=30 +lon_0=10 +x_0=0 +y_0=0 +a=1737400 +b=1737400 +units=m +no_defs"
    x0, y0, px = 15000.0, 900000.0, 20.0
    path = tmp_path / "dtm_eqc.tif"
    with rasterio.open(path, "w", driver="GTiff", height=20, width=30, count=1, dtype="float32",
                       crs=rasterio.crs.CRS.from_proj4(eqc), transform=from_origin(x0, y0, px, px),
                       nodata=-9999.0) as ds:
        ds.write(data, 1)
    dem = user_dem.read_dem(path)
    assert dem.resolution_m == pytest.approx(px)
    assert np.isnan(dem.height_m[5, 6]) and dem.height_m[0, 0] == -100.0
    # Centre of pixel (row 2, col 3): x = x0 + 3.5 px, y = y0 − 2.5 px.
    lat, lon = dem.latlon_from_pixel(2, 3)
    assert float(lat) == pytest.approx(np.rad2deg((y0 - 2.5 * px) / R))
    assert float(lon) == pytest.approx(10.0 + np.rad2deg((x0 + 3.5 * px) / (R * np.cos(np.deg2rad(30)))))
    assert dem.height_at(lat, lon) == pytest.approx(data[2, 3])

    geo = tmp_path / "dtm_geo.tif"
    with rasterio.open(geo, "w", driver="GTiff", height=20, width=30, count=1, dtype="float32",
                       crs=rasterio.crs.CRS.from_proj4("+proj=longlat +a=1737400 +b=1737400 +no_defs"),
                       transform=from_origin(-52.5, 43.5, 0.01, 0.01)) as ds:
        ds.write(data + R, 1)                                   # radii: converted to heights
    dem = user_dem.read_geotiff(geo)
    lat, lon = dem.latlon_from_pixel(0, 0)
    assert (float(lat), float(lon)) == pytest.approx((43.495, -52.495))
    assert dem.height_m[0, 1] == pytest.approx(data[0, 1], abs=0.2)   # float32 radius precision


def test_geotiff_without_rasterio(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "rasterio", None)
    with pytest.raises(TerrainError, match="pip install rasterio"):
        user_dem.read_geotiff(tmp_path / "x.tif")
