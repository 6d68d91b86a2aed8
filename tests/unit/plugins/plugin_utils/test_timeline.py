import pytest

from ansible_collections.forexai.dr.plugins.plugin_utils.timeline import Timeline, summary_lines


def _run():
    tl = Timeline("restore.yml", 1000.0)
    tl.play_start("Stop services", 1000.0)
    tl.task_start("t1", "stop backend", 1000.5)
    tl.task_result("t1", "app1", "changed", 1002.0)
    tl.play_start("Restore", 1002.0)
    tl.task_start("t2", "pg_restore", 1002.0)
    tl.task_result("t2", "db1", "ok", 1060.0)
    tl.task_start("t3", "loop", 1060.0)
    tl.task_result("t3", "db1", "ok", 1061.0)
    tl.task_result("t3", "db1", "failed", 1062.0)
    tl.task_result("t3", "db1", "ok", 1063.0)
    return tl.finish(1070.0)


def test_run_duration_is_first_to_last_timestamp():
    report = _run()
    assert report["seconds"] == 70.0
    assert report["started"] == "1970-01-01T00:16:40+00:00"


def test_phases_end_where_the_next_begins():
    phases = _run()["phases"]
    assert [(p["name"], p["seconds"]) for p in phases] == [("Stop services", 2.0), ("Restore", 68.0)]


def test_worst_outcome_of_a_loop_wins_and_is_listed_as_failed():
    report = _run()
    loop = [t for t in report["tasks"] if t["name"] == "loop"][0]
    assert loop["hosts"] == {"db1": "failed"}
    assert loop["seconds"] == 3.0
    assert report["failed"] == ["loop"]


def test_results_for_unknown_tasks_are_ignored():
    tl = Timeline("x.yml", 0.0)
    tl.task_result("nope", "h", "ok", 1.0)
    assert tl.finish(2.0)["tasks"] == []


@pytest.mark.parametrize("slowest,expected", [(1, ["pg_restore"]), (2, ["pg_restore", "loop"])])
def test_summary_lists_the_slowest_tasks_first(slowest, expected):
    lines = summary_lines(_run(), slowest=slowest)
    assert lines[0].startswith("timeline: restore.yml took 70.0 s")
    listed = [line.split()[0] for line in lines[lines.index("  slowest tasks:") + 1:] if not line.startswith("  failed")]
    assert listed == expected
