"""The lecture's speed targets (benchmarks/speed_targets.py): every target of the issue is
timed, a peer alternates with its method, and a miss is reported as one."""

from __future__ import annotations

from benchmarks import speed_targets
from benchmarks.speed_targets import Target, Timed
from denoisers import inverse


def test_every_target_of_the_table_is_timed():
    names = [t.what for t in speed_targets.targets()]
    for method in ("BM3D, grey 512", "CBM3D, colour 768x512", "WNNM", "EPLL", "K-SVD", "TV"):
        assert any(n.startswith(method) for n in names), method
    for problem in inverse.PROBLEMS.values():
        assert any(problem.title in n for n in names), problem.title


def test_a_peer_alternates_with_its_method_after_a_warm_up_of_each():
    calls: list[str] = []
    target = Target("task", lambda: calls.append("method"), 1.0, "peer",
                    lambda: calls.append("peer"), 0.5)
    timed = speed_targets.time_target(target, repeats=2)
    assert calls == ["method", "peer"] * 3
    assert timed.peer_seconds is not None and timed.seconds >= 0


def test_a_missed_time_or_ratio_is_reported_as_missed():
    target = Target("task", lambda: None, 2.0, "peer", lambda: None, 0.2)
    assert Timed(target, 1.0, 10.0).row()[3] == "yes"
    assert Timed(target, 1.0, 4.0).row()[3] == "**no**"  # 0.25x the peer, above 0.2x
    assert Timed(target, 3.0, 100.0).row()[3] == "**no**"  # over 2 s
    assert Timed(Target("alone", lambda: None, 2.0), 1.5, None).row()[3:] == ["yes", "—", "—"]
