"""Document dates from the build's fixed epoch, never the clock, so rebuilds are identical;
and the reading order of right-to-left documents."""

from __future__ import annotations

from datetime import UTC, datetime

import pikepdf


def moment(epoch: int) -> datetime:
    """The one instant every date in an output names: the build's epoch, in UTC."""
    return datetime.fromtimestamp(epoch, UTC)


def set_dates(pdf: pikepdf.Pdf, epoch: int) -> pikepdf.Pdf:
    stamp = moment(epoch).strftime("D:%Y%m%d%H%M%SZ")
    pdf.docinfo["/CreationDate"] = stamp
    pdf.docinfo["/ModDate"] = stamp
    return pdf


def set_right_to_left(pdf: pikepdf.Pdf) -> pikepdf.Pdf:
    """Declare the document's reading order right to left (``/ViewerPreferences
    /Direction /R2L``).

    The PDF's own word for it: viewers then show facing pages with page 2 on the right,
    as an Arabic booklet opens, and imposition binds the booklet on the right (see
    ``impose.impose_booklet``). Left-to-right files are left as they are.
    """
    preferences = pdf.Root.get("/ViewerPreferences")
    if preferences is None:
        preferences = pdf.Root.ViewerPreferences = pikepdf.Dictionary()
    preferences.Direction = pikepdf.Name.R2L
    return pdf


def reads_right_to_left(pdf: pikepdf.Pdf) -> bool:
    return pdf.Root.get("/ViewerPreferences", {}).get("/Direction") == pikepdf.Name.R2L
