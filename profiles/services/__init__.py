"""Writes of the profiles app: event ingestion, the rebuild, segments and the dynamic refresh."""
