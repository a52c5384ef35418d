"""Benchmarks run by ``make bench`` (``python -m bench``); each ``bench/<name>.py`` has ``run(args)``."""
