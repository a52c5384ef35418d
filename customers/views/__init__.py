"""HTML views of the customers app (thin: validate a form, call one service)."""
