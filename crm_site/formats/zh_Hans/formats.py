"""Simplified Chinese: thousands grouped by three with a comma (Django's own: by four, no separator)."""

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
