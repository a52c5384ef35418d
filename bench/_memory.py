"""Peak memory of a whole process tree (a Celery worker's parent and its pool processes), from /proc.

``TreeMemory(pid)`` samples, every ``interval`` seconds, the sum over the process and all its descendants
of RSS (each process's resident pages; pages shared copy-on-write after fork count once per process, so
an upper bound) and PSS (shared pages split between the processes sharing them: what the tree costs the
machine). It keeps the peak of each sum and the most processes seen. Linux only.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name (field 2) is in parentheses and may hold spaces: fields after the last ")".
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def tree_pids(root: int) -> list[int]:
    """``root`` and every descendant alive now."""
    tree, found, todo = _children(), [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(tree.get(pid, []))
    return found


def _rss_pss(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in bytes, (0, 0) for a process that has gone."""
    try:
        rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        pss = 0
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1]) * 1024
                break
        return rss, pss
    except (OSError, ValueError, IndexError):
        return 0, 0


class TreeMemory(threading.Thread):
    """Samples a process tree's total RSS and PSS in the background until ``stop()``."""

    def __init__(self, root: int, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.peak_rss = self.peak_pss = 0
        self.most_processes = 0
        self._stopped = threading.Event()

    def sample(self) -> None:
        pids = tree_pids(self.root)
        sizes = [_rss_pss(pid) for pid in pids]
        self.peak_rss = max(self.peak_rss, sum(rss for rss, _pss in sizes))
        self.peak_pss = max(self.peak_pss, sum(pss for _rss, pss in sizes))
        self.most_processes = max(self.most_processes, sum(1 for rss, _pss in sizes if rss))

    def run(self) -> None:
        while not self._stopped.wait(self.interval):
            self.sample()

    def stop(self) -> dict[str, float]:
        self._stopped.set()
        self.join()
        self.sample()
        return {
            "peak_rss_mb": self.peak_rss / 2**20,
            "peak_pss_mb": self.peak_pss / 2**20,
            "processes": self.most_processes,
        }
