"""DAG tasks (SPEC-DAG): the makespan on hand-computed graphs, the MILP against exhaustive
search and the chain DP, the generator, .gv files, the env and the datasets."""

import os

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gym_mecoffload  # noqa: F401 - registers the ids
from gym_mecoffload import solvers as chain_solvers
from gym_mecoffload.chain.model import latency, sample_states
from gym_mecoffload.core.envs import GYMNASIUM_1
from gym_mecoffload.core.objective import Objective
from gym_mecoffload.dag import DagBatch, cost, makespan, priority_order, solvers
from gym_mecoffload.dag.data import DagDataset, generate_dag_dataset
from gym_mecoffload.dag.envs import MecOffloadDagVectorEnv
from gym_mecoffload.dag.episodes import pad_dags
from gym_mecoffload.dag.experts import label
from gym_mecoffload.dag.graphs import generate_dags, read_gv, write_gv
from gym_mecoffload.executors import SEQUENTIAL, Executor

MB = 1e6


def dag(
    n, edges, *, cycles=None, edge_data=None, inputs=None, outputs=None, b1=1 * MB, b2=0.5 * MB
):
    """One task with round numbers: device 1 GHz, edge 2 GHz, free cloud; 1 s/MB to the
    edge, 2 s/MB on to the cloud."""
    matrix = np.zeros((1, n, n), dtype=bool)
    data = np.zeros((1, n, n))
    for (u, v), size in zip(edges, edge_data or [0.0] * len(edges), strict=True):
        matrix[0, u, v] = True
        data[0, u, v] = size
    return DagBatch(
        cycles=np.array([cycles or [1e9] * n], dtype=float),
        edges=matrix,
        edge_data=data,
        input_data=np.array([inputs or [0.0] * n], dtype=float),
        output_data=np.array([outputs or [0.0] * n], dtype=float),
        device_hz=1e9,
        edge_hz=2e9,
        edge_bandwidth=b1,
        cloud_bandwidth=b2,
    )


def test_a_fork_by_hand():
    # 0 -> 1 and 0 -> 2, 1 MB each; 0 on the device (1 s), 1 on the edge, 2 in the cloud.
    task = dag(3, [(0, 1), (0, 2)], edge_data=[1 * MB, 1 * MB], outputs=[0, 1 * MB, 1 * MB])
    # 1: 1 + 1 (send) + 0.5 (run) = 2.5, back 1 s: 3.5; 2: 1 + 3 (send) + 0 = 4, back 3 s: 7.
    assert makespan(task, [[0, 1, 2]])[0] == pytest.approx(7.0)
    # Both children on the edge, without outputs: with contention the two sends share the
    # device -> edge link (1 first, the tie broken by index) and the edge CPU:
    # send to 1 [1, 2], run 1 [2, 2.5]; send to 2 [2, 3], run 2 [3, 3.5].
    quiet = dag(3, [(0, 1), (0, 2)], edge_data=[1 * MB, 1 * MB])
    assert priority_order(quiet)[0].tolist() == [0, 1, 2]
    assert makespan(quiet, [[0, 1, 1]])[0] == pytest.approx(2.5)
    assert makespan(quiet, [[0, 1, 1]], contention=True)[0] == pytest.approx(3.5)


def test_a_join_by_hand():
    # 0 -> 2 and 1 -> 2; 0 and 1 on the device, 2 on the edge.
    task = dag(3, [(0, 2), (1, 2)], edge_data=[2 * MB, 1 * MB])
    # Without contention 0 and 1 both finish at 1 s (the device runs them "in parallel").
    assert makespan(task, [[0, 0, 1]])[0] == pytest.approx(1 + 2 + 0.5)
    # With contention the device runs them in turn (1 s, 2 s) and the link carries 2 MB then 1 MB.
    # Priority: 0 (2 MB out) before 1. 0: [0, 1]; 1: [1, 2]; send 0->2: [1, 3]; send 1->2: [3, 4].
    assert makespan(task, [[0, 0, 1]], contention=True)[0] == pytest.approx(4 + 0.5)


def test_a_diamond_by_hand():
    # 0 -> 1 -> 3 and 0 -> 2 -> 3, 1 MB on every edge; input 1 MB into 0, output 1 MB from 3.
    task = dag(
        4,
        [(0, 1), (0, 2), (1, 3), (2, 3)],
        edge_data=[MB] * 4,
        inputs=[MB, 0, 0, 0],
        outputs=[0, 0, 0, MB],
    )
    # All on the edge: input 1 s, 0.5 s each run, the middle two in parallel: 1 + 0.5 * 3, back 1 s.
    assert makespan(task, [[1, 1, 1, 1]])[0] == pytest.approx(1 + 0.5 + 0.5 + 0.5 + 1)
    # With contention the edge CPU runs 1 and 2 in turn: one more 0.5 s.
    assert makespan(task, [[1, 1, 1, 1]], contention=True)[0] == pytest.approx(4.0)


def test_device_to_cloud_passes_through_the_edge():
    task = dag(2, [(0, 1)], edge_data=[MB], outputs=[0, MB])
    # 0 on the device (1 s), 1 in the cloud: 1 MB over both links (1 + 2 s), back over both.
    assert makespan(task, [[0, 2]])[0] == pytest.approx(1 + 3 + 0 + 3)
    assert makespan(task, [[0, 2]], contention=True)[0] == pytest.approx(7.0)


def test_contention_on_one_link():
    # Two independent subtasks each read 1 MB of input from the device, both on the edge.
    task = dag(2, [], inputs=[MB, MB])
    assert makespan(task, [[1, 1]])[0] == pytest.approx(1 + 0.5)
    # With contention: the second input waits for the first (link busy until 1 s): arrives
    # at 2 s; the edge CPU is free again at 1.5 s, so it runs 2 .. 2.5.
    assert makespan(task, [[1, 1]], contention=True)[0] == pytest.approx(2.5)


@pytest.mark.parametrize("objective", ["latency", "energy", "weighted"])
def test_dags_of_chains_give_the_chain_models_numbers(objective):
    chains = sample_states(300, n_subtasks=5, rng=np.random.default_rng(0))
    graphs = DagBatch.from_chain(chains)
    decisions = np.random.default_rng(1).integers(0, 3, size=(300, 5))
    from gym_mecoffload.chain.model import cost as chain_cost

    expected = chain_cost(chains, decisions, objective)
    assert np.allclose(cost(graphs, decisions, objective), expected, rtol=1e-12, atol=0)
    assert np.allclose(
        cost(graphs, decisions, objective, contention=True), expected, rtol=1e-12, atol=0
    )
    best = solvers.optimal(graphs[:40], objective)
    dp = chain_solvers.optimal(chains[:40], objective).astype(np.int64)
    assert np.allclose(
        cost(graphs[:40], best, objective), chain_cost(chains[:40], dp, objective), rtol=1e-9
    )


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 7),
    fat=st.floats(0, 1),
    density=st.floats(0, 1),
    jump=st.integers(1, 3),
    objective=st.sampled_from(["latency", "energy", "weighted"]),
)
def test_the_milp_equals_exhaustive_search(seed, n, fat, density, jump, objective):
    graphs = generate_dags(
        2, n_subtasks=n, fat=fat, density=density, jump=jump, rng=np.random.default_rng(seed)
    )
    result = solvers.solve_milp(graphs, objective)
    brute = cost(graphs, solvers.exhaustive(graphs, objective), objective)
    assert np.allclose(cost(graphs, result.decisions, objective), brute, rtol=1e-7, atol=0)
    assert np.allclose(result.values, brute, rtol=1e-7, atol=0)


def test_a_task_highs_presolve_fails_on_is_still_solved_exactly():
    # The 9th task of this seeded env once ended in HiGHS's "Solve error" (status 4).
    env = gym.make("MecOffloadDag-v0", n_subtasks=10, optimum="milp")
    env.reset(seed=1)
    for _ in range(8):
        env.reset()
    task = env.unwrapped.dag
    found = solvers.solve_milp(task)
    assert found.values[0] == pytest.approx(cost(task, solvers.exhaustive(task))[0], rel=1e-7)


def test_the_milp_falls_back_when_a_solve_fails(monkeypatch):
    from scipy.optimize import OptimizeResult

    real, tried = solvers.milp, []

    def failing_presolve(*args, options, **kwargs):
        tried.append(options["presolve"])
        if options["presolve"]:
            return OptimizeResult(x=None, success=False, status=4, message="Solve error")
        return real(*args, options=options, **kwargs)

    monkeypatch.setattr(solvers, "milp", failing_presolve)
    dags = generate_dags(3, n_subtasks=6, rng=np.random.default_rng(8))
    found = solvers.solve_milp(dags)
    assert tried == [True, False] * 3
    assert np.allclose(found.values, cost(dags, solvers.exhaustive(dags)), rtol=1e-7)
    assert found.exact.all()


def test_without_a_proof_the_milp_searches_exhaustively_or_says_not_exact(monkeypatch):
    from scipy.optimize import OptimizeResult

    def broken(*args, **kwargs):
        return OptimizeResult(x=None, success=False, status=4, message="broke")

    monkeypatch.setattr(solvers, "milp", broken)
    dags = generate_dags(3, n_subtasks=6, rng=np.random.default_rng(8))
    found = solvers.solve_milp(dags)  # n = 6: every placement is tried instead
    brute = cost(dags, solvers.exhaustive(dags))
    assert found.exact.all() and np.allclose(found.values, brute, rtol=1e-12)
    assert np.allclose(found.lower_bound, brute, rtol=1e-12)
    big = generate_dags(
        2, n_subtasks=solvers.MAX_EXHAUSTIVE_SUBTASKS + 1, rng=np.random.default_rng(2)
    )
    with pytest.warns(RuntimeWarning, match="HiGHS did not prove .*broke") as caught:
        found = solvers.solve_milp(big)
    assert [str(w.message)[:7] for w in caught] == ["task 0:", "task 1:"]
    assert not found.exact.any()
    uniform = np.stack([cost(big, f(big)) for f in (solvers.local, solvers.edge, solvers.cloud)])
    assert np.array_equal(found.values, uniform.min(axis=0))  # the best placement it had
    assert np.array_equal(found.lower_bound, np.zeros(2))  # nothing proved

    # A solution HiGHS calls optimal without a bound is not taken on trust either.
    def unproved(*args, **kwargs):
        x = np.zeros(len(args[0]))  # every subtask on the device
        return OptimizeResult(x=x, success=True, status=0, message="ok", mip_dual_bound=None)

    monkeypatch.setattr(solvers, "milp", unproved)
    found = solvers.solve_milp(dags)
    assert found.exact.all() and np.allclose(found.values, brute, rtol=1e-12)
    with pytest.warns(RuntimeWarning, match="marked not exact"):
        labels = label(big)  # the labeller carries the flag as it is
    assert labels.exact.tolist() == [False, False]


def test_contention_never_beats_the_no_contention_optimum():
    graphs = generate_dags(6, n_subtasks=6, density=0.6, rng=np.random.default_rng(3))
    free = solvers.solve_milp(graphs).values
    with_contention = solvers.optimal(graphs, contention=True)
    assert (cost(graphs, with_contention, contention=True) >= free * (1 - 1e-12)).all()
    random = np.random.default_rng(4).integers(0, 3, size=(6, 6))
    assert (
        makespan(graphs, random, contention=True) >= makespan(graphs, random) * (1 - 1e-12)
    ).all()
    found = solvers.best_known(graphs)
    assert found.exact and np.allclose(found.cost, cost(graphs, with_contention, contention=True))


def test_best_known_beyond_exhaustive_is_bracketed_and_never_called_optimal():
    graphs = generate_dags(3, n_subtasks=12, rng=np.random.default_rng(5))
    found = solvers.best_known(graphs, sweeps=2)
    assert not found.exact
    assert (found.lower_bound <= found.cost * (1 + 1e-12)).all()
    heft = cost(graphs, solvers.heft(graphs, contention=True), contention=True)
    assert (found.cost <= heft * (1 + 1e-12)).all()
    with pytest.raises(ValueError, match="best_known"):
        solvers.optimal(graphs, contention=True)


def test_heft_picks_the_earliest_finish_place():
    # One subtask, no data: the edge (0.5 s) beats the device (1 s); the cloud is free (0 s).
    assert solvers.heft(dag(1, []))[0].tolist() == [2]
    # With 0.4 MB of input: device 1 s, edge 0.4 + 0.5 s, cloud 1.2 s to reach: the edge.
    assert solvers.heft(dag(1, [], inputs=[0.4 * MB]))[0].tolist() == [1]
    # With 1 MB: device 1 s, edge 1.5 s, cloud 3 s: the device.
    assert solvers.heft(dag(1, [], inputs=[MB]))[0].tolist() == [0]


def test_the_priority_order_is_topological_and_by_rank():
    graphs = generate_dags(50, n_subtasks=15, density=0.4, jump=2, rng=np.random.default_rng(6))
    order = priority_order(graphs)
    for i in range(50):
        position = np.argsort(order[i])
        for u, v in zip(*np.nonzero(graphs.edges[i]), strict=True):
            assert position[u] < position[v]


@pytest.mark.parametrize("fat", [0.0, 0.5, 1.0])
def test_the_generators_parameters_do_what_they_say(fat):
    rng = np.random.default_rng(7)
    graphs = generate_dags(40, n_subtasks=16, fat=fat, density=0.0, regularity=0.0, rng=rng)
    parents = graphs.edges.sum(axis=1)  # (N, n)
    sources = (parents == 0).sum(axis=1)
    if fat == 0.0:  # one subtask per layer, one parent each: a chain
        assert (sources == 1).all() and (parents[:, 1:] == 1).all()
    elif fat == 1.0:  # one layer: no edges at all
        assert not graphs.edges.any()
    else:  # layers of n**0.5 = 4 subtasks (regularity 0): 4 sources, one parent each below
        assert (sources == 4).all() and (parents[:, 4:] == 1).all()
    dense = generate_dags(20, n_subtasks=16, fat=0.5, density=1.0, regularity=0.0, rng=rng)
    # Density 1, jump 1: every subtask below the first layer has the 4 above as parents.
    assert (dense.edges.sum(axis=1)[:, 4:] == 4).all()
    far = generate_dags(20, n_subtasks=16, fat=0.5, density=1.0, regularity=0.0, jump=3, rng=rng)
    assert (far.edges.sum(axis=1)[:, 12:] == 12).all()  # the last layer sees the three above
    assert (graphs.input_data[parents > 0] == 0).all()  # only sources read the task's input
    assert (graphs.output_data[graphs.edges.sum(axis=2) > 0] == 0).all()  # only sinks write


def test_gv_files_round_trip_and_read_daggens_output(tmp_path):
    graphs = generate_dags(2, n_subtasks=9, rng=np.random.default_rng(8))
    platform = dict(
        device_hz=graphs.device_hz[1],
        edge_hz=graphs.edge_hz[1],
        edge_bandwidth=graphs.edge_bandwidth[1],
        cloud_bandwidth=graphs.cloud_bandwidth[1],
    )
    back = read_gv(write_gv(graphs, tmp_path / "task.gv", index=1), **platform)
    for name in ("cycles", "edges", "edge_data", "input_data", "output_data", "edge_bandwidth"):
        assert np.array_equal(getattr(back, name), getattr(graphs[1], name)), name
    # daggen's own format: ids from 1, "size" and "alpha" attributes, comments, any order.
    (tmp_path / "daggen.gv").write_text(
        "// DAG automatically generated by daggen\ndigraph G {\n"
        '  3 [size="3000", alpha="0.1"]\n  1 [size="1000", alpha="0.2"]\n'
        '  2 [size="2000", alpha="0.0"]\n  1 -> 2 [size ="5"]\n  2 -> 3 [size ="7"]\n}\n'
    )
    task = read_gv(
        tmp_path / "daggen.gv", cycles_per_size=1e6, input_data=4.0, output_data=9.0, **platform
    )
    assert task.cycles[0].tolist() == [1e9, 2e9, 3e9]  # renumbered in a topological order
    assert task.edge_data[0, 0, 1] == 5 and task.edge_data[0, 1, 2] == 7
    assert task.input_data[0].tolist() == [4.0, 0.0, 0.0] and task.output_data[0].tolist() == [
        0.0,
        0.0,
        9.0,
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('digraph G {\n 1 [size="1"]\n 2 [size="1"]\n 1 -> 2\n 2 -> 1\n}\n', "cycle"),
        ('digraph G {\n 1 [size="1"]\n 1 -> 1\n}\n', "self-loop"),
        ('digraph G {\n 1 [size="1"]\n 1 -> 9\n}\n', "undeclared"),
        ('digraph G {\n 1 [size="1"]\n 1 [size="2"]\n}\n', "twice"),
        ('digraph G {\n 1 [size="lots"]\n}\n', "not a number"),
        ('digraph G {\n 1 [size="-5"]\n}\n', ">= 0"),
        ('digraph G {\n 1 [size="nan"]\n}\n', ">= 0"),
        ('graph G {\n 1 [size="1"]\n}\n', "digraph"),
        ('digraph G {\n 1 [size="1"]\n', "complete"),
        ("digraph G {\n}\n", "complete"),
        ('digraph G {\n 1 [size="1"]\n 1 -> 2 -> 3\n}\n', "not a node or an edge"),
        # What daggen never writes is refused rather than misread.
        ('digraph G {\n 1 [size="1"]\n}\n 2 [size="1"]\n', "after the graph's closing"),
        ('digraph G {\n 1 [size="1", size="2"]\n}\n', "'size' is given twice"),
        ('digraph G {\n 1 [alpha="0.1"]\n}\n', "has no size"),
        ('digraph G {\n 1 [sise="5"]\n}\n', "unknown attribute 'sise'"),
        ('digraph G {\n node [size="1"]\n 1 [size="1"]\n}\n', "default attribute"),
        ('digraph G {\n 1 [size="1_000"]\n}\n', "not a number"),
        ('digraph G {\n 1 [size="１２"]\n}\n', "not a number"),
        ('digraph G {\n 1 [size="inf"]\n}\n', ">= 0"),
    ],
)
def test_malformed_gv_files_are_refused_with_the_reason(tmp_path, text, message):
    path = tmp_path / "bad.gv"
    path.write_text(text, encoding="utf-8")
    platform = dict(device_hz=1e9, edge_hz=2e9, edge_bandwidth=1e6, cloud_bandwidth=1e6)
    with pytest.raises(ValueError, match=message):
        read_gv(path, **platform)


def test_binary_gv_files_are_refused(tmp_path):
    path = tmp_path / "bad.gv"
    path.write_bytes(b"\xff\xfe\x00digraph")
    with pytest.raises(ValueError, match="UTF-8"):
        read_gv(path, device_hz=1e9, edge_hz=2e9, edge_bandwidth=1e6, cloud_bandwidth=1e6)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"edges": np.ones((1, 2, 2), dtype=bool)}, "strictly upper triangular"),
        ({"edges": np.zeros((1, 2, 2))}, "bool"),
        ({"edge_data": np.array([[[0.0, 0.0], [5.0, 0.0]]])}, "0 off the edges"),
        ({"cycles": np.array([[1e9, np.nan]])}, "finite"),
        ({"input_data": np.array([[1.0, -1.0]])}, ">= 0"),
        ({"device_hz": 0.0}, "device_hz"),
        ({"cycles": "lots"}, "real numbers"),
        ({"output_data": np.zeros((1, 3))}, "shape"),
    ],
)
def test_bad_dags_are_refused_clearly(change, message):
    fields = dict(
        cycles=np.array([[1e9, 1e9]]),
        edges=np.array([[[False, True], [False, False]]]),
        edge_data=np.array([[[0.0, 1e6], [0.0, 0.0]]]),
        input_data=np.zeros((1, 2)),
        output_data=np.zeros((1, 2)),
        device_hz=1e9,
        edge_hz=2e9,
        edge_bandwidth=1e6,
        cloud_bandwidth=1e6,
    )
    fields.update(change)
    with pytest.raises((ValueError, TypeError), match=message):
        DagBatch(**fields)


@pytest.mark.parametrize("contention", [False, True])
def test_the_envs_return_is_minus_the_makespan(contention):
    # Gymnasium's checker on these settings: tests/env/test_contract.py.
    env = gym.make("MecOffloadDag-v0", n_subtasks=8, contention=contention, optimum="milp")
    rng = np.random.default_rng(0)
    observation, _ = env.reset(seed=3)
    for _ in range(3):
        total = 0.0
        while True:
            observation, reward, terminated, truncated, info = env.step(int(rng.integers(3)))
            assert env.observation_space.contains(observation) and not truncated
            total += reward
            if terminated:
                break
        task = env.unwrapped.dag
        assert -total == pytest.approx(info["makespan"], rel=1e-12)
        assert info["makespan"] == pytest.approx(
            makespan(task, info["decision"][None], contention=contention)[0], rel=1e-12
        )
        assert info["milp_cost"] <= info["makespan"] * (1 + 1e-9) or contention
        assert info["lower_bound"] <= info["makespan"] * (1 + 1e-9)
        if not contention:
            assert info["optimal_cost"] == pytest.approx(
                cost(task, solvers.exhaustive(task))[0], rel=1e-7
            )
        env.reset()


@pytest.mark.parametrize("contention", [False, True])
def test_relative_rewards_are_in_units_of_the_experts_cost(contention):
    # Gymnasium's checker on these settings: tests/env/test_contract.py.
    kwargs = dict(n_subtasks=6, contention=contention, optimum="milp")
    env = gym.make("MecOffloadDag-v0", reward_mode="relative", **kwargs)
    absolute = gym.make("MecOffloadDag-v0", **kwargs)
    rng = np.random.default_rng(4)
    for episode in range(4):
        env.reset(seed=episode)
        absolute.reset(seed=episode)
        # The first episode follows the expert's own placement, step by step.
        first = episode == 0
        expert = solvers.exhaustive(env.unwrapped.dag, contention=contention)[0]
        order = priority_order(env.unwrapped.dag)[0]
        total, total_absolute = 0.0, 0.0
        for step in range(6):
            place = int(expert[order[step]]) if first else int(rng.integers(3))
            _, reward, terminated, _, info = env.step(place)
            _, seconds, _, _, _ = absolute.step(place)
            total += reward
            total_absolute += seconds
        assert terminated
        assert total == pytest.approx(total_absolute / info["milp_cost"], rel=1e-12)
        assert total == pytest.approx(-info["makespan"] / info["milp_cost"], rel=1e-12)
        if first:  # exhaustive search is exact at n = 6: the expert's return is -1
            assert total == pytest.approx(-1.0, rel=1e-7)
    vector = MecOffloadDagVectorEnv(3, reward_mode="relative", **kwargs)
    vector.reset(seed=2)
    returns = np.zeros(3)
    for _ in range(6):
        _, rewards, terminated, _, info = vector.step(rng.integers(0, 3, size=3))
        returns += rewards
    assert terminated.all()
    assert np.allclose(returns, -info["makespan"] / info["milp_cost"], rtol=1e-12)


def test_smaller_graphs_are_padded_without_changing_their_makespan():
    graphs = generate_dags(10, n_subtasks=5, rng=np.random.default_rng(9))
    padded = pad_dags(graphs, 8)
    decisions = np.random.default_rng(2).integers(0, 3, size=(10, 8))
    for contention in (False, True):
        assert np.allclose(
            makespan(padded, decisions, contention=contention),
            makespan(graphs, decisions[:, :5], contention=contention),
            rtol=1e-12,
        )
    env = gym.make("MecOffloadDag-v0", n_subtasks=8, task_pool=graphs)
    env.reset(seed=0)
    assert env.unwrapped.dag.n_subtasks == 8


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fat": 2.0}, "fat"),
        ({"density": -0.1}, "density"),
        ({"jump": 0}, "jump"),
        ({"contention": "yes"}, "contention"),
        ({"optimum": "cplex"}, "optimum"),
        ({"n_subtasks": 0}, "n_subtasks"),
        ({"n_subtasks": 100}, "n_subtasks"),
        ({"task_pool": "tasks"}, "task_pool"),
        ({"reward_mode": "scaled"}, "reward_mode must be one of"),
        ({"reward_mode": "relative"}, 'optimum="milp"'),
        ({"reward_mode": ["relative"]}, "reward_mode must be one of"),
    ],
)
def test_bad_env_arguments_are_refused_clearly(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        gym.make("MecOffloadDag-v0", **kwargs)


def test_bad_actions_and_options_are_refused():
    env = gym.make("MecOffloadDag-v0", n_subtasks=4).unwrapped
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    env.reset(seed=0)
    for action in (3, -1, 1.5, "edge", True):
        with pytest.raises(ValueError, match="place"):
            env.step(action)
    with pytest.raises(ValueError, match="options"):
        env.reset(options={"state": {}})


def test_datasets_do_not_depend_on_the_number_of_workers(tmp_path):
    kwargs = dict(n_subtasks=6, seed=4, shard_size=7, progress=False)
    one = generate_dag_dataset(30, executor=SEQUENTIAL, **kwargs)
    two = generate_dag_dataset(30, executor=Executor(workers=2), **kwargs)
    for name in ("decisions", "costs", "lower_bound"):
        assert np.array_equal(getattr(one, name), getattr(two, name))
    assert np.array_equal(one.dags.edge_data, two.dags.edge_data)
    loaded = DagDataset.load(one.save(tmp_path / "dags.npz"))
    assert np.array_equal(loaded.decisions, one.decisions) and loaded.contention is False
    brute = cost(one.dags, solvers.exhaustive(one.dags))
    assert np.allclose(one.costs, brute, rtol=1e-7)


def test_dag_datasets_select_and_concatenate_their_tasks():
    data = generate_dag_dataset(9, n_subtasks=5, seed=3, executor=SEQUENTIAL, progress=False)
    parts = [data[:4], data[4:7], data[np.array([7, 8])]]
    whole = DagDataset.concatenate(parts)
    assert [len(p) for p in parts] == [4, 3, 2]
    for name in ("decisions", "costs", "lower_bound", "exact"):
        assert np.array_equal(getattr(whole, name), getattr(data, name))
    assert np.array_equal(whole.dags.edge_data, data.dags.edge_data)
    one = data[5]
    assert len(one) == 1 and one.costs[0] == data.costs[5]
    assert np.array_equal(one.dags.cycles[0], data.dags.cycles[5])
    other = generate_dag_dataset(
        2, n_subtasks=5, seed=3, contention=True, executor=SEQUENTIAL, progress=False
    )
    with pytest.raises(ValueError, match="different models"):
        DagDataset.concatenate([data, other])
    with pytest.raises(ValueError, match="at least one DagDataset"):
        DagDataset.concatenate([])


def test_damaged_dag_datasets_are_refused(tmp_path):
    data = generate_dag_dataset(5, n_subtasks=4, seed=1, executor=SEQUENTIAL, progress=False)
    path = data.save(tmp_path / "dags.npz")
    with np.load(path) as npz:
        arrays = {name: npz[name] for name in npz.files}
    forged = dict(arrays, costs=arrays["costs"] * 0.5)
    np.savez(tmp_path / "forged.npz", **forged)
    with pytest.raises(ValueError, match="costs must be the decisions"):
        DagDataset.load(tmp_path / "forged.npz")
    missing = {k: v for k, v in arrays.items() if k != "lower_bound"}
    np.savez(tmp_path / "missing.npz", **missing)
    with pytest.raises(ValueError, match="lower_bound"):
        DagDataset.load(tmp_path / "missing.npz")
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (tmp_path / "flipped.npz").write_bytes(bytes(raw))
    with pytest.raises(ValueError):
        DagDataset.load(tmp_path / "flipped.npz")
    # Forgeries that pass the cost check: a label called exact above its own optimum,
    # a bound of -inf, a version that truncates to the right one.
    worse = solvers.exhaustive(data.dags, contention=False)  # the optimum, then spoil it
    spoiled = dict(arrays)
    spoiled["decisions"] = np.where(worse == 0, 1, 0).astype(arrays["decisions"].dtype)
    spoiled["costs"] = cost(data.dags, spoiled["decisions"])
    assert (spoiled["costs"] > arrays["lower_bound"] * 1.01).any()
    for name, forged, message in (
        ("spoiled", spoiled, "called exact but costs"),
        ("unbounded", dict(arrays, lower_bound=np.full(5, -np.inf)), "finite and >= 0"),
        ("version", dict(arrays, format_version=np.array(1.5)), "format_version must be 1"),
    ):
        np.savez(tmp_path / f"{name}.npz", **forged)
        with pytest.raises(ValueError, match=message):
            DagDataset.load(tmp_path / f"{name}.npz")


def test_the_objective_reaches_the_dag_env():
    weighted = Objective("weighted", latency_weight=0.25)
    env = gym.make("MecOffloadDag-v0", n_subtasks=5, objective=weighted)
    env.reset(seed=1)
    total = 0.0
    for _ in range(5):
        *_, reward, terminated, _, info = env.step(0)
        total += reward
    task = env.unwrapped.dag
    assert -total == pytest.approx(cost(task, info["decision"][None], weighted)[0], rel=1e-12)
    assert info["cost"] == pytest.approx(0.25 * info["makespan"] + 0.75 * info["energy"], rel=1e-12)
    assert latency  # the chain's latency stays importable beside the DAG's makespan


def test_the_observation_holds_what_its_table_says():
    from gym_mecoffload.dag.observations import DagLayout

    n = 5
    layout = DagLayout(n)
    assert layout.size == n * n + 10 * n + 20
    env = gym.make("MecOffloadDag-v0", n_subtasks=n, contention=True)
    observation, _ = env.reset(seed=4)
    task = env.unwrapped.dag
    assert np.allclose(observation[:n], task.cycles[0] / 1e9, rtol=1e-6)
    assert np.allclose(
        observation[3 * n : 3 * n + n * n], task.edge_data[0].ravel() / 1e6, rtol=1e-6
    )
    first = priority_order(task)[0, 0]
    assert observation[layout.current_offset + first] == 1.0
    observation, reward, *_ = env.step(2)
    assert observation[layout.places_offset + 3 * first + 2] == 1.0  # the cloud, one-hot
    assert observation[layout.makespan_offset] == pytest.approx(-reward, rel=1e-6)
    platform = [
        task.device_hz[0] / 1e9,
        task.edge_hz[0] / 1e9,
        task.edge_bandwidth[0] / 1e6,
        task.cloud_bandwidth[0] / 1e6,
    ]
    assert np.allclose(
        observation[layout.platform_offset : layout.current_view_offset], platform, rtol=1e-6
    )


@pytest.mark.skipif(
    not GYMNASIUM_1, reason="gym.make_vec arrived in gymnasium 1.0 (0.29 has a different one)"
)
def test_make_vec_gives_the_native_dag_vector_env():
    envs = gym.make_vec("MecOffloadDag-v0", num_envs=3, n_subtasks=5, contention=True)
    assert isinstance(envs, MecOffloadDagVectorEnv)
    observations, _ = envs.reset(seed=0)
    assert observations.shape == (3, 5 * 5 + 10 * 5 + 20)


@pytest.mark.parametrize("mode", ["ansi", "rgb_array"])
def test_the_dag_env_renders_its_schedule(mode):
    env = gym.make("MecOffloadDag-v0", n_subtasks=5, render_mode=mode)
    env.reset(seed=1)
    for _ in range(5):
        *_, info = env.step(1)
    frame = env.render()
    if mode == "ansi":
        assert f"partial makespan {info['makespan']:.3f} s" in frame
        assert frame.count(" edge ") == 5
    else:
        assert frame.shape == (240, 640, 3) and frame.dtype == np.uint8


def test_the_dag_frame_draws_each_schedule_in_its_lanes():
    from gym_mecoffload.core import rendering as drawing
    from gym_mecoffload.dag.rendering import schedule_segments

    def lanes(frame, top):  # the place colours found in each lane of a panel
        found, y = {}, top + 14
        for place in range(3):
            lane = frame[y : y + drawing.LANE_HEIGHT, drawing.LEFT :]
            found[place] = {
                p
                for p, colour in enumerate(drawing.PLACE_COLOURS)
                if (lane == colour).all(-1).any()
            }
            y += drawing.LANE_HEIGHT + drawing.LINK_HEIGHT + 2
        return found

    # A chain of 3 (0 -> 1 -> 2): the agent puts 0 on the edge and 1 in the cloud; the
    # expert is told to keep all on the device.
    dag = DagBatch(
        cycles=[[1e9, 1e9, 1e9]],
        edges=[[[False, True, False], [False, False, True], [False, False, False]]],
        edge_data=[[[0.0, 1e6, 0.0], [0.0, 0.0, 1e6], [0.0, 0.0, 0.0]]],
        input_data=[[1e6, 0.0, 0.0]],
        output_data=[[0.0, 0.0, 1e6]],
        device_hz=[1e9],
        edge_hz=[2e9],
        edge_bandwidth=[1e6],
        cloud_bandwidth=[1e6],
    )
    env = gym.make("MecOffloadDag-v0", n_subtasks=3, render_mode="rgb_array", optimum="milp")
    env.reset(options={"dag": dag})
    env.step(1)
    env.step(2)
    frame = env.render()
    assert lanes(frame, 4) == {0: set(), 1: {1}, 2: {2}}
    # The current subtask is 2; its parent 1 (in the cloud) is framed in red.
    cloud_lane = frame[4 + 14 + 2 * (drawing.LANE_HEIGHT + drawing.LINK_HEIGHT + 2) :][
        : drawing.LANE_HEIGHT, drawing.LEFT :
    ]
    assert (cloud_lane == drawing.CURSOR).all(-1).any()
    # The bars end where the batched schedule says each subtask finishes: by hand, 0
    # waits 1 s for its input, runs 0.5 s on the edge; 1 waits 1 s for its data to
    # reach the cloud and runs in no time there.
    segments = schedule_segments(dag, [0, 1], np.array([1, 2, 0]), contention=False)
    runs = {s.subtask: s.end for s in segments if s.kind == "run"}
    assert runs == pytest.approx({0: 1.5, 1: 2.5})
    sends = [(s.row, s.start, s.end) for s in segments if s.kind == "send"]
    assert [row for row, *_ in sends] == [0, 1]
    assert [t for _, *times in sends for t in times] == pytest.approx([0.0, 1.0, 1.5, 2.5])


def test_the_current_subtask_view_matches_heft_and_the_schedule():
    from gym_mecoffload.dag.model import Schedule
    from gym_mecoffload.dag.observations import DagLayout

    n = 6
    layout = DagLayout(n)
    env = gym.make("MecOffloadDag-v0", n_subtasks=n, contention=True)
    observation, _ = env.reset(seed=8)
    task = env.unwrapped.dag
    order = priority_order(task)[0]
    placed: list[tuple[int, int]] = []
    for k, v in enumerate(order):
        view = observation[layout.current_view_offset :]
        assert np.allclose(view[3 : 3 + n], task.edge_data[0, :, v] / 1e6, rtol=1e-6)
        for place in range(3):  # an independent trial schedule per place, replayed afresh
            trial = Schedule(task, contention=True)
            for u, at in [*placed, (v, place)]:
                trial.add(np.array([u]), np.array([at]))
            assert view[3 + 2 * n + place] == pytest.approx(trial.finish[0, v], rel=1e-6)
            assert view[6 + 2 * n + place] == pytest.approx(trial.end[0], rel=1e-6)
        place = k % 3
        placed.append((v, place))
        observation, *_ = env.step(place)
    assert not observation[layout.current_view_offset :].any()  # all zero once done


# daggen's layout: its header comments, "size" and "alpha" (and in some public sets
# "expect_size"), ids from 1, "size =" with a space on edges, and an edge written twice
# when the generator drew the same parent twice.
_DAGGEN = (
    "// DAG automatically generated by daggen at Tue Jun  4 10:00:00 2019\n"
    "// ./daggen -n 4 --fat 0.5 --density 0.8 --jump 2 --dot\n"
    "digraph G {\n"
    '  1 [size="2000", alpha="0.12", expect_size="2000"]\n'
    '  2 [size="3000", alpha="0.05", expect_size="3000"]\n'
    '  3 [size="1000", alpha="0.20", expect_size="1000"]\n'
    '  4 [size="4000", alpha="0.01", expect_size="4000"]\n'
    '  1 -> 2 [size ="11"]\n'
    '  1 -> 3 [size ="13"]\n'
    '  1 -> 2 [size ="11"]\n'
    '  2 -> 4 [size ="17"]\n'
    '  3 -> 4 [size ="19"]\n'
    '  3 -> 4 [size ="19"]\n'
    "}\n"
)
_PLATFORM = dict(device_hz=1e9, edge_hz=2e9, edge_bandwidth=1e6, cloud_bandwidth=2e6)


def test_an_edge_daggen_wrote_twice_is_one_edge(tmp_path):
    path = tmp_path / "daggen.gv"
    path.write_text(_DAGGEN)
    task = read_gv(path, **_PLATFORM)
    expected_edges = {(0, 1): 11.0, (0, 2): 13.0, (1, 3): 17.0, (2, 3): 19.0}
    found = np.argwhere(task.edges[0])
    assert {(int(u), int(v)) for u, v in found} == set(expected_edges)
    for (u, v), size in expected_edges.items():
        assert task.edge_data[0, u, v] == size  # counted once, not summed
    assert task.cycles[0].tolist() == [2000.0, 3000.0, 1000.0, 4000.0]


def test_a_duplicate_edge_with_another_size_names_both_lines(tmp_path):
    path = tmp_path / "bad.gv"
    path.write_text(_DAGGEN.replace('  3 -> 4 [size ="19"]\n}', '  3 -> 4 [size ="23"]\n}'))
    with pytest.raises(ValueError, match=r"bad.gv:13: a second edge 3 -> 4 .* line 12"):
        read_gv(path, **_PLATFORM)


def test_a_fifo_or_a_device_is_refused_without_reading(tmp_path):
    fifo = tmp_path / "pipe.gv"
    os.mkfifo(fifo)  # opening it for reading would block until a writer came
    with pytest.raises(ValueError, match="not a regular file"):
        read_gv(fifo, **_PLATFORM)
    with pytest.raises(ValueError, match="not a regular file"):
        read_gv("/dev/zero", **_PLATFORM)  # would be read until memory ran out


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"cycles_per_size": 0}, ValueError, "cycles_per_size must be finite and > 0"),
        ({"cycles_per_size": float("nan")}, ValueError, "cycles_per_size must be finite"),
        ({"cycles_per_size": "2"}, TypeError, "cycles_per_size must be a real number"),
        ({"index": 5}, ValueError, r"index must be an integer in \[0, 1\]"),
        ({"index": True}, ValueError, "index must be an integer"),
    ],
)
def test_write_gv_refuses_what_read_gv_would_refuse(tmp_path, kwargs, error, message):
    dags = generate_dags(2, n_subtasks=3, rng=np.random.default_rng(0))
    with pytest.raises(error, match=message):
        write_gv(dags, tmp_path / "task.gv", **kwargs)
    assert not (tmp_path / "task.gv").exists()


@pytest.mark.parametrize("contention", ["no", None, 0, 1])
def test_contention_is_a_bool_not_a_truthy_value(contention):
    dags = generate_dags(1, n_subtasks=3, rng=np.random.default_rng(0))
    places = np.zeros((1, 3), dtype=np.int64)
    for call in (
        lambda: makespan(dags, places, contention=contention),
        lambda: cost(dags, places, contention=contention),
        lambda: solvers.optimal(dags, contention=contention),
        lambda: solvers.heft(dags, contention=contention),
    ):
        with pytest.raises(TypeError, match="contention must be a bool"):
            call()


@pytest.mark.parametrize("seed", ["5", 1.7, True])
def test_the_dag_vector_env_refuses_a_seed_that_is_not_an_int(seed):
    vector = MecOffloadDagVectorEnv(2, n_subtasks=4)
    with pytest.raises(TypeError, match="seed must be an int or None"):
        vector.reset(seed=seed)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p, c: (np.where(p == 1, 5, p), c), "places must be integers: -1"),
        (lambda p, c: (p + 0.5, c), "places must be integers: -1"),
        (lambda p, c: (p.astype(bool), c), "places must be integers: -1"),
        (lambda p, c: (p, np.array([4, 1])), r"current must hold subtask indices, in \[0, 3\]"),
        (lambda p, c: (p, np.array([1.7, 1.0])), "current must be an integer"),
    ],
)
def test_the_milp_expert_in_any_state_refuses_bad_states(change, message):
    dags = generate_dags(2, n_subtasks=4, rng=np.random.default_rng(0))
    places = np.full((2, 4), -1)
    places[:, 0] = 1
    current = np.array([1, 1])
    assert solvers.milp_next_place(dags, places, current).shape == (2,)
    with pytest.raises(ValueError, match=message):
        solvers.milp_next_place(dags, *change(places, current))
