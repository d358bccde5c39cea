"""Risograph inks and drums: which ink each design role is printed in.

A risograph prints one ink per drum, from one greyscale master each, where black means
full ink. The kit's design has two colour roles, the text (``--ink``) and the accent
(``--accent``, with ``--accent-ink`` for type reversed out of it); ``[riso] inks`` names
the drums in print order, and ``drums`` says which roles each drum carries and in what
tone (``separations`` paints each drum's master in them).

Black overprints the accent rather than knocking it out: the accent drum is inked under
black text too, so a drum that lands a fraction of a millimetre off leaves no white
gap. Type reversed out of the accent (paper-coloured text) does knock out, on the
accent drum, since paper is the absence of ink. Large flat areas of ink smear and jam
the drum past about 85 %, so the accent is laid at 85 %; text stays at 100 %, but for
type so large that its strokes are flat areas themselves (``--ink-solid``, which a
layout gives such type: the placard's slogan). A role a drum does not print is drawn
there at zero opacity, so it inks nothing and every drum's page keeps the text layer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Riso inks by the names shops use, with their display colours (sRGB) as published for
#: Riso's swatches (the table riso-colors.net and Stencil circulate): only for proofs,
#: since the separations themselves are greyscale and the shop loads the real ink.
INKS: dict[str, tuple[int, int, int]] = {
    "black": (0, 0, 0),
    "bright-red": (241, 80, 96),
    "red": (255, 102, 94),
    "fluorescent-red": (255, 76, 101),
    "crimson": (228, 93, 80),
    "burgundy": (145, 78, 114),
    "fluorescent-pink": (255, 72, 176),
    "orange": (255, 108, 47),
    "fluorescent-orange": (255, 116, 119),
    "sunflower": (255, 181, 17),
    "yellow": (255, 232, 0),
    "green": (0, 169, 92),
    "hunter-green": (64, 112, 96),
    "teal": (0, 131, 138),
    "aqua": (94, 200, 229),
    "blue": (0, 120, 191),
    "medium-blue": (50, 85, 164),
    "federal-blue": (61, 85, 136),
    "cornflower": (98, 168, 229),
    "purple": (118, 91, 167),
    "violet": (157, 122, 210),
    "brown": (146, 95, 82),
    "light-gray": (136, 137, 138),
}

DEFAULT_INKS = ("black", "bright-red")
KEY_INK = "black"  # the drum the text goes on, when it is one of the inks
MAX_TINT = 0.85  # the most ink a large flat area may lay on a drum
MARGIN_MM = 5.0  # the machine grips the paper there and cannot print it
PAPER_MM = (297.0, 431.8)  # its largest paper, A3 (297 × 420) and tabloid (11 × 17 in)
ONE_INK_ACCENT = 0.5  # one drum: the accent is this tint of it, under the 100 % text
PAPER_RGB = (255, 255, 255)


@dataclass(frozen=True)
class Drum:
    """One drum: its ink, and the tone each colour role takes on it: a grey level (255
    is paper), or None where the role prints nothing."""

    ink: str
    tones: dict[str, int | None]

    @property
    def css(self) -> str:
        """The rule that gives a rendering this drum's tones: after the layout's own
        stylesheets, on both <html> and <body> (which carry the variant class)."""
        values = "; ".join(
            f"--{name}: {'transparent' if level is None else f'rgb({level}, {level}, {level})'}"
            for name, level in self.tones.items())
        return f".variant-riso {{ {values}; }}"


def grey(tint: float) -> int:
    """``tint`` of full ink as a grey level, 255 being paper (black is full ink); the
    separation's colours are then made DeviceGray (``pdf.grey``)."""
    return math.ceil(255 * (1 - tint))  # never more ink than asked for


NONE = None  # this role paints nothing on this drum, and knocks nothing out
KNOCK_OUT = grey(0)  # paper: this role clears the drum's ink beneath it


def key_drum(inks: tuple[str, ...]) -> str:
    """The ink the text is printed in: black if it is loaded, else the first drum."""
    return KEY_INK if KEY_INK in inks else inks[0]


def drums(inks: tuple[str, ...]) -> list[Drum]:
    """Each drum in print order, with the tones the design's roles take on it.

    Two inks: the text on the key drum, the accent on the other. One ink: the text at
    full ink, the accent as a tint of the same ink, reversed type knocked out of it.
    (``config`` admits one or two inks: the design has two roles, and a third drum
    would print nothing.)
    """
    key = key_drum(inks)
    if len(inks) == 1:
        return [Drum(key, {"ink": grey(1), "ink-solid": grey(MAX_TINT),
                           "accent": grey(ONE_INK_ACCENT), "accent-ink": KNOCK_OUT,
                           "paper": KNOCK_OUT})]
    roles = {
        # the text; nothing for the accent, whose reversed type is the paper showing
        "key": {"ink": grey(1), "ink-solid": grey(MAX_TINT), "accent": NONE,
                "accent-ink": NONE, "paper": KNOCK_OUT},
        # the accent, inked on under the text (overprint), knocked out by reversed type
        "accent": {"ink": NONE, "ink-solid": NONE, "accent": grey(MAX_TINT),
                   "accent-ink": KNOCK_OUT, "paper": KNOCK_OUT},
    }
    return [Drum(ink, roles["key" if ink == key else "accent"]) for ink in inks]


def page_label(page: int, ink: str) -> str:
    """A separation page's label: its design page and its ink, e.g. ``1-bright-red``."""
    return f"{page}-{ink}"


def label_ink(label: str) -> tuple[int, str] | None:
    """The design page and ink a page label names (``page_label``), or None for a page
    that is no separation."""
    page, _, ink = label.partition("-")
    return (int(page), ink) if page.isdigit() and ink in INKS else None
