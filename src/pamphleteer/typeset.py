"""Content -> HTML -> laid-out pages, for one target: templates, stylesheets and fits.

``Typesetter.typeset()`` renders the layout's template, fits every ``data-fit`` text
(see ``copyfit``), sizes the body text where the layout asks for it, and drops the
booklet's spare pages it does not need. WeasyPrint is reached only through ``render``.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from markupsafe import Markup

from pamphleteer.content import Content, blocks, plain
from pamphleteer.editions import direction, panel
from pamphleteer.errors import RenderError
from pamphleteer.layouts import css_properties, render_template, strings
from pamphleteer.targets import DESK_MARGIN_MM
from pamphleteer.units import PX_PER_MM

if TYPE_CHECKING:
    from pamphleteer.config import Project
    from pamphleteer.targets import Target

PAD_PAGES = 3  # spare pages a booklet template offers, to reach a multiple of 4


def offered_pads(layout, pads: int | None = None) -> int:
    """Spare pages the template offers: ``pads`` (the ones kept after layout), or by
    default enough to reach a booklet's multiple of 4 or a fixed layout's page count
    (the zine: a short article leaves pages to fill)."""
    if layout.page_rule == "per-slogan":
        return 0
    if pads is not None:
        return pads
    return PAD_PAGES if layout.page_rule == "multiple-of-4" else layout.pages


def geometry(target: Target, project: Project) -> dict[str, float]:
    """Page geometry in mm: the page is the trim plus bleed on every side."""
    bleed = target.bleed_mm(project) if target.variant.bleed else 0.0
    safe = target.layout.safe_mm if target.layout.safe_mm is not None else project.safe_mm
    return {
        "trim_w": target.size.width_mm,
        "trim_h": target.size.height_mm,
        "bleed": bleed,
        "page_w": target.size.width_mm + 2 * bleed,
        "page_h": target.size.height_mm + 2 * bleed,
        "edge": target.variant.edge_mm,
        "desk_edge": DESK_MARGIN_MM,
        "safe": max(safe, target.variant.edge_mm),
    }


def stylesheets(target: Target, page: dict[str, float], extra: str = "") -> tuple[str, ...]:
    """The document's CSS, in cascade order: settings as custom properties, the base and
    layout CSS (the same for every document of the layout, so parsed once), and
    ``extra`` (the fits)."""
    properties = {k.replace("_", "-"): f"{v:.3f}mm" for k, v in page.items()}
    properties |= target.layout.style
    return css_properties(properties), target.layout.css(), extra


def body_class(target: Target) -> str:
    return f"layout-{target.layout.name} size-{target.size.name} variant-{target.variant.name}"


class TemplateFields(Mapping):
    """Named fields (the article's, an edition's) as a template sees them. With
    ``read``, every field handed out is noted there as ``<what>.<name>``, however the
    template asks: an attribute, an item, ``.get``, a loop over ``items()``, a filter
    such as ``dictsort``, or the whole as a string."""

    def __init__(self, what: str, fields: dict, read: dict[str, object] | None = None):
        self._what = what
        self._fields = fields
        self._read = read

    def __getitem__(self, name: str):
        value = self._fields[name]
        if self._read is not None:
            self._read[f"{self._what}.{name}"] = value
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)  # the names only, the same for every article

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:
        return repr({name: self[name] for name in self})


class TemplateSlogans(Sequence):
    """The slogans as a template sees them, noting which ones it reads (and whether it
    depends on how many there are) in ``read``."""

    def __init__(self, items: list[dict], read: dict[str, object] | None = None):
        self._items = items
        self._read = {} if read is None else read

    def __getitem__(self, key):
        if isinstance(key, slice):
            return [self[i] for i in range(len(self._items))[key]]
        index = range(len(self._items))[key]  # IndexError past the end, as a list
        self._read[f"slogans[{index}]"] = self._items[index]["html"]
        return self._items[index]

    def __len__(self) -> int:
        self._read["slogans.count"] = len(self._items)
        return len(self._items)

    def __iter__(self) -> Iterator[dict]:
        return (self[i] for i in range(len(self)))

    def __reversed__(self) -> Iterator[dict]:
        return (self[i] for i in reversed(range(len(self))))

    def __repr__(self) -> str:
        return repr(list(self))


def to_html(target: Target, content: Content, page: dict[str, float], css: str,
            pads: int | None = None, read: dict[str, object] | None = None,
            body_blocks: int | None = None, last_page_alone: bool = False) -> str:
    """Render the layout's template. Content fields are HTML already (Markdown output,
    sanitized), so they are marked safe; everything a template adds itself is escaped.
    With ``read``, note which parts of the content the template reads (see ``inputs``).
    ``body_blocks``: the body is too long for the layout even at its smallest size
    (``[body_fit] pointer``); only its first paragraphs (top-level blocks, without a
    heading left last) reach the template, ``article_fits`` is false and the template
    points to the full text. ``last_page_alone``: the template leaves out all but its
    last page (``Layout.edition_last_page``).
    """
    lang = content.article.lang
    fields = {k: Markup(v) if isinstance(v, str) else v
              for k, v in dataclasses.asdict(content.article).items()}
    fields |= {"lang": lang, "dir": direction(lang)}
    if body_blocks is not None:
        kept = blocks(content.article.body_html)[:body_blocks]
        while kept and re.match(r"<h[1-6]\b", kept[-1]):
            kept.pop()
        fields["body_html"] = Markup("\n".join(kept))
    slogans = [{"html": Markup(s.html), "text": s.text} for s in content.slogans]
    edition = content.edition and TemplateFields("edition", panel(content.edition), read)
    return render_template(
        target.layout,
        {
            "article": TemplateFields("article", fields, read),
            "slogans": TemplateSlogans(slogans, read),
            "edition": edition,
            "strings": strings(target.layout, lang),
            "layout": target.layout.name,
            "size": target.size,
            "variant": target.variant.name,
            "page": page,
            "css": Markup(css),
            "body_class": body_class(target),
            "pad_pages": offered_pads(target.layout, pads),
            "article_fits": body_blocks is None,
            "last_page_alone": last_page_alone,
        },
        target.name,
    )


# --- HTML -> laid-out pages -----------------------------------------------------------


class Typesetter:
    """Lays out one target, fitting its texts and its body size, in as few passes as it can."""

    def __init__(self, renderer, target: Target, content: Content, page: dict[str, float],
                 fit_cache=None, paint: str = "", alone: bool = False):
        self.r = renderer
        self.fit_cache = fit_cache
        self.target = target
        self.content = content
        self.page = page
        self.base = content.folder
        # What this document may read: the content's folder and its layout's (see contain).
        self.roots = (content.folder, *target.layout.folders)
        self.what = f"{target.file}"
        self.body_blocks = None  # a number: the body's first blocks only, and a pointer
        self.final = "", None  # the CSS and spare pages typeset() settled on
        # Paint-only CSS every layout is set with, after all the rest: a risograph
        # copy's first drum, whose master is then the final layout (paint moves nothing).
        self.paint = paint
        # The last page alone (``to_html``): a document of its own shape, and of no body
        # size, as it has no body.
        self.alone = alone
        self.body_fits = target.layout.body_fit is not None and not alone
        self.sketched: dict[str, dict] = {}  # the first layout's fitted texts (see typeset)
        self.feet: dict[str, float] = {}  # each column's foot height in px (see ``sketch``)

    def css(self, extra_css: str = "", paint: str = "") -> str:
        """``extra_css`` after the columns' foot heights, and ``paint`` after all."""
        feet = "".join(f"#{ident} {{ --foot-h: {height:.3f}px; }}\n"
                       for ident, height in sorted(self.feet.items()))
        return "\n".join(filter(None, (feet, extra_css, paint)))

    def html(self, extra_css: str = "", pads: int | None = None) -> str:
        """The document on its own, its CSS inline (for ``--html``)."""
        return to_html(self.target, self.content, self.page,
                       "".join(stylesheets(self.target, self.page, self.css(extra_css))),
                       pads, body_blocks=self.body_blocks, last_page_alone=self.alone)

    def layout(self, extra_css: str = "", pads: int | None = None, paint: str | None = None):
        """The document laid out, its CSS handed to the renderer as style sheets, and
        ``paint`` (``self.paint`` unless given) after it; with ``pads``, as many spare
        pages as ``html`` gives it."""
        html = (self.sketch_html if pads is None and self.body_blocks is None
                else to_html(self.target, self.content, self.page, "", pads,
                             body_blocks=self.body_blocks, last_page_alone=self.alone))
        paint = self.paint if paint is None else paint
        return self.r.layout(html, self.base, self.what, self.roots,
                             self.target.layout.stylesheets(),
                             stylesheets(self.target, self.page, self.css(extra_css, paint)))

    def sketch(self):
        """The first layout, with its columns' feet as tall as they come out in it.

        A column's fitted area ends where its foot starts (print.css, ``.column``),
        which the CSS cannot know: the feet are measured, and their heights set on their
        columns. A foot does not depend on the area above it, so a layout with the
        heights guessed wrong (none known yet, or a longer group's name) measures them
        right, and one more settles them."""
        document = self.layout()
        if (feet := _feet(document)) != self.feet:
            self.feet = feet
            document = self.layout()
        return document

    def relayout(self, paint: str):
        """The final document (``typeset``'s) laid out again with ``paint`` in place of
        ``self.paint``: another risograph drum's colours."""
        css, pads = self.final
        return self.layout(css, pads, paint)

    def fit_css(self, document) -> str:
        """Fit every ``data-fit`` element of the layout into its box (see copyfit)."""
        from pamphleteer import copyfit, render

        found = render.boxes(document, "data-fit")
        targets = []
        for ident, box in found.items():
            if ident.endswith("@box"):
                continue
            spec = self.target.layout.fits.get(box.name)
            if spec is None:
                raise RenderError(
                    f"{self.what}: element #{ident} has data-fit={box.name!r} but the "
                    f"layout's layout.toml has no [fit.{box.name}]"
                )
            area = found[ident + "@box"]
            html = render.outer_html(box)
            targets.append(copyfit.FitTarget(ident, html, area.width, area.height, spec,
                                             _label(html), (box.font_pt, _metrics(box))))
        if not targets:
            return ""
        fitted, keys = {}, {}
        if self.fit_cache is not None:
            for t in targets:
                style = render.style_signature(found[t.id])
                self.sketched[t.id] = {"area": [round(t.width, 3), round(t.height, 3)],
                                       "style": style}
                keys[t.id] = self.fit_cache.keys(style, t)
                if (hit := self.fit_cache.get(keys[t.id], t.id)) is not None:
                    fitted[t.id] = hit
        missing = [t for t in targets if t.id not in fitted]
        for ident, result in copyfit.fit(missing, self.measure, self.what).items():
            fitted[ident] = result
            if self.fit_cache is not None:
                self.fit_cache.put(keys[ident], result)
        return copyfit.css({t.id: fitted[t.id] for t in targets})

    def check_fits(self, document) -> None:
        """Every fitted text within its box in the final layout: nothing overflows."""
        from pamphleteer import render

        for box, area in render.overflowing(document, "data-fit"):
            raise RenderError(
                f"{self.what}: overflow: #{box.id} overflows its box ({box.height:.0f} px "
                f"tall in {area.height:.0f} px); give it a box of fixed size in the "
                "layout's CSS"
            )

    def measure(self, probes) -> dict[str, tuple[float, int, float]]:
        """Lay out all probes in one document and read back their sizes."""
        from pamphleteer import render

        rules = ["@page { size: 3000mm 5000mm; margin: 0 }",
                 ".pf-probe { break-inside: avoid; margin: 0; padding: 0 }"]
        body = []
        for p in probes:
            rules.append(f"#{p.id} {{ font-size: {p.size_pt:.3f}pt !important; "
                         "max-width: none !important; margin: 0 !important }")
            clone = p.target.html.replace(f'id="{p.target.id}"', f'id="{p.id}" data-probe=""', 1)
            body.append(f'<div class="pf-probe" style="width: {p.width:.2f}px">{clone}</div>')
        css = stylesheets(self.target, self.page, "\n".join(rules))
        # The page's language and direction: fonts (:lang) and where lines start (dir)
        # are chosen by them, and probes must be set as the page is.
        lang = self.content.article.lang
        html = (f'<!doctype html><html lang="{lang}" dir="{direction(lang)}"><head>'
                f'<meta charset="utf-8"></head>'
                f'<body class="{body_class(self.target)}">{"".join(body)}</body></html>')
        found = render.boxes(self.r.layout(html, self.base, self.what + " (copyfit)", self.roots,
                                           css=css), "data-probe")
        return {p.id: _metrics(found[p.id]) for p in probes}

    def body_fit(self, fit_css: str, flow: str | None = None, fixed_boxes: bool = False,
                 check=None) -> tuple[str, object]:
        """The largest body size in the layout's range whose text fills its pages.

        A layout of ``pages`` pages (the leaflet) must hold the text in exactly that
        many. A booklet (``multiple-of-4``) may have as many sheets as the text needs at
        the smallest size: the multiple of 4 it takes there is the page budget, and the
        text grows until just before it would need another sheet, so the pages are
        filled with the article rather than left spare. Pad pages do not count. Returns
        the CSS that sets the size (fits included) and the laid-out document.

        The size is found by bisection to 0.1 pt. The pages a text needs grow with its
        size, so a size below one seen to fit fits too, and one above a size seen not to
        fit does not: such sizes are not laid out again. The size chosen last time for
        this document (another variant's, the one before an edit) is laid out first with
        the next size the bisection would try above it; when the text still ends there,
        those two layouts settle every step of the bisection, and the answer is the one a
        bisection from scratch gives.

        ``flow`` names the text the body flows with (see ``flow``), and the size found
        is kept under it. A document whose fitted texts have ``fixed_boxes`` (they are
        where and as large as last time, whatever their words) flows as any other of
        its flow: another edition, or the same pages after an edit to a slogan, is laid
        out once, at that size, and takes it when it gives the same pages.

        A copy in another variant (desk after press, screen after desk) lays out the
        hint's size first. When the body flows there exactly as in a copy whose size was
        searched (the same ``render.flow_signature``, kept under ``twins``), it flows as
        that copy at every size, and takes the size from that one layout.

        ``check`` is asked of the first layout whether the fits were guessed right
        (``typeset``); if not, ``_WrongGuess`` ends the search there.
        """
        from pamphleteer import render

        spec = self.target.layout.body_fit
        laid: dict[float, tuple[str, object, int]] = {}
        bleed = self.page["bleed"] * PX_PER_MM  # where the trim starts on the page

        def lay(size: float):
            css = f"{fit_css}\n:root {{ --body-size: {size:.2f}pt; }}"
            doc = self.layout(css)
            if check is not None and not laid and not check(doc):
                raise _WrongGuess
            return css, doc, len(doc.pages) - len(pad_pages(doc))

        def at(size: float):
            if size not in laid:
                laid[size] = lay(size)
            return laid[size]

        fitted = fixed_boxes and flow and self.fit_cache.body_fitted(flow)
        if fitted and spec.min_pt <= fitted[0] <= spec.max_pt and at(fitted[0])[2] == fitted[1]:
            return at(fitted[0])[:2]
        hint_name = f"{self.content.folder}\0{self.target.name}\0{self.content.article.lang}"
        hint = self.fit_cache and self.fit_cache.body_hint(hint_name)
        if hint is not None and not spec.min_pt <= hint <= spec.max_pt:
            hint = None  # the layout's range changed since
        twins_name = self.twins() if self.fit_cache is not None else None
        if hint is not None and self.body_blocks is None:
            twins = self.fit_cache.body_twins(twins_name)
            if hint in {size for size, _ in twins.values()}:
                _, document, pages = at(hint)
                if twins.get(render.flow_signature(document, bleed)) == (hint, pages):
                    return at(hint)[:2]
        if self.target.layout.page_rule == "multiple-of-4":
            wanted = -(-at(spec.min_pt)[2] // 4) * 4
        else:
            wanted = self.target.layout.pages

        def fits(size: float) -> bool:
            if any(s >= size and p <= wanted for s, (_, _, p) in laid.items()):
                return True
            if any(s <= size and p > wanted for s, (_, _, p) in laid.items()):
                return False
            return at(size)[2] <= wanted

        if hint is not None and fits(hint):
            _, tried = _bisection(spec.min_pt, spec.max_pt, lambda s: s <= hint)
            if above := [s for s in tried if s > hint]:
                fits(min(above))
        if fits(spec.max_pt):
            low = spec.max_pt
        else:
            if not fits(spec.min_pt) and spec.pointer and self.content.article.source:
                excerpt = self.excerpt(lay, spec.min_pt, wanted)
                laid.clear()  # laid out with the whole body: not this text
                laid[spec.min_pt] = excerpt
            if not fits(spec.min_pt):
                raise RenderError(
                    f"{self.what}: overflow: the article needs {at(spec.min_pt)[2]} pages "
                    f"even at the smallest body size {spec.min_pt:g} pt, and this layout "
                    f"has {wanted}; shorten the article or use the booklet"
                )
            low, _ = _bisection(spec.min_pt, spec.max_pt, fits)
        if self.fit_cache is not None:
            self.fit_cache.remember_body(hint_name, low)
            if self.body_blocks is None:
                if flow is not None:
                    self.fit_cache.remember_body_fitted(flow, low, at(low)[2])
                self.fit_cache.remember_body_twin(
                    twins_name, render.flow_signature(at(low)[1], bleed), low, at(low)[2])
        return at(low)[:2]

    def excerpt(self, lay, min_pt: float, wanted: int):
        """Too long to stay legible: as many of the body's first paragraphs as fit the
        pages at ``min_pt``, with the template's pointer to the full text where the
        source says it is (none: just the pointer; pages left over carry the zine's
        slogans). Found by bisection on the number of paragraphs; returns the layout at
        ``min_pt``."""
        self.body_blocks = 0
        fits = lay(min_pt)
        low, high = 0, len(blocks(self.content.article.body_html)) - 1
        while low < high:
            self.body_blocks = mid = (low + high + 1) // 2
            trial = lay(min_pt)
            if trial[2] <= wanted:
                low, fits = mid, trial
            else:
                high = mid - 1
        self.body_blocks = low
        return fits

    def typeset(self) -> tuple[str, object]:
        """Return the final HTML and laid-out document, with every fit applied.

        The first layout (a sketch) is there to find the boxes the texts are fitted
        into. A document of the same shape as one typeset before (same target, language
        and style sheets, the same elements in the same places, only its words
        changed: another edition, an edit to the body or a slogan) skips it: its boxes
        are taken from last time, its fits from the cache or, for new words, measured in
        those boxes, its body size from the last document of its flow (``body_fit``),
        and the final layout must show them again, to the hundredth of a
        pixel and with the same styles, or it is thrown away and the document typeset
        from its sketch. The shape decides the
        texts' styles (the cascade sees nothing else), the cache key is the fit's every
        input, and a fit depends on its box only by its size: the same boxes give the
        same bytes.

        The first copy of another variant (desk, screen…) takes the press copy's boxes
        and fits the same way: most variants differ from press only in paint and margins.
        Its shape is not the press copy's, so its final layout must also show the
        fitted texts styled as in the press copy's final layout: with the same fits
        applied, the same styles mean the texts were styled alike before them.
        """
        css = ""
        shape = self.shape()
        flow = self.flow(shape) if shape and self.body_fits else None
        known = self.fit_cache and shape and self.fit_cache.boxes(shape)
        press = None  # the press copy's boxes, for a first copy of another variant
        # (not a grey copy's: print.css draws rules there for the accent's fields, and
        # they move the boxes)
        variant = self.target.variant
        family = self.fit_cache.boxes(self.family()) if known is None and shape else None
        if family is not None and variant.name != "press" and not variant.grey:
            known = press = family
        # The feet as last time, or as in the press copy, even a grey copy's (a wrong
        # guess costs the sketch a second layout).
        self.feet = _known_feet(known or family)
        fit_css = self.predicted_fits(known) if known is not None else None
        if fit_css is not None:
            def as_guessed(document) -> bool:
                # A foot does not depend on the area above it: as measured here, it is
                # right for the sketch too, should the guess be wrong.
                guessed, self.feet = self.feet, _feet(document)
                return self.same_boxes(document, known["fits"]) and (
                    press is None or self.same_styles(document, press.get("final"))) and (
                    self.feet == guessed)

            try:
                if self.body_fits:
                    css, document = self.body_fit(fit_css, flow, fixed_boxes=press is None,
                                                  check=as_guessed)
                else:
                    css, document = fit_css, self.layout(fit_css)
                if not as_guessed(document):
                    raise _WrongGuess
            except _WrongGuess:
                fit_css = None
            else:
                if press is not None:
                    self.fit_cache.remember_boxes(shape, {"fits": press["fits"],
                                                          "hidden": press["hidden"],
                                                          "feet": self.feet})
        if fit_css is None:
            self.sketched, self.body_blocks = {}, None  # as if the guess was never made
            document = self.sketch()
            fit_css = self.fit_css(document)
            if self.body_fits:
                css, document = self.body_fit(fit_css, flow)
            elif fit_css:
                css = fit_css
                document = self.layout(css)
            if (feet := _feet(document)) != self.feet:
                column = next(i for i in sorted(feet | self.feet)
                              if feet.get(i) != self.feet.get(i))
                raise RenderError(
                    f"{self.what}: the foot of #{column} is {feet.get(column, 0):.1f} px "
                    f"tall once the texts are fitted, but {self.feet.get(column, 0):.1f} px "
                    "when their boxes were measured; keep fitted texts out of a "
                    ".column-foot, or give them a box of fixed size")
            if shape:
                self.remember_boxes(shape, document)
        if fit_css:
            self.check_fits(document)
        document, pads = self.paginate(document)
        self.final = css, pads
        return self.html(css, pads), document

    def shape(self) -> str | None:
        """What decides where a document's fitted texts go and how they are styled, but
        not their words: the target, the language, the style sheets, and every element
        with the attributes selectors see (``_skeleton``). None without a fit cache."""
        if self.fit_cache is None:
            return None
        parts = (self.target.file, self.content.article.lang,
                 *stylesheets(self.target, self.page), _skeleton(self.sketch_tree))
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()

    def family(self) -> str:
        """The layout, size and language: what a document shares with its other variants."""
        alone = "\0last page alone" if self.alone else ""
        return f"{self.target.name}\0{self.content.article.lang}{alone}"

    def flow(self, shape: str) -> str:
        """The document's ``shape``, the layout's body-fit range and page rule, and the
        document's words but for those in fitted texts and a QR code's address: all its
        body fit depends on when the fitted texts' boxes are fixed (``body_fit``), since
        no word inside a box of fixed size moves anything outside it, and the code is
        drawn after layout, in a box the layout sizes."""
        return self._flow(shape, self.flowing_words)

    def twins(self) -> str:
        """This document in every variant: its family, and its flow's words but for the
        variant's class on ``<html>``, the one place the variants' markup differs. Which
        of them flow alike, their flow signatures tell (``body_fit``)."""
        return self._flow(self.family(), self.flowing_words.replace(
            f"variant-{self.target.variant.name}", "variant-"))

    def _flow(self, shape: str, words: str) -> str:
        layout = self.target.layout
        parts = (shape, repr(layout.body_fit), layout.page_rule, str(layout.pages), words)
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()

    def predicted_fits(self, known: dict) -> str | None:
        """The fit CSS for ``known`` boxes (a document of this shape, typeset before):
        each text's fit from the cache or, for a text whose words are new (an edited
        slogan, an edition's place), fitted into its known box with no first layout to
        guess from, which gives the same fit (see ``copyfit``). None when the boxes are
        not this document's, or a text does not fit its known box: the sketch then
        finds the real boxes, and says which text does not fit."""
        from pamphleteer import copyfit

        found = self.fit_elements
        boxes = known["fits"]
        if set(found) != set(boxes) | set(known["hidden"]):
            return None
        fitted, keys, missing = {}, {}, []
        for ident, box in boxes.items():
            name, html = found[ident]
            spec = self.target.layout.fits.get(name)
            if spec is None:
                return None
            target = copyfit.FitTarget(ident, html, *box["area"], spec, _label(html))
            keys[ident] = self.fit_cache.keys(box["style"], target)
            fitted[ident] = self.fit_cache.get(keys[ident], ident)
            if fitted[ident] is None:
                missing.append(dataclasses.replace(
                    target, last=self.fit_cache.last_fit(keys[ident])))
        try:
            measured = copyfit.fit(missing, self.measure, self.what)
        except RenderError:
            return None
        for ident, result in measured.items():
            fitted[ident] = result
            self.fit_cache.put(keys[ident], result)
        return copyfit.css(fitted)

    @functools.cached_property
    def sketch_html(self) -> str:
        """The document with the whole body and every spare page the template offers:
        the sketch's, and every later one's but an excerpt's or a relayout's with its
        spare pages counted (rendered once)."""
        return to_html(self.target, self.content, self.page, "", last_page_alone=self.alone)

    @functools.cached_property
    def sketch_tree(self):
        return self.r.parse(self.sketch_html)

    @functools.cached_property
    def flowing_words(self) -> str:
        """The words ``flow`` and ``twins`` are made of (see ``_flowing_words``)."""
        return "\0".join(_flowing_words(self.sketch_tree))

    @functools.cached_property
    def fit_elements(self) -> dict[str, tuple[str, str]]:
        """The texts the sketch has to fit, from its markup (``render.elements``)."""
        from pamphleteer import render

        return render.elements(self.sketch_tree, "data-fit")

    @staticmethod
    def same_boxes(document, boxes: dict) -> bool:
        """Whether ``document`` has exactly the fitted texts of ``boxes``, each in a box
        of the size it gives (a sketch's, or the guess taken from last time)."""
        from pamphleteer import render

        found = render.boxes(document, "data-fit")
        if {i for i in found if not i.endswith("@box")} != set(boxes):
            return False
        return all((area := found.get(ident + "@box")) is not None
                   and [round(area.width, 3), round(area.height, 3)] == box["area"]
                   for ident, box in boxes.items())

    @staticmethod
    def same_styles(document, styles) -> bool:
        """Whether each fitted text of ``styles`` has that style in ``document``."""
        from pamphleteer import render

        found = render.boxes(document, "data-fit")
        return isinstance(styles, dict) and all(
            ident in found and render.style_signature(found[ident]) == style
            for ident, style in styles.items())

    def remember_boxes(self, shape: str, document) -> None:
        """Keep the sketch's boxes for the next document of this ``shape``, and which
        texts it does not show (a style hides them); unless the final ``document`` has
        the boxes otherwise, in a layout whose boxes follow their texts: those are found
        afresh every time. A press copy's are kept for its other variants too, with the
        styles its fitted texts came out in."""
        from pamphleteer import render

        if self.same_boxes(document, self.sketched):
            hidden = set(self.fit_elements) - set(self.sketched)
            boxes = {"fits": self.sketched, "hidden": sorted(hidden), "feet": self.feet}
            self.fit_cache.remember_boxes(shape, boxes)
            if self.target.variant.name == "press":
                found = render.boxes(document, "data-fit")
                final = {i: render.style_signature(found[i]) for i in self.sketched}
                self.fit_cache.remember_boxes(self.family(), boxes | {"final": final})

    def paginate(self, document) -> tuple[object, int]:
        """Drop the spare pages that a booklet's multiple of 4, or a fixed layout's page
        count, does not need."""
        rule = self.target.layout.page_rule
        if rule == "per-slogan":
            return document, 0
        pads = pad_pages(document)
        if rule == "fixed":
            if not pads:
                return document, 0
            needed = max(0, self.target.layout.pages - (len(document.pages) - len(pads)))
        else:
            needed = (-(len(document.pages) - len(pads))) % 4
        drop = set(pads[needed:])
        return document.copy([p for i, p in enumerate(document.pages) if i not in drop]), needed


class _WrongGuess(Exception):
    """The boxes or styles taken from another document are not this one's."""


_WORDS = {"alt", "title", "src", "aria-label", "content", "data-qr"}  # what they say
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def _skeleton(element) -> str:
    """The parsed document under ``element`` without its words, all a style sheet can
    select by left: every element with its attributes, nested as it is; each run of text
    as one mark (a selector tells an empty element from one with text, not one text from
    another); no words of the attributes that hold words (``alt``, ``aria-label``, …),
    and of a link's address only its scheme (``a[href^=mailto]``)."""
    def value(name: str, text: str) -> str:
        if name in _WORDS:
            return ""
        if name == "href":
            return scheme[0] if (scheme := _SCHEME.match(text)) else ""
        return text

    attributes = "".join(f" {k}={value(k, v)!r}" for k, v in sorted(element.attrib.items()))
    inside = "".join(_skeleton(child) for child in element)
    text = "~" if (element.text or "").strip() else ""
    tail = "~" if (element.tail or "").strip() else ""
    return f"<{element.tag}{attributes}>{text}{inside}</>{tail}"


def _flowing_words(element) -> Iterator[str]:
    """Every word and attribute value under ``element`` but those ``Typesetter.flow``
    leaves out."""
    if element.get("data-fit") is None:
        said = ("data-qr", "aria-label") if element.get("data-qr") is not None else ()
        yield from (f"{k}={v}" for k, v in sorted(element.attrib.items()) if k not in said)
        yield element.text or ""
        for child in element:
            yield from _flowing_words(child)
    yield element.tail or ""


def _feet(document) -> dict[str, float]:
    """Each column's foot height in px, to a thousandth, by the column's id (which the
    foot names in ``data-foot``)."""
    from pamphleteer import render

    return {box.name: round(box.height, 3)
            for ident, box in render.boxes(document, "data-foot").items()
            if not ident.endswith("@box")}


def _known_feet(known: dict | None) -> dict[str, float]:
    """The feet kept with ``known`` boxes, if they are of the right form."""
    feet = known.get("feet") if isinstance(known, dict) else None
    if isinstance(feet, dict) and all(isinstance(k, str) and isinstance(v, float | int)
                                      for k, v in feet.items()):
        return feet
    return {}


def _label(html: str) -> str:
    """A fitted text as an error names it: its words, cut short."""
    label = " ".join(plain(html).split())
    return label if len(label) <= 70 else label[:69] + "…"


def _metrics(box):
    from pamphleteer.copyfit import Metrics

    return Metrics(box.height, box.lines, box.text_width, box.widest, box.length, box.leading)


def _bisection(low: float, high: float, fits) -> tuple[float, list[float]]:
    """Bisect between ``low`` (fits) and ``high`` (does not) to 0.1 pt: the largest size
    found to fit, and every size tried."""
    tried = []
    while high - low > 0.1:
        mid = round((low + high) / 2, 2)
        tried.append(mid)
        if fits(mid):
            low = mid
        else:
            high = mid
    return low, tried


def pad_pages(document) -> list[int]:
    """The indexes of the booklet's spare pages: those holding an element ``pad-N``."""
    from pamphleteer import render

    return [i for i, ids in enumerate(render.page_anchors(document))
            if any(a.startswith("pad-") for a in ids)]
