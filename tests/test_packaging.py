"""The pinned versions agree between pip and conda, and the console script is right."""

import importlib
import re
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def constraints() -> dict[str, str]:
    pins = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep, f"constraints.txt: '{line}' is not pinned with =="
            pins[normalise(name)] = version.strip()
    return pins


def conda_pip_pins() -> dict[str, str]:
    environment = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_sections = [d["pip"] for d in environment["dependencies"] if isinstance(d, dict)]
    assert len(pip_sections) == 1, "environment.yml needs exactly one pip section"
    pins = {}
    for requirement in pip_sections[0]:
        if requirement.startswith("-"):  # -e . and other pip options
            continue
        name, sep, version = requirement.partition("==")
        assert sep, f"environment.yml: '{requirement}' is not pinned with =="
        pins[normalise(name.split("[")[0])] = version.strip()
    return pins


def test_constraints_are_parsed():
    pins = constraints()
    assert len(pins) > 20
    assert normalise("Farama-Notifications") in pins and normalise("stable_baselines3") in pins


def test_every_conda_pip_pin_matches_constraints():
    pins, conda = constraints(), conda_pip_pins()
    assert len(conda) >= 5
    missing = sorted(set(conda) - set(pins))
    assert not missing, f"pinned in environment.yml but not in constraints.txt: {missing}"
    differ = {name: (version, pins[name]) for name, version in conda.items()
              if pins[name] != version}
    assert not differ, f"environment.yml vs constraints.txt versions differ: {differ}"


def test_torch_is_pinned_to_2_13_0_everywhere():
    assert constraints()["torch"] == "2.13.0"
    assert conda_pip_pins()["torch"] == "2.13.0"
    # ./dev installs torch alone first, with the same pin.
    assert re.findall(r"torch==([\w.]+)", (REPO / "dev").read_text()) == ["2.13.0"]


def test_environment_python_satisfies_requires_python():
    environment = yaml.safe_load((REPO / "environment.yml").read_text())
    python = next(d for d in environment["dependencies"]
                  if isinstance(d, str) and d.startswith("python="))
    minimum = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    as_tuple = lambda v: tuple(int(x) for x in v.split("."))  # noqa: E731
    assert as_tuple(python.split("=")[1]) >= as_tuple(minimum.removeprefix(">="))


def test_console_script_points_to_the_cli():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["ddpg-tutorial"] == "ddpg_tutorial.cli:main"
    module, _, function = project["scripts"]["ddpg-tutorial"].partition(":")
    assert callable(getattr(importlib.import_module(module), function))


def test_the_slow_marker_is_declared():
    options = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]
    assert any(m.startswith("slow:") for m in options["ini_options"]["markers"])
