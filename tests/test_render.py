"""The renderer over many documents, as a build of many editions uses it."""

from __future__ import annotations

import gc

from helpers import FONTS
from pamphleteer.render import Renderer

HTML = ("<html><body><p style='font-family: \"Charis SIL\"'>" + "Solidarity now. " * 300
        + "</p></body></html>")


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        return int(status.read().split("VmRSS:")[1].split()[0]) / 1024


def test_memory_does_not_grow_with_the_documents_laid_out(tmp_path):
    """Each layout used to leak a Pango font map (a font configuration per document):
    about 0.2 MiB a document, 370 MiB at 200 editions."""
    renderer = Renderer(FONTS)

    def lay_out(count: int) -> None:
        for _ in range(count):
            renderer.pdf(renderer.layout(HTML, tmp_path, "probe", ()), "probe")
        gc.collect()

    lay_out(10)
    before = _rss_mib()
    lay_out(60)
    assert _rss_mib() - before < 4, "laying out 60 documents grew the process by 4 MiB"
