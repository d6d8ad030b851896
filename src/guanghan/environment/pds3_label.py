"""PDS3 labels: the ``KEY = VALUE`` / ``OBJECT`` syntax of a detached (``.LBL``) or attached label,
the numbers with units in it, the sample types, and the data-file pointer.

References
    NASA Planetary Data System, *Planetary Data System Standards Reference*, version 3.8 (2009),
    ch. 12 (ODL), appendix A (IMAGE object keywords).
"""

from __future__ import annotations

import re
import struct
from pathlib import Path


from guanghan.environment.lunar_dem import TerrainError


def parse_label(text: str) -> dict:
    """Parse a PDS3 label into a dict of ``{"OBJECT path": {KEY: raw value string}}``.

    Keys at top level go under ``""``; keys inside ``OBJECT = IMAGE`` under ``"IMAGE"``, nested
    objects under ``"OUTER/INNER"``. Values keep their quotes and units (see :func:`_number`).
    Comments (``/* … */``) are removed; quoted values may span lines.
    """
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)
    out: dict[str, dict[str, str]] = {"": {}}
    stack: list[str] = []
    pattern = re.compile(r'\s*([\^A-Za-z][\w:^]*)\s*=\s*("[^"]*"|\([^)]*\)|\{[^}]*\}|[^\n]*)', re.DOTALL)
    pos = 0
    while pos < len(text):
        m = pattern.match(text, pos)
        if not m:
            nl = text.find("\n", pos)
            line = text[pos:nl if nl >= 0 else len(text)].strip()
            if line == "END":
                break
            pos = len(text) if nl < 0 else nl + 1
            continue
        key, value = m.group(1).upper(), m.group(2).strip()
        pos = m.end()
        if key == "OBJECT" or key == "GROUP":
            stack.append(value.strip('"').upper())
            out.setdefault("/".join(stack), {})
        elif key in ("END_OBJECT", "END_GROUP"):
            if stack:
                stack.pop()
        else:
            out.setdefault("/".join(stack), {})[key] = value
    return out

def number(raw: str | None):
    """Float value of a PDS3 value string: strips units ``<…>`` and quotes; None if absent/N/A."""
    if raw is None:
        return None
    s = re.sub(r"<[^>]*>", "", raw).strip().strip("'\"").strip()
    if s.upper() in ("N/A", "UNK", "NULL", ""):
        return None
    return float(s)

def unit(raw: str | None) -> str:
    m = re.search(r"<([^>]*)>", raw or "")
    return m.group(1).strip().upper() if m else ""

def bits_constant(raw: str, sample_type: str, sample_bits: int) -> float:
    """A PDS ``16#XXXXXXXX#`` constant: an integer, or for real samples the bit pattern's float."""
    m = re.fullmatch(r"\s*16#([0-9A-Fa-f]+)#\s*", raw)
    if not m:
        return float(number(raw))
    bits = int(m.group(1), 16)
    if "REAL" in sample_type:
        return struct.unpack(">f" if sample_bits == 32 else ">d",
                             bits.to_bytes(sample_bits // 8, "big"))[0]
    return float(bits)

SAMPLE_TYPES = {
    ("LSB_INTEGER", 8): "i1", ("MSB_INTEGER", 8): "i1", ("UNSIGNED_INTEGER", 8): "u1",
    ("LSB_UNSIGNED_INTEGER", 8): "u1", ("MSB_UNSIGNED_INTEGER", 8): "u1",
    ("LSB_INTEGER", 16): "<i2", ("MSB_INTEGER", 16): ">i2", ("INTEGER", 16): ">i2",
    ("LSB_UNSIGNED_INTEGER", 16): "<u2", ("MSB_UNSIGNED_INTEGER", 16): ">u2",
    ("UNSIGNED_INTEGER", 16): ">u2", ("PC_UNSIGNED_INTEGER", 16): "<u2",
    ("LSB_INTEGER", 32): "<i4", ("MSB_INTEGER", 32): ">i4", ("INTEGER", 32): ">i4",
    ("PC_REAL", 32): "<f4", ("IEEE_REAL", 32): ">f4", ("REAL", 32): ">f4",
    ("PC_REAL", 64): "<f8", ("IEEE_REAL", 64): ">f8", ("REAL", 64): ">f8",
}

def pointer(raw: str, record_bytes: int, label_path: Path) -> tuple[Path, int]:
    """Image file and byte offset from ``^IMAGE`` (file name, (file, record), or record)."""
    s = raw.strip()
    m = re.fullmatch(r'\(\s*"?([^",]+)"?\s*,\s*(\d+)\s*(<BYTES>)?\s*\)', s, flags=re.IGNORECASE)
    if m:
        start = int(m.group(2))
        return label_path.with_name(m.group(1)), (start - 1) * (1 if m.group(3) else record_bytes)
    m = re.fullmatch(r"(\d+)\s*(<BYTES>)?", s, flags=re.IGNORECASE)
    if m:
        start = int(m.group(1))
        return label_path, (start - 1) * (1 if m.group(2) else record_bytes)
    return label_path.with_name(s.strip('"')), 0

def resolve_case(path: Path) -> Path:
    if path.exists():
        return path
    for cand in path.parent.glob("*"):
        if cand.name.lower() == path.name.lower():
            return cand
    raise TerrainError("the file named by the label does not exist", field="^IMAGE", value=str(path))
