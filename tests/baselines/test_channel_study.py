"""The channel study's pieces: datasets drawn on a channel, learned policies on realised
slots, the MDP expert for DAgger, and the study itself (quick here, the targets slow)."""

import itertools
import json

import numpy as np
import pytest
import torch
from torch import nn

from baselines.dil import OptimalExpertPolicy, sequential_demonstrations
from baselines.evaluation import pin_threads
from baselines.policies import NetworkPolicy
from baselines.studies import channels as study
from gym_mecoffload.chain.data import OffloadDataset, generate_dataset
from gym_mecoffload.chain.model import cost, sample_states
from gym_mecoffload.chain.observations import SequentialLayout
from gym_mecoffload.channels import ChannelModel, MarkovChannel
from gym_mecoffload.channels.experts import MdpExpert
from gym_mecoffload.core.links import Slots


def test_a_channel_dataset_is_labelled_by_the_clairvoyant_and_round_trips(tmp_path):
    data = generate_dataset(
        40, n_subtasks=4, channel="rayleigh", outage_probability=0.2, rng=np.random.default_rng(0)
    )
    assert data.slots is not None and (data.slots.attempts >= 1).all()
    # Brute force over all 3**4 decisions on each task's realised slots.
    every = np.array(list(itertools.product(range(3), repeat=4)))
    for i in range(len(data)):
        repeated = data.states[np.full(len(every), i)]
        slots = data.slots[np.full(len(every), i)]
        assert data.costs[i] == pytest.approx(
            cost(repeated, every, "latency", slots).min(), rel=1e-12
        )
    loaded = OffloadDataset.load(data.save(tmp_path / "channel.npz"))
    for name in ("edge_bandwidths", "cloud_bandwidths", "attempts"):
        assert np.array_equal(getattr(loaded.slots, name), getattr(data.slots, name))
    assert np.array_equal(loaded.costs, data.costs)


def test_a_dataset_file_with_part_of_the_slots_is_refused(tmp_path):
    data = generate_dataset(5, n_subtasks=2, channel="iid", rng=np.random.default_rng(1))
    path = data.save(tmp_path / "full.npz")
    with np.load(path) as npz:
        arrays = {name: npz[name] for name in npz.files if name != "attempts"}
    np.savez(tmp_path / "part.npz", **arrays)
    with pytest.raises(ValueError, match="attempts"):
        OffloadDataset.load(tmp_path / "part.npz")
    # Slots that do not give the stored costs: a forged file.
    with np.load(path) as npz:
        arrays = {name: npz[name] for name in npz.files}
    arrays["attempts"] = arrays["attempts"] + 1
    np.savez(tmp_path / "forged.npz", **arrays)
    with pytest.raises(ValueError, match="costs must be the decisions"):
        OffloadDataset.load(tmp_path / "forged.npz")


def test_a_sequential_policy_sees_each_slot_when_it_places_that_subtask():
    """A hand-made network that goes to the edge exactly when the observed b1 exceeds 1 MB/s."""
    n = 5
    layout = SequentialLayout(n)
    linear = nn.Linear(layout.size, 3)
    with torch.no_grad():
        linear.weight.zero_()
        linear.bias.zero_()
        linear.weight[1, layout.bandwidth_offset] = 1.0  # score of the edge: b1 - 1 MB/s
        linear.bias[1] = -1.0
    policy = NetworkPolicy("edge_when_fast", nn.Sequential(linear), "sequential", n)
    model = ChannelModel.build("iid", 0.0, "paper")
    rng = np.random.default_rng(3)
    tasks, slots = model.realise(sample_states(200, n_subtasks=n, rng=rng), rng)
    decisions = policy.decide_on_slots(tasks, slots)
    assert np.array_equal(decisions, (slots.edge_bandwidths[:, :n] > 1e6).astype(np.int8))
    # Without slots it sees slot 0 at every step.
    first = (tasks.edge_bandwidth > 1e6)[:, None].repeat(n, axis=1)
    assert np.array_equal(policy.decide(tasks), first.astype(np.int8))


def test_demonstrations_and_the_dagger_expert_follow_the_mdp_expert():
    model = ChannelModel.build(MarkovChannel(stay=0.7), 0.1, "paper")
    data = generate_dataset(
        50, channel=model.channel, outage_probability=0.1, rng=np.random.default_rng(4)
    )
    expert = MdpExpert(data.states, model)
    observations, actions = sequential_demonstrations(data, np.zeros((50, 6), dtype=np.int64))
    layout = SequentialLayout(6)
    shown = observations[:, layout.bandwidth_offset : layout.n_task_features].reshape(50, 6, 2)
    assert np.allclose(shown[..., 0] * 1e6, data.slots.edge_bandwidths[:, :6], rtol=1e-6)
    # The DAgger expert, asked from observations, answers as the MDP expert at that slot.
    dagger_expert = OptimalExpertPolicy(6, "latency", model)
    asked = dagger_expert._predict(torch.from_numpy(observations)).numpy().reshape(50, 6)
    steps = np.tile(np.arange(6), (50, 1))
    direct = np.stack(
        [
            expert(
                steps[:, t],
                np.zeros(50, dtype=np.int64),
                data.slots.edge_bandwidths[:, t],
                data.slots.cloud_bandwidths[:, t],
            )
            for t in range(6)
        ],
        axis=1,
    )
    # Float32 observations rebuild the task to about 7 digits: near-ties may differ.
    assert (asked == direct).mean() > 0.98
    assert actions.shape == (300,)


def test_the_quick_study_writes_its_tables_and_plot(tmp_path):
    results = study.run(tmp_path, sizes=study.QUICK, progress=False)
    assert len(results) == 10
    for label, row in results.items():
        assert row["mdp"]["ratio_to_mdp"] == 1.0
        assert row["clairvoyant"]["mean_ratio_clairvoyant"] == 1.0
        for figures in row.values():
            assert figures["mean_ratio_clairvoyant"] >= 1.0 - 1e-12
        learned = label in study.DEFAULT_LEARNED
        assert all((name in row) == learned for name in study.LEARNED_POLICIES)
    # The static reliable channel: every expert is the paper's optimum.
    static = results["static, q=0"]
    for name in ("mdp", "certainty_equivalent", "one_shot_optimal"):
        assert static[name]["mean_ratio_clairvoyant"] == 1.0
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["results"]["iid, q=0"]["greedy"] == results["iid, q=0"]["greedy"]
    assert "| markov 0.7, q=0 |" in (tmp_path / "results.md").read_text()
    assert (tmp_path / "channels.png").stat().st_size > 10_000
    with pytest.raises(ValueError, match="unknown configurations"):
        study.run(tmp_path, sizes=study.QUICK, learned=("markov",), progress=False)


@pytest.mark.slow
def test_sequential_learners_come_within_5_percent_of_the_mdp_expert_on_markov():
    """The issue's target, at the study's full sizes: dil_seq and DQN within 5% of the MDP
    expert (ratio of means) on markov with stay 0.7."""
    pin_threads()  # as the study runs: one torch thread, the same numbers
    setting = next(s for s in study.configurations() if s.label == "markov 0.7, q=0")
    row = study.run_configuration(setting, study.Sizes(), learn=True, progress=False)
    assert row["dil_seq"]["ratio_to_mdp"] <= 1.05
    assert row["dqn"]["ratio_to_mdp"] <= 1.05


def test_slots_of_the_wrong_batch_are_refused():
    n = 3
    tasks = sample_states(4, n_subtasks=n, rng=np.random.default_rng(0))
    policy = NetworkPolicy(
        "p", nn.Sequential(nn.Linear(SequentialLayout(n).size, 3)), "sequential", n
    )
    wrong = Slots.fixed(sample_states(5, n_subtasks=n, rng=np.random.default_rng(0)))
    with pytest.raises(ValueError, match="slots must have shape"):
        policy.decide_on_slots(tasks, wrong)
