"""Set a text at the largest size that fits its box, on balanced lines.

Sizes come from measuring laid-out text, never from counting characters. Every pass
lays out the candidates of all texts at once (one probe per candidate, all in one
document). A pass costs about as much per probe as a whole layout costs per text, so
what counts is how few candidates are laid out, not how few passes:

1. the sizes tried are the rungs of a ladder 1 % apart, from the minimum up to the
   maximum. The answer is the highest rung that fits, with the rung above seen not to:
   the same whichever sizes were tried on the way, so a fit is the same measured from
   scratch, guessed well or badly, or taken from the cache;
2. the first guess comes from the page's own first layout of the text (a *seed*): with
   the same line breaks, height and line length grow in proportion to the size, so a
   text that fits tells at what size its breaks stop fitting (for the one-line texts
   of placards and headlines, that is the answer). A text with no seed (new words in a
   box known from before) starts from the size that box's last text was fitted at (an
   edited slogan is much like the one before, an edition's town like the last one's),
   or, in a box never fitted, from a layout at the minimum. The guess and the rung
   above it are laid out; a guess that was wrong still tells where to look next, and
   once two guesses have not settled it, the range left, where wide, is also split in
   quarters, so it narrows however bad a guess;
3. at the chosen size, the same ladder search over narrower widths: the narrowest that
   keeps the line count gives balanced lines (no lone word on the last line), like CSS
   ``text-wrap: balance``. Widths down to the widest line keep the breaks, so the
   search starts there, or at the width the box's last text took, when narrower.

A text fits when its height is within the box and no line reaches past the box's
width (a long word that cannot break overflows sideways). The size chosen is always
one that was laid out and seen to fit.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

from pamphleteer.errors import RenderError
from pamphleteer.units import PX_PER_PT

STEP = 1.01  # the ladder of sizes: 1 % apart
BALANCE_WIDTHS = tuple(1 - 0.07 * i for i in range(1, 7))  # 93 % down to 58 %
EPSILON_PX = 0.5
GUESSES_ALONE = 2  # guesses laid out alone before the range left is also split
RAGGED = 1.15  # a text broken into lines: its widest line over their average, about
MAX_LINES = 40
#: Names the way a result is found, for the fit cache: another method, other results.
METHOD = f"ladder {STEP} balance {len(BALANCE_WIDTHS)}"


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
    #: (size in pt, its metrics). A free first measurement to guess from.
    seed: tuple[float, Metrics] | None = None
    #: Without a seed: the size and width the last text fitted in this box was set at,
    #: to try first.
    last: tuple[float, float] | None = None


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


class Metrics(NamedTuple):
    """A text as laid out: its height, line count and reach (``render.Box.text_width``),
    which say whether it fits; and, to guess from, its widest line's width and its
    lines' widths and heights added up."""

    height: float
    lines: int
    reach: float
    widest: float = 0.0
    length: float = 0.0
    leading: float = 0.0


#: Measures probes: returns each probe's ``Metrics``, by probe id.
Measure = Callable[[list[Probe]], dict[str, Metrics]]


def _fits(probe: Probe, metrics: Metrics) -> bool:
    return (metrics.height <= probe.target.height + EPSILON_PX
            and metrics.reach <= probe.width + EPSILON_PX)


def _same_breaks(size: float, m: Metrics, t: FitTarget) -> float:
    """The size at which the text, broken as it is at ``size``, fills its box (to what
    ``_fits`` allows): height and line length grow in proportion to the size while the
    breaks stay."""
    return size * min((t.height + EPSILON_PX) / max(m.height, 1e-6),
                      (t.width + EPSILON_PX) / max(m.widest or m.reach, 1e-6))


def _estimate(size: float, m: Metrics, t: FitTarget) -> float:
    """The size a layout of the text at ``size`` points to: the largest of, for each
    line count k, the size at which k lines fill the box's height or, the text's length
    broken into k lines, its width. Lines and the space around them grow with the size;
    at the line count laid out, the widest line is known, else about ``RAGGED`` times
    the average."""
    if m.lines < 1 or m.leading <= 0 or m.length <= 0:
        return _same_breaks(size, m, t)
    fixed, line = max(0.0, m.height - m.leading), m.leading / m.lines
    best = 0.0
    for k in range(1, MAX_LINES + 1):
        tall = (t.height + EPSILON_PX) / (fixed + line * k)
        if tall <= best:
            break  # more lines only lower it further
        widest = m.widest if k == m.lines else m.length / k * (RAGGED if k > 1 else 1)
        best = max(best, min(tall, (t.width + EPSILON_PX) / widest))
    return size * best


def _rungs(low: float, high: float) -> list[float]:
    """The sizes a text may be set at: ``low`` and every 1 % above it, up to ``high``."""
    count = max(0, math.ceil(math.log(high / low) / math.log(STEP)))
    return [low * STEP**i for i in range(count)] + [high]


class _Bracket:
    """One search up a ladder of rungs (sizes, or widths from the widest down), where
    every rung below one that passes passes too: the highest rung seen to pass and the
    lowest seen to fail. Done when they are neighbours, or the top rung passes."""

    def __init__(self, top: int, passing: int = -1):
        self.top = top
        self.passing, self.failing = passing, top + 1
        self.guesses = 0

    def record(self, rung: int, ok: bool) -> None:
        if ok:
            self.passing = max(self.passing, rung)
        else:
            self.failing = min(self.failing, rung)

    def picks(self, guess: int) -> set[int]:
        """The rungs to try next: the guess and the rung above it, which settle the
        search when the guess is right; after ``GUESSES_ALONE`` guesses, also the middle
        of the range left (its quarters, when it is wide), so that it narrows anyway.
        (The second guess is made from a layout near the answer, and is seldom wrong.)"""
        low, high = self.passing, self.failing
        guess = min(max(guess, low), high - 1)  # the answer is in there, whatever the guess
        picks = {guess, guess + 1}
        if self.guesses >= GUESSES_ALONE and high - low > 3:
            parts = 4 if high - low > 12 else 2
            picks |= {low + round((high - low) * i / parts) for i in range(1, parts)}
        self.guesses += 1
        picks = {i for i in picks if low < i < high}
        return picks if picks or high - low <= 1 else {(low + high) // 2}


def _rung(rungs: list[float], size: float) -> int:
    """The highest rung at or below ``size`` (the lowest, below them all)."""
    return max(0, bisect.bisect_right(rungs, size) - 1)


def _guess(t: FitTarget, rungs: list[float], seen: dict, bracket: _Bracket) -> int | None:
    """The rung to try next, estimated from the layout of the text nearest the answer:
    the highest that fitted, unless a rung seen not to fit already proves it too high;
    else the lowest that did not, where its own line breaks would fit (smaller, a text
    breaks into as many lines or fewer); else the seed, or the box's last size."""
    if (t.id, bracket.passing) in seen:
        probe, metrics = seen[t.id, bracket.passing]
        guess = _rung(rungs, _estimate(probe.size_pt, metrics, t))
        if guess < bracket.failing:
            return guess
    if (t.id, bracket.failing) in seen:
        probe, metrics = seen[t.id, bracket.failing]
        return _rung(rungs, _same_breaks(probe.size_pt, metrics, t))
    if t.seed is not None:
        return _rung(rungs, _estimate(*t.seed, t))
    return None if t.last is None else _rung(rungs, t.last[0])


def _lay_out(targets: list[FitTarget], pending: dict[str, set[int]],
             probe: Callable[[int, FitTarget, int], Probe], measure: Measure):
    """One pass: the pending rungs of every target laid out together, in one document,
    as (target, rung, its probe, its metrics)."""
    batch = [(t, rung, probe(n, t, rung)) for n, t in enumerate(targets)
             for rung in sorted(pending.get(t.id, ()))]
    metrics = measure([p for _, _, p in batch])
    return [(t, rung, p, metrics[p.id]) for t, rung, p in batch]


def fit(targets: Iterable[FitTarget], measure: Measure, where: str) -> dict[str, Fitted]:
    """Fit every target; raise ``RenderError`` naming the first text that cannot fit.

    Each text's search for its width (balance) follows its search for its size at once,
    in the passes that go on with the other texts' searches: texts fitted together take
    as many passes as the slowest of them alone.
    """
    targets = list(targets)
    # No text is taller than its box at a size of twice the box's height: a cap that
    # keeps the ladder short without assuming anything of the line height.
    ladders = {t.id: _rungs(t.spec.min_pt,
                            max(t.spec.min_pt, min(t.spec.max_pt, 2 * t.height / PX_PER_PT)))
               for t in targets}
    sizes = {t.id: _Bracket(len(ladders[t.id]) - 1) for t in targets}
    widths = {t.id: [t.width] + [t.width * f for f in BALANCE_WIDTHS] for t in targets}
    balances: dict[str, _Bracket] = {}  # the widths' searches, by target
    seen: dict[tuple[str, int], tuple[Probe, Metrics]] = {}  # sizes laid out, by (target, rung)
    fitted: dict[str, Fitted] = {}  # the texts whose size is found

    def picks(t: FitTarget) -> set[int]:
        """The rungs to lay out next: sizes until the size is found, then widths."""
        if t.id in balances:
            return balances[t.id].picks(balances[t.id].passing)
        if t.id in fitted:
            return set()
        bracket = sizes[t.id]
        if (guess := _guess(t, ladders[t.id], seen, bracket)) is None:
            return {0}  # no layout to guess from: the smallest size, to guess from
        if found := bracket.picks(guess):
            return found
        probe, metrics = seen[t.id, bracket.passing]
        fitted[t.id] = Fitted(t.id, probe.size_pt, t.width, metrics.lines)
        if not (t.spec.balance and metrics.lines > 1):
            return set()
        balances[t.id] = _Bracket(len(BALANCE_WIDTHS), passing=0)
        # Every width down to the widest line keeps the breaks: start from there, or from
        # the narrower width the box's last text took.
        widest = metrics.widest or metrics.reach
        start = sum(1 for w in widths[t.id] if w >= widest) - 1
        last = [i for i, w in enumerate(widths[t.id]) if t.last and abs(w - t.last[1]) < 0.01]
        return balances[t.id].picks(max([start, *last]))

    def probe(n: int, t: FitTarget, rung: int) -> Probe:
        if t.id in fitted:
            return Probe(f"pb-{n}-{rung}", t, fitted[t.id].size_pt, widths[t.id][rung])
        return Probe(f"pf-{n}-{rung}", t, ladders[t.id][rung], t.width)

    pending = {t.id: picks(t) for t in targets}
    while pending := {i: p for i, p in pending.items() if p}:
        for t, rung, laid, metrics in _lay_out(targets, pending, probe, measure):
            if t.id in fitted:
                balances[t.id].record(rung, _fits(laid, metrics)
                                      and metrics.lines == fitted[t.id].lines)
            else:
                seen[t.id, rung] = laid, metrics
                sizes[t.id].record(rung, _fits(laid, metrics))
        for t in targets:
            if sizes[t.id].failing == 0:
                raise RenderError(
                    f"{where}: overflow: {t.label!r} does not fit its box even at the minimum "
                    f"{t.spec.min_pt:g} pt; shorten the text, or lower min_pt in the "
                    f"layout's [fit.{t.spec.name}]"
                )
        pending = {t.id: picks(t) for t in targets if t.id in pending}
    for ident, bracket in balances.items():
        fitted[ident] = dataclasses.replace(fitted[ident], width=widths[ident][bracket.passing])
    return fitted


def css(fitted: dict[str, Fitted]) -> str:
    """CSS rules that apply the fitted sizes, appended after the layout's own CSS."""
    return "\n".join(
        f"#{f.id} {{ font-size: {math.floor(f.size_pt * 100) / 100:.2f}pt; "
        f"max-width: {math.ceil(f.width * 10) / 10:.1f}px; }}"
        for f in fitted.values()
    )
