# Copyright (c) 2026 Forex AI platform engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: timeline
type: aggregate
short_description: Records when each phase and task of a recovery ran
version_added: 0.1.0
description:
  - Records the start and end of every play (a phase of a recovery) and task, with each host's
    outcome, and prints at the end of the run how long the whole run and each phase took and the
    slowest tasks.
  - The whole run's duration is the recovery time actually achieved; drill reports and the
    incident report read the JSON file it writes.
requirements:
  - Enable it in C(callbacks_enabled) (ansible.cfg or E(ANSIBLE_CALLBACKS_ENABLED)).
options:
  path:
    description:
      - Folder to write C(timeline-<UTC stamp>.json) into. Nothing is written when unset.
    type: path
    env:
      - name: FOREXAI_TIMELINE_DIR
    ini:
      - section: callback_timeline
        key: path
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase

from ansible_collections.forexai.dr.plugins.plugin_utils.timeline import Timeline, summary_lines


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "forexai.dr.timeline"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._timeline = None

    def v2_playbook_on_start(self, playbook):
        self._timeline = Timeline(os.path.basename(playbook._file_name), time.time())

    def v2_playbook_on_play_start(self, play):
        if self._timeline:
            self._timeline.play_start(play.get_name(), time.time())

    def v2_playbook_on_task_start(self, task, is_conditional):
        if self._timeline:
            self._timeline.task_start(task._uuid, task.get_name(), time.time())

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def _record(self, result, status):
        if self._timeline:
            if status == "ok" and result._result.get("changed"):
                status = "changed"
            self._timeline.task_result(result._task._uuid, result._host.get_name(), status, time.time())

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "ok" if ignore_errors else "failed")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        if not self._timeline:
            return
        report = self._timeline.finish(time.time())
        for line in summary_lines(report):
            self._display.display(line)
        folder = self.get_option("path")
        if folder:
            os.makedirs(folder, exist_ok=True)
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
            target = os.path.join(folder, "timeline-%s.json" % stamp)
            with open(target, "w") as handle:
                json.dump(report, handle, indent=2)
            self._display.display("timeline: written to %s" % target)
