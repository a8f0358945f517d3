"""Trellis's date and time style, one per language (settings.FORMAT_MODULE_PATH).

Every page, email and PDF names a format ("DATE_FORMAT", "DATETIME_FORMAT", "TIME_FORMAT",
"SHORT_DATE_FORMAT") instead of writing its own pattern, so one change here restyles the
product. Only display formats are set; input formats and numbers are Django's.
"""
