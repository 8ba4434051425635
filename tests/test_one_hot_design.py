"""The grouped-code one-hot design against the dense matrix it stands for."""

from __future__ import annotations

import numpy as np
import pytest

from infomec.probes.one_hot_design import OneHotDesign


def _dense_dummies(codes) -> np.ndarray:
    """Intercept, then each latent's indicators of values 1 .. V - 1, by hand."""
    columns = [np.ones(codes[0].shape[0])]
    for code in codes:
        columns += [(code == value).astype(float) for value in range(1, code.max() + 1)]
    return np.column_stack(columns)


@pytest.mark.parametrize(
    "cardinalities",
    [
        [3, 1, 40, 2, 7, 11, 5, 1500, 2],  # a constant latent; one above the group limit
        [10] * 12,  # groups of three
        [1, 1],  # nothing but the intercept
        [4],
    ],
)
def test_products_and_rows_match_the_dense_design(rng, cardinalities):
    codes = [rng.integers(0, size, 600) for size in cardinalities]
    for code, size in zip(codes, cardinalities, strict=True):
        code[:size] = np.arange(size)[: code.size]  # every value present
    design = OneHotDesign.from_codes(codes)
    dense = _dense_dummies(codes)
    np.testing.assert_array_equal(design.toarray(), dense)
    assert design.shape == dense.shape and design.nnz == np.count_nonzero(dense)
    coef = rng.standard_normal((dense.shape[1], 3))
    values = rng.standard_normal((600, 3))
    np.testing.assert_allclose(design @ coef, dense @ coef, atol=1e-12)
    np.testing.assert_allclose(design.T @ values, dense.T @ values, atol=1e-12)
    for rows in (slice(100, 350), np.sort(rng.permutation(600)[:200])):
        subset = design[rows]
        np.testing.assert_allclose(subset @ coef, dense[rows] @ coef, atol=1e-12)
        expected = dense[rows].T @ values[rows]
        np.testing.assert_allclose(subset.T @ values[rows], expected, atol=1e-12)
    if cardinalities == [10] * 12:
        assert design.cells.shape[0] == 4  # three latents of ten values per lookup
