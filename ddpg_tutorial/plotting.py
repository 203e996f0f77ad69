"""Learning-curve figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ddpg_tutorial.history import History


def plot_learning_curve(history: History, title: str = "", solved_at: float | None = -200.0,
                        path: str | Path | None = None) -> Figure:
    """Episode returns (dots) and greedy evaluations (mean +- std) against environment steps.

    Saves the figure to ``path`` when given; returns it either way.
    """
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.add_subplot()
    if history.episodes:
        steps, returns, _ = np.array(history.episodes).T
        ax.plot(steps, returns, ".", color="tab:blue", alpha=0.35, label="training episode")
    if history.evaluations:
        steps, _, mean, std = np.array(history.evaluations).T
        ax.plot(steps, mean, "-o", color="tab:orange", ms=3, label="greedy evaluation (mean)")
        ax.fill_between(steps, mean - std, mean + std, color="tab:orange", alpha=0.25,
                        label="greedy evaluation (± std)")
    if solved_at is not None:
        ax.axhline(solved_at, color="gray", ls="--", lw=1, label=f"return {solved_at:g}")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("episode return")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig
