"""The classroom load benchmark's small version: three sessions, the fastest methods."""

from __future__ import annotations

from benchmarks import load


def test_three_sessions_follow_the_lesson_without_a_problem(tmp_path, capsys):
    code = load.main(["--quick", "--sessions", "3", "--out", str(tmp_path)])
    report = (tmp_path / "load.md").read_text()
    assert code == 0, report
    rows = [line.split("|")[1:-1] for line in report.splitlines()
            if line.startswith("| 3 |")]
    assert [r[1].strip() for r in rows] == [name for name, _ in load._lesson(load.QUICK)]
    for row in rows:
        assert row[4].strip() == "0"  # no problem in any session
        run, distinct = (int(n) for n in row[8].split("/"))
        assert run == distinct  # identical work computed once
    named = {row[1].strip(): row for row in rows}
    # three photos, three methods each; then the chapter's own work on each photo
    assert int(named["upload"][8].split("/")[1]) == 3 * len(load.QUICK.arena)
    assert int(named["upload, chapter local-filters"][8].split("/")[1]) >= 3
    print(report)
