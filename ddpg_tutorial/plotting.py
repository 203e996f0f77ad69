"""Figures: the learning curve of one run, and curves over many runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ddpg_tutorial.files import atomic_write
from ddpg_tutorial.history import History


def plot_learning_curve(history: History, title: str = "", solved_at: float | None = -200.0,
                        path: str | Path | None = None) -> Figure:
    """Two panels against environment steps: episode returns (dots) and greedy evaluations
    (mean +- std) above; below, where the run made updates, the per-episode means of the
    critic's estimate Q(s, a) on its batches (left axis) and of the critic loss (right axis,
    logarithmic).

    Saves the figure to ``path`` (atomically) when given; returns it either way.
    """
    fig = Figure(figsize=(7, 6), layout="constrained")
    ax, ax_q = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    if history.episodes:
        steps, returns, _ = np.array(history.episodes).T
        ax.plot(steps, returns, ".", color="tab:blue", alpha=0.35, label="training episode")
    if history.evaluations:
        steps, _, mean, std = np.array(history.evaluations)[:, :4].T
        ax.plot(steps, mean, "-o", color="tab:orange", ms=3, label="greedy evaluation (mean)")
        ax.fill_between(steps, mean - std, mean + std, color="tab:orange", alpha=0.25,
                        label="greedy evaluation (± std)")
    if solved_at is not None:
        ax.axhline(solved_at, color="gray", ls="--", lw=1, label=f"return {solved_at:g}")
    ax.set_ylabel("episode return")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")

    ax_q.set_xlabel("environment steps")
    ax_q.set_ylabel("Q estimate (episode mean)")
    ax_q.grid(alpha=0.3)
    if history.losses:
        steps = [r.env_steps for r in history.losses]
        ax_q.plot(steps, [r.means.get("mean_q") for r in history.losses], color="tab:green",
                  label="Q(s, a) on the batch")
        ax_loss = ax_q.twinx()
        ax_loss.plot(steps, [r.means.get("critic_loss") for r in history.losses],
                     color="tab:red", lw=1, alpha=0.7, label="critic loss")
        ax_loss.set_yscale("log")
        ax_loss.set_ylabel("critic loss (episode mean)", color="tab:red")
        lines = ax_q.get_lines() + ax_loss.get_lines()
        ax_q.legend(lines, [line.get_label() for line in lines], loc="best", fontsize="small")
    if path is not None:
        suffix = Path(path).suffix.lstrip(".") or "png"
        atomic_write(path, lambda f: fig.savefig(f, format=suffix, dpi=100))
    return fig


def plot_sample_efficiency(steps: np.ndarray, curves: dict[str, tuple[np.ndarray, np.ndarray]],
                           threshold: float | None = None, title: str = "") -> Figure:
    """The IQM greedy return of each configuration against environment steps, with its 95%
    confidence band (:func:`ddpg_tutorial.stats.sample_efficiency` gives ``curves``), drawn
    by rliable."""
    from rliable import plot_utils

    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.subplots()
    plot_utils.plot_sample_efficiency_curve(
        steps, {name: iqm for name, (iqm, _) in curves.items()},
        {name: band for name, (_, band) in curves.items()}, ax=ax, marker=".",
        xlabel="environment steps", ylabel="greedy return (IQM over runs)",
        labelsize="medium", ticklabelsize="small", legend=True, legendsize="small")
    if threshold is not None:
        ax.axhline(threshold, color="gray", ls="--", lw=1)
    ax.set_title(title)
    return fig


def plot_performance_profile(thresholds: np.ndarray,
                             profiles: dict[str, tuple[np.ndarray, np.ndarray]],
                             title: str = "") -> Figure:
    """For each configuration, the fraction of runs whose final greedy return exceeds each
    threshold, with its 95% confidence band (:func:`ddpg_tutorial.stats.performance_profile`
    gives ``profiles``), drawn by rliable. A curve further right is better throughout."""
    from rliable import plot_utils

    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.subplots()
    plot_utils.plot_performance_profiles(
        {name: profile for name, (profile, _) in profiles.items()}, thresholds,
        performance_profile_cis={name: band for name, (_, band) in profiles.items()}, ax=ax,
        xlabel=r"final greedy return $\tau$", ylabel=r"fraction of runs with return $> \tau$",
        labelsize="medium", ticklabelsize="small", legend=True, legendsize="small")
    ax.set_title(title)
    return fig
