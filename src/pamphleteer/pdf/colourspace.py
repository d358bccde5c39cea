"""Colour spaces as a printer sees them: by family and number of inks."""

from __future__ import annotations

import pikepdf

_COMPONENTS = {1: "DeviceGray", 3: "DeviceRGB", 4: "DeviceCMYK"}


def family(space, resources) -> tuple[str, int]:
    """A colour space's family (``DeviceRGB``, ``ICCBased``…) and component count."""
    if isinstance(space, pikepdf.Name):
        name = str(space)[1:]
        if name in ("DeviceGray", "DeviceRGB", "DeviceCMYK", "Pattern"):
            return name, {"DeviceGray": 1, "DeviceRGB": 3, "DeviceCMYK": 4}.get(name, 0)
        named = resources.get("/ColorSpace", {}).get(str(space))
        return family(named, resources) if named is not None else (name, 0)
    if isinstance(space, pikepdf.Array) and len(space):
        kind = str(space[0])[1:]
        if kind == "ICCBased":
            n = int(space[1].get("/N", 0))
            return _COMPONENTS.get(n, "ICCBased"), n  # judged by what the profile holds
        if kind in ("Separation", "DeviceN"):
            return kind, 1 if kind == "Separation" else len(space[1])
        if kind in ("Indexed", "I"):
            return family(space[1], resources)
        return kind, 0
    return "unknown", 0


def ink_total(values) -> float:
    """Total ink of a CMYK colour (components 0-1), in percent: what the limit bounds."""
    return round(sum(float(v) for v in values) * 100, 3)
