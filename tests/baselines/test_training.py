"""Every training path learns: quick versions here, full-size ones marked slow."""

import numpy as np
import pytest
import torch
from scoring import normalised, random_normalised

from baselines import config
from baselines.dil import (
    OptimalExpertPolicy,
    one_shot_spaces,
    sequential_demonstrations,
    train_dil,
    train_dil_sequential,
)
from baselines.dqn import make_env, train_dqn
from baselines.kd import DistillationLoss, distill, head_logits, hinton_loss, recombine
from baselines.networks import actor_critic_policy, observation_statistics
from gym_mecoffload import generate_dataset, solvers
from gym_mecoffload.chain.model import TaskBatch
from gym_mecoffload.chain.observations import n_features


def learnt(history, factor: float = 0.7) -> bool:
    return history.epoch_loss[-1] < factor * history.epoch_loss[0]


def test_dil_learns(small_train, small_test):
    policy, history = train_dil(small_train, epochs=6, rng=np.random.default_rng(0), progress=False)
    assert learnt(history), history.epoch_loss
    assert normalised(policy, small_test) < 0.25 * random_normalised(small_test)
    assert policy.kind == "multilabel" and policy.n_parameters == 272_402


def test_dil_sequential_with_dagger_learns(small_train, small_test):
    policy, history = train_dil_sequential(
        small_train, epochs=3, dagger_timesteps=600, rng=np.random.default_rng(1), progress=False
    )
    assert len(history.epoch_loss) == 4  # three BC epochs and the DAgger rounds
    assert learnt(history), history.epoch_loss
    assert normalised(policy, small_test) < 0.25 * random_normalised(small_test)


def test_sequential_demonstrations_follow_the_optimal_path(small_train):
    observations, actions = sequential_demonstrations(small_train)
    assert observations.shape == (3000 * 6, 26) and actions.shape == (3000 * 6,)
    first = observations[6:12]  # task 1
    assert first[:, 17:23].argmax(1).tolist() == list(range(6))
    assert first[1:, 23:].argmax(1).tolist() == small_train.decisions[1, :-1].tolist()
    assert actions[6:12].tolist() == small_train.decisions[1].tolist()


def test_expert_answers_off_the_optimal_path():
    tasks = TaskBatch.from_features(
        generate_dataset(50, rng=np.random.default_rng(2)).features  # float32-exact tasks
    )
    expert = OptimalExpertPolicy(6)
    rng = np.random.default_rng(3)
    steps, previous = rng.integers(0, 6, 50), rng.integers(0, 3, 50)
    observations = np.zeros((50, 26), dtype=np.float32)
    observations[:, :17] = generate_dataset(50, rng=np.random.default_rng(2)).features
    observations[np.arange(50), 17 + steps] = 1
    observations[np.arange(50), 23 + previous] = 1
    actions, _ = expert.predict(observations, deterministic=True)
    assert np.array_equal(actions, solvers.optimal_next_place(tasks, steps, previous))


@pytest.fixture(scope="module")
def small_teacher(small_train):
    return train_dil(small_train, epochs=6, rng=np.random.default_rng(4), progress=False)[0]


@pytest.mark.parametrize(
    ("loss", "augment"),
    [
        ("paper", "recombine"),
        ("paper", "none"),
        ("hinton", "none"),
        ("dkd", "mixup"),
        ("bdd", "recombine"),
    ],
)
def test_distillation_learns(small_teacher, small_test, loss, augment):
    kd_train = generate_dataset(300, scenario="paper-kd", rng=np.random.default_rng(5))
    student, history = distill(
        small_teacher,
        (32, 32),
        kd_train.states,
        labels=kd_train.decisions if augment == "none" else None,
        loss=loss,
        augment=augment,
        epochs=40,
        rng=np.random.default_rng(6),
        progress=False,
    )
    # Cross-entropy against soft labels is floored by their entropy: a smaller fall.
    assert learnt(history, 0.95), history.epoch_loss
    assert student.n_parameters == 2_226
    assert normalised(student, small_test) < 0.5 * random_normalised(small_test)


def test_augmented_distillation_labels_the_synthetic_states(small_teacher, small_train):
    """The student is scored on the recombined batch, against the teacher's view of it."""
    observations = torch.tensor(small_train.features[:64])
    actions = torch.as_tensor(small_train.decisions[:64].astype(np.int64))
    statistics = observation_statistics(small_train.features, n_features(6))
    student = actor_critic_policy(*one_shot_spaces(6), (32, 32), statistics)
    with torch.no_grad():  # confident logits, so that the hard-label term depends on the labels
        student.action_net.weight.mul_(100)
    calculator = DistillationLoss(
        small_teacher, "hinton", 5.0, "recombine", torch.Generator().manual_seed(9)
    )
    got = calculator(student, observations, actions)
    synthetic = recombine(observations, torch.Generator().manual_seed(9))
    with torch.no_grad():
        teacher = small_teacher.net(synthetic).view(-1, 6, 3)
        expected = hinton_loss(head_logits(student, synthetic, 6), teacher, teacher.argmax(-1), 5.0)
    assert got.loss.item() == pytest.approx(expected.item(), rel=1e-5)


def test_distill_rejects_bad_arguments(small_train):
    teacher, _ = train_dil(
        small_train, hidden=(8,), epochs=1, rng=np.random.default_rng(0), progress=False
    )
    states = small_train.states[:100]
    with pytest.raises(
        ValueError, match=r"loss must be one of \('paper', 'hinton', 'dkd', 'bdd'\); got 'mse'"
    ):
        distill(teacher, (32, 32), states, loss="mse", rng=np.random.default_rng())
    with pytest.raises(ValueError, match=r"temperature must be >= 1"):
        distill(teacher, (32, 32), states, temperature=0.5, rng=np.random.default_rng())
    with pytest.raises(
        ValueError, match=r"augment must be one of \('none', 'recombine', 'mixup'\); got 'flip'"
    ):
        distill(teacher, (32, 32), states, augment="flip", rng=np.random.default_rng())
    with pytest.raises(ValueError, match=r"pass labels=None, or augment='none'"):
        distill(
            teacher,
            (32, 32),
            states,
            labels=small_train.decisions[:100],
            rng=np.random.default_rng(),
        )
    with pytest.raises(ValueError, match=r"needs at least batch_size=64 samples; got 10"):
        distill(teacher, (32, 32), states[:10], rng=np.random.default_rng(), progress=False)


@pytest.mark.parametrize("formulation", ["sequential", "joint"])
def test_dqn_learns(small_test, formulation):
    steps = 6000 if formulation == "sequential" else 3000
    policy, history = train_dqn(
        formulation, timesteps=steps, rng=np.random.default_rng(7), progress=False
    )
    assert history.seconds > 0
    assert normalised(policy, small_test) < 0.5 * random_normalised(small_test)


def test_dqn_on_a_task_pool():
    pool = generate_dataset(100, scenario="paper-kd", rng=np.random.default_rng(8))
    # The training env serves only the pool's tasks...
    env = make_env("sequential", 6, "paper", pool.states)
    served = {tuple(env.reset(seed=seed)[0][:17]) for seed in range(60)}
    assert served <= {tuple(row) for row in pool.features} and len(served) > 30
    # ...and DQN learns them.
    policy, _ = train_dqn(
        "sequential",
        task_pool=pool.states,
        timesteps=3000,
        rng=np.random.default_rng(9),
        progress=False,
    )
    assert policy.name == "dqn"
    assert normalised(policy, pool) < 0.5 * random_normalised(pool)
    with pytest.raises(ValueError, match="formulation must be 'sequential' or 'joint'"):
        train_dqn("both", timesteps=10, rng=np.random.default_rng())


# Full size: the targets. `make test-slow` runs these (tens of minutes).


@pytest.fixture(scope="module")
def full_run():
    """The Fig. 5 DIL teacher trained on 100K samples, and the 10K test set."""
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    train, test = generate_dataset(100_000, rng=rng), generate_dataset(10_000, rng=rng)
    teacher, _ = train_dil(train, rng=rng, progress=False)
    return teacher, test


@pytest.mark.slow
def test_full_dil_reaches_the_target(full_run):
    teacher, test = full_run
    assert normalised(teacher, test) <= 1.03


@pytest.mark.slow
def test_full_kd_dil_beats_baseline_dil_and_dqn_on_1k(full_run):
    teacher, test = full_run
    rng = np.random.default_rng(1)
    kd_train = generate_dataset(1000, scenario="paper-kd", rng=rng)
    student, _ = distill(teacher, config.STUDENT_HIDDEN, kd_train.states, rng=rng, progress=False)
    baseline, _ = train_dil(
        kd_train,
        hidden=config.STUDENT_HIDDEN,
        epochs=config.STUDENT_EPOCHS,
        batch_size=config.STUDENT_BATCH_SIZE,
        rng=rng,
        progress=False,
    )
    dqn, _ = train_dqn(
        "sequential",
        task_pool=kd_train.states,
        timesteps=config.DQN_1K_TIMESTEPS,
        rng=rng,
        progress=False,
    )
    kd_dil = normalised(student, test)
    assert kd_dil < normalised(baseline, test)
    assert kd_dil < normalised(dqn, test)


@pytest.mark.slow
def test_full_dqn_reaches_the_target():
    test = generate_dataset(10_000, rng=np.random.default_rng(1))
    policy, _ = train_dqn(
        "sequential", timesteps=config.DQN_TIMESTEPS, rng=np.random.default_rng(2), progress=False
    )
    assert normalised(policy, test) <= 1.10
