"""Figures and the HTML report: rendered headless and checked for their content."""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

import cli
import infomec
from infomec.figures import INACTIVE_COLOR, figure_bytes, latent_order, plot_sweep
from infomec.outputs import MARKER
from infomec.report import build_report, report_files, write_report
from infomec.report_html import render_html
from infomec.result import NonFiniteError, per_source_key

SOURCE_NAMES = ["shape", "scale", "orientation"]
LOW_DPI = 40  # rendering dominates these tests; content does not depend on resolution


@pytest.fixture(scope="module")
def sample():
    """Three named sources, four informative latents (in shuffled order), two dead ones."""
    rng = np.random.default_rng(7)
    sources = rng.integers(0, 4, size=(400, 3))
    informative = np.column_stack(
        [sources[:, 2], sources[:, 0], sources[:, 1], sources[:, 0]]
    ) / 3 + 0.08 * rng.standard_normal((400, 4))
    latents = np.hstack([informative, 1e-4 * rng.standard_normal((400, 2))])
    return latents, sources


@pytest.fixture(scope="module")
def result(sample):
    latents, sources = sample
    return infomec.score(latents=latents, sources=sources, source_names=SOURCE_NAMES, n_jobs=1)


def pixels(figure) -> np.ndarray:
    return matplotlib.image.imread(io.BytesIO(figure_bytes(figure, "png", dpi=LOW_DPI)))


def labels(tick_labels) -> list[str]:
    return [label.get_text() for label in tick_labels]


def test_import_infomec_does_not_import_matplotlib():
    code = "import sys, infomec; print('matplotlib' in sys.modules)"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert output.stdout.strip() == "False", output.stderr


def test_latent_order_puts_each_latent_under_its_best_source():
    nmi = np.array([[0.0, 0.9, 0.0, 0.3], [0.8, 0.0, 0.0, 0.0], [0.1, 0.0, 0.5, 0.0]])
    active = np.array([True, True, False, True])
    assert latent_order(nmi, active).tolist() == [1, 3, 0, 2]


def test_nmi_heatmap_content(result):
    ax = result.plot_nmi()
    nmi = result.nmi
    active = result["infomec"]["active_latents"]
    order = latent_order(nmi, active)
    assert pixels(ax.figure).std() > 0
    assert labels(ax.get_yticklabels()) == SOURCE_NAMES
    assert labels(ax.get_xticklabels()) == [result.latent_names[j] for j in order]
    # The informative latents sit on a diagonal: z1/z3 under shape, z2 under scale, ...
    assert labels(ax.get_xticklabels())[:4] == ["z1", "z3", "z2", "z0"]
    cells = [text.get_text() for text in ax.texts if text.get_gid() == "cell"]
    assert cells == [f"{value:.2f}" for value in nmi[:, order].ravel()]
    # Inactive latents: red tick labels and one hatched overlay each; active ones are not.
    assert active.tolist() == [True, True, True, True, False, False]
    colours = [to_hex(label.get_color()) for label in ax.get_xticklabels()]
    assert colours == [INACTIVE_COLOR if not active[j] else "#000000" for j in order]
    overlays = [patch for patch in ax.patches if patch.get_gid() == "inactive"]
    assert len(overlays) == 2 and all(patch.get_hatch() for patch in overlays)
    title = ax.figure.get_suptitle()
    assert f"InfoM {result.infom:.2f}" in title and f"InfoC {result.infoc:.2f}" in title
    colorbar = ax.figure.axes[1]
    assert colorbar.get_ylim() == (0.0, 1.0)


def test_nmi_heatmap_draws_into_a_given_axes(result):
    ax = Figure().add_subplot()
    assert result.plot_nmi(ax, colorbar=False, reorder=False) is ax
    assert labels(ax.get_xticklabels()) == result.latent_names
    assert ax.get_title().startswith("InfoM")
    assert len(ax.figure.axes) == 1


def test_infoe_bars_with_intervals(result, sample):
    latents, sources = sample
    intervals = {
        per_source_key(i): (v - 0.05, min(v + 0.05, 1))
        for i, v in enumerate(result["infomec"]["infoe_per_source"])
    }
    ax = result.plot_infoe(intervals=intervals)
    assert pixels(ax.figure).std() > 0
    heights = [patch.get_height() for patch in ax.patches]
    assert np.allclose(heights, result["infomec"]["infoe_per_source"])
    assert labels(ax.get_xticklabels()) == SOURCE_NAMES
    assert len(ax.collections) == 1  # the error bars
    assert ax.get_ylim()[0] == 0.0


def test_summary_lists_every_scalar_and_the_dci_importance(result):
    importance = np.random.default_rng(0).dirichlet(np.ones(6), size=3).T  # (d, K)
    families = {
        **result.families,
        "dci": {"disentanglement": 0.4, "completeness": 0.3, "importance": importance},
        "factor_vae": {"eval_accuracy": 0.7, "num_active_dims": 4},
    }
    extended = dataclasses.replace(result, families=families)
    intervals = {key: (value, value) for key, value in extended.scalars().items()}
    figure = extended.plot_summary(intervals=intervals)
    assert pixels(figure).std() > 0
    bars, heat = figure.axes[0], figure.axes[1]
    assert labels(bars.get_yticklabels()) == [
        "InfoM",
        "InfoE",
        "InfoC",
        "dci: disentanglement",
        "dci: completeness",
        "factor_vae: eval_accuracy",
    ]
    assert "num_active_dims = 4" in bars.get_xlabel()  # not a [0, 1] score: listed
    order = latent_order(result.nmi, result["infomec"]["active_latents"])
    cells = [text.get_text() for text in heat.texts if text.get_gid() == "cell"]
    assert cells == [f"{value:.2f}" for value in importance.T[:, order].ravel()]
    assert labels(heat.get_yticklabels()) == SOURCE_NAMES


def test_summary_without_infomec(result):
    only_dci = dataclasses.replace(result, families={"mig": {"score": 0.25, "gaps": np.zeros(3)}})
    figure = only_dci.plot_summary()
    assert labels(figure.axes[0].get_yticklabels()) == ["mig: score"]
    with pytest.raises(ValueError, match="infomec"):
        only_dci.plot_nmi()


class _References(HTMLParser):
    def __init__(self):
        super().__init__()
        self.references = []

    def handle_starttag(self, tag, attrs):
        self.references += [value for name, value in attrs if name in ("src", "href")]


def test_report_folder(result, tmp_path):
    intervals = {key: (value - 0.01, value + 0.01) for key, value in result.scalars().items()}
    written = write_report(result, tmp_path / "out", intervals=intervals, dpi=LOW_DPI)
    assert {path.name for path in written.values()} == {
        "nmi.png",
        "infoe.png",
        "summary.png",
        "scores.json",
        "report.html",
    }
    for stem in ("nmi", "infoe", "summary"):
        assert matplotlib.image.imread(written[stem]).std() > 0
    scores = json.loads(written["scores"].read_text())
    assert scores["infomec"]["infom"] == result.infom
    assert scores["ci"]["infomec.infom"] == list(intervals["infomec.infom"])
    assert scores["source_names"] == SOURCE_NAMES
    page = written["html"].read_text()
    parser = _References()
    parser.feed(page)
    external = [ref for ref in parser.references if not ref.startswith("data:")]
    assert sum(ref.startswith("data:image/png;base64,") for ref in parser.references) == 3
    assert external and all((written["html"].parent / ref).is_file() for ref in external)
    assert "http" not in page
    assert "shape" in page and f"{result.infom:.4f}" in page
    # No temporary files left behind; only the list of the files infomec wrote.
    assert [path.name for path in (tmp_path / "out").glob(".*")] == [MARKER]


@pytest.mark.parametrize("fmt, magic", [("png", b"\x89PNG"), ("svg", b"<?xml"), ("pdf", b"%PDF")])
def test_figures_render_reproducibly_in_every_format(result, fmt, magic):
    first = figure_bytes(result.plot_infoe().figure, fmt, dpi=LOW_DPI)
    second = figure_bytes(result.plot_infoe().figure, fmt, dpi=LOW_DPI)
    assert first.startswith(magic)
    assert first == second
    with pytest.raises(ValueError, match="format"):
        figure_bytes(result.plot_infoe().figure, "jpg")


def test_build_report_records_the_bootstrap(sample, tmp_path):
    latents, sources = sample
    result, intervals, written = build_report(
        latents=latents, sources=sources, out_dir=tmp_path, n_boot=5, n_jobs=1
    )
    scores = json.loads(written["scores"].read_text())
    assert scores["settings"]["bootstrap"] == {
        "n_boot": 5,
        "method": "half",
        "confidence": 0.95,
        "seed": 0,
    }
    assert set(scores["ci"]) == set(intervals) >= set(result.scalars())
    with pytest.raises(ValueError, match="n_boot"):
        build_report(latents=latents, sources=sources, out_dir=tmp_path, n_boot=-1)
    with pytest.raises(ValueError, match="format"):
        build_report(latents=latents, sources=sources, out_dir=tmp_path, fmt="jpg")


def test_sweep_figure(result):
    import pandas as pd

    frame = pd.DataFrame(
        {
            "run": ["a", "b", "c", "d"],
            "model": ["qlae", "qlae", "ae", "ae"],
            "infomec.infom": [0.9, 0.95, 0.4, np.nan],
            "infomec.infoe": [0.8, 0.85, 0.7, np.nan],
            "error": ["", "", "", "boom"],
        }
    )
    figure = plot_sweep(frame)
    assert pixels(figure).std() > 0
    scatter = figure.axes[0]
    assert sum(len(c.get_offsets()) for c in scatter.collections) == 3
    legend = [text.get_text() for text in scatter.get_legend().get_texts()]
    assert legend == ["ae (1)", "qlae (2)"]
    assert "1 failed" in scatter.get_title()
    assert [ax.get_title() for ax in figure.axes[1:]] == ["InfoM", "InfoE"]
    with pytest.raises(ValueError, match="no scored run"):
        plot_sweep(frame.iloc[3:])


# ----------------------------------------------------------------------- CLI


@pytest.fixture
def files(tmp_path, sample):
    latents, sources = sample
    np.savez(tmp_path / "sources.npz", sources=sources, source_names=np.array(SOURCE_NAMES))
    np.savez(tmp_path / "latents.npz", latents=latents)
    return tmp_path


def run(argv, capsys):
    status = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_cli_report(files, capsys):
    out = files / "report"
    status, stdout, stderr = run(
        [
            "report",
            files / "latents.npz",
            files / "sources.npz",
            "--out",
            out,
            "--bootstrap",
            5,
            "--format",
            "svg",
            "--latent-names",
            "a,b,c,d,e,f",
            "--n-jobs",
            1,
        ],
        capsys,
    )
    assert status == 0, stderr
    assert Path(stdout.splitlines()[0]) == out / "nmi.svg"
    scores = json.loads((out / "scores.json").read_text())
    assert scores["source_names"] == SOURCE_NAMES
    assert scores["latent_names"] == list("abcdef")
    low, high = scores["ci"]["infomec.infom"]
    assert low <= scores["infomec"]["infom"] <= high


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--bootstrap", "1"], "at least 2"),
        (["--format", "jpg"], "invalid choice"),
        (["--source-names", "a,b"], "source_names"),
        (["--metrics", "nope"], "unknown metric"),
    ],
)
def test_cli_report_bad_input_exits_2(files, capsys, extra, message):
    argv = ["report", files / "latents.npz", files / "sources.npz", "--out", files / "r", *extra]
    status, _, stderr = run(argv, capsys)
    assert status == 2
    assert message in stderr and len(stderr.strip().splitlines()) == 1


def test_cli_report_missing_file_exits_2(files, capsys):
    status, _, stderr = run(
        ["report", files / "nope.npz", files / "sources.npz", "--out", files / "r"], capsys
    )
    assert status == 2 and "no such file" in stderr


# ------------------------------------------------------------------ outputs


def _never(**_):
    raise AssertionError("scored although --out was refused")


@pytest.mark.parametrize(
    "out, message",
    [
        ("file.txt", "exists and is not a folder"),
        ("file.txt/sub", "cannot be created"),
        ("holder", "is an input of this run"),  # holder/scores.json is the sources file
        ("clash", "is a folder"),
    ],
)
def test_cli_report_checks_out_before_computing(files, capsys, monkeypatch, out, message):
    (files / "file.txt").write_text("x")
    (files / "holder").mkdir()
    (files / "holder" / "scores.json").symlink_to(files / "sources.npz")
    (files / "clash" / "report.html").mkdir(parents=True)
    monkeypatch.setattr("infomec.scoring.score", _never)
    monkeypatch.setattr(cli, "load_pair", lambda *a, **k: _never())
    argv = ["report", files / "latents.npz", files / "holder" / "scores.json", "--out"]
    status, stdout, stderr = run([*argv, files / out], capsys)
    assert status == 2 and stdout == ""
    assert message in stderr and len(stderr.splitlines()) == 1


def test_report_replaces_its_own_set_and_keeps_other_files(result, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    write_report(result, tmp_path, fmt="svg", dpi=LOW_DPI)
    write_report(result, tmp_path, fmt="png", dpi=LOW_DPI)
    names = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
    # The svg figures were the previous report's: gone with it.
    assert names == sorted(["notes.txt", *report_files("png")])


def test_a_nan_score_is_a_bug_not_invalid_json(result, tmp_path, files, capsys, monkeypatch):
    broken = dataclasses.replace(
        result, families={**result.families, "infomec": {**result["infomec"], "infom": np.nan}}
    )
    with pytest.raises(NonFiniteError, match="infomec.infom is NaN or infinite"):
        write_report(broken, tmp_path / "out", dpi=LOW_DPI)
    assert not (tmp_path / "out").exists()
    monkeypatch.setattr("infomec.scoring.score", lambda **_: broken)
    status, _, stderr = run(
        ["report", files / "latents.npz", files / "sources.npz", "--out", tmp_path / "cli"], capsys
    )
    assert status == 1 and "bug" in stderr and len(stderr.splitlines()) == 1
    assert not (tmp_path / "cli").exists()


# --------------------------------------------- figures: counts, scales, canvas, strips


def _extended(result, importance):
    families = {
        **result.families,
        "dci": {"disentanglement": 0.4, "completeness": 0.3, "importance": importance},
        "factor_vae": {"eval_accuracy": 0.7, "num_active_dims": 4},
    }
    return dataclasses.replace(result, families=families)


def test_counts_are_integers_in_figures_and_html(result, tmp_path):
    importance = np.random.default_rng(0).dirichlet(np.ones(6), size=3).T
    extended = _extended(result, importance)
    intervals = {key: (value, value) for key, value in extended.scalars().items()}
    figure = extended.plot_summary(intervals=intervals)
    assert "num_active_dims = 4 [4, 4]" in figure.axes[0].get_xlabel()
    assert "4.0" not in figure.axes[0].get_xlabel()
    page = render_html(extended, [], intervals=intervals)
    row = next(line for line in page.splitlines() if "factor_vae.num_active_dims" in line)
    assert "<td class='num'>4</td>" in row and "4.0000" not in row
    assert "0.7000" in page  # other scores keep their decimals


def test_dci_importance_uses_the_nmi_colour_convention(result):
    importance = np.random.default_rng(0).dirichlet(np.ones(6), size=3).T
    figure = _extended(result, importance).plot_summary()
    heat = figure.axes[1]
    image = heat.images[0]
    assert image.get_cmap().name == "viridis"
    assert image.get_clim() == (0.0, 1.0)
    nmi_image = result.plot_nmi().images[0]
    assert nmi_image.get_cmap().name == image.get_cmap().name
    assert nmi_image.get_clim() == image.get_clim()


def test_summary_canvas_has_no_blank_half(result):
    importance = np.random.default_rng(0).dirichlet(np.ones(6), size=3).T
    figure = _extended(result, importance).plot_summary()
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure).draw()
    bars, heat = figure.axes[0], figure.axes[1]
    width = figure.get_figwidth()
    heat_box = heat.get_window_extent().transformed(figure.dpi_scale_trans.inverted())
    bars_box = bars.get_window_extent().transformed(figure.dpi_scale_trans.inverted())
    # The heatmap (without its colour bar) spans most of the figure, as the bars do.
    assert heat_box.width > 0.6 * width
    assert heat_box.x1 > bars_box.x0 + 0.8 * bars_box.width


def test_sweep_draws_points_for_small_groups_and_boxes_for_large(result):
    import pandas as pd

    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "run": [f"a{i}" for i in range(2)] + [f"b{i}" for i in range(6)],
            "model": ["ae"] * 2 + ["qlae"] * 6,
            "infomec.infom": rng.uniform(0, 1, 8),
            "infomec.infoe": rng.uniform(0, 1, 8),
            "error": [""] * 8,
        }
    )
    figure = plot_sweep(frame)
    panel = figure.axes[1]
    # One box (the group of 6): a box plot draws one median line per box.
    medians = [
        line for line in panel.lines if len(line.get_xdata()) == 2 and line.get_color() == "black"
    ]
    assert len(medians) == 1 and np.allclose(medians[0].get_xdata(), [0.725, 1.275])
    run_labels = [t.get_text() for t in panel.texts if t.get_gid() == "run-label"]
    assert sorted(run_labels) == ["a0", "a1"]  # small groups name their runs
    scatter_labels = [t.get_text() for t in figure.axes[0].texts if t.get_gid() == "run-label"]
    assert sorted(scatter_labels) == sorted(frame["run"])
    assert sum(len(c.get_offsets()) for c in panel.collections) == 8


def test_a_narrow_importance_map_goes_beside_the_bars():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    rng = np.random.default_rng(3)
    sources = rng.integers(0, 4, size=(300, 3))
    small = infomec.score(latents=sources + 0.2 * rng.standard_normal((300, 3)), sources=sources)
    importance = np.eye(3) * 0.9 + 0.05
    figure = _extended(small, importance).plot_summary()
    FigureCanvasAgg(figure).draw()
    bars, heat = figure.axes[0], figure.axes[1]
    inches = figure.dpi_scale_trans.inverted()
    bars_box = bars.get_window_extent().transformed(inches)
    heat_box = heat.get_window_extent().transformed(inches)
    assert heat_box.x0 > bars_box.x1  # beside, not below
    assert heat_box.height > 0.5 * figure.get_figheight()
