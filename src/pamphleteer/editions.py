"""Editions: one row of ``editions.csv`` per local group, printed in a panel of its own.

Each town prints the same pamphlet with its own meeting details. An edition is the
content plus those details (group, date, time, place, contact, a web address with its
QR code), in the language of the row. What a layout shows of it comes from
``panel()``; the rest of the build treats an edition like any other content, so an
output that shows no edition data (a placard) has the same inputs in every edition and
is made once.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from markupsafe import Markup, escape

from pamphleteer.errors import ContentError

EDITIONS = "editions.csv"
#: Columns: name -> (required, what it holds).
COLUMNS = {
    "id": (True, "lowercase letters, digits and hyphens; names the edition's folder"),
    "group": (True, "the local group's name"),
    "date": (True, "the meeting's date, YYYY-MM-DD"),
    "time": (False, "the meeting's time, HH:MM"),
    "place": (True, "where it meets"),
    "contact": (False, "how to reach the group"),
    "url": (False, "a web address (http or https), printed with its QR code"),
    "lang": (False, "the language to print it in; one the content folder has"),
}
_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_MAX_CHARS = 300  # a field is a name or an address, not an article


@dataclass(frozen=True)
class Edition:
    id: str
    group: str
    date: dt.date
    place: str
    lang: str
    time: str = ""
    contact: str = ""
    url: str = ""
    row: int = 0  # its line in editions.csv


def load_editions(folder: Path, languages: list[str]) -> list[Edition]:
    """Read and check ``folder/editions.csv``; every bad value is reported at once as
    ``editions.csv:ROW: column: problem; fix``. No file: no editions."""
    path = folder / EDITIONS
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as e:
        raise ContentError(f"{path}: cannot read as UTF-8 text ({e}); save it as UTF-8 CSV") from e
    rows = list(csv.reader(io.StringIO(text.replace("\r\n", "\n"))))
    if not rows or not any(rows[0]):
        raise ContentError(f"{path}:1: no header row; start with: {','.join(COLUMNS)}")
    header = [h.strip() for h in rows[0]]
    problems = [f"{path}:1: {h or '(empty)'}: unknown column; allowed: {', '.join(COLUMNS)}"
                for h in header if h not in COLUMNS]
    problems += [f"{path}:1: {h}: column appears twice; keep one"
                 for h in dict.fromkeys(h for h in header if header.count(h) > 1)]
    problems += [f"{path}:1: {c}: required column is missing; add it to the header"
                 for c, (required, _) in COLUMNS.items() if required and c not in header]
    if problems:
        raise ContentError("; ".join(problems))
    editions, seen = [], {}
    for number, values in enumerate(rows[1:], 2):
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            problems.append(f"{path}:{number}: has {len(values)} values for {len(header)} "
                            "columns; quote values that contain a comma")
            continue
        row = {h: v.strip() for h, v in zip(header, values, strict=True)}
        edition, errors = _edition(row, number, languages)
        problems += [f"{path}:{number}: {e}" for e in errors]
        if edition is not None and edition.id in seen:
            problems.append(f"{path}:{number}: id: {edition.id!r} is already the id of row "
                            f"{seen[edition.id]}; give each edition its own")
        elif edition is not None:
            seen[edition.id] = number
            editions.append(edition)
    if problems:
        raise ContentError("; ".join(problems))
    return editions


def _edition(row: dict[str, str], number: int,
             languages: list[str]) -> tuple[Edition | None, list[str]]:
    errors = []
    for column, (required, meaning) in COLUMNS.items():
        value = row.get(column, "")
        if required and not value:
            errors.append(f"{column}: missing; write {meaning}")
        if len(value) > _MAX_CHARS:
            errors.append(f"{column}: {len(value)} characters; shorten it to {_MAX_CHARS}")
        if any(unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") for ch in value):
            errors.append(f"{column}: contains a control character; remove it")
    if row["id"] and not _ID_RE.match(row["id"]):
        errors.append(f"id: {row['id']!r} is not lowercase letters, digits and hyphens; "
                      "e.g. leeds-north")
    date = None
    if row["date"]:
        try:
            date = dt.date.fromisoformat(row["date"])
        except ValueError:
            pass
        if date is None or not re.fullmatch(r"\d{4}-\d\d-\d\d", row["date"]):
            errors.append(f"date: {row['date']!r} is not a date; write YYYY-MM-DD, "
                          "e.g. 2026-12-12")
            date = None
    if row.get("time") and not _TIME_RE.match(row["time"]):
        errors.append(f"time: {row['time']!r} is not a time; write HH:MM, e.g. 18:30")
    url = row.get("url", "")
    if url and not (urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc
                    and not any(ch.isspace() for ch in url)):
        errors.append(f"url: {url!r} is not a web address; write http://… or https://…")
    lang = row.get("lang") or languages[0]
    if lang not in languages:
        errors.append(f"lang: {lang!r} is not a language of this content; it has "
                      f"{', '.join(languages)} (add article.{lang}.md to add one)")
    if errors or date is None:
        return None, errors
    return Edition(id=row["id"], group=row["group"], date=date, place=row["place"],
                   lang=lang, time=row.get("time", ""), contact=row.get("contact", ""),
                   url=url, row=number), []


def panel(edition: Edition) -> dict[str, object]:
    """What a layout's edition panel shows: the details as text, the date written out
    in the edition's language, and the QR code of its address (``qr_html``)."""
    from babel.dates import format_date, format_time

    locale = _locale(edition.lang)
    time = dt.time.fromisoformat(edition.time) if edition.time else None
    return {
        "id": edition.id,
        "group": edition.group,
        "date": format_date(edition.date, format="full", locale=locale),
        "date_iso": edition.date.isoformat(),
        "time": format_time(time, format="short", locale=locale) if time else "",
        "place": edition.place,
        "contact": edition.contact,
        "url": edition.url,
        "qr": qr_html(edition.url) if edition.url else Markup(""),
    }


def _locale(lang: str):
    """Babel's locale for a language tag, or English where Babel has none."""
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(lang, sep="-")
    except (UnknownLocaleError, ValueError):
        return Locale("en")


@functools.cache
def direction(lang: str) -> str:
    """``rtl`` for a language written right to left (Arabic, Hebrew, Persian…), else
    ``ltr``: from Babel's locale data, not a hand-kept list."""
    return "rtl" if _locale(lang).character_order == "right-to-left" else "ltr"


def qr_html(url: str) -> Markup:
    """The QR code of ``url``: its box, which the layout places, sizes and colours
    (``.qr``: its ``color`` is the modules', its background the quiet zone's). The
    modules are drawn into the PDF after layout (``pdf.qr``): laid out as a few hundred
    HTML boxes, they made every layout of an edition's page several times as long."""
    return Markup(f'<span class="qr" role="img" aria-label="{escape(url)}" '
                  f'data-qr="{escape(url)}"></span>')
