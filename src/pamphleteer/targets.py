"""What a kit is made of: targets (a layout at a size, finished as a variant) and the
plan that expands the names on a command line into them.

Its own module so that every stage (typesetting, cache keys, the build) can name a
target without importing the build itself.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from pamphleteer import riso
from pamphleteer.config import Project
from pamphleteer.errors import UsageError
from pamphleteer.layouts import (
    Imposition,
    LabelSheet,
    Layout,
    Size,
    Tiling,
    home_tiling,
    load_layouts,
)
from pamphleteer.outputs import IMAGE_FOLDER

DESK_MARGIN_MM = 5.0  # desk printers cannot print the outer ~5 mm of the sheet
LABEL_MARGIN_MM = 1.5  # a label's art stops this far in: sheets drift by a millimetre


@dataclass(frozen=True)
class Variant:
    """How a target is finished: for a press (bleed, marks), a desk printer (neither), a
    screen (neither, and tagged for readers that speak or reflow the text) or a copier
    (as the desk, in black ink only)."""

    name: str
    bleed: bool
    edge_mm: float  # where backgrounds stop, measured in from the page edge
    pdf_variant: str | None = None  # a WeasyPrint PDF variant, for the screen's tags
    image: bool = False  # each page becomes a PNG at the page's size in CSS px
    largest_mm: tuple[float, float] | None = None  # the largest paper it takes, any way round
    grey: bool = False  # every colour made DeviceGray after rendering (pdf/grey.py)

    def takes(self, size: Size) -> bool:
        """Whether a page of ``size`` fits the largest paper this variant's machine takes,
        either way round (a landscape A3 placard is an A3 sheet fed the other way)."""
        if self.largest_mm is None:
            return True
        short, long = sorted(self.largest_mm)
        return min(size.width_mm, size.height_mm) <= short and \
            max(size.width_mm, size.height_mm) <= long


VARIANTS = {
    "press": Variant("press", bleed=True, edge_mm=0.0),
    "desk": Variant("desk", bleed=False, edge_mm=DESK_MARGIN_MM),
    "screen": Variant("screen", bleed=False, edge_mm=0.0, pdf_variant="pdf/ua-1"),
    # Stickers on a desk printer: each label's art at the label's size, placed on a
    # sheet of labels (the layout's sheets.toml), with a white margin for the drift.
    "labels": Variant("labels", bleed=False, edge_mm=LABEL_MARGIN_MM),
    # Phones: each page (a card) a PNG, exactly as many pixels as the page has CSS px.
    "social": Variant("social", bleed=False, edge_mm=0.0, image=True),
    # A copier or laser printer, black ink only: the desk's page, designed light
    # (.variant-mono in the CSS) so large darks neither smear nor slow the machine.
    "mono": Variant("mono", bleed=False, edge_mm=DESK_MARGIN_MM, grey=True),
    # A risograph: the desk page, as one greyscale master per drum (see riso, separations).
    "riso": Variant("riso", bleed=False, edge_mm=riso.MARGIN_MM, largest_mm=riso.PAPER_MM),
}


@dataclass(frozen=True)
class Target:
    layout: Layout
    size: Size
    variant: Variant
    imposition: Imposition | None = None  # set: this output is the desk file imposed
    tiling: Tiling | None = None  # set: this output is the desk file tiled on home sheets
    sheet: LabelSheet | None = None  # set: the art at a label's size, on this sheet
    calibration: bool = False  # set: the sheet's label outlines alone, to test a printer

    @property
    def name(self) -> str:
        return f"{self.layout.name}-{self.size.name}"

    @property
    def file(self) -> str:
        if self.variant.image:  # the headline's card: the one every image output has
            return self.files(0)[0]
        if self.sheet is not None:
            suffix = "-calibration" if self.calibration else ""
            return f"{self.name}-{self.sheet.name}{suffix}.pdf"
        if self.tiling is not None:
            return f"{self.name}-tiled-{self.tiling.sheet}.pdf"
        imposition = self.imposition
        if imposition is None:
            return f"{self.name}-{self.variant.name}.pdf"
        if imposition.grid:
            return f"{self.name}-{imposition.grid[0] * imposition.grid[1]}up-{imposition.sheet}.pdf"
        return f"{self.name}-imposed-{imposition.sheet}.pdf"

    def files(self, slogans: int) -> list[str]:
        """Every file this output makes: one, or an image variant's card per page (the
        headline's, then each slogan's)."""
        if not self.variant.image:
            return [self.file]
        cards = ["headline", *(f"slogan-{i}" for i in range(1, slogans + 1))]
        return [f"{IMAGE_FOLDER}/{card}-{self.size.name}.png" for card in cards]

    def bleed_mm(self, project: Project) -> float:
        """The press bleed: the layout's own (a die-cut sticker needs less), else the
        project's."""
        own = self.layout.bleed_mm
        return project.bleed_mm if own is None else own

    @property
    def source(self) -> Target:
        """The desk file an imposed or tiled file is made from (itself for any other)."""
        return dataclasses.replace(self, imposition=None, tiling=None)

    def impositions(self) -> list[Target]:
        """The files made from this output: from desk pages, imposed where the layout asks
        for it, and tiled where the page is larger than a home printer's sheet (a poster,
        a placard); and a label sheet's calibration print."""
        if self.sheet is not None:
            return [] if self.calibration else [dataclasses.replace(self, calibration=True)]
        if self.variant.name != "desk" or self.imposition or self.tiling:
            return []
        made = []
        if imposition := self.layout.impose.get(self.size.name):
            made.append(dataclasses.replace(self, imposition=imposition))
        if tiling := home_tiling(self.size):
            made.append(dataclasses.replace(self, tiling=tiling))
        return made


def imposed(targets: list[Target]) -> list[Target]:
    """Every imposed or tiled file made from ``targets``."""
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
    return [t for lay, size in chosen.values() for v in variants
            if v in lay.variants and VARIANTS[v].takes(size)
            for t in _targets(lay, size, VARIANTS[v])]


def _targets(layout: Layout, size: Size, variant: Variant) -> list[Target]:
    """``layout`` at ``size`` in ``variant``: one file, or one per label sheet of its
    shape, each set at the sheet's label size."""
    if variant.name != "labels":
        return [Target(layout, size, variant)]
    return [Target(layout, Size(size.name, sheet.label_w_mm, sheet.label_h_mm,
                                sheet.corner_mm), variant, sheet=sheet)
            for sheet in layout.sheets.values() if sheet.shape == size.name]


def shard(targets: list[Target], index: int, count: int) -> list[Target]:
    """The ``index``-th (1-based) of ``count`` stable shares: the same on every machine."""
    ordered = sorted(targets, key=lambda t: t.file)
    return [t for i, t in enumerate(ordered) if i % count == index - 1]
