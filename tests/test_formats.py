"""PyTorch, HDF5, Parquet, Feather and safetensors files: the same numbers as the npz twin.

Each writer is the library's own (torch.save, h5py, pandas.to_parquet / to_feather,
safetensors.numpy.save_file); the readers must give back the very arrays, and
``infomec score`` on each file the very scores of the ``.npz`` file.
"""

from __future__ import annotations

import builtins
import json
import subprocess
import sys

import numpy as np
import pytest

import cli
from infomec.inputs import formats
from infomec.inputs.files import load_array
from infomec.inputs.formats import array_names, read_arrays, sniff_format

try:  # the PyTorch files need torch ([models]); the other formats do not
    import torch
except ImportError:
    torch = None
h5py = pytest.importorskip("h5py")
pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")
safetensors_numpy = pytest.importorskip("safetensors.numpy")


@pytest.fixture
def twins(tmp_path, rng):
    """One sample saved in every format, beside its .npz twin."""
    sources = rng.integers(0, 4, size=(600, 3))
    latents = (sources + 0.3 * rng.standard_normal(sources.shape)).astype(np.float32)
    latents = np.column_stack([latents, rng.standard_normal(600).astype(np.float32)])
    columns = [f"z{j}" for j in range(latents.shape[1])]
    np.savez(tmp_path / "latents.npz", latents=latents)
    np.savez(tmp_path / "sources.npz", sources=sources, source_names=np.array(["a", "b", "c"]))
    _save_torch_twins(tmp_path, latents)
    with h5py.File(tmp_path / "run.h5", "w") as handle:
        handle["eval/latents"] = latents
        handle["eval/latent_names"] = np.array(columns, dtype=h5py.string_dtype())
        handle["images"] = np.zeros((600, 2, 2), dtype=np.uint8)
    pd.DataFrame(latents, columns=columns).to_parquet(tmp_path / "latents.parquet")
    pd.DataFrame(latents, columns=columns).to_feather(tmp_path / "latents.feather")
    safetensors_numpy.save_file({"latents": latents}, str(tmp_path / "latents.safetensors"))
    return tmp_path, latents, columns


def _save_torch_twins(tmp_path, latents):
    if torch is None:
        return
    torch.save(torch.from_numpy(latents), tmp_path / "bare.pt")
    torch.save({"latents": torch.from_numpy(latents)}, tmp_path / "dict.pth")
    torch.save({"latents": latents}, tmp_path / "numpy.pt")  # numpy inside a .pt
    torch.save(
        {"latents": torch.from_numpy(latents)},
        tmp_path / "legacy.pt",
        _use_new_zipfile_serialization=False,
    )


EXPECTED = {
    "bare.pt": "torch",
    "dict.pth": "torch",
    "numpy.pt": "torch",
    "legacy.pt": "torch",
    "run.h5": "hdf5",
    "latents.parquet": "parquet",
    "latents.feather": "feather",
    "latents.safetensors": "safetensors",
    "latents.npz": None,
}
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch files need torch ([models])")


def _formats(*, with_torch: bool = True) -> list:
    """The file names of EXPECTED with a format, those of PyTorch files marked."""
    return [
        pytest.param(name, marks=[needs_torch] if fmt == "torch" else [])
        for name, fmt in EXPECTED.items()
        if fmt and (with_torch or fmt != "torch")
    ]


def test_formats_are_sniffed_from_content_not_names(twins):
    folder, _, _ = twins
    for name, fmt in EXPECTED.items():
        if fmt == "torch" and torch is None:
            continue
        assert sniff_format(folder / name) == fmt, name
        renamed = folder / f"renamed_{name}.bin"
        renamed.write_bytes((folder / name).read_bytes())
        assert sniff_format(renamed) == fmt, name
    (folder / "text.csv").write_text("a,b\n1,2\n")
    assert sniff_format(folder / "text.csv") is None


@pytest.mark.parametrize("name", _formats())
def test_each_format_reads_the_same_array_as_the_npz_twin(twins, name):
    folder, latents, columns = twins
    key = "eval/latents" if name == "run.h5" else None
    loaded = load_array(folder / name, "latents", key)
    np.testing.assert_array_equal(np.asarray(loaded.values), latents)
    assert np.asarray(loaded.values).dtype == latents.dtype
    if name in ("run.h5", "latents.parquet", "latents.feather"):
        assert loaded.names == columns
    assert loaded.read["format"] == EXPECTED[name]


def test_read_arrays_gives_every_array(twins):
    folder, latents, columns = twins
    arrays = read_arrays(folder / "run.h5", "hdf5")
    assert sorted(arrays) == ["eval/latent_names", "eval/latents", "images"]
    assert list(arrays["eval/latent_names"]) == columns
    assert array_names(folder / "run.h5", "hdf5") == sorted(arrays)
    only = read_arrays(folder / "run.h5", "hdf5", key="/eval/latents")
    assert sorted(only) == ["eval/latent_names", "eval/latents"]  # names beside it come too
    if torch is not None:
        assert list(read_arrays(folder / "bare.pt", "torch")) == [formats.SINGLE_ARRAY_KEY]
    frame = read_arrays(folder / "latents.parquet", "parquet")["table"]
    assert isinstance(frame, pd.DataFrame) and list(frame.columns) == columns
    assert array_names(folder / "latents.safetensors", "safetensors") == ["latents"]


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("dict.pth", marks=needs_torch),
        "run.h5",
        "latents.parquet",
        "latents.safetensors",
    ],
)
def test_the_command_gives_the_npz_scores(twins, name, capsys):
    folder, _, _ = twins
    common = ["-q", "score", "--format", "json", "--seed", "1"]
    assert cli.main([*common, str(folder / "latents.npz"), str(folder / "sources.npz")]) == 0
    expected = json.loads(capsys.readouterr().out)
    extra = ["--latents-key", "eval/latents"] if name == "run.h5" else []
    assert cli.main([*common, *extra, str(folder / name), str(folder / "sources.npz")]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["infomec"] == expected["infomec"]
    assert got["inputs"]["latents"]["read"]["format"] == EXPECTED[name]


@needs_torch
def test_sources_with_names_in_a_pt_dict(tmp_path, rng):
    sources = rng.integers(0, 3, size=(90, 2))
    torch.save(
        {"sources": torch.from_numpy(sources), "source_names": ["shape", "size"]},
        tmp_path / "s.pt",
    )
    loaded = load_array(tmp_path / "s.pt", "sources")
    np.testing.assert_array_equal(loaded.values, sources)
    assert loaded.names == ["shape", "size"] and loaded.read["names_key"] == "source_names"
    with pytest.raises(ValueError, match="swapped"):
        load_array(tmp_path / "s.pt", "latents")


@needs_torch
def test_bfloat16_tensors_become_float32(tmp_path):
    values = torch.arange(12, dtype=torch.bfloat16).reshape(6, 2)
    torch.save(values, tmp_path / "b.pt")
    read = read_arrays(tmp_path / "b.pt", "torch")[formats.SINGLE_ARRAY_KEY]
    assert read.dtype == np.float32 and read.tolist() == values.float().tolist()


class _Payload:
    """A pickled object whose unpickling would run code."""

    def __reduce__(self):
        return (print, ("unpickled!",))


@needs_torch
def test_pickles_beyond_weights_only_are_refused(tmp_path, capsys):
    torch.save({"latents": torch.zeros(4, 2), "x": _Payload()}, tmp_path / "evil.pt")
    torch.save({"latents": np.array([_Payload()], dtype=object)}, tmp_path / "evil2.pt")
    for name in ("evil.pt", "evil2.pt"):
        with pytest.raises(ValueError, match="weights_only=True"):
            read_arrays(tmp_path / name, "torch")
    assert "unpickled!" not in capsys.readouterr().out


@needs_torch
@pytest.mark.parametrize(
    ("saved", "message"),
    [
        (lambda: [torch.zeros(3)], "holds a value of type list"),
        (lambda: {"latents": 3}, "'latents' holds a value of type int"),
        (lambda: {"latents": torch.zeros(3, 2), "model": {"w": torch.zeros(2)}}, "'model' holds"),
        (lambda: {1: torch.zeros(3)}, "keys must be strings"),
    ],
)
def test_anything_but_tensors_is_refused_in_one_line(tmp_path, saved, message):
    torch.save(saved(), tmp_path / "bad.pt")
    with pytest.raises(ValueError, match=message) as caught:
        read_arrays(tmp_path / "bad.pt", "torch")
    assert "\n" not in str(caught.value)


@needs_torch
def test_a_sparse_tensor_is_refused(tmp_path):
    torch.save(torch.eye(3).to_sparse(), tmp_path / "sparse.pt")
    with pytest.raises(ValueError, match="sparse tensor"):
        read_arrays(tmp_path / "sparse.pt", "torch")


@pytest.mark.parametrize("name", _formats())
def test_corrupt_files_give_one_line(twins, name):
    folder, _, _ = twins
    original = (folder / name).read_bytes()
    broken = folder / f"broken_{name}"
    broken.write_bytes(original[: max(len(original) // 3, 16)])  # truncated
    fmt = sniff_format(broken) or EXPECTED[name]
    with pytest.raises(ValueError) as caught:
        load_array(broken, "latents", "eval/latents" if fmt == "hdf5" else None)
    assert "\n" not in str(caught.value) and str(broken) in str(caught.value)


def test_a_corrupt_file_is_an_error_from_the_command(twins, capsys):
    folder, _, _ = twins
    broken = folder / "broken.safetensors"
    broken.write_bytes((folder / "latents.safetensors").read_bytes()[:200])
    assert cli.main(["score", str(broken), str(folder / "sources.npz")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("infomec: error:") and error.count("\n") == 1


def test_keys_are_checked(twins):
    folder, _, _ = twins
    with pytest.raises(ValueError, match="no array named 'nope'.*eval/latents"):
        read_arrays(folder / "run.h5", "hdf5", key="nope")
    if torch is not None:
        with pytest.raises(ValueError, match="no array named 'nope'"):
            read_arrays(folder / "dict.pth", "torch", key="nope")
    with pytest.raises(ValueError, match="a key does not apply"):
        read_arrays(folder / "latents.parquet", "parquet", key="z0")
    with pytest.raises(ValueError, match="several arrays"):  # latents not named: choose one
        load_array(folder / "run.h5", "latents")
    with pytest.raises(ValueError, match="format must be one of"):
        read_arrays(folder / "run.h5", "pickle")


@pytest.mark.parametrize(
    ("name", "fmt", "library", "extra"),
    [
        pytest.param("dict.pth", "torch", "torch", "models", marks=needs_torch),
        ("run.h5", "hdf5", "h5py", "files"),
        ("latents.parquet", "parquet", "pyarrow", "files"),
        ("latents.feather", "feather", "pyarrow", "files"),
        ("latents.safetensors", "safetensors", "safetensors", "files"),
    ],
)
def test_a_missing_library_names_the_extra(twins, monkeypatch, name, fmt, library, extra):
    folder, _, _ = twins
    real_find_spec = formats.importlib.util.find_spec
    monkeypatch.setattr(
        formats.importlib.util,
        "find_spec",
        lambda module, *a: None if module == library else real_find_spec(module, *a),
    )
    real_import = builtins.__import__
    monkeypatch.setattr(
        builtins,
        "__import__",
        lambda module, *a, **k: (
            (_ for _ in ()).throw(ImportError(module))
            if module.partition(".")[0] == library
            else real_import(module, *a, **k)
        ),
    )
    with pytest.raises(ValueError, match=rf"pip install 'infomec\[{extra}\]'") as caught:
        read_arrays(folder / name, fmt)
    assert "\n" not in str(caught.value) and library in str(caught.value)


def test_reading_other_formats_never_imports_torch(twins):
    folder, _, _ = twins
    code = (
        "import sys, infomec\n"
        "from infomec.inputs.files import load_array\n"
        f"load_array({str(folder / 'latents.npz')!r}, 'latents')\n"
        f"load_array({str(folder / 'latents.safetensors')!r}, 'latents')\n"
        f"load_array({str(folder / 'run.h5')!r}, 'latents', 'eval/latents')\n"
        f"load_array({str(folder / 'latents.parquet')!r}, 'latents')\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr


@pytest.mark.parametrize("name", ["junk.pt", "junk.h5", "junk.parquet", "junk.safetensors"])
def test_a_file_named_as_a_format_but_not_one_is_refused_as_such(tmp_path, name):
    (tmp_path / name).write_bytes(b"not what the name says, " * 8)
    with pytest.raises(ValueError, match=r"not a valid \w+ file .*corrupt or truncated"):
        load_array(tmp_path / name, "latents")


def test_text_columns_of_a_parquet_table_are_labels_for_sources_only(tmp_path, rng):
    codes = rng.integers(0, 3, 300)
    frame = pd.DataFrame({"shape": np.array(["disk", "cube", "ball"])[codes], "size": codes})
    frame.to_parquet(tmp_path / "s.parquet")
    loaded = load_array(tmp_path / "s.parquet", "sources")
    assert loaded.names == ["shape", "size"] and loaded.values.shape == (300, 2)
    with pytest.raises(ValueError, match="latents column 'shape' is not numeric"):
        load_array(tmp_path / "s.parquet", "latents")
