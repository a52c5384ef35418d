"""Each benchmark owns one section of docs/benchmarks.md, between ``<!-- name-bench -->`` and its end marker.

``section_write`` replaces that section in place (or adds it at the end the first time), so re-running a
benchmark never leaves a second, stale copy of its figures. Text outside the markers is never touched:
hand-written notes about a benchmark go after its end marker.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

BENCHMARKS_MD = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def marker(name: str) -> tuple[str, str]:
    """The start and end markers of benchmark ``name``'s section."""
    return f"<!-- {name}-bench -->", f"<!-- {name}-bench -->-end"


def section_write(name: str, body: str, path: Path = BENCHMARKS_MD) -> None:
    """Replace benchmark ``name``'s section of ``path`` with ``body`` (added at the end if absent)."""
    start, end = marker(name)
    section = f"{start}\n{body.strip(chr(10))}\n\n{end}\n"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if start in text and end in text[text.index(start) :]:
        head = text.index(start)
        tail = text.index(end, head) + len(end)
        if text[tail : tail + 1] == "\n":
            tail += 1
        text = text[:head] + section + text[tail:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")


def section_read(name: str, path: Path = BENCHMARKS_MD) -> str:
    """The current body of benchmark ``name``'s section ("" when there is none)."""
    start, end = marker(name)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if start not in text or end not in text[text.index(start) :]:
        return ""
    head = text.index(start) + len(start)
    return text[head : text.index(end, head)].strip("\n")


def machine() -> str:
    """CPU model and count, memory, OS and the load average now (the machine may be shared)."""
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        memory_kb, load = 0, "?"
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {memory_kb / 1024 / 1024:.0f} GB RAM, {platform.platform()}; "
        f"load average {load}"
    )
