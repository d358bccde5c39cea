"""pamphleteer: one content folder in, a print-ready kit of PDFs out."""

# The single source of the version (pyproject.toml reads it from here): a literal, so
# that a no-op build does not pay for importlib.metadata.
__version__ = "0.1.0"
