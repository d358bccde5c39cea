"""PDF post-processing steps, one per module, each taking a ``pikepdf.Pdf`` and returning it."""
