"""What a kit is made of: targets (a layout at a size, finished as a variant) and the
plan that expands the names on a command line into them.

Its own module so that every stage (typesetting, cache keys, the build) can name a
target without importing the build itself.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from pamphleteer.config import Project
from pamphleteer.errors import UsageError
from pamphleteer.layouts import Imposition, Layout, Size, load_layouts

DESK_MARGIN_MM = 5.0  # desk printers cannot print the outer ~5 mm of the sheet


@dataclass(frozen=True)
class Variant:
    """How a target is finished: for a press (bleed, marks), a desk printer (neither) or
    a screen (neither, and tagged for readers that speak or reflow the text)."""

    name: str
    bleed: bool
    edge_mm: float  # where backgrounds stop, measured in from the page edge
    pdf_variant: str | None = None  # a WeasyPrint PDF variant, for the screen's tags


VARIANTS = {
    "press": Variant("press", bleed=True, edge_mm=0.0),
    "desk": Variant("desk", bleed=False, edge_mm=DESK_MARGIN_MM),
    "screen": Variant("screen", bleed=False, edge_mm=0.0, pdf_variant="pdf/ua-1"),
}


@dataclass(frozen=True)
class Target:
    layout: Layout
    size: Size
    variant: Variant
    imposition: Imposition | None = None  # set: this output is the desk file imposed

    @property
    def name(self) -> str:
        return f"{self.layout.name}-{self.size.name}"

    @property
    def file(self) -> str:
        imposition = self.imposition
        if imposition is None:
            return f"{self.name}-{self.variant.name}.pdf"
        if imposition.grid:
            return f"{self.name}-{imposition.grid[0] * imposition.grid[1]}up-{imposition.sheet}.pdf"
        return f"{self.name}-imposed-{imposition.sheet}.pdf"

    def bleed_mm(self, project: Project) -> float:
        """The press bleed: the layout's own (a die-cut sticker needs less), else the
        project's."""
        own = self.layout.bleed_mm
        return project.bleed_mm if own is None else own

    def impositions(self) -> list[Target]:
        """The imposed files made from this output: desk pages only, where the layout
        asks for them."""
        imposition = self.layout.impose.get(self.size.name)
        if self.variant.name != "desk" or imposition is None or self.imposition is not None:
            return []
        return [dataclasses.replace(self, imposition=imposition)]


def imposed(targets: list[Target]) -> list[Target]:
    """Every imposed file made from ``targets``."""
    return [i for t in targets for i in t.impositions()]


def plan(project: Project, names: tuple[str, ...], variants: tuple[str, ...]) -> list[Target]:
    """Expand target names (``poster``, ``leaflet-a4``; none = the kit) into outputs."""
    layouts = load_layouts(*project.layout_roots())
    for v in variants:
        if v not in VARIANTS:
            raise UsageError(f"unknown variant {v!r}; use one of {', '.join(VARIANTS)}")
    every = {f"{lay.name}-{size.name}": (lay, size)
             for lay in layouts.values() for size in lay.sizes.values()}
    chosen: dict[str, tuple[Layout, Size]] = {}
    for name in names or project.targets or tuple(every):
        if name in layouts:
            chosen.update({k: v for k, v in every.items() if v[0].name == name})
        elif name in every:
            chosen[name] = every[name]
        else:
            raise UsageError(
                f"unknown target {name!r}; a target is a layout ({', '.join(layouts)}) "
                "or a layout-size (see 'pamphleteer list')"
            )
    return [Target(lay, size, VARIANTS[v]) for lay, size in chosen.values() for v in variants
            if v in lay.variants]


def shard(targets: list[Target], index: int, count: int) -> list[Target]:
    """The ``index``-th (1-based) of ``count`` stable shares: the same on every machine."""
    ordered = sorted(targets, key=lambda t: t.file)
    return [t for i, t in enumerate(ordered) if i % count == index - 1]
