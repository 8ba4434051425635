"""Outputs never destroy: inputs refused by inode, write-through for non-regular files,
modes kept, errors that name the target, folders replaced as one set."""

from __future__ import annotations

import os
import stat
import threading
import warnings

import numpy as np
import pytest

import cli
import infomec
from infomec.outputs import MARKER, check_file, check_folder, write_file, write_folder


@pytest.fixture
def files(tmp_path, rng):
    sources = rng.integers(0, 3, size=(300, 2))
    latents = sources + 0.1 * rng.standard_normal(sources.shape)
    np.savez(tmp_path / "sources.npz", sources=sources)
    np.savez(tmp_path / "latents.npz", latents=latents)
    return tmp_path


def run(argv, capsys):
    status = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _score_argv(folder, output):
    return ["score", folder / "latents.npz", folder / "sources.npz", "-o", output]


# ------------------------------------------------------------------ one file


@pytest.mark.parametrize("how", ["same path", "symlink", "hard link", "relative path"])
def test_an_input_is_never_overwritten(files, capsys, monkeypatch, how):
    before = (files / "sources.npz").read_bytes()
    target = {
        "same path": files / "sources.npz",
        "symlink": files / "link.npz",
        "hard link": files / "hard.npz",
        "relative path": "./sub/../sources.npz",
    }[how]
    (files / "sub").mkdir()
    (files / "link.npz").symlink_to(files / "sources.npz")
    os.link(files / "sources.npz", files / "hard.npz")
    monkeypatch.chdir(files)

    def never(**_):  # the target is checked before anything is computed
        raise AssertionError("scored although the output was refused")

    monkeypatch.setattr(infomec, "score", never)
    status, out, err = run(_score_argv(files, target), capsys)
    assert status == 2 and out == ""
    assert err.startswith(f"infomec: error: {target}: is an input of this run")
    assert len(err.splitlines()) == 1
    assert (files / "sources.npz").read_bytes() == before
    assert (files / "link.npz").is_symlink()


def test_api_refuses_inputs_and_names_the_target(tmp_path):
    source = tmp_path / "s.csv"
    source.write_text("a\n1\n")
    with pytest.raises(ValueError, match="s.csv: is an input"):
        write_file(source, "x", inputs=[source])
    assert source.read_text() == "a\n1\n"


def test_replaced_file_keeps_its_mode_and_symlinks_are_followed(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    target.chmod(0o600)
    write_file(target, "new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    link = tmp_path / "link.json"
    link.symlink_to(target)
    write_file(link, "through the link")
    assert link.is_symlink() and target.read_text() == "through the link"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "out.json"]


def test_new_file_gets_the_umask_mode(tmp_path):
    previous = os.umask(0o027)
    try:
        write_file(tmp_path / "new.txt", "x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o640


def test_a_fifo_is_written_through_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    write_file(fifo, "through the pipe\n")
    reader.join(timeout=10)
    assert received == [b"through the pipe\n"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_devices_are_written_through(tmp_path):
    write_file("/dev/null", "nothing")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)  # still the device
    with pytest.raises(OSError, match=r"^/dev/full: cannot write \(No space left on device\)"):
        write_file("/dev/full", "x" * 100)


def test_dash_writes_to_stdout(files, capsys):
    status, out, err = run(_score_argv(files, "-"), capsys)
    assert status == 0, err
    assert '"infomec"' in out


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("folder", "is a folder; give a file name"),
        ("missing/out.json", "folder missing does not exist"),
        ("/dev/full", "/dev/full: cannot write (No space left on device)"),
    ],
)
def test_bad_targets_get_one_line_naming_them(files, capsys, monkeypatch, target, message):
    (files / "folder").mkdir()
    monkeypatch.chdir(files)
    status, out, err = run(_score_argv(files, target), capsys)
    assert status == 2 and out == ""
    assert message in err and len(err.splitlines()) == 1
    assert ".tmp" not in err
    assert sorted(p.name for p in files.iterdir()) == ["folder", "latents.npz", "sources.npz"]


def test_check_file_creates_nothing(tmp_path):
    check_file(tmp_path / "out.json")
    check_file("-")
    assert not list(tmp_path.iterdir())


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files")
def test_read_only_file_is_refused(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("keep")
    target.chmod(0o444)
    with pytest.raises(PermissionError, match="out.json: file is read-only"):
        write_file(target, "x")
    assert target.read_text() == "keep"


# ------------------------------------------------------------------ a set of files


def test_folder_set_replaces_only_its_own_files(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    write_folder(tmp_path, {"a.txt": "1", "b.txt": "2"})
    write_folder(tmp_path, {"a.txt": "3"})
    # b.txt was written by the previous set: gone; the user's file stays.
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [MARKER, "a.txt", "notes.txt"]
    assert (tmp_path / "a.txt").read_text() == "3"
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_user_file_with_a_stale_name_is_not_removed(tmp_path):
    (tmp_path / "b.txt").write_text("the user's, not ours")
    write_folder(tmp_path, {"a.txt": "1"})
    write_folder(tmp_path, {"a.txt": "2"})
    assert (tmp_path / "b.txt").read_text() == "the user's, not ours"


def test_folder_set_refuses_an_input_before_writing(tmp_path):
    (tmp_path / "a.txt").write_text("input")
    with pytest.raises(ValueError, match="a.txt: is an input"):
        write_folder(tmp_path, {"a.txt": "1", "b.txt": "2"}, inputs=[tmp_path / "a.txt"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_folder_set_is_created_and_keeps_modes(tmp_path):
    folder = tmp_path / "new" / "deeper"
    write_folder(folder, {"a.txt": "1"})
    (folder / "a.txt").chmod(0o600)
    write_folder(folder, {"a.txt": "2"})
    assert stat.S_IMODE((folder / "a.txt").stat().st_mode) == 0o600
    assert (folder / "a.txt").read_text() == "2"


def test_check_folder(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="exists and is not a folder"):
        check_folder(tmp_path / "file", ["a"])
    with pytest.raises(NotADirectoryError, match="cannot be created"):
        check_folder(tmp_path / "file" / "sub", ["a"])
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a").mkdir()
    with pytest.raises(IsADirectoryError, match="is a folder"):
        check_folder(tmp_path / "out", ["a"])
    os.mkfifo(tmp_path / "out" / "b")
    with pytest.raises(OSError, match="not a regular file"):
        check_folder(tmp_path / "out", ["b"])


def test_interrupted_folder_write_leaves_the_old_set(tmp_path, monkeypatch):
    write_folder(tmp_path, {"a.txt": "old a", "b.txt": "old b"})
    import infomec.outputs as outputs

    real = outputs._replace_regular
    calls = []

    def interrupted(path, data, mode=None):
        calls.append(path)
        if len(calls) == 2:  # while staging the second file
            raise KeyboardInterrupt
        return real(path, data, mode)

    monkeypatch.setattr(outputs, "_replace_regular", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_folder(tmp_path, {"a.txt": "new a", "b.txt": "new b"})
    assert (tmp_path / "a.txt").read_text() == "old a"
    assert (tmp_path / "b.txt").read_text() == "old b"
    assert sorted(p.name for p in tmp_path.iterdir()) == [MARKER, "a.txt", "b.txt"]


def test_a_signal_during_the_commit_is_delivered_after_it(tmp_path, monkeypatch):
    import signal

    import infomec.outputs as outputs

    write_folder(tmp_path, {"a.txt": "old a", "b.txt": "old b"})
    real_replace = os.replace
    seen = []

    def replace_then_signal(source, target):
        real_replace(source, target)
        if not seen and str(target) == str(tmp_path / "a.txt"):  # first rename of the commit
            seen.append(target)
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(outputs.os, "replace", replace_then_signal)
    with pytest.raises(KeyboardInterrupt):
        write_folder(tmp_path, {"a.txt": "new a", "b.txt": "new b"})
    assert seen and (tmp_path / "a.txt").read_text() == "new a"
    assert (tmp_path / "b.txt").read_text() == "new b"  # the whole new set


def test_staging_left_by_a_killed_process_is_removed(tmp_path):
    dead = tmp_path / ".infomec-staging-999999999-abc"
    dead.mkdir()
    (dead / "a.txt").write_text("half")
    write_folder(tmp_path, {"a.txt": "1"})
    assert not dead.exists()


# ------------------------------------------------------------------ the user's files


def test_marker_records_a_hash_per_file(tmp_path):
    import hashlib

    from infomec.outputs import MARKER_HEADER

    write_folder(tmp_path, {"a.txt": "1", "b.txt": b"2"})
    lines = (tmp_path / MARKER).read_text().splitlines()
    assert lines[0] == MARKER_HEADER
    assert lines[1:] == [
        f"{hashlib.sha256(b'1').hexdigest()}  a.txt",
        f"{hashlib.sha256(b'2').hexdigest()}  b.txt",
    ]


@pytest.mark.parametrize("change", ["edited", "replaced"])
def test_a_file_changed_by_the_user_is_kept_and_named(tmp_path, change):
    write_folder(tmp_path, {"a.txt": "1", "b.txt": "ours"})
    if change == "edited":
        with open(tmp_path / "b.txt", "a") as handle:
            handle.write(" and the user's notes")
    else:
        (tmp_path / "b.txt").unlink()
        (tmp_path / "b.txt").write_text("a different file of the same name")
    expected = (tmp_path / "b.txt").read_text()
    with pytest.warns(UserWarning, match=r"kept b\.txt .*changed since infomec wrote it"):
        write_folder(tmp_path, {"a.txt": "2"})
    assert (tmp_path / "b.txt").read_text() == expected
    # No longer listed as ours: the next run neither removes it nor warns again.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_folder(tmp_path, {"a.txt": "3"})
    assert (tmp_path / "b.txt").read_text() == expected


def test_an_unchanged_file_of_ours_is_still_removed(tmp_path):
    write_folder(tmp_path, {"a.txt": "1", "b.txt": "ours"})
    os.utime(tmp_path / "b.txt", (0, 0))  # touched, content unchanged: still ours
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_folder(tmp_path, {"a.txt": "2"})
    assert not (tmp_path / "b.txt").exists()


def test_an_old_marker_without_hashes_removes_nothing_and_warns_once(tmp_path):
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_text("written by an older infomec, or not")
    (tmp_path / MARKER).write_text("a.txt\nb.txt\nc.txt\n")
    with pytest.warns(UserWarning) as caught:
        write_folder(tmp_path, {"a.txt": "new"})
    messages = [str(w.message) for w in caught if "kept" in str(w.message)]
    assert len(messages) == 1 and "b.txt, c.txt" in messages[0], messages
    assert "no content hashes" in messages[0]
    assert (tmp_path / "b.txt").exists() and (tmp_path / "c.txt").exists()


def test_a_tampered_marker_cannot_reach_outside_the_folder(tmp_path):
    import hashlib

    from infomec.outputs import MARKER_HEADER

    outside = tmp_path / "outside.txt"
    outside.write_text("x")
    folder = tmp_path / "out"
    folder.mkdir()
    digest = hashlib.sha256(b"x").hexdigest()
    (folder / MARKER).write_text(f"{MARKER_HEADER}\n{digest}  ../outside.txt\n")
    write_folder(folder, {"a.txt": "1"})
    assert outside.read_text() == "x"


# ------------------------------------------------------------------ demo --out


def _demo(folder, capsys):
    return run(["demo", "--n-samples", "300", "--out", folder], capsys)


def test_demo_out_never_overwrites_a_file_it_did_not_write(tmp_path, capsys):
    (tmp_path / "sources.npz").write_bytes(b"the user's own sources")
    status, out, err = _demo(tmp_path, capsys)
    assert status == 2 and out == ""
    assert err.startswith("infomec: error: ") and err.count("\n") == 1
    assert "sources.npz: exists and was not written by infomec" in err
    assert (tmp_path / "sources.npz").read_bytes() == b"the user's own sources"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sources.npz"]


def test_demo_out_replaces_its_own_files_but_not_edited_ones(tmp_path, capsys):
    assert _demo(tmp_path, capsys)[0] == 0
    written = {name: (tmp_path / name).read_bytes() for name in cli.DEMO_FILES}
    assert _demo(tmp_path, capsys)[0] == 0  # ours, unchanged: replaced
    assert {name: (tmp_path / name).read_bytes() for name in cli.DEMO_FILES} == written
    np.savez(tmp_path / "entangled.npz", latents=np.zeros((3, 2)))  # the user's now
    edited = (tmp_path / "entangled.npz").read_bytes()
    status, _, err = _demo(tmp_path, capsys)
    assert status == 2 and "entangled.npz: exists and was not written by infomec" in err
    assert (tmp_path / "entangled.npz").read_bytes() == edited


def test_demo_out_into_an_existing_file_is_refused(tmp_path, capsys):
    target = tmp_path / "demo.txt"
    target.write_text("mine")
    status, _, err = _demo(target, capsys)
    assert status == 2 and "exists and is not a folder" in err
    assert target.read_text() == "mine"


def test_a_report_into_the_demo_folder_keeps_the_demo_files(tmp_path, capsys):
    assert _demo(tmp_path, capsys)[0] == 0
    status, _, err = run(
        ["report", tmp_path / "entangled.npz", tmp_path / "sources.npz", "--out", tmp_path],
        capsys,
    )
    assert status == 0, err
    assert all((tmp_path / name).is_file() for name in cli.DEMO_FILES)
