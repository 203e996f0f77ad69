"""Statistics over many runs with rliable: IQM, intervals, profiles, curves, paired comparisons.

Computed with rliable (Agarwal et al. 2021): the interquartile mean (IQM) and the mean of
final returns with 95% stratified bootstrap confidence intervals, medians of steps and seconds
to a threshold, performance profiles and sample-efficiency curves; :func:`compare`, which
compares two configurations seed by seed; and :func:`report`, which writes all of them for a
sweep folder (:mod:`.sweep`).

The IQM is rliable's 25% trimmed mean: the mean of the runs left after dropping the lowest and
the highest quarter of them, rounded down (``scipy.stats.trim_mean(scores, 0.25)``). For 10
runs it drops 2 at each end and averages the middle 6; it is exactly the middle half only
when the number of runs is a multiple of 4. :func:`iqm` computes it as SciPy does, without the
argument checks that made a report's bootstraps take seconds.

The intervals are percentile bootstrap intervals, as rliable computes them. From few runs they
are too narrow: from 10 runs, a nominal 95% interval for the mean of normally distributed
values holds the true mean about 91% of the time, and less for skewed values (a simulation of
this bootstrap). The library keeps rliable's intervals and says so, here and in ``report.md``:
read them as narrower than 95%. Two intervals that overlap do not show that two
configurations perform alike; that is not a test. Runs of two configurations on the same seeds
are paired, and :func:`compare` gives the interval of their per-seed differences, which can
exclude 0 where the two intervals overlap.

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
from ddpg_tutorial.seeding import EVAL_SEED_BASE, TUNE_EVAL_SEED_BASE
from ddpg_tutorial.sweep import LOG_FILE, SUMMARY_FILE, SWEEP_FILE, read_evaluations

FEW_RUNS = 5  #: fewer runs per configuration than this, and the report warns
FEW_RUNS_TEXT = (
    "Intervals from so few runs are too wide to tell configurations apart and "
    "cover less than they say; run 10 or more seeds per configuration."
)
#: One number per run, as a list or a 1-d array.
Scores = Sequence[float] | np.ndarray
REPS = 5_000  #: bootstrap resamples
NOT_REACHED = 1e300  #: "never reached" inside a bootstrap (inf would give NaN, 1e308 overflow)
IQM_TEXT = (
    "the interquartile mean (IQM: rliable's 25% trimmed mean, the mean of the runs "
    "left after dropping the lowest and the highest quarter, rounded down; for 10 "
    "runs the middle 6)"
)
COVERAGE_TEXT = (
    "Percentile bootstrap intervals from few runs are too narrow: from 10 runs a "
    "nominal 95% interval holds the true mean about 91% of the time for normally "
    "distributed returns, less for skewed ones; the library reports them as "
    "rliable computes them, so read them as narrower than 95%."
)


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
        raise DDPGError(
            "statistics need rliable: in a clone of the repository, pip install -e '.[stats]'"
        ) from None
    return library, metrics


@contextlib.contextmanager
def _seeded(seed: int) -> Iterator[None]:
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def iqm(scores: np.ndarray, axis: int | None = None) -> np.ndarray:
    """The IQM of all ``scores`` (``axis=None``: rliable's ``metrics.aggregate_iqm``) or along
    axis 0, computed as ``scipy.stats.trim_mean(scores, 0.25, axis)`` computes it, to the last
    bit, without its argument checks: at these sizes they cost a hundred times the statistic,
    which a bootstrap computes thousands of times."""
    values = np.ravel(scores) if axis is None else np.asarray(scores)
    n = len(values)
    cut = int(0.25 * n)
    return np.mean(np.partition(values, (cut, n - cut - 1), axis=0)[cut : n - cut], axis=0)


def _runs(scores: Scores) -> np.ndarray:
    """Scores as rliable wants them, (runs, tasks, ...) arrays: here there is one task."""
    return np.expand_dims(np.asarray(scores, dtype=float), 1)


def _bootstrap(scores: Mapping[str, Scores | tuple[Scores, ...]], func, reps: int, seed: int):
    """rliable's stratified bootstrap of ``func`` over runs. A tuple of samples is resampled
    sample by sample, independently (rliable's ``StratifiedIndependentBootstrap``)."""
    library, _ = _rliable()
    with _seeded(seed):
        return library.get_interval_estimates(
            {
                name: [_runs(x) for x in s] if isinstance(s, tuple) else _runs(s)
                for name, s in scores.items()
            },
            func,
            reps=reps,
        )


def interval_estimates(
    final_returns: Mapping[str, Scores], reps: int = REPS, seed: int = 0
) -> dict[str, dict[str, Estimate]]:
    """For each configuration's final returns (one per run): the IQM (the 25% trimmed mean:
    for 10 runs, the mean of the middle 6) and the mean, each with a 95% stratified bootstrap
    confidence interval (percentile, so narrower than 95% from few runs):
    ``{name: {"IQM": ..., "mean": ...}}``."""
    _, metrics = _rliable()
    points, intervals = _bootstrap(
        final_returns,
        lambda s: np.array([iqm(s), metrics.aggregate_mean(s)]),
        reps,
        seed,
    )
    return {
        name: {
            stat: Estimate(points[name][i], *intervals[name][:, i])
            for i, stat in enumerate(("IQM", "mean"))
        }
        for name in final_returns
    }


def median_estimates(
    values: Mapping[str, Scores], reps: int = REPS, seed: int = 0
) -> dict[str, Estimate]:
    """The median of each configuration's values (steps or seconds to a threshold; ``inf`` for
    a run that never reached it) with a 95% bootstrap confidence interval."""
    finite = {
        name: np.minimum(np.asarray(v, dtype=float), NOT_REACHED) for name, v in values.items()
    }
    points, intervals = _bootstrap(finite, lambda s: np.array([np.median(s)]), reps, seed)
    return {name: Estimate(points[name][0], *intervals[name][:, 0]) for name in values}


def sample_efficiency(
    curves: Mapping[str, np.ndarray], reps: int = REPS, seed: int = 0
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """For each configuration's evaluation curves, shape (runs, evaluations): the IQM at every
    evaluation, shape (evaluations,), and its 95% confidence band, shape (2, evaluations)."""

    def iqm_per_evaluation(scores: np.ndarray) -> np.ndarray:  # over runs (and tasks)
        return iqm(scores.reshape(-1, scores.shape[-1]), axis=0)

    points, intervals = _bootstrap(curves, iqm_per_evaluation, reps, seed)
    return {name: (points[name], intervals[name]) for name in curves}


def performance_profile(
    final_returns: Mapping[str, Scores],
    thresholds: np.ndarray,
    reps: int = REPS,
    seed: int = 0,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """For each configuration: the fraction of runs whose final return exceeds each of
    ``thresholds``, shape (T,), and its 95% confidence band, shape (2, T)."""
    points, intervals = _bootstrap(
        final_returns, lambda s: np.mean(s.reshape(-1, 1) > thresholds, axis=0), reps, seed
    )
    return {name: (points[name], intervals[name]) for name in final_returns}


# Paired comparisons -------------------------------------------------------------------------


@dataclass(frozen=True)
class Differences:
    """Per-seed differences ``group - baseline`` of one number, on the seeds both have.

    Runs of two configurations on one seed share their initial weights, warm-up actions and
    start states, so they are paired: the difference on each seed removes what the seed alone
    decides. ``mean`` is the mean of the differences (the difference of the two means on these
    seeds); ``iqm`` their 25% trimmed mean, the typical change with the seeds of extreme
    changes left out (not the difference of the two IQMs). Their 95% intervals come from
    rliable's bootstrap over seeds, which keeps each seed's pair together; an interval that
    excludes 0 says the change is more than the spread of the seeds explains (with the
    percentile bootstrap's too narrow coverage from few seeds)."""

    seeds: tuple[int, ...]  #: the seeds compared, ascending
    values: np.ndarray  #: group minus baseline on each of those seeds
    mean: Estimate | None  #: None when the groups share no seed
    iqm: Estimate | None

    @property
    def higher(self) -> int:
        """Seeds on which the group's number is higher than the baseline's."""
        return int(np.sum(self.values > 0))

    @property
    def lower(self) -> int:
        """Seeds on which the group's number is lower than the baseline's."""
        return int(np.sum(self.values < 0))


def paired_differences(
    values: Mapping[int, float], baseline: Mapping[int, float], reps: int = REPS, seed: int = 0
) -> Differences:
    """The differences ``values[s] - baseline[s]`` (each a mapping from seed to a number) on
    the seeds both have, with the mean and IQM of the differences and their 95% bootstrap
    intervals (:class:`Differences`)."""
    seeds = tuple(sorted(set(values) & set(baseline)))
    diffs = np.array([values[s] - baseline[s] for s in seeds], dtype=float)
    if not seeds:
        return Differences(seeds, diffs, None, None)
    estimates = interval_estimates({"differences": diffs}, reps, seed)["differences"]
    return Differences(seeds, diffs, estimates["mean"], estimates["IQM"])


def probability_of_improvement(
    returns: Scores, baseline: Scores, reps: int = REPS, seed: int = 0
) -> Estimate:
    """rliable's probability of improvement of ``returns`` over ``baseline``: the probability
    that a run drawn at random from the first has a higher final return than a run drawn
    independently from the second, ties counting half (the Mann-Whitney U statistic divided by
    the number of pairs), with a 95% interval from rliable's bootstrap, which resamples the
    two sets of runs independently. 0.5: neither tends to be higher; an interval that holds
    0.5 does not show an improvement. It does not use the pairing of seeds; the paired
    counterpart is :class:`Differences`' count of seeds on which the group is higher."""
    _, metrics = _rliable()
    points, intervals = _bootstrap(
        {"P": (np.asarray(returns, dtype=float), np.asarray(baseline, dtype=float))},
        lambda x, y: np.array([metrics.probability_of_improvement(x, y)]),
        reps,
        seed,
    )
    return Estimate(float(points["P"][0]), *intervals["P"][:, 0])


@dataclass(frozen=True)
class StepsComparison:
    """Steps to a threshold of a group against a baseline, on the seeds both ran.

    A run that never reached the threshold has no number of steps, so a seed counts in one of
    four ways: reached by both (``both`` holds the differences of their steps, group minus
    baseline: negative is faster), or by the group only, the baseline only, or neither.
    Differences are taken on ``both`` only; the seeds where one run never reached it are
    counted, not given a number they do not have."""

    both: Differences
    only_group: tuple[int, ...]
    only_baseline: tuple[int, ...]
    neither: tuple[int, ...]


def compare_steps(
    steps: Mapping[int, float], baseline: Mapping[int, float], reps: int = REPS, seed: int = 0
) -> StepsComparison:
    """Steps to a threshold by seed (``inf``: never reached) of a group against a baseline
    (:class:`StepsComparison`)."""
    shared = sorted(set(steps) & set(baseline))

    def where(group_reached: bool, baseline_reached: bool) -> tuple[int, ...]:
        return tuple(
            s
            for s in shared
            if (math.isfinite(steps[s]), math.isfinite(baseline[s]))
            == (group_reached, baseline_reached)
        )

    both = set(where(True, True))
    return StepsComparison(
        paired_differences({s: steps[s] for s in both}, baseline, reps, seed),
        where(True, False),
        where(False, True),
        where(False, False),
    )


# A sweep folder -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StoppedRun:
    """A run of a sweep that did not train to the end, and how the statistics count it."""

    group: str
    seed: int
    status: str  #: 'failed', or (in a partial report) 'interrupted' or 'not started'
    last_step: int  #: environment steps at its last evaluation; 0 if it has none
    reason: str  #: why it stopped (the error its train.log ends with, where the log was kept)

    @property
    def excluded(self) -> bool:
        """Whether it is left out of the returns, having no evaluation to count."""
        return self.last_step == 0

    def describe(self) -> str:
        """One line of ``report.md``: the run, how it counts and why it stopped."""
        counts = (
            "excluded from the returns (no evaluation)"
            if self.excluded
            else f"counted at its last evaluation, step {self.last_step:,}"
        )
        return f"- {self.group}, seed {self.seed}: {self.status}; {counts}; {self.reason}"


@dataclass
class SweepResults:
    """Every run of a sweep folder, by configuration (group).

    A run that stopped early (failed, or in a partial report not finished) counts at its last
    evaluation: its curve repeats that evaluation's return to the end and its final return is
    that return. A run with no evaluation has no return: it is left out of ``curves`` and
    listed in ``stopped`` as excluded. Every run, excluded or not, counts in the thresholds,
    and a failed run counts there as never reaching it."""

    env_id: str
    threshold: float | None
    rows: dict[str, list[dict[str, str]]]  #: group -> its rows of summary.csv, every run
    steps: np.ndarray  #: (evaluations,) the environment steps of the evaluations
    curves: dict[str, np.ndarray]  #: group -> (runs, evaluations) greedy mean returns
    seeds: dict[str, list[int]]  #: group -> the seed of each row of its curves
    stopped: list[StoppedRun]  #: the runs that did not finish, in summary.csv's order
    partial: bool = False  #: whether runs that have not finished yet are counted

    def final_returns(self) -> dict[str, np.ndarray]:
        return {group: curve[:, -1] for group, curve in self.curves.items()}

    def final_returns_by_seed(self) -> dict[str, dict[int, float]]:
        """group -> seed -> final return, for the runs whose returns count."""
        return {
            group: dict(zip(self.seeds[group], curve[:, -1].tolist()))
            for group, curve in self.curves.items()
        }

    def to_threshold(self, column: str) -> dict[str, np.ndarray]:
        """``steps_to_threshold``, ``train_to_threshold_s`` (training seconds, without
        evaluations and saves) or ``wall_to_threshold_s`` of every run, ``inf`` where never
        reached or where the run failed."""
        return {
            group: np.array(list(by_seed.values()))
            for group, by_seed in self.to_threshold_by_seed(column).items()
        }

    def to_threshold_by_seed(self, column: str) -> dict[str, dict[int, float]]:
        """group -> seed -> :meth:`to_threshold`'s number."""
        return {
            group: {int(r["seed"]): _reached(r, column) for r in rows}
            for group, rows in self.rows.items()
        }


def _reached(row: Mapping[str, str], column: str) -> float:
    if not row[column] or row["status"] == "failed":
        return math.inf
    return float(row[column])


UNFINISHED = ("interrupted", "not started")  #: statuses of runs a partial report counts


def load_sweep(out: str | Path, partial: bool = False) -> SweepResults:
    """Read a sweep folder's ``sweep.json``, ``summary.csv`` and each run's evaluations, every
    run counting (:class:`SweepResults`). Runs that have not finished yet (interrupted or not
    started) are a one-line error unless ``partial``."""
    out = Path(out)
    try:
        info = json.loads((out / SWEEP_FILE).read_text())
        with open(out / SUMMARY_FILE, newline="") as f:
            summary = list(csv.DictReader(f))
    except (OSError, ValueError) as err:
        raise DDPGError(
            f"'{out}' is not a sweep folder ({err}); give the --out folder of 'ddpg-tutorial sweep'"
        ) from None
    unfinished = [row for row in summary if row["status"] in UNFINISHED]
    if unfinished and not partial:
        raise DDPGError(
            f"{len(unfinished)} of {len(summary)} runs in '{out}' have not finished "
            f"(first: {unfinished[0]['folder']}, {unfinished[0]['status']}); run the "
            "sweep again to finish them, or report what there is with --partial"
        )
    rows: dict[str, list[dict[str, str]]] = {}
    for row in summary:
        rows.setdefault(row["group"], []).append(row)
    evaluations = {row["folder"]: _evaluations(out / row["folder"]) for row in summary}
    steps = _schedule(out, evaluations)
    curves, seeds = {}, {}
    for group, group_rows in rows.items():
        counted = [r for r in group_rows if evaluations[r["folder"]]]
        if counted:
            curves[group] = np.array(
                [_padded(evaluations[r["folder"]], len(steps)) for r in counted]
            )
            seeds[group] = [int(r["seed"]) for r in counted]
    stopped = [
        StoppedRun(
            row["group"],
            int(row["seed"]),
            row["status"],
            int(evaluations[row["folder"]][-1]["env_steps"]) if evaluations[row["folder"]] else 0,
            _reason(out, row),
        )
        for row in summary
        if row["status"] != "finished"
    ]
    return SweepResults(
        info["env_id"], info.get("threshold"), rows, steps, curves, seeds, stopped, partial
    )


def _evaluations(folder: Path) -> list[dict[str, float]]:
    try:
        return read_evaluations(folder)
    except OSError:  # a run that failed or stopped before its first evaluation
        return []


def _schedule(out: Path, evaluations: Mapping[str, list[dict[str, float]]]) -> np.ndarray:
    """The environment steps of the evaluations of a whole run: the longest run's, which
    every other run's must begin with."""
    runs = [[e["env_steps"] for e in run] for run in evaluations.values()]
    longest = max(runs, key=len)
    if not longest:
        raise DDPGError(f"no run in '{out}' has an evaluation yet; run the sweep further first")
    if any(run != longest[: len(run)] for run in runs):  # other run lengths or schedules
        raise DDPGError(
            f"the configurations in '{out}' evaluate at different steps; "
            "report sweeps whose runs share total_steps and eval_every"
        )
    return np.array(longest)


def _padded(run: list[dict[str, float]], length: int) -> list[float]:
    """A run's greedy returns, its last one repeated to ``length`` evaluations."""
    returns = [e["mean_return"] for e in run]
    return returns + returns[-1:] * (length - len(returns))


def _reason(out: Path, row: Mapping[str, str]) -> str:
    """Why a run did not finish: for a failed run, the last error line of its train.log."""
    if row["status"] != "failed":
        return {"interrupted": "running the sweep again continues it"}.get(
            row["status"], "running the sweep again starts it"
        )
    try:
        lines = (out / row["folder"] / LOG_FILE).read_text(errors="replace").splitlines()
    except OSError:
        return "its train.log was not kept"
    lines = [line.strip() for line in lines if line.strip()]
    last = ([line for line in lines if line.startswith("error:")] or lines or ["empty log"])[-1]
    return last if len(last) <= 300 else last[:297] + "..."


@dataclass(frozen=True)
class Comparison:
    """One configuration against a baseline on their shared seeds: the paired differences of
    the final return (:class:`Differences`), rliable's probability of improvement of the
    final return (:func:`probability_of_improvement`; None without a shared seed) and, with
    a threshold, the steps to it (:class:`StepsComparison`)."""

    group: str
    baseline: str
    returns: Differences
    improvement: Estimate | None
    steps: StepsComparison | None


def compare(
    results: SweepResults, group: str, baseline: str, reps: int = REPS, seed: int = 0
) -> Comparison:
    """``group`` against ``baseline`` on the seeds both ran (:class:`Comparison`)."""
    for name in (group, baseline):
        if name not in results.rows:
            raise DDPGError(
                f"the sweep has no configuration '{name}'; its configurations: "
                + ", ".join(results.rows)
            )
    finals = results.final_returns_by_seed()
    x, y = finals.get(group, {}), finals.get(baseline, {})
    returns = paired_differences(x, y, reps, seed)
    improvement = (
        probability_of_improvement(
            [x[s] for s in returns.seeds], [y[s] for s in returns.seeds], reps, seed
        )
        if returns.seeds
        else None
    )
    steps = None
    if results.threshold is not None:
        to = results.to_threshold_by_seed("steps_to_threshold")
        steps = compare_steps(to[group], to[baseline], reps, seed)
    return Comparison(group, baseline, returns, improvement, steps)


# The report ---------------------------------------------------------------------------------


def report(
    out: str | Path,
    reps: int = REPS,
    seed: int = 0,
    partial: bool = False,
    baseline: str | None = None,
) -> Path:
    """Write ``report.md``, ``sample_efficiency.png`` and ``performance_profile.png`` into the
    sweep folder ``out``; return the path of ``report.md``. Every run counts
    (:class:`SweepResults`); ``partial`` reports a sweep whose runs have not all finished, and
    says so. ``baseline``: a configuration every other one is compared with, seed by seed
    (:func:`compare`)."""
    out = Path(out)
    results = load_sweep(out, partial)
    if baseline is not None and baseline not in results.rows:
        raise DDPGError(
            f"--baseline '{baseline}' is not a configuration of '{out}'; its "
            "configurations: " + ", ".join(results.rows)
        )
    _write_figures(out, results, reps, seed)
    lines = _summary_lines(results, reps, seed)
    if results.stopped:
        note = (
            " (a failed run counts as not reaching the threshold)"
            if results.threshold is not None
            else ""
        )
        lines += [
            "",
            f"Runs that did not finish{note}:",
            "",
            *(run.describe() for run in results.stopped),
        ]
    if baseline is not None:
        lines += ["", *_comparison_lines(results, baseline, reps, seed)]
    lines += [
        "",
        "![IQM return against steps](sample_efficiency.png)",
        "",
        "![Performance profile of the final returns](performance_profile.png)",
        "",
    ]
    text = "\n".join(lines)
    atomic_write(out / "report.md", lambda f: f.write(text.encode()))
    return out / "report.md"


def _write_figures(out: Path, results: SweepResults, reps: int, seed: int) -> None:
    import matplotlib.pyplot as plt

    from ddpg_tutorial.plotting import plot_performance_profile, plot_sample_efficiency

    finals = results.final_returns()
    fig = plot_sample_efficiency(
        results.steps,
        sample_efficiency(results.curves, reps, seed),
        threshold=results.threshold,
        title=results.env_id,
    )
    _save_png(fig, out / "sample_efficiency.png")
    plt.close(fig)
    every = np.concatenate(list(finals.values()))
    margin = 0.02 * (every.max() - every.min()) + 1e-9  # every run counts at the lowest
    thresholds = np.linspace(every.min() - margin, every.max(), 60)
    fig = plot_performance_profile(
        thresholds, performance_profile(finals, thresholds, reps, seed), title=results.env_id
    )
    _save_png(fig, out / "performance_profile.png")
    plt.close(fig)


def _save_png(fig, path: Path) -> None:
    """Write ``fig`` to ``path`` atomically: a crash mid-write leaves the previous figure."""
    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=120, bbox_inches="tight"))


def _summary_lines(results: SweepResults, reps: int, seed: int) -> list[str]:
    """The title, the partial-report warning and the table of every configuration."""
    summary = [r for rows in results.rows.values() for r in rows]
    statuses = {
        s: sum(r["status"] == s for r in summary)
        for s in dict.fromkeys(r["status"] for r in summary)
    }
    title = f"# {results.env_id}: {len(summary)} runs"
    if set(statuses) != {"finished"}:
        title += " (" + ", ".join(f"{n} {s}" for s, n in statuses.items()) + ")"
    lines = [title + (", partial report" if results.partial else ""), ""]
    fewest = min(len(rows) for rows in results.rows.values())
    if fewest < FEW_RUNS:
        lines += [f"**Few runs**: {fewest} per configuration. {FEW_RUNS_TEXT}", ""]
    if results.partial:
        lines += [
            "**Partial report**: the runs that have not finished count at their last "
            "evaluation so far, and as not reaching the threshold if they have not "
            "yet. Run the sweep again to finish them before drawing conclusions.",
            "",
        ]
    lines += [
        f"Final greedy return after {int(results.steps[-1]):,} steps (a run that stopped "
        f"earlier counts at its last evaluation): {IQM_TEXT} and mean over runs, with "
        f"95% stratified bootstrap confidence intervals ({reps:,} resamples, rliable). "
        + COVERAGE_TEXT
        + f" Every evaluation starts its episodes from the reset seeds "
        f"{EVAL_SEED_BASE}, {EVAL_SEED_BASE + 1}, ... (tune's trials use their own, "
        f"{TUNE_EVAL_SEED_BASE} on).",
        "",
    ]
    estimates = interval_estimates(results.final_returns(), reps, seed)
    header = "| configuration | runs | IQM final return | mean final return |"
    rule = "|---|---|---|---|"
    if results.threshold is not None:
        steps = median_estimates(results.to_threshold("steps_to_threshold"), reps, seed)
        # Training seconds, without evaluations and saves; sweeps from before version 0.3
        # recorded only wall time, evaluations included.
        seconds = (
            "train_to_threshold_s"
            if all("train_to_threshold_s" in r for r in summary)
            else "wall_to_threshold_s"
        )
        walls = median_estimates(results.to_threshold(seconds), reps, seed)
        kind = "training" if seconds.startswith("train") else "wall-clock"
        header += f" reached {results.threshold:g} | median steps to it | median {kind} s to it |"
        rule += "---|---|---|"
    lines += [header, rule]
    for group, rows in results.rows.items():
        counted = len(results.seeds.get(group, []))
        runs = str(counted) if counted == len(rows) else f"{counted} of {len(rows)}"
        cells = (
            [estimates[group][stat].format() for stat in ("IQM", "mean")]
            if group in estimates
            else ["no evaluation", "no evaluation"]
        )
        line = f"| {group} | {runs} | {cells[0]} | {cells[1]} |"
        if results.threshold is not None:
            reached = sum(math.isfinite(_reached(r, "steps_to_threshold")) for r in rows)
            line += (
                f" {reached}/{len(rows)} | {steps[group].format()} | {walls[group].format('.1f')} |"
            )
        lines.append(line)
    seeds = sorted({int(r["seed"]) for r in summary})
    return lines + ["", "Seeds: " + ", ".join(map(str, seeds)) + "."]


def _comparison_lines(results: SweepResults, baseline: str, reps: int, seed: int) -> list[str]:
    """The table of every other configuration against ``baseline``, seed by seed."""
    text = [
        f"Each configuration against {baseline} on the seeds both ran: a seed gives both "
        "runs the same initial weights, warm-up actions and start states, so the runs are "
        "paired. *higher / lower*: the seeds on which its final return is higher or lower "
        f"than {baseline}'s. *Difference*: its final return minus {baseline}'s on each "
        "seed; the mean and the IQM (25% trimmed mean) of those differences, with 95% "
        "bootstrap intervals over seeds: an interval that excludes 0 says the change is "
        "larger than the seeds' spread explains. *P(improvement)*: rliable's probability "
        "that a run of the configuration has a higher final return than an independent "
        f"run of {baseline} (0.5: neither tends to be higher), with its bootstrap "
        "interval; it ignores the pairing."
    ]
    header = (
        "| configuration | seeds | higher / lower | mean difference | IQM of the "
        "differences | P(improvement) |"
    )
    rule = "|---|---|---|---|---|---|"
    if results.threshold is not None:
        text.append(
            "*Steps to the threshold*: on the seeds where both reached it, the "
            "configuration's steps minus the baseline's (negative: faster); the seeds "
            "where only one, or neither, reached it are counted, not given a "
            "difference (a failed run counts as not reaching it)."
        )
        header += (
            " reached by both / only it / only baseline / neither | mean difference "
            "in steps | IQM of the differences in steps |"
        )
        rule += "---|---|---|"
    text.append(
        "Overlapping intervals in the table above are not a test; these are, though "
        "their intervals too are percentile bootstrap intervals, narrower than 95% "
        "from few seeds (see above)."
    )
    lines = [f"## Paired against {baseline}", "", " ".join(text), "", header, rule]
    for group in results.rows:
        if group != baseline:
            lines.append(_comparison_row(compare(results, group, baseline, reps, seed)))
    return lines


def _comparison_row(comparison: Comparison) -> str:
    def estimate(value: Estimate | None, spec: str, missing: str = "no shared seed") -> str:
        return missing if value is None else value.format(spec)

    returns, steps = comparison.returns, comparison.steps
    line = (
        f"| {comparison.group} | {len(returns.seeds)} | {returns.higher} / {returns.lower} "
        f"| {estimate(returns.mean, '.1f')} | {estimate(returns.iqm, '.1f')} "
        f"| {estimate(comparison.improvement, '.2f')} |"
    )
    if steps is not None:
        counts = (
            len(steps.both.seeds),
            len(steps.only_group),
            len(steps.only_baseline),
            len(steps.neither),
        )
        none = "no seed reached by both"
        line += (
            " " + " / ".join(map(str, counts)) + f" | {estimate(steps.both.mean, '.0f', none)} "
            f"| {estimate(steps.both.iqm, '.0f', none)} |"
        )
    return line
