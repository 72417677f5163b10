# `make test` and `make reproduce` set everything up on first use.
PYTHON ?= python3
VENV := .venv
GYM1_VENV := .venv-gym1
RAY_VENV := .venv-ray
PIP := --quiet --disable-pip-version-check
# Long training tests run only with `make test-slow`.
PYTEST_ARGS ?=

.PHONY: docs test test-ray test-slow benchmark-ray reproduce reproduce-quick compare benchmark benchmark-dag benchmark-vector reward-modes channels channels-quick dag dag-quick multi multi-quick lint clean

# torch==2.13.0 first: it is a CPU build here, and a bare `torch` requirement
# would pull a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP) --upgrade pip
	$(VENV)/bin/pip install $(PIP) torch==2.13.0
	$(VENV)/bin/pip install $(PIP) -e ".[baselines,test,distributed,docs]" ruff==0.17.6
	touch $@

# The env alone on gymnasium 1.x, without torch, SB3 or imitation (which pins gymnasium 0.29).
$(GYM1_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(GYM1_VENV)
	$(GYM1_VENV)/bin/pip install $(PIP) --upgrade pip
	$(GYM1_VENV)/bin/pip install $(PIP) -e ".[test]" "gymnasium>=1.0,<2"
	touch $@

# RLlib (about 0.8 GB) pins gymnasium 1.x, which imitation refuses: a venv of its own.
$(RAY_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(RAY_VENV)
	$(RAY_VENV)/bin/pip install $(PIP) --upgrade pip
	$(RAY_VENV)/bin/pip install $(PIP) torch==2.13.0
	$(RAY_VENV)/bin/pip install $(PIP) -e ".[rllib,test]"
	touch $@

test: $(VENV)/.installed $(GYM1_VENV)/.installed
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)
	$(GYM1_VENV)/bin/python -c "import gymnasium; print('env tests on gymnasium', gymnasium.__version__)"
	$(GYM1_VENV)/bin/python -m pytest tests/env tests/multi $(PYTEST_ARGS)

# On a local Ray instance: the Ray executor and sweeps (Ray beside SB3 and imitation),
# then the RLlib example and the env tests on RLlib's gymnasium.
test-ray: $(VENV)/.installed $(RAY_VENV)/.installed
	$(VENV)/bin/python -m pytest -m ray tests/ray $(PYTEST_ARGS)
	$(RAY_VENV)/bin/python -m pytest -m "rllib or not (slow or ray)" tests/ray/test_rllib_example.py tests/ray/test_rllib_multi_example.py tests/env $(PYTEST_ARGS)

# The documentation site: warnings (a broken page, a dangling reference, a docstring
# Sphinx cannot read) fail the build. The env pages and their frames are generated.
docs: $(VENV)/.installed
	rm -rf docs/_build docs/envs
	$(VENV)/bin/sphinx-build -W --keep-going -q -b html docs docs/_build/html
	@echo "docs/_build/html/index.html"

test-slow: $(VENV)/.installed
	$(VENV)/bin/python -m pytest -m slow $(PYTEST_ARGS)

PYTHON_TREES := gym_mecoffload baselines tests examples benchmarks docs/conf.py docs/_ext

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check $(PYTHON_TREES)
	$(VENV)/bin/ruff format --check $(PYTHON_TREES)

compare: $(VENV)/.installed
	$(VENV)/bin/python -m gym_mecoffload.compare --out results/compare

# The paper's Fig. 5, Fig. 6 and Table 1 (about 30 minutes on 2 cores).
reproduce: $(VENV)/.installed
	$(VENV)/bin/python -m baselines.studies.reproduce --out results/reproduce

reproduce-quick: $(VENV)/.installed
	$(VENV)/bin/python -m baselines.studies.reproduce --quick --out results/reproduce-quick

benchmark: $(VENV)/.installed
	$(VENV)/bin/python benchmarks/bench_env.py

# The vector env against gymnasium 1.x's CartPoleVectorEnv, and single-task delays.
# The DAG family: env steps against CartPole, the vector env, policies' time per task.
benchmark-dag: $(VENV)/.installed
	$(VENV)/bin/python benchmarks/bench_dag_env.py

benchmark-vector: $(GYM1_VENV)/.installed
	$(GYM1_VENV)/bin/python benchmarks/bench_vector.py

# DQN and PPO with absolute against relative rewards (about 15 minutes on 2 cores).
reward-modes: $(VENV)/.installed
	$(VENV)/bin/python -m baselines.studies.reward_modes --out results/reward_modes

channels: $(VENV)/.installed
	$(VENV)/bin/python -m baselines.studies.channels --out results/channels

channels-quick: $(VENV)/.installed
	$(VENV)/bin/python -m baselines.studies.channels --quick --out results/channels-quick

# The multi-user study (about 22 minutes on 2 cores with two workers; docs/studies/multi.md).
multi: $(VENV)/.installed
	$(VENV)/bin/python -m baselines.multi --out results/multi --executor local --workers 2

multi-quick: $(VENV)/.installed
	$(VENV)/bin/python -m baselines.multi --quick --out results/multi-quick

dag: $(VENV)/.installed
	$(VENV)/bin/python -m baselines.studies.dag --out results/dag

dag-quick: $(VENV)/.installed
	$(VENV)/bin/python -m baselines.studies.dag --quick --out results/dag-quick

# DAG labelling throughput on a local Ray instance against local processes, 1 and 2 workers.
benchmark-ray: $(VENV)/.installed
	$(VENV)/bin/python benchmarks/bench_ray_labelling.py

clean:
	rm -rf $(VENV) $(GYM1_VENV) $(RAY_VENV) results .pytest_cache .hypothesis *.egg-info
