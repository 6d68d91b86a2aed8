# Copyright (c) 2026 Forex AI platform engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure bookkeeping behind the ``forexai.dr.timeline`` callback.

A recovery's achieved RTO is the time from the first task of the run to the
last; the report also keeps every play (phase) and task with its start, end
and outcome per host, so a drill report or an incident log can say where the
time went. Nothing here touches Ansible's objects: the callback passes plain
strings and timestamps, so this is unit-tested directly.
"""

from __future__ import annotations

import datetime

STATUS_ORDER = ("failed", "unreachable", "ok", "changed", "skipped")


def _iso(ts):
    return datetime.datetime.fromtimestamp(ts, tz=datetime.timezone.utc).isoformat()


class Timeline:
    """Collects plays and tasks as they start and finish."""

    def __init__(self, playbook, started):
        self.playbook = playbook
        self.started = started
        self.ended = None
        self.plays = []
        self.tasks = {}
        self._order = []

    def play_start(self, name, now):
        if self.plays and self.plays[-1]["ended"] is None:
            self.plays[-1]["ended"] = now
        self.plays.append({"name": name, "started": now, "ended": None})

    def task_start(self, task_id, name, now):
        play = self.plays[-1]["name"] if self.plays else ""
        if task_id not in self.tasks:
            self._order.append(task_id)
        self.tasks[task_id] = {"name": name, "play": play, "started": now, "ended": now, "hosts": {}}

    def task_result(self, task_id, host, status, now):
        task = self.tasks.get(task_id)
        if task is None:
            return
        task["ended"] = max(task["ended"], now)
        previous = task["hosts"].get(host)
        # A loop reports once per item; the worst outcome wins.
        if previous is None or STATUS_ORDER.index(status) < STATUS_ORDER.index(previous):
            task["hosts"][host] = status

    def finish(self, now):
        self.ended = now
        if self.plays and self.plays[-1]["ended"] is None:
            self.plays[-1]["ended"] = now
        return self.report()

    def report(self):
        ended = self.ended if self.ended is not None else self.started
        tasks = []
        for task_id in self._order:
            task = self.tasks[task_id]
            tasks.append({
                "name": task["name"],
                "play": task["play"],
                "started": _iso(task["started"]),
                "ended": _iso(task["ended"]),
                "seconds": round(task["ended"] - task["started"], 3),
                "hosts": dict(task["hosts"]),
            })
        return {
            "playbook": self.playbook,
            "started": _iso(self.started),
            "ended": _iso(ended),
            "seconds": round(ended - self.started, 3),
            "phases": [
                {
                    "name": play["name"],
                    "started": _iso(play["started"]),
                    "ended": _iso(play["ended"] if play["ended"] is not None else ended),
                    "seconds": round((play["ended"] if play["ended"] is not None else ended) - play["started"], 3),
                }
                for play in self.plays
            ],
            "tasks": tasks,
            "failed": sorted({t["name"] for t in tasks if "failed" in t["hosts"].values() or "unreachable" in t["hosts"].values()}),
        }


def summary_lines(report, slowest=5):
    """Human-readable lines for the end of a run."""
    lines = [
        "timeline: %s took %.1f s (%s -> %s)" % (report["playbook"], report["seconds"], report["started"], report["ended"]),
    ]
    for phase in report["phases"]:
        lines.append("  phase %-50s %8.1f s" % (phase["name"][:50], phase["seconds"]))
    ranked = sorted(report["tasks"], key=lambda t: t["seconds"], reverse=True)[:slowest]
    if ranked:
        lines.append("  slowest tasks:")
        for task in ranked:
            lines.append("    %-56s %8.1f s" % (task["name"][:56], task["seconds"]))
    if report["failed"]:
        lines.append("  failed: %s" % ", ".join(report["failed"]))
    return lines
