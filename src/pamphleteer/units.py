"""Lengths: the kit is specified in millimetres, PDFs measure in points, CSS in px."""

PT_PER_MM = 72 / 25.4
PX_PER_MM = 96 / 25.4
PT_PER_PX = 72 / 96
PX_PER_PT = 96 / 72
