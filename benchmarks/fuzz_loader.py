"""Bounded-time fuzz of the file loaders: mutated .npz / .npy / .csv files.

Each round takes a valid file, applies random byte mutations (flips, overwrites,
insertions, deletions, truncation, duplicated chunks), writes it, and runs it through
the CLI's whole path (``cli.main(["score", ...])``) as latents or as sources. The only
acceptable outcomes are exit status 0 (the mutation left a valid file) or 2 with a
one-line message; any exception escaping ``cli.main`` is a finding, saved for replay.

Run:  python benchmarks/fuzz_loader.py --seconds 180
      (writes benchmarks/results/fuzz_loader.md; findings under /tmp/infomec-fuzz)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, command_line, machine  # noqa: E402

import cli  # noqa: E402


def seed_files(folder: Path) -> dict[str, bytes]:
    """Valid files of every supported kind, as bytes."""
    rng = np.random.default_rng(0)
    sources = rng.integers(0, 3, size=(40, 2))
    latents = sources + 0.1 * rng.standard_normal((40, 2))
    np.savez(folder / "a.npz", latents=latents, sources=sources, source_names=np.array(["x", "y"]))
    np.savez_compressed(folder / "b.npz", latents=latents)
    np.save(folder / "c.npy", latents)
    np.save(folder / "d.npy", sources.astype(np.int8))
    (folder / "e.csv").write_text("x,y\n" + "\n".join(f"{a},{b}" for a, b in sources) + "\n")
    # The forms the input layer detects: Excel's sep= line, decimal commas and '.'
    # thousands, trailing empty columns, a pandas index, text labels with stray spaces.
    rows = "\n".join(f"{1000 * a + b},5;{b};;" for a, b in sources)
    (folder / "f.csv").write_text("sep=;\nz;w;;\n" + rows.replace("000,", ".000,") + "\n")
    labels = np.array(["red", " green", "Blue "])[sources[:, 0]]
    pairs = enumerate(zip(labels, sources[:, 1], strict=True))
    (folder / "g.csv").write_text(
        ",colour,size\n" + "\n".join(f"{n},{c},{b}" for n, (c, b) in pairs) + "\n"
    )
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    buffer = bytearray(data)
    for _ in range(int(rng.integers(1, 6))):
        kind = rng.integers(0, 6)
        position = int(rng.integers(0, max(len(buffer), 1)))
        if kind == 0 and buffer:  # flip bits
            buffer[position % len(buffer)] ^= 1 << int(rng.integers(0, 8))
        elif kind == 1 and buffer:  # overwrite with an interesting byte
            buffer[position % len(buffer)] = int(rng.choice([0, 0xFF, 0x7F, 0x80, 0x2C, 0x0A]))
        elif kind == 2:  # insert random bytes
            buffer[position:position] = (
                rng.integers(0, 256, int(rng.integers(1, 16))).astype(np.uint8).tobytes()
            )
        elif kind == 3:  # delete a span
            del buffer[position : position + int(rng.integers(1, 32))]
        elif kind == 4:  # truncate
            del buffer[position:]
        else:  # duplicate a chunk
            chunk = buffer[position : position + int(rng.integers(1, 64))]
            buffer[position:position] = chunk
    return bytes(buffer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--findings", default="/tmp/infomec-fuzz")
    parser.add_argument("--output", default=str(RESULTS / "fuzz_loader.md"))
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    findings = Path(args.findings)
    findings.mkdir(parents=True, exist_ok=True)
    outcomes = {0: 0, 2: 0}
    crashes: list[str] = []
    rounds = 0
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        seeds = seed_files(folder)
        valid_sources = folder / "a.npz"
        valid_latents = folder / "c.npy"
        started = time.monotonic()
        while time.monotonic() - started < args.seconds:
            name = list(seeds)[int(rng.integers(0, len(seeds)))]
            mutated = folder / f"mutated{Path(name).suffix}"
            mutated.write_bytes(mutate(seeds[name], rng))
            as_latents = bool(rng.integers(0, 2))
            argv = (
                ["score", str(mutated), str(valid_sources)]
                if as_latents
                else ["score", str(valid_latents), str(mutated)]
            )
            stderr = io.StringIO()
            try:
                with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(stderr):
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        status = cli.main(argv + ["--n-jobs", "1"])
                message_lines = [line for line in stderr.getvalue().splitlines() if "error" in line]
                if status not in (0, 2) or (status == 2 and len(message_lines) != 1):
                    raise AssertionError(f"status {status}, stderr {stderr.getvalue()!r}")
                outcomes[status] += 1
            except BaseException:  # noqa: BLE001 - every escape is a finding
                saved = findings / f"crash{len(crashes)}{mutated.suffix}"
                saved.write_bytes(mutated.read_bytes())
                crashes.append(
                    f"{saved} ({'latents' if as_latents else 'sources'}): "
                    + traceback.format_exc().strip().splitlines()[-1]
                )
            rounds += 1

    lines = [
        "# Loader fuzzing",
        "",
        f"Command: `{command_line()}`  ",
        f"Machine: {machine()}  ",
        f"Date: {time.strftime('%Y-%m-%d %H:%M')}",
        "",
        f"{rounds} mutated files in {args.seconds:.0f} s (seed {args.seed}): "
        f"{outcomes[0]} still valid (exit 0), {outcomes[2]} refused with a one-line error "
        f"(exit 2), {len(crashes)} escaped exceptions.",
    ]
    lines += [f"- {crash}" for crash in crashes[:50]]
    Path(args.output).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    sys.exit(1 if crashes else 0)


if __name__ == "__main__":
    main()
