"""Set a text at the largest size that fits its box, on balanced lines.

Sizes come from measuring laid-out text, never from counting characters. Every pass
lays out many candidates at once (one probe per candidate, all in one document), so
the number of layout passes stays small however many texts a page has:

1. sizes around an estimate from the page's own first layout of the text (or, with
   none, a coarse ladder from the minimum to the maximum) bracket the answer between
   the largest size that fits and the smallest that does not;
2. the bracket narrows to 1.5 % in a pass or two. Each pass probes three sizes that
   split the bracket into quarters, and a guess. The guess comes from a fact of
   single-column text: with the same line breaks, height and line length grow in
   proportion to the size, so a probe that fits tells where its breaks stop fitting.
   Where that does not hold (many lines, fixed gaps), the quarters still narrow it;
3. at the chosen size, narrower widths: the narrowest that keeps the line count gives
   balanced lines (no lone word on the last line), like CSS ``text-wrap: balance``.

A text fits when its height is within the box and no line reaches past the box's
width (a long word that cannot break overflows sideways). The size chosen is always
one that was laid out and seen to fit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pamphleteer.errors import RenderError
from pamphleteer.units import PX_PER_PT

COARSE_STEP = 1.4
PRECISION = 1.015  # stop when the largest fitting size is within 1.5 % of one that does not
SPLITS = 3  # sizes tried inside the bracket per pass: it narrows to a quarter each time
REFINE_PASSES = 6
SEED_SPREAD = (0.82, 0.91, 1.0, 1.1, 1.22)
BALANCE_WIDTHS = tuple(1 - 0.07 * i for i in range(1, 7))  # 93 % down to 58 %
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
    #: The text as the page's first layout set it, at its CSS size and the box's width:
    #: (size in pt, (height, lines, reach)). A free first measurement to start from.
    seed: tuple[float, tuple[float, int, float]] | None = None


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


def _limit(probe: Probe, metrics: tuple[float, int, float], ceiling: float) -> float:
    """The largest size at which this probe's line breaks still fit its box."""
    height, _, text_width = metrics
    scale = min(probe.target.height / max(height, 1e-6), probe.width / max(text_width, 1e-6))
    return min(ceiling, probe.size_pt * scale)


def _ladder(low: float, high: float, step: float) -> list[float]:
    count = max(1, math.ceil(math.log(high / low) / math.log(step)))
    return [low * step**i for i in range(count)] + [high]


def _first_sizes(t: FitTarget, high: float) -> list[float]:
    """Sizes to try first: around the estimate the seed gives, or a coarse ladder.

    Text area grows with the square of its size, so a seed of height h at size s says
    the box of height H holds about s·√(H/h); where breaks stay the same, the seed's
    limit says it exactly. The minimum is always tried, to fail early and clearly.
    """
    if t.seed is None or t.seed[1][0] <= 0:
        return _ladder(t.spec.min_pt, high, COARSE_STEP)
    size, metrics = t.seed
    estimate = size * math.sqrt(t.height / metrics[0])
    seed = Probe("seed", t, size, t.width)
    sizes = {estimate * f for f in SEED_SPREAD} | {t.spec.min_pt}
    if _fits(seed, metrics):
        limit = _limit(seed, metrics, high)
        sizes |= {limit, limit * 1.003}
    return sorted({min(high, max(t.spec.min_pt, s)) for s in sizes})


def fit(targets: Iterable[FitTarget], measure: Measure, where: str) -> dict[str, Fitted]:
    """Fit every target; raise ``RenderError`` naming the first text that cannot fit."""
    targets = list(targets)
    if not targets:
        return {}
    by_id = {t.id: t for t in targets}

    def run(candidates: dict[str, list[tuple[float, float]]]):
        probes = [
            Probe(f"pf-{n}-{i}", t, size, width)
            for n, t in enumerate(targets)
            for i, (size, width) in enumerate(candidates.get(t.id, ()))
        ]
        metrics = measure(probes)
        by_target: dict[str, list[tuple[Probe, tuple[float, int, float]]]] = {}
        for probe in probes:
            by_target.setdefault(probe.target.id, []).append((probe, metrics[probe.id]))
        return by_target

    # No text is taller than its box at a size of twice the box's height: a cap that
    # keeps the coarse ladder short without assuming anything of the line height.
    high = {t.id: max(t.spec.min_pt, min(t.spec.max_pt, 2 * t.height / PX_PER_PT))
            for t in targets}
    lo: dict[str, tuple[Probe, tuple[float, int, float]]] = {}  # largest size seen to fit
    hi: dict[str, float] = {}  # smallest size seen not to fit
    results = run({t.id: [(s, t.width) for s in _first_sizes(t, high[t.id])] for t in targets})
    for _ in range(REFINE_PASSES + 1):
        for ident, probed in results.items():
            for probe, metrics in probed:
                if _fits(probe, metrics):
                    if ident not in lo or probe.size_pt > lo[ident][0].size_pt:
                        lo[ident] = (probe, metrics)
                else:
                    hi[ident] = min(hi.get(ident, math.inf), probe.size_pt)
        for t in targets:
            if t.id not in lo:
                raise RenderError(
                    f"{where}: overflow: {t.label!r} does not fit its box even at the minimum "
                    f"{t.spec.min_pt:g} pt; shorten the text, or lower min_pt in the "
                    f"layout's [fit.{t.spec.name}]"
                )
        candidates = {}
        for ident, (probe, metrics) in lo.items():
            low, top = probe.size_pt, hi.get(ident, math.inf)
            if top == math.inf and low >= high[ident] or top / low <= PRECISION:
                continue
            top = min(top, high[ident] * 1.0001)
            guess = _limit(probe, metrics, high[ident])
            step = (top / low) ** (1 / (SPLITS + 1))
            sizes = {low * step**i for i in range(1, SPLITS + 1)}
            sizes |= {s for s in (guess, guess * 1.003) if low < s < top}
            candidates[ident] = [(min(s, high[ident]), by_id[ident].width) for s in sorted(sizes)]
        if not candidates:
            break
        results = run(candidates)

    best = {ident: (probe.size_pt, metrics[1]) for ident, (probe, metrics) in lo.items()}
    fitted = {t.id: Fitted(t.id, best[t.id][0], t.width, best[t.id][1]) for t in targets}
    balance = [t for t in targets if t.spec.balance and best[t.id][1] > 1]
    if balance:
        narrow = run({t.id: [(best[t.id][0], t.width * f) for f in BALANCE_WIDTHS]
                      for t in balance})
        for t in balance:
            keep = [p for p, m in narrow[t.id] if _fits(p, m) and m[1] == best[t.id][1]]
            width = min((p.width for p in keep), default=t.width)
            fitted[t.id] = Fitted(t.id, best[t.id][0], width, best[t.id][1])
    return fitted


def css(fitted: dict[str, Fitted]) -> str:
    """CSS rules that apply the fitted sizes, appended after the layout's own CSS."""
    return "\n".join(
        f"#{f.id} {{ font-size: {math.floor(f.size_pt * 100) / 100:.2f}pt; "
        f"max-width: {math.ceil(f.width * 10) / 10:.1f}px; }}"
        for f in fitted.values()
    )
