"""The multi-user study's quick run: every setting's policies and figures, the report and
the plots, and its settings' loads."""

from __future__ import annotations

import json
import math

import pytest

from baselines.studies import multi as study


def test_the_settings_have_the_loads_they_are_named_for():
    for setting in study.settings():
        if setting.label.startswith("load "):
            assert setting.scenario.load() == pytest.approx(float(setting.label.split()[1]))
    big = next(s for s in study.settings() if s.label == "U=50, S=5")
    assert (big.scenario.users, big.scenario.servers) == (50, 5)
    assert big.scenario.load() == pytest.approx(0.8)


def test_the_quick_study_writes_every_policys_figures(tmp_path):
    # One setting keeps the default test run short; the others run the same code.
    results = study.run(tmp_path, sizes=study.QUICK, only=("load 0.8",), progress=False)
    saved = json.loads((tmp_path / "results.json").read_text())
    assert set(saved["results"]) == {"load 0.8"}
    result = results["load 0.8"]
    rows = study.summary(result)
    assert set(rows) >= {"rollout", "myopic", "dpp", *study.LEARNERS}
    for row in rows.values():
        assert math.isfinite(row["cost"]) and row["ci_low"] <= row["cost"] <= row["ci_high"]
        # The hindsight bound is below every policy's cost on its episodes.
        assert row["over_hindsight_bound"] >= 1 - 1e-9
    for name in study.LEARNERS:
        assert len(result["policies"][name]) == study.QUICK.seeds
    assert rows["rollout"]["over_teacher"] == 1.0
    assert len(result["policies"]["myopic"][0]["cost"]) == study.QUICK.test_episodes
    assert (tmp_path / "results.md").read_text().count("### ") == 1
    assert (tmp_path / "load.png").stat().st_size > 0 and (
        tmp_path / "latency.png"
    ).stat().st_size > 0


def test_every_policy_plays_the_tiny_tiers_10000_test_episodes():
    tiny = next(s for s in study.settings() if s.teacher == "exact")
    assert study.evaluation_episodes(tiny, study.Sizes()) == 10_000
    assert (
        study.evaluation_episodes(study.settings()[1], study.Sizes()) == study.Sizes().test_episodes
    )


def test_unknown_settings_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown settings"):
        study.run(tmp_path, sizes=study.QUICK, only=("huge",), progress=False)


@pytest.mark.slow
def test_the_multi_user_targets_at_full_size():
    """The issue's targets at the study's full sizes (about half an hour): the better dil
    variant within 2% of exact on the tiny tier and within 5% of its rollout teacher at
    both loads, and better than myopic and dpp there; the student within 10% of its
    teacher's mean latency and 100x faster than the rollout. docs/studies/multi.md has the
    measured run and says which of these it misses."""
    sizes = study.Sizes()

    def best_dil(rows):
        return min(rows["dil"]["cost"], rows["dil_central"]["cost"])

    tiny = study.summary(study.run_setting(study.settings()[0], sizes))
    assert best_dil(tiny) <= 1.02 * tiny["exact"]["cost"]
    for setting in study.settings()[1:3]:
        rows = study.summary(study.run_setting(setting, sizes))
        assert best_dil(rows) <= 1.05 * rows["rollout"]["cost"]
        assert best_dil(rows) < min(rows["myopic"]["cost"], rows["dpp"]["cost"])
        teacher = rows["dil_central"]["latency_mean"]
        assert rows["kd_student"]["latency_mean"] <= 1.10 * teacher
        speedup = (
            rows["rollout"]["microseconds_per_task"] / rows["kd_student"]["microseconds_per_task"]
        )
        assert speedup >= 100


def test_rllibs_runs_join_the_report_only_on_the_same_test_episodes(tmp_path):
    results = study.run(tmp_path, sizes=study.QUICK, only=("load 0.8",), progress=False)
    episodes = study.QUICK.test_episodes
    run = {**results["load 0.8"]["policies"]["ppo"][0], "cost": [2.0] * episodes}
    entry = {"runs": [run, {**run, "cost": [4.0] * episodes}], "env_steps": [9, 9]}
    (tmp_path / "rllib.json").write_text(
        json.dumps({"results": {"load 0.8": {**entry, "train_seconds": 1.0}}})
    )
    rows = study.summary(study.report_again(tmp_path)["load 0.8"])
    assert rows[study.RLLIB]["cost"] == pytest.approx(3.0)
    assert study.RLLIB in (tmp_path / "results.md").read_text()
    short = {**run, "cost": [2.0] * (episodes - 1)}
    (tmp_path / "rllib.json").write_text(
        json.dumps({"results": {"load 0.8": {"runs": [short], "train_seconds": 1.0}}})
    )
    with pytest.raises(ValueError, match="other test episodes"):
        study.report_again(tmp_path)
