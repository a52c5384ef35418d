"""English: Django's own separators, stated so both languages are defined here side by side."""

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
