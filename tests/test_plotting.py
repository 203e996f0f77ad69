"""The learning curve of one run: the task's threshold, values, losses, SAC's temperature."""

import pytest

from ddpg_tutorial import plot_learning_curve
from ddpg_tutorial.envs import return_threshold
from ddpg_tutorial.history import EpisodeRecord, EvalRecord, History, LossRecord

def test_the_threshold_line_is_the_tasks_own_and_says_where_it_comes_from():
    assert return_threshold("InvertedPendulum-v5") == (950.0, "Gymnasium's reward threshold")
    assert return_threshold("Pendulum-v1") == (-200.0, "the usual bar on Pendulum-v1")
    assert return_threshold("DDPGTestSmall-v0") is None


@pytest.mark.parametrize("algorithm", ["ddpg", "sac"])
def test_the_learning_curve_shows_values_losses_and_sacs_temperature(algorithm):
    means = {"critic_loss": 2.0, "actor_loss": 5.0, "mean_q": -5.0}
    if algorithm == "sac":
        means |= {"alpha": 0.3, "entropy": -1.0}
    history = History([EpisodeRecord(200, -900.0, 200)],
                      [EvalRecord(200, 1.0, -800.0, 10.0, -20.0, -300.0)],
                      [LossRecord(200, means)])
    fig = plot_learning_curve(history, threshold=(-200.0, "a bar"))
    axes = [ax for ax in fig.axes if ax.get_ylabel()]
    labels = {ax.get_ylabel() for ax in axes}
    assert {"episode return", "value", "critic loss", "actor loss"} <= labels
    assert ("temperature α" in labels) == ("policy entropy" in labels) == (algorithm == "sac")
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "-200 (a bar)" in legend
    values = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert values == ["critic's estimate at the start states", "discounted return obtained",
                      "mean Q on the update batches"]
    assert not plot_learning_curve(history).axes[0].lines[-1].get_linestyle() == "--"
