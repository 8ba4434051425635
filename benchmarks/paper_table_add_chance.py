"""Add chance levels to paper-table rows recorded before rows kept them, in place.

Each row's chance levels come from its own run's scoring: the run's ``scores.json`` when the
trainer scored it (the scores the row was read from), else ``infomec.score`` again as the
table scores a run (each preset, the row's seed). The row's InfoM must come out the same
before anything is added; a run that scores differently is refused, with the file untouched.

Usage: ``python benchmarks/paper_table_add_chance.py benchmarks/results/paper_table_shapes3d.jsonl``
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _paper_table():
    spec = importlib.util.spec_from_file_location("paper_table", ROOT / "benchmarks/paper_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_scores(row: dict[str, Any], presets: list[str]) -> dict[str, dict]:
    """Each preset's score dict of the row's run (read, or scored again)."""
    import infomec

    run_dir = Path(row["run_dir"])
    if (run_dir / "scores.json").exists():
        return json.loads((run_dir / "scores.json").read_text())["presets"]
    latents = np.load(run_dir / "latents.npz")["latents"]
    sources = np.load(run_dir / "sources.npz")
    return {
        preset: infomec.score(
            latents=latents,
            sources=sources["sources"],
            metrics=["infomec"],
            preset=preset,
            seed=row["seed"],
            source_names=list(sources["source_names"]),
        ).to_dict()
        for preset in presets
    }


def add_chance(path: Path) -> int:
    """Add every row's chance fields; returns the number of rows (raises on a mismatch)."""
    paper_table = _paper_table()
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for row in rows:
        presets = sorted({key.split(".")[0] for key in row if key.endswith(".infom")})
        scored = run_scores(row, presets)
        for preset in presets:
            infom = scored[preset]["infomec"]["infom"]
            if abs(infom - row[f"{preset}.infom"]) > 1e-12:
                raise ValueError(
                    f"{row['run_dir']}: {preset} InfoM {infom} is not the row's "
                    f"{row[f'{preset}.infom']}; nothing written"
                )
            row.update(paper_table.chance_fields(scored[preset], preset))
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    paths = sys.argv[1:] if argv is None else argv
    if not paths:
        print("usage: paper_table_add_chance.py ROWS.jsonl [...]", file=sys.stderr)
        return 2
    for name in paths:
        try:
            print(f"{name}: {add_chance(Path(name))} rows")
        except (OSError, ValueError, KeyError) as error:
            print(f"paper_table_add_chance: {error}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
