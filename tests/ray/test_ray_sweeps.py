"""The studies' independent parts as Ray tasks: the same tables as the local run."""

from dataclasses import replace

import pytest

pytest.importorskip("ray")
pytest.importorskip("stable_baselines3")

from baselines.studies import channels, dag, reproduce  # noqa: E402
from gym_mecoffload.executors import Executor  # noqa: E402

pytestmark = pytest.mark.ray

# Seconds and delays differ from run to run; every other figure must be identical.
TIMED = ("seconds", "online", "_ms", "speedup", "_us", "delay")


def _untimed(tree):
    if isinstance(tree, dict):
        return {k: _untimed(v) for k, v in tree.items() if not any(t in k for t in TIMED)}
    return tree


def test_the_reproductions_seeds_on_ray_give_the_local_figures(ray_cluster, tmp_path):
    sizes = replace(reproduce.QUICK, seeds=2)
    local = reproduce.run(sizes, tmp_path / "local", progress=False)
    on_ray = reproduce.run(
        sizes, tmp_path / "ray", progress=False, executor=Executor("ray", workers=2)
    )
    for part in ("fig5", "fig6"):
        assert _untimed(on_ray[part]) == _untimed(local[part])
    assert on_ray["fig6"]["kd_dil"]["seeds"] == 2
    assert (tmp_path / "ray" / "models" / "fig6_kd_dil_seed0.pt").is_file()


def test_the_channel_study_on_ray_gives_the_local_tables(ray_cluster, tmp_path):
    kwargs = dict(sizes=channels.QUICK, learned=("markov 0.7, q=0",), progress=False)
    local = channels.run(tmp_path / "local", **kwargs)
    on_ray = channels.run(tmp_path / "ray", executor=Executor("ray"), **kwargs)
    spread = channels.run(tmp_path / "spread", executor=Executor(workers=2), **kwargs)
    assert list(on_ray) == list(local) and "dil_seq" in local["markov 0.7, q=0"]
    assert _untimed(on_ray) == _untimed(local) == _untimed(spread)
    assert (tmp_path / "ray" / "results.md").read_text() == (
        tmp_path / "local" / "results.md"
    ).read_text()


def test_the_dag_study_on_ray_gives_the_local_tables(ray_cluster, tmp_path):
    kwargs = dict(sizes=dag.QUICK, learned=(10,), progress=False)
    local = dag.run(tmp_path / "local", **kwargs)
    on_ray = dag.run(tmp_path / "ray", executor=Executor("ray", workers=2), **kwargs)
    assert list(on_ray) == list(local) and "dil_seq" in local["n=10, no contention"]
    assert _untimed(on_ray) == _untimed(local)
