"""A local Ray instance with 2 CPUs, shared by the Ray tests (``make test-ray``)."""

import pytest

ray = pytest.importorskip(
    "ray", reason='the Ray tests need: pip install "gym-mecoffload[distributed]"'
)


@pytest.fixture(scope="session")
def ray_cluster():
    ray.init(num_cpus=2, include_dashboard=False)
    yield ray
    ray.shutdown()
