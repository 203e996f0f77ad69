"""The hyperparameters that ``ddpg-tutorial tune`` searches, and their ranges.

Kept apart from :mod:`.tune` (Optuna, PyTorch) so that ``tune --help`` can show them at once.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import optuna

#: The parameters every algorithm's search tries, each as ``("choice", values)``,
#: ``("float", (low, high))`` on a log scale, or ``("linear", (low, high))``.
SHARED_SPACE: dict[str, tuple[str, Any]] = {
    "hidden_width": ("choice", [64, 128, 160, 256]),
    "actor_lr": ("float", (1e-4, 3e-3)),
    "critic_lr": ("float", (1e-4, 3e-3)),
    "tau": ("float", (1e-3, 5e-2)),
    "batch_size": ("choice", [64, 128, 256]),
    "gamma": ("choice", [0.95, 0.97, 0.98, 0.99]),
    "update_every": ("choice", [1, 2]),
}
#: The parameters only one algorithm's search tries, by algorithm.
OWN_SPACE: dict[str, dict[str, tuple[str, Any]]] = {
    "ddpg": {"noise": ("choice", ["gaussian", "ou"]), "noise_sigma": ("linear", (0.05, 0.5))},
    "td3": {
        "noise": ("choice", ["gaussian", "ou"]),
        "noise_sigma": ("linear", (0.05, 0.5)),
        "policy_delay": ("choice", [1, 2, 3]),
        "target_noise": ("linear", (0.05, 0.3)),
    },
    "sac": {"alpha_lr": ("float", (1e-4, 3e-3)), "initial_alpha": ("float", (0.05, 1.0))},
}
#: The config fields a parameter sets, where they are not the parameter itself.
WIDTH_FIELDS = ("actor_hidden", "critic_hidden")


def space(algorithm: str) -> dict[str, tuple[str, Any]]:
    """The parameters a search of ``algorithm`` tries, each with its kind and range."""
    return {**SHARED_SPACE, **OWN_SPACE[algorithm]}


def fields_of(parameter: str) -> tuple[str, ...]:
    """The config fields ``parameter`` sets: ``hidden_width`` both networks' sizes."""
    return WIDTH_FIELDS if parameter == "hidden_width" else (parameter,)


def describe_space() -> str:
    """The search space in words, for ``tune --help`` and the README."""
    own = " ".join(f"{algo} adds: {_describe(OWN_SPACE[algo])}." for algo in OWN_SPACE)
    return (
        f"every algorithm: {_describe(SHARED_SPACE)} (hidden_width: both networks, two "
        f"layers of that width). {own}"
    )


def _describe(parameters: dict[str, tuple[str, Any]]) -> str:
    parts = []
    for name, (kind, spec) in parameters.items():
        if kind == "choice":
            parts.append(f"{name} in {{{', '.join(map(str, spec))}}}")
        else:
            scale = " (log scale)" if kind == "float" else ""
            parts.append(f"{name} in [{spec[0]:g}, {spec[1]:g}]{scale}")
    return "; ".join(parts)


def search_space(
    trial: optuna.Trial, algorithm: str, pinned: Collection[str] = ()
) -> dict[str, Any]:
    """The config fields ``trial`` tries for ``algorithm`` ('ddpg', 'td3' or 'sac'), from
    :func:`space`; a parameter whose fields are ``pinned`` (fixed by the user) is not searched."""
    fields: dict[str, Any] = {}
    for name, (kind, spec) in space(algorithm).items():
        if any(field in pinned for field in fields_of(name)):
            continue
        if kind == "choice":
            value = trial.suggest_categorical(name, spec)
        else:
            value = trial.suggest_float(name, *spec, log=kind == "float")
        for field in fields_of(name):
            fields[field] = (value, value) if field in WIDTH_FIELDS else value
    return fields
