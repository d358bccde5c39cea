"""Document dates from the build's fixed epoch, never the clock, so rebuilds are identical."""

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
