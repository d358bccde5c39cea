"""pamphleteer: one content folder in, a print-ready kit of PDFs out."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pamphleteer")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
