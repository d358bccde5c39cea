"""Set a text at the largest size that fits its box, on balanced lines.

Sizes come from measuring laid-out text, never from counting characters: every pass
lays out many candidates at once (one probe per candidate size or width, all in one
document), so a fit converges in three layout passes however many texts a page has:

1. coarse sizes from the minimum to the maximum, 15 % apart;
2. fine sizes, 1 % apart, between the largest coarse size that fits and the next;
3. at the chosen size, narrower widths: the narrowest that keeps the line count gives
   balanced lines (no lone word on the last line), like CSS ``text-wrap: balance``.

A text fits when its height is within the box and no line is wider than the box (a
long word that cannot break overflows sideways).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pamphleteer.errors import RenderError

PX_PER_PT = 96 / 72
COARSE_STEP = 1.15
FINE_STEP = 1.01
BALANCE_WIDTHS = tuple(1 - 0.04 * i for i in range(13))  # 100 % down to 52 %
EPSILON_PX = 0.5


@dataclass(frozen=True)
class FitSpec:
    """How one kind of text is fitted, from the layout's ``[fit.NAME]`` table."""

    name: str
    min_pt: float
    max_pt: float
    balance: bool = True


@dataclass(frozen=True)
class FitTarget:
    """One element to fit: its id, its HTML (to clone into probes), its box in px."""

    id: str
    html: str
    width: float
    height: float
    spec: FitSpec
    label: str


@dataclass(frozen=True)
class Probe:
    """One candidate: the target laid out at ``size_pt`` in a box ``width`` px wide."""

    id: str
    target: FitTarget
    size_pt: float
    width: float


@dataclass(frozen=True)
class Fitted:
    """The outcome for one target: the size to set and the width to set it in."""

    id: str
    size_pt: float
    width: float
    lines: int


#: Measures probes: returns, per probe id, (height px, line count, widest line px).
Measure = Callable[[list[Probe]], dict[str, tuple[float, int, float]]]


def _fits(probe: Probe, metrics: tuple[float, int, float]) -> bool:
    height, _, text_width = metrics
    return (height <= probe.target.height + EPSILON_PX
            and text_width <= probe.width + EPSILON_PX)


def _ladder(low: float, high: float, step: float) -> list[float]:
    count = max(1, math.ceil(math.log(high / low) / math.log(step)))
    return [low * step**i for i in range(count)] + [high]


def fit(targets: Iterable[FitTarget], measure: Measure, where: str) -> dict[str, Fitted]:
    """Fit every target; raise ``RenderError`` naming the first text that cannot fit."""
    targets = list(targets)
    if not targets:
        return {}

    def run(candidates: dict[str, list[tuple[float, float]]]):
        probes = [
            Probe(f"pf-{n}-{i}", t, size, width)
            for n, t in enumerate(targets)
            for i, (size, width) in enumerate(candidates[t.id])
        ]
        metrics = measure(probes)
        by_target: dict[str, list[tuple[Probe, tuple[float, int, float]]]] = {}
        for probe in probes:
            by_target.setdefault(probe.target.id, []).append((probe, metrics[probe.id]))
        return by_target

    def largest_fitting(results, target):
        fitting = [(p, m) for p, m in results[target.id] if _fits(p, m)]
        return max(fitting, key=lambda pm: pm[0].size_pt, default=None)

    high = {t.id: max(t.spec.min_pt, min(t.spec.max_pt, t.height / PX_PER_PT)) for t in targets}
    coarse = run({t.id: [(s, t.width) for s in _ladder(t.spec.min_pt, high[t.id], COARSE_STEP)]
                  for t in targets})
    floor = {}
    for t in targets:
        best = largest_fitting(coarse, t)
        if best is None:
            raise RenderError(
                f"{where}: {t.label!r} does not fit its box even at the minimum "
                f"{t.spec.min_pt:g} pt; shorten the text, or lower min_pt in the "
                f"layout's [fit.{t.spec.name}]"
            )
        floor[t.id] = best[0].size_pt
    fine = run({t.id: [(s, t.width) for s in
                       _ladder(floor[t.id], min(high[t.id], floor[t.id] * COARSE_STEP), FINE_STEP)]
                for t in targets})
    chosen = {t.id: largest_fitting(fine, t) for t in targets}
    balance = [t for t in targets if t.spec.balance and chosen[t.id][1][1] > 1]
    fitted = {t.id: Fitted(t.id, chosen[t.id][0].size_pt, t.width, chosen[t.id][1][1])
              for t in targets}
    if balance:
        narrow = run({t.id: [(chosen[t.id][0].size_pt, t.width * f) for f in BALANCE_WIDTHS]
                      for t in balance} | {t.id: [] for t in targets if t not in balance})
        for t in balance:
            lines = chosen[t.id][1][1]
            keep = [p for p, m in narrow[t.id] if _fits(p, m) and m[1] == lines]
            width = min((p.width for p in keep), default=t.width)
            fitted[t.id] = Fitted(t.id, chosen[t.id][0].size_pt, width, lines)
    return fitted


def css(fitted: dict[str, Fitted]) -> str:
    """CSS rules that apply the fitted sizes, appended after the layout's own CSS."""
    return "\n".join(
        f"#{f.id} {{ font-size: {f.size_pt:.2f}pt; max-width: {f.width:.1f}px; }}"
        for f in fitted.values()
    )
