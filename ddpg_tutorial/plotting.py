"""Figures: the learning curve of one run, and curves over many runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from ddpg_tutorial.files import atomic_write
from ddpg_tutorial.history import History


def plot_learning_curve(
    history: History,
    title: str = "",
    threshold: tuple[float, str] | None = None,
    path: str | Path | None = None,
) -> Figure:
    """A run's record against environment steps, in panels sharing that axis:

    1. returns: training episodes (dots), greedy evaluations (mean +- std), and
       ``threshold`` (a value and where it comes from, for example
       :func:`.return_threshold`'s) as a dashed line;
    2. values: at each evaluation, the critic's estimate of the start states' value and the
       discounted return the greedy policy then obtained (their gap is the critic's over- or
       underestimate), and the mean Q on the update batches;
    3. losses: the critic's (logarithmic) and the actor's;
    4. for SAC, the temperature alpha (logarithmic) and the policy's entropy.

    Saves the figure to ``path`` (atomically) when given; returns it either way.
    """
    names = {name for record in history.losses for name in record.means}
    sac = "alpha" in names
    fig = Figure(figsize=(7.5, 9.5 if sac else 8), layout="constrained")
    panels = 4 if sac else 3
    axes = fig.subplots(panels, 1, sharex=True, height_ratios=(3, 2, 2, 2)[:panels])
    ax = axes[0]
    if history.episodes:
        steps, returns, _ = np.array(history.episodes).T
        ax.plot(steps, returns, ".", color="tab:blue", alpha=0.35, label="training episode")
    evaluations = np.array([tuple(e)[:6] for e in history.evaluations]).reshape(-1, 6)
    eval_steps, _, mean, std, q_estimate, discounted = evaluations.T
    if len(eval_steps):
        ax.plot(eval_steps, mean, "-o", color="tab:orange", ms=3, label="greedy evaluation")
        ax.fill_between(
            eval_steps,
            mean - std,
            mean + std,
            color="tab:orange",
            alpha=0.25,
            label="± std over its episodes",
        )
    if threshold is not None:
        value, source = threshold
        ax.axhline(value, color="gray", ls="--", lw=1, label=f"{value:g} ({source})")
    ax.set_ylabel("episode return")
    fig.suptitle(title)

    values = axes[1]
    if len(eval_steps):
        values.plot(
            eval_steps,
            q_estimate,
            "-o",
            ms=3,
            color="tab:green",
            label="critic's estimate at the start states",
        )
        values.plot(
            eval_steps, discounted, "-o", ms=3, color="black", label="discounted return obtained"
        )
    values.set_ylabel("value")

    losses = axes[2]
    losses.set_ylabel("critic loss", color="tab:red")
    if history.losses:
        steps = np.array([r.env_steps for r in history.losses])
        metric = {
            name: np.array([r.means.get(name, np.nan) for r in history.losses], float)
            for name in names
        }
        values.plot(
            steps,
            metric["mean_q"],
            color="tab:green",
            lw=1,
            alpha=0.5,
            label="mean Q on the update batches",
        )
        losses.plot(steps, metric["critic_loss"], color="tab:red", lw=1)
        _log_axis(losses, metric["critic_loss"])
        actor = losses.twinx()
        actor.plot(steps, metric["actor_loss"], color="tab:purple", lw=1)
        actor.set_ylabel("actor loss", color="tab:purple")
        if sac:
            axes[3].plot(steps, metric["alpha"], color="tab:brown", lw=1)
            _log_axis(axes[3], metric["alpha"])
            axes[3].set_ylabel("temperature α", color="tab:brown")
            entropy = axes[3].twinx()
            entropy.plot(steps, metric["entropy"], color="tab:cyan", lw=1)
            entropy.set_ylabel("policy entropy", color="tab:cyan")
    for panel in axes:
        panel.grid(alpha=0.3)
        if panel.get_legend_handles_labels()[0]:
            panel.legend(
                loc="lower left",
                bbox_to_anchor=(0, 1),
                ncols=2,
                fontsize="small",
                frameon=False,
                borderaxespad=0.2,
            )
    axes[-1].set_xlabel("environment steps")
    if path is not None:
        suffix = Path(path).suffix.lstrip(".") or "png"
        atomic_write(path, lambda f: fig.savefig(f, format=suffix, dpi=100))
    return fig


def _log_axis(ax: Axes, data: np.ndarray) -> None:
    """A logarithmic y axis over whole decades around ``data``, labelled at powers of ten
    only (the labels of the minor ticks clutter a short range)."""
    ax.set_yscale("log")
    positive = data[np.isfinite(data) & (data > 0)]
    if positive.size:
        ax.set_ylim(
            10.0 ** np.floor(np.log10(positive.min())), 10.0 ** np.ceil(np.log10(positive.max()))
        )
    ax.yaxis.set_minor_formatter(NullFormatter())


def plot_sample_efficiency(
    steps: np.ndarray,
    curves: dict[str, tuple[np.ndarray, np.ndarray]],
    threshold: float | None = None,
    title: str = "",
) -> Figure:
    """The IQM greedy return of each configuration against environment steps, with its 95%
    confidence band (:func:`ddpg_tutorial.stats.sample_efficiency` gives ``curves``), drawn
    by rliable."""
    from rliable import plot_utils

    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.subplots()
    plot_utils.plot_sample_efficiency_curve(
        steps,
        {name: iqm for name, (iqm, _) in curves.items()},
        {name: band for name, (_, band) in curves.items()},
        ax=ax,
        marker=".",
        xlabel="environment steps",
        ylabel="greedy return (IQM over runs)",
        labelsize="medium",
        ticklabelsize="small",
        legend=True,
        legendsize="small",
    )
    if threshold is not None:
        ax.axhline(threshold, color="gray", ls="--", lw=1)
    ax.set_title(title)
    return fig


def plot_performance_profile(
    thresholds: np.ndarray, profiles: dict[str, tuple[np.ndarray, np.ndarray]], title: str = ""
) -> Figure:
    """For each configuration, the fraction of runs whose final greedy return exceeds each
    threshold, with its 95% confidence band (:func:`ddpg_tutorial.stats.performance_profile`
    gives ``profiles``), drawn by rliable. A curve further right is better throughout."""
    from rliable import plot_utils

    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.subplots()
    plot_utils.plot_performance_profiles(
        {name: profile for name, (profile, _) in profiles.items()},
        thresholds,
        performance_profile_cis={name: band for name, (_, band) in profiles.items()},
        ax=ax,
        xlabel=r"final greedy return $\tau$",
        ylabel=r"fraction of runs with return $> \tau$",
        labelsize="medium",
        ticklabelsize="small",
        legend=True,
        legendsize="small",
    )
    ax.set_title(title)
    return fig
