"""The report page and plots read well: timings, headers, inputs, label sizes, overlaps."""

from __future__ import annotations

import re
import time

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

import cli
import infomec
from infomec.figures import DPI, plot_summary, plot_sweep, plot_udr, smallest_text_points
from infomec.report import build_report, write_report
from infomec.report_html import MIN_LABEL_PX, describe_read


@pytest.fixture
def files(tmp_path, rng):
    sources = rng.integers(0, 3, size=(300, 2))
    latents = sources + 0.2 * rng.standard_normal(sources.shape)
    np.savez(tmp_path / "z.npz", latents=latents)
    np.savez(tmp_path / "s.npz", sources=sources, source_names=np.array(["shape", "size"]))
    return tmp_path


def test_inputs_read_as_text_not_json(files, capsys):
    out = files / "report"
    argv = ["-q", "report", str(files / "z.npz"), str(files / "s.npz"), "--out", str(out)]
    assert cli.main(argv) == 0
    page = (out / "report.html").read_text()
    inputs = page[page.index("<h2>Inputs</h2>") : page.index("<h2>Figures</h2>")]
    assert "npz file, array latents" in inputs
    assert "npz file, array sources, names from source_names" in inputs
    assert "null" not in inputs and '"' not in re.sub(r"<[^>]*>", "", inputs)


def test_describe_read_of_text_and_other_formats():
    text = {"format": "text", "header": False, "columns": None, "index_col_dropped": "Unnamed: 0"}
    assert describe_read(text) == "text file, no header row, index column Unnamed: 0 dropped"
    assert describe_read({"format": "parquet", "columns": ["a", "b"]}) == (
        "parquet file, columns: a, b"
    )


def test_scored_in_covers_the_bootstrap(files, monkeypatch):
    import importlib

    bootstrap_module = importlib.import_module("infomec.bootstrap")  # the module, not the function
    real = bootstrap_module.bootstrap

    def slow_bootstrap(**kwargs):
        time.sleep(0.6)  # stands for the resamples, which take most of a report's time
        return real(**kwargs)

    monkeypatch.setattr(bootstrap_module, "bootstrap", slow_bootstrap)
    data = np.load(files / "z.npz")["latents"], np.load(files / "s.npz")["sources"]
    result, intervals, written = build_report(
        latents=data[0], sources=data[1], out_dir=files / "boot", n_boot=4
    )
    assert intervals is not None and result.elapsed_s >= 0.6
    page = written["html"].read_text()
    assert f"scored in {result.elapsed_s:.2f} s (4 resamples included)" in page
    # The interval's header spans its two columns, which say which bound is which.
    assert "<th colspan='2' class='span'>95% interval</th>" in page
    assert "<th class='num'>low</th><th class='num'>high</th>" in page


def test_best_latent_is_none_when_no_latent_carries_the_source(rng, tmp_path):
    sources = np.column_stack([np.repeat(np.arange(3), 100), rng.integers(0, 3, 300)])
    latents = np.column_stack([sources[:, 0] + 0.1 * rng.standard_normal(300)])
    result = infomec.score(latents=latents, sources=sources, source_names=["kept", "lost"])
    assert result.nmi[1].max() < 0.005
    page = write_report(result, tmp_path)["html"].read_text()
    rows = {m[0]: m[1] for m in re.findall(r"<tr><td>(\w+)</td>.*?<td>([^<]*)</td></tr>", page)}
    assert rows["lost"] == "none (every NMI 0.00)"
    assert rows["kept"].startswith("z0 (")


def _shown_width(page: str, name: str) -> int:
    figure = re.search(rf"<figure><img [^>]*width='(\d+)'[^>]*>.*?href='{name}'", page)
    return int(figure.group(1))


def test_summary_labels_stay_readable_in_the_page(rng, tmp_path):
    # Many families and a wide DCI heatmap: a figure wider than the page's column.
    sources = rng.integers(0, 4, size=(400, 3))
    latents = np.column_stack([sources, rng.standard_normal((400, 17))])
    names = [f"latent_with_a_long_name_{j}" for j in range(20)]
    result = infomec.score(
        latents=latents,
        sources=sources,
        latent_names=names,
        metrics=["infomec", "dci", "mig", "sap", "modularity", "irs"],
        dci_model="lasso",
    )
    written = write_report(result, tmp_path)
    png = written["summary"].read_bytes()
    natural = int.from_bytes(png[16:20], "big")  # the PNG's width, from its header
    assert natural > 1068  # wider than the page's column: shown scaled down
    figure = plot_summary(result)
    FigureCanvasAgg(figure).draw()
    smallest_px = smallest_text_points(figure) * DPI / 72
    shown = _shown_width(written["html"].read_text(), "summary.png")
    assert smallest_px * shown / natural >= MIN_LABEL_PX


def _visible_label_boxes(figure):
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    boxes = []
    for ax in figure.axes:
        boxes.append(
            [
                t.get_window_extent(renderer)
                for t in ax.texts
                if t.get_gid() == "run-label" and t.get_visible()
            ]
        )
    return boxes


def _crowded_frame(n_runs: int = 14) -> pd.DataFrame:
    # Runs whose scores nearly coincide: their names used to be drawn over each other.
    return pd.DataFrame(
        {
            "run": [f"run_number_{i}" for i in range(n_runs)],
            "model": ["vae"] * (n_runs // 2) + ["qlae"] * (n_runs - n_runs // 2),
            "infomec.infom": 0.5 + 0.002 * np.arange(n_runs),
            "infomec.infoe": 0.5 + 0.001 * np.arange(n_runs),
            "udr": 0.4 + 0.002 * np.arange(n_runs),
            "error": [""] * n_runs,
        }
    )


@pytest.mark.parametrize("plot", [plot_sweep, plot_udr])
def test_run_labels_never_overlap(plot):
    figure = plot(_crowded_frame())
    labelled = 0
    for boxes in _visible_label_boxes(figure):
        labelled += len(boxes)
        for i, first in enumerate(boxes):
            for second in boxes[i + 1 :]:
                assert not first.overlaps(second)
    assert labelled >= 6  # most names still shown


def test_sweep_prints_its_table(files, capsys):
    for seed in (1, 2):
        rng = np.random.default_rng(seed)
        sources = np.load(files / "s.npz")["sources"]
        np.savez(files / f"vae_{seed}.npz", latents=sources + rng.standard_normal(sources.shape))
    argv = ["-q", "sweep", str(files / "vae_1.npz"), str(files / "vae_2.npz")]
    status = cli.main([*argv, "--sources", str(files / "s.npz"), "--out", str(files / "sweep")])
    out = capsys.readouterr().out
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["run", "model", "seed"] and "infomec.infom" in lines[0]
    frame = pd.read_csv(files / "sweep" / "sweep.csv")
    for line, (_, row) in zip(lines[1:3], frame.iterrows(), strict=True):
        assert line.split()[0] == row["run"]
        assert f"{row['infomec.infom']:.3f}" in line.split()
    assert lines[-1].startswith("scored 2 of 2 runs")
