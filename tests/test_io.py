"""File loading: formats, keys, names, and one-line errors for bad files."""

from __future__ import annotations

import numpy as np
import pytest

from infomec.inputs.files import load_array, write_text_atomic


def test_npz_by_role_key_and_names(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(
        path,
        latents=np.zeros((4, 2)),
        sources=np.ones((4, 3)),
        source_names=np.array(["a", "b", "c"]),
    )
    loaded = load_array(path, "sources")
    assert loaded.values.shape == (4, 3) and loaded.names == ["a", "b", "c"]
    assert load_array(path, "latents").values.shape == (4, 2)


def test_npz_single_array_and_explicit_key(tmp_path):
    path = tmp_path / "z.npz"
    np.savez(path, arr_0=np.arange(6).reshape(3, 2))
    assert load_array(path, "latents").values.shape == (3, 2)
    assert load_array(path, "latents", key="arr_0").values.shape == (3, 2)
    with pytest.raises(ValueError, match="no array named 'missing'"):
        load_array(path, "latents", key="missing")


def test_npz_with_several_arrays_and_no_role_key(tmp_path):
    path = tmp_path / "many.npz"
    np.savez(path, a=np.zeros(3), b=np.zeros(3))
    with pytest.raises(ValueError, match="several arrays"):
        load_array(path, "latents")


def test_npy_and_csv(tmp_path):
    np.save(tmp_path / "z.npy", np.ones((5, 2)))
    assert load_array(tmp_path / "z.npy", "latents").values.shape == (5, 2)
    (tmp_path / "s.csv").write_text("shape,colour\n1,red\n2,blue\n1,red\n")
    loaded = load_array(tmp_path / "s.csv", "sources")
    assert loaded.names == ["shape", "colour"]
    # Text beside numbers: an object array whose columns keep their own values.
    assert loaded.values.dtype.kind == "O" and loaded.values.shape == (3, 2)
    assert loaded.values[:, 0].tolist() == [1, 2, 1]


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda p: p.with_suffix(".npz"), "no such file"),
        (lambda p: p.parent, "is a directory"),
    ],
)
def test_missing_and_directory(tmp_path, make, match):
    with pytest.raises(OSError, match=match):
        load_array(make(tmp_path / "nothing"), "latents")


def test_corrupt_truncated_pickled_and_malformed(tmp_path):
    good = tmp_path / "good.npz"
    np.savez(good, latents=np.zeros((50, 3)))
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:100])
    with pytest.raises(ValueError, match="truncated|corrupt|not a readable"):
        load_array(truncated, "latents")
    garbage = tmp_path / "garbage.npy"
    garbage.write_bytes(b"not numpy at all")
    with pytest.raises(ValueError, match="garbage.npy"):
        load_array(garbage, "latents")
    pickled = tmp_path / "pickled.npy"
    np.save(pickled, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="pickled"):
        load_array(pickled, "latents")
    malformed = tmp_path / "bad.csv"
    malformed.write_text('a,b\n1,2\n3,"4\n')
    with pytest.raises(ValueError, match="bad.csv"):
        load_array(malformed, "sources")
    other_file = tmp_path / "latents.dat"
    other_file.write_text("1 2 3\n")
    with pytest.raises(ValueError, match="unsupported file type"):
        load_array(other_file, "latents")


def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "out.json"
    write_text_atomic(target, "{}")
    assert target.read_text() == "{}"
    with pytest.raises(FileNotFoundError):
        write_text_atomic(tmp_path / "missing" / "out.json", "{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_fuzz_findings_are_clean_errors(tmp_path):
    """Regressions from benchmarks/fuzz_loader.py: each once escaped as another exception."""
    rng = np.random.default_rng(0)
    np.save(tmp_path / "valid.npy", rng.standard_normal((40, 2)))
    header_cut = tmp_path / "header.npy"  # tokenize.TokenError inside numpy's header parser
    header_cut.write_bytes((tmp_path / "valid.npy").read_bytes()[:40])
    with pytest.raises(ValueError, match="header.npy"):
        load_array(header_cut, "latents")
    np.savez_compressed(tmp_path / "valid.npz", latents=rng.standard_normal((200, 2)))
    payload = bytearray((tmp_path / "valid.npz").read_bytes())
    payload[120:140] = bytes(20)  # zlib.error while decompressing
    damaged = tmp_path / "damaged.npz"
    damaged.write_bytes(bytes(payload))
    with pytest.raises(ValueError, match="damaged.npz"):
        load_array(damaged, "latents")
    # Recognised by content: NumPy's magic makes it a (broken) .npy, whatever its name.
    not_zip = tmp_path / "fake.npz"
    not_zip.write_bytes(b"\x93NUMPY garbage")
    with pytest.warns(UserWarning, match="read as a .npy"):
        with pytest.raises(ValueError, match="fake.npz: not a readable .npy"):
            load_array(not_zip, "latents")
    neither = tmp_path / "neither.npz"
    neither.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="not a valid .npz"):
        load_array(neither, "latents")
