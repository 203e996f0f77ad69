"""Statistics over many runs with rliable: IQM, confidence intervals, profiles, curves.

Computed with rliable (Agarwal et al. 2021): the interquartile mean (IQM) and the mean of
final returns with 95% stratified bootstrap confidence intervals, medians of steps and seconds
to a threshold, performance profiles and sample-efficiency curves; and :func:`report`, which
writes all of them for a sweep folder (:mod:`.sweep`).

Every bootstrap is seeded, so the same data gives the same intervals (rliable draws from
NumPy's global generator; these functions seed it and restore its state afterwards).
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ddpg_tutorial.errors import DDPGError
from ddpg_tutorial.files import atomic_write
from ddpg_tutorial.sweep import SUMMARY_FILE, SWEEP_FILE, read_evaluations

REPS = 5_000  #: bootstrap resamples
NOT_REACHED = 1e300  #: "never reached" inside a bootstrap (inf would give NaN, 1e308 overflow)


@dataclass(frozen=True)
class Estimate:
    """A point estimate and its 95% confidence interval [low, high]."""

    point: float
    low: float
    high: float

    def format(self, spec: str = ".0f") -> str:
        if self.point >= NOT_REACHED / 10:
            return "not reached"
        high = "not reached" if self.high >= NOT_REACHED / 10 else format(self.high, spec)
        return f"{self.point:{spec}} [{self.low:{spec}}, {high}]"


def _rliable():
    """rliable's ``library`` and ``metrics`` modules, or a one-line error saying how to get them."""
    try:
        from rliable import library, metrics
    except ImportError:
        raise DDPGError("statistics need rliable: pip install 'ddpg-tutorial[stats]'") from None
    return library, metrics


@contextlib.contextmanager
def _seeded(seed: int) -> Iterator[None]:
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def _bootstrap(scores: Mapping[str, np.ndarray], func, reps: int, seed: int):
    """rliable's stratified bootstrap of ``func`` over runs; rliable wants (runs, tasks, ...)
    arrays, and here there is one task."""
    library, _ = _rliable()
    with _seeded(seed):
        return library.get_interval_estimates(
            {name: np.expand_dims(np.asarray(s, dtype=float), 1) for name, s in scores.items()},
            func, reps=reps)


def interval_estimates(final_returns: Mapping[str, Sequence[float]], reps: int = REPS,
                       seed: int = 0) -> dict[str, dict[str, Estimate]]:
    """For each configuration's final returns (one per run): the IQM and the mean, each with
    a 95% stratified bootstrap confidence interval: ``{name: {"IQM": ..., "mean": ...}}``."""
    _, metrics = _rliable()
    points, intervals = _bootstrap(
        final_returns, lambda s: np.array([metrics.aggregate_iqm(s), metrics.aggregate_mean(s)]),
        reps, seed)
    return {name: {stat: Estimate(points[name][i], *intervals[name][:, i])
                   for i, stat in enumerate(("IQM", "mean"))} for name in final_returns}


def median_estimates(values: Mapping[str, Sequence[float]], reps: int = REPS,
                     seed: int = 0) -> dict[str, Estimate]:
    """The median of each configuration's values (steps or seconds to a threshold; ``inf`` for
    a run that never reached it) with a 95% bootstrap confidence interval."""
    finite = {name: np.minimum(np.asarray(v, dtype=float), NOT_REACHED)
              for name, v in values.items()}
    points, intervals = _bootstrap(finite, lambda s: np.array([np.median(s)]), reps, seed)
    return {name: Estimate(points[name][0], *intervals[name][:, 0]) for name in values}


def sample_efficiency(curves: Mapping[str, np.ndarray], reps: int = REPS,
                      seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """For each configuration's evaluation curves, shape (runs, evaluations): the IQM at every
    evaluation, shape (evaluations,), and its 95% confidence band, shape (2, evaluations)."""
    _, metrics = _rliable()

    def iqm_per_evaluation(scores: np.ndarray) -> np.ndarray:
        return np.array([metrics.aggregate_iqm(scores[..., t]) for t in range(scores.shape[-1])])

    points, intervals = _bootstrap(curves, iqm_per_evaluation, reps, seed)
    return {name: (points[name], intervals[name]) for name in curves}


def performance_profile(final_returns: Mapping[str, Sequence[float]], thresholds: np.ndarray,
                        reps: int = REPS,
                        seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """For each configuration: the fraction of runs whose final return exceeds each of
    ``thresholds``, shape (T,), and its 95% confidence band, shape (2, T)."""
    points, intervals = _bootstrap(
        final_returns, lambda s: np.array([np.mean(s > tau) for tau in thresholds]), reps, seed)
    return {name: (points[name], intervals[name]) for name in final_returns}


# A sweep folder -----------------------------------------------------------------------------

@dataclass
class SweepResults:
    """The finished runs of a sweep folder, by configuration (group)."""

    env_id: str
    threshold: float | None
    rows: dict[str, list[dict[str, str]]]  #: group -> its rows of summary.csv, finished runs
    steps: np.ndarray  #: (evaluations,) the environment steps of the evaluations
    curves: dict[str, np.ndarray]  #: group -> (runs, evaluations) greedy mean returns

    def final_returns(self) -> dict[str, np.ndarray]:
        return {group: curve[:, -1] for group, curve in self.curves.items()}

    def to_threshold(self, column: str) -> dict[str, np.ndarray]:
        """``steps_to_threshold`` or ``wall_to_threshold_s`` per run, ``inf`` where never."""
        return {group: np.array([float(r[column]) if r[column] else math.inf for r in rows])
                for group, rows in self.rows.items()}


def load_sweep(out: str | Path) -> SweepResults:
    """Read a sweep folder's ``sweep.json``, ``summary.csv`` and each finished run's
    evaluations."""
    out = Path(out)
    try:
        info = json.loads((out / SWEEP_FILE).read_text())
        with open(out / SUMMARY_FILE, newline="") as f:
            summary = list(csv.DictReader(f))
    except (OSError, ValueError) as err:
        raise DDPGError(f"'{out}' is not a sweep folder ({err}); give the --out folder of "
                        "'ddpg-tutorial sweep'") from None
    rows: dict[str, list[dict[str, str]]] = {}
    for row in summary:
        if row["status"] == "finished":
            rows.setdefault(row["group"], []).append(row)
    if not rows:
        raise DDPGError(f"no run in '{out}' has finished yet; run the sweep to the end first")
    curves, steps = {}, None
    for group, group_rows in rows.items():
        runs = [read_evaluations(out / r["folder"]) for r in group_rows]
        group_steps = np.array([e["env_steps"] for e in runs[0]])
        if steps is None or len(group_steps) > len(steps):
            steps = group_steps
        curves[group] = np.array([[e["mean_return"] for e in run] for run in runs])
    lengths = {curve.shape[1] for curve in curves.values()}
    if len(lengths) > 1:  # configurations with other run lengths or evaluation schedules
        raise DDPGError(f"the configurations in '{out}' evaluate at different steps; "
                        "report sweeps whose runs share total_steps and eval_every")
    return SweepResults(info["env_id"], info.get("threshold"), rows, steps, curves)


def report(out: str | Path, reps: int = REPS, seed: int = 0) -> Path:
    """Write ``report.md``, ``sample_efficiency.png`` and ``performance_profile.png`` into the
    sweep folder ``out``; return the path of ``report.md``."""
    import matplotlib.pyplot as plt

    from ddpg_tutorial.plotting import plot_performance_profile, plot_sample_efficiency

    out = Path(out)
    results = load_sweep(out)
    finals = results.final_returns()
    estimates = interval_estimates(finals, reps, seed)
    fig = plot_sample_efficiency(results.steps, sample_efficiency(results.curves, reps, seed),
                                 threshold=results.threshold, title=results.env_id)
    fig.savefig(out / "sample_efficiency.png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    every = np.concatenate(list(finals.values()))
    margin = 0.02 * (every.max() - every.min()) + 1e-9  # every run counts at the lowest
    thresholds = np.linspace(every.min() - margin, every.max(), 60)
    fig = plot_performance_profile(thresholds, performance_profile(finals, thresholds, reps, seed),
                                   title=results.env_id)
    fig.savefig(out / "performance_profile.png", dpi=120, bbox_inches="tight")
    plt.close(fig)

    lines = [f"# {results.env_id}: {sum(len(r) for r in results.rows.values())} finished runs",
             "", f"Final greedy return after {int(results.steps[-1]):,} steps: interquartile "
             "mean (IQM) and mean over runs, with 95% stratified bootstrap confidence intervals "
             f"({reps:,} resamples, rliable).", ""]
    header = "| configuration | runs | IQM final return | mean final return |"
    rule = "|---|---|---|---|"
    if results.threshold is not None:
        steps = median_estimates(results.to_threshold("steps_to_threshold"), reps, seed)
        walls = median_estimates(results.to_threshold("wall_to_threshold_s"), reps, seed)
        header += f" reached {results.threshold:g} | median steps to it | median seconds to it |"
        rule += "---|---|---|"
    lines += [header, rule]
    for group, rows in results.rows.items():
        line = (f"| {group} | {len(rows)} | {estimates[group]['IQM'].format()} "
                f"| {estimates[group]['mean'].format()} |")
        if results.threshold is not None:
            reached = sum(bool(r["steps_to_threshold"]) for r in rows)
            line += (f" {reached}/{len(rows)} | {steps[group].format()} "
                     f"| {walls[group].format('.1f')} |")
        lines.append(line)
    lines += ["", "Seeds: " + ", ".join(sorted({r["seed"] for rows in results.rows.values()
                                                  for r in rows}, key=int)) + ".",
              "", "![IQM return against steps](sample_efficiency.png)", "",
              "![Performance profile of the final returns](performance_profile.png)", ""]
    text = "\n".join(lines)
    atomic_write(out / "report.md", lambda f: f.write(text.encode()))
    return out / "report.md"
