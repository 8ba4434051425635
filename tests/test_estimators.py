"""The numba kernels against scikit-learn and closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import digamma
from sklearn.feature_selection import mutual_info_classif
from sklearn.metrics import mutual_info_score

from infomec._validation import encode_columns
from infomec.estimators import (
    entropy_per_column,
    histogram_codes,
    ksg_mutual_information_matrix,
    plugin_mutual_information,
    plugin_mutual_information_matrix,
    prepare_continuous_latents,
)
from infomec.estimators.ksg import (
    _shrink_by_one_ulp,
    digamma_of_integers,
    ksg_mutual_information,
)


def _standardize(column: np.ndarray) -> np.ndarray:
    return (column - column.mean()) / column.std()


@pytest.mark.parametrize("n_values", [(2, 2), (5, 7), (30, 3), (400, 300)])
def test_plugin_mi_equals_sklearn(rng, n_values):
    a = rng.integers(0, n_values[0], 2000)
    b = (a + rng.integers(0, n_values[1], 2000)) % n_values[1]
    codes_a = encode_columns(a[:, None])
    codes_b = encode_columns(b[:, None])
    ours = plugin_mutual_information(
        codes_a.codes[0], codes_a.cardinalities[0], codes_b.codes[0], codes_b.cardinalities[0]
    )
    assert ours == pytest.approx(mutual_info_score(a, b), abs=1e-13, rel=1e-13)


def test_plugin_mi_sparse_path_equals_dense_path(rng):
    # 400 x 300 cells over 2000 rows takes the sorted-keys path; compare with sklearn's
    # sparse contingency result and with the symmetric call.
    a = rng.integers(0, 400, 2000)
    b = rng.integers(0, 300, 2000)
    ca, cb = encode_columns(a[:, None]), encode_columns(b[:, None])
    forward = plugin_mutual_information(
        ca.codes[0], ca.cardinalities[0], cb.codes[0], cb.cardinalities[0]
    )
    backward = plugin_mutual_information(
        cb.codes[0], cb.cardinalities[0], ca.codes[0], ca.cardinalities[0]
    )
    assert forward == pytest.approx(backward, abs=1e-12)
    assert forward == pytest.approx(mutual_info_score(a, b), abs=1e-12)


def test_plugin_mi_matrix_and_entropy(rng):
    sources = rng.integers(0, 4, size=(500, 3))
    latents = np.column_stack([sources[:, 0], rng.integers(0, 6, 500)])
    s, z = encode_columns(sources), encode_columns(latents)
    matrix = plugin_mutual_information_matrix(s.codes, s.cardinalities, z.codes, z.cardinalities)
    for i in range(3):
        for j in range(2):
            assert matrix[i, j] == pytest.approx(
                mutual_info_score(sources[:, i], latents[:, j]), abs=1e-13
            )
    entropies = entropy_per_column(s.codes, s.cardinalities)
    expected = [mutual_info_score(sources[:, i], sources[:, i]) for i in range(3)]
    np.testing.assert_allclose(entropies, expected, atol=1e-13)


def test_single_valued_variable_has_zero_information():
    codes = np.zeros(10, dtype=np.int32)
    other = np.arange(10, dtype=np.int32)
    assert plugin_mutual_information(codes, 1, other, 10) == 0.0


@pytest.mark.parametrize("k", [1, 3, 10])
@pytest.mark.parametrize("n_samples", [60, 500, 2000])
def test_ksg_matches_sklearn_on_tie_free_data(rng, k, n_samples):
    sources = rng.integers(0, 4, size=(n_samples, 2))
    sources[:3, 1] = 7  # a small class, and ...
    sources[3, 1] = 9  # ... a singleton class, which both estimators drop
    latents = np.column_stack(
        [
            sources[:, 0] + 0.7 * rng.standard_normal(n_samples),
            np.exp(rng.standard_normal(n_samples)),
            rng.standard_normal(n_samples) * 1e3 + 50,
        ]
    )
    encoded = encode_columns(sources)
    sorted_values, order = prepare_continuous_latents(latents, seed=0)
    ours = ksg_mutual_information_matrix(
        sorted_values, order, encoded.codes, encoded.cardinalities, k
    )
    for i in range(2):
        for j in range(3):
            reference = mutual_info_classif(
                _standardize(latents[:, j])[:, None], sources[:, i], n_neighbors=k, random_state=0
            )[0]
            assert ours[i, j] == pytest.approx(reference, abs=1e-9)


def test_ksg_tie_breaking_reproduces_sklearn_jitter(rng):
    # Heavily tied (quantized) latents: the jitter decides the neighbours. Ours draws the
    # same noise as mutual_info_classif(random_state=seed), so the estimates agree.
    sources = rng.integers(0, 3, size=(400, 1))
    latents = (sources + rng.integers(0, 2, size=(400, 1))).astype(float)
    encoded = encode_columns(sources)
    for seed in (0, 7):
        sorted_values, order = prepare_continuous_latents(latents, seed=seed)
        ours = ksg_mutual_information_matrix(
            sorted_values, order, encoded.codes, encoded.cardinalities, 3
        )
        reference = mutual_info_classif(
            _standardize(latents[:, 0])[:, None], sources[:, 0], n_neighbors=3, random_state=seed
        )[0]
        assert ours[0, 0] == pytest.approx(reference, abs=1e-6)


def test_ksg_constant_latent_is_zero(rng):
    sources = rng.integers(0, 3, size=(100, 1))
    latents = np.column_stack([np.full(100, 2.5), rng.standard_normal(100)])
    encoded = encode_columns(sources)
    sorted_values, order = prepare_continuous_latents(latents, seed=0)
    mi = ksg_mutual_information_matrix(
        sorted_values, order, encoded.codes, encoded.cardinalities, 3
    )
    assert mi[0, 0] == 0.0


def test_ksg_is_invariant_to_monotone_transforms(rng):
    sources = rng.integers(0, 5, size=(1500, 1))
    base = sources[:, 0] + rng.standard_normal(1500)
    encoded = encode_columns(sources)

    def estimate(column):
        sorted_values, order = prepare_continuous_latents(column[:, None], seed=0)
        return ksg_mutual_information_matrix(
            sorted_values, order, encoded.codes, encoded.cardinalities, 5
        )[0, 0]

    # Affine maps leave the standardised column unchanged; the estimate is then exact.
    assert estimate(3 * base + 2) == pytest.approx(estimate(base), abs=1e-12)


def _brute_force_ross(values: np.ndarray, labels: np.ndarray, k: int) -> float:
    """O(N^2) Ross estimate with the kernel's conventions, written independently.

    Singleton classes are dropped; ``k_c = min(k, N_c - 1)``; the radius is the k-th
    same-class distance shrunk by one ulp (computed as |x|^2 - 2xy + |y|^2 on the small
    classes where scikit-learn uses brute force); ``m`` counts squared differences
    within the squared radius, the point itself included.
    """
    classes, counts = np.unique(labels, return_counts=True)
    keep = np.isin(labels, classes[counts > 1])
    values, labels = values[keep], labels[keep]
    n = values.size
    psi_k = psi_class = psi_m = 0.0
    for t in range(n):
        same = np.sort(values[labels == labels[t]])
        n_c = same.size
        k_c = min(k, n_c - 1)
        # Stable: of two equally distant neighbours, the smaller value comes first.
        by_distance = np.argsort(np.abs(same - values[t]), kind="stable")
        neighbour = same[by_distance[k_c]]  # by_distance[0] is the point itself
        kth = abs(neighbour - values[t])
        if k_c >= n_c // 2:
            x, y = values[t], neighbour
            kth = np.sqrt(max((x * x + -2.0 * (x * y)) + y * y, 0.0))
        radius = np.nextafter(kth, 0.0)
        m = np.count_nonzero((values - values[t]) ** 2 <= radius * radius)
        psi_k += digamma(k_c)
        psi_class += digamma(n_c)
        psi_m += digamma(m)
    return max(digamma(n) + (psi_k - psi_class - psi_m) / n, 0.0)


@pytest.mark.parametrize("k", [1, 3, 10])
@pytest.mark.parametrize("kind", ["tie_free", "heavily_tied", "few_per_class"])
def test_ksg_kernel_matches_a_brute_force_count(rng, k, kind):
    # Exercises the sliding k-NN window and the bracketed counts against an O(N^2)
    # count: exact ties (quantised values without jitter), tiny classes (the
    # brute-force distance path) and imbalanced classes.
    n = 700
    if kind == "tie_free":
        labels = rng.integers(0, 6, n)
        values = labels * 0.3 + rng.standard_normal(n)
    elif kind == "heavily_tied":
        labels = rng.integers(0, 4, n)
        values = np.round(labels + 0.5 * rng.standard_normal(n), 2) / 3.0
    else:
        labels = np.concatenate([rng.integers(0, 150, n - 40), np.zeros(40, dtype=int)])
        values = labels % 7 + 0.3 * rng.standard_normal(n)
    order = np.argsort(values, kind="stable")
    encoded = encode_columns(labels[:, None])
    ours = ksg_mutual_information(
        values[order],
        encoded.codes[0][order],
        int(encoded.cardinalities[0]),
        k,
        digamma(np.arange(n + 1, dtype=np.float64)),
    )
    assert ours > 0.01  # informative, so the estimate is not clipped at 0
    assert ours == pytest.approx(_brute_force_ross(values, labels, k), abs=1e-12)


def test_digamma_table_equals_scipy():
    table = digamma_of_integers(200_001)
    reference = digamma(np.arange(200_001, dtype=np.float64))
    assert table[0] == reference[0] == -np.inf
    np.testing.assert_allclose(table[1:], reference[1:], rtol=4e-16, atol=1e-15)


def test_shrinking_by_one_ulp_equals_nextafter():
    tiny = np.finfo(np.float64).tiny
    values = np.concatenate(
        [
            [0.0, 5e-324, tiny, np.nextafter(tiny, 1.0), np.nextafter(tiny, 0.0), 1.0, 2.0],
            2.0 ** np.arange(-1074, 1000, 37, dtype=np.float64),
            np.abs(np.random.default_rng(0).standard_normal(1000)) * 1e-3,
            np.nextafter(2.0 ** np.arange(-1000, 1000, 13, dtype=np.float64), np.inf),
        ]
    )
    shrunk = np.array([_shrink_by_one_ulp(value) for value in values])
    np.testing.assert_array_equal(shrunk, np.nextafter(values, 0.0))


@pytest.mark.parametrize("n_bins", [2, 5, 20])
def test_histogram_codes_follow_disentanglement_lib(rng, n_bins):
    values = rng.standard_normal((300, 3))
    values[:, 2] = 1.5  # constant column: np.histogram widens the range by 0.5
    codes, cardinalities = histogram_codes(values, n_bins)
    for j in range(3):
        reference = np.digitize(values[:, j], np.histogram(values[:, j], n_bins)[1][:-1])
        _, expected = np.unique(reference, return_inverse=True)
        np.testing.assert_array_equal(codes[j], expected)
        assert cardinalities[j] == np.unique(reference).size


@pytest.mark.parametrize(
    "dtype", [np.int8, np.uint8, np.int16, np.int32, np.int64, np.uint32, np.uint64]
)
def test_encode_columns_counting_path_equals_np_unique(rng, dtype):
    # Small spans are encoded by counting, large ones by sorting; near the dtype's
    # limits the offsets wrap around in int64 arithmetic and must still be exact.
    info = np.iinfo(dtype)
    columns = [
        rng.integers(info.min, info.min + 50, 600, dtype=dtype, endpoint=True),
        rng.integers(info.max - 50, info.max, 600, dtype=dtype, endpoint=True),
        rng.integers(info.min, info.max, 600, dtype=dtype, endpoint=True),
        rng.integers(0, 4, 600).astype(dtype),
    ]
    encoded = encode_columns(np.column_stack(columns))
    for j, column in enumerate(columns):
        unique, codes = np.unique(column, return_inverse=True)
        np.testing.assert_array_equal(encoded.codes[j], codes)
        assert encoded.cardinalities[j] == unique.size
