"""The sessions log REST API (/api/v1/): serializers and views; the writes are in sessions_log.ingest."""
