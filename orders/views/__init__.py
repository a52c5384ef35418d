"""Views: thin generic class views, each validating a form and calling one service."""
