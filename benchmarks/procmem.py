"""Peak memory of a process tree, sampled from /proc (Linux; no psutil in the environment).

`TreeMemory(pid)` polls every `interval` seconds in a thread: the sum of VmRSS over the process and all its
descendants (the figure that matters on a shared machine) and the largest VmHWM (kernel-kept peak RSS) of
any single process of the tree. The sum is sampled, so a peak shorter than the interval can be missed; the
single-process VmHWM cannot be missed while the process is alive at a sample.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

PROC = Path("/proc")


def _status_kib(pid: int) -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        text = (PROC / str(pid) / "status").read_text()
    except OSError:
        return out
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir(PROC):
        if not entry.name.isdigit():
            continue
        try:
            stat = (PROC / entry.name / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...; comm may hold spaces and parentheses, so split after the last ')'.
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def descendants(pid: int) -> list[int]:
    tree, out, todo = _children(), [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(tree.get(p, ()))
    return out


class TreeMemory:
    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid, self.interval = pid, interval
        self.peak_rss_sum_kib = 0
        self.peak_hwm_kib = 0
        self.max_processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        pids = descendants(self.pid)
        rss = 0
        for p in pids:
            s = _status_kib(p)
            rss += s.get("VmRSS", 0)
            self.peak_hwm_kib = max(self.peak_hwm_kib, s.get("VmHWM", 0))
        self.peak_rss_sum_kib = max(self.peak_rss_sum_kib, rss)
        self.max_processes = max(self.max_processes, len(pids))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> TreeMemory:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
