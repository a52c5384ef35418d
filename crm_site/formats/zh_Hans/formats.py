"""Simplified Chinese: thousands grouped by three with a comma (Django's default groups by four, no separator)."""

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
