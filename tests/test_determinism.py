"""Same inputs and seed, same numbers: within a process, across processes and n_jobs."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import infomec
from tests.conftest import disentangled_code, factorial_sample


@pytest.fixture(scope="module")
def sample():
    rng = np.random.default_rng(3)
    sources = factorial_sample(rng, 3000, sizes=(3, 6, 4))
    latents = disentangled_code(rng, sources, 0.3)
    # Quantize one latent so tie-breaking (the seeded jitter) matters.
    latents[:, 1] = np.round(latents[:, 1] * 3)
    return latents, sources


def _payload(result):
    payload = result.to_dict()
    payload.pop("elapsed_s")
    return payload


def test_same_seed_same_output(sample):
    latents, sources = sample
    first = infomec.score(latents=latents, sources=sources, seed=5)
    second = infomec.score(latents=latents, sources=sources, seed=5)
    assert _payload(first) == _payload(second)


def test_identical_across_n_jobs(sample):
    latents, sources = sample
    serial = infomec.score(latents=latents, sources=sources, n_jobs=1)
    parallel = infomec.score(latents=latents, sources=sources, n_jobs=2)
    assert _payload(serial) == _payload(parallel)


def test_seed_changes_only_tie_broken_entries(sample):
    latents, sources = sample
    first = infomec.score(latents=latents, sources=sources, seed=0).nmi
    second = infomec.score(latents=latents, sources=sources, seed=1).nmi
    # Tie-free columns do not depend on the jitter; the quantized column does.
    np.testing.assert_array_equal(first[:, [0, 2]], second[:, [0, 2]])
    assert not np.array_equal(first[:, 1], second[:, 1])


def test_identical_across_processes(sample, tmp_path):
    latents, sources = sample
    np.save(tmp_path / "z.npy", latents)
    np.save(tmp_path / "s.npy", sources)
    outputs = []
    for _ in range(2):
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "cli",
                "score",
                str(tmp_path / "z.npy"),
                str(tmp_path / "s.npy"),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        payload = json.loads(completed.stdout)
        payload.pop("elapsed_s")
        outputs.append(payload)
    assert outputs[0] == outputs[1]
    in_process = _payload(infomec.score(latents=latents, sources=sources))
    assert outputs[0]["infomec"] == in_process["infomec"]
