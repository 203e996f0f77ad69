"""The pinned versions agree between pip and conda, and the console script is right."""

import ast
import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import yaml

import ddpg_tutorial

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


def test_dev_installs_torch_with_the_version_of_constraints_txt():
    # ./dev installs torch alone first (to get the CPU wheel); its pin must be the same.
    assert re.findall(r"torch==([\w.]+)", (REPO / "dev").read_text()) == [constraints()["torch"]]


def test_environment_python_satisfies_requires_python():
    environment = yaml.safe_load((REPO / "environment.yml").read_text())
    python = next(d for d in environment["dependencies"]
                  if isinstance(d, str) and d.startswith("python="))
    minimum = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    as_tuple = lambda v: tuple(int(x) for x in v.split("."))  # noqa: E731
    assert as_tuple(python.split("=")[1]) >= as_tuple(minimum.removeprefix(">="))


def requirement_names(requirements: list[str]) -> set[str]:
    return {normalise(re.split(r"[\[<>=!~ ;]", r, maxsplit=1)[0]) for r in requirements}


def test_the_test_extra_installs_every_package_the_tests_import():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = requirement_names(project["dependencies"]) \
        | requirement_names(project["optional-dependencies"]["test"])
    distributions = importlib.metadata.packages_distributions()
    imported = set()
    for path in (REPO / "tests").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module.split(".")[0])
    local = {path.stem for path in (REPO / "tests").glob("*.py")} | {"ddpg_tutorial"}
    third_party = {m for m in imported if m not in sys.stdlib_module_names and m not in local}
    assert {"pytest", "torch", "yaml", "tensorboard"} <= third_party  # the scan finds imports
    missing = {m: distributions.get(m) for m in third_party
               if not requirement_names(distributions.get(m, [m])) & declared}
    assert not missing, f"imported by tests but not in the test extra: {missing}"
    # The notebooks run under nbval, in a kernel; MuJoCo's tasks are in the tests and book.
    assert {"nbval", "ipykernel", "gymnasium"} <= declared


def test_the_version_is_written_once_and_the_license_matches():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "ddpg_tutorial.__version__"}
    assert importlib.metadata.version("ddpg-tutorial") == ddpg_tutorial.__version__
    license_name = project["project"]["license"]["text"]
    assert (REPO / "LICENSE").read_text().splitlines()[0] == f"{license_name} License"


def test_the_installed_console_script_runs():
    script = Path(sys.executable).parent / "ddpg-tutorial"
    result = subprocess.run([str(script), "presets"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("--algo ddpg") and "policy_delay" in result.stdout


def test_the_declared_torch_minimum_has_fused_adam_on_the_cpu():
    # The agent builds Adam with fused=True on the CPU, which PyTorch supports from 2.4 on;
    # an older torch that pip would accept would fail when the first agent is made.
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    torch_spec = next(r for r in project["dependencies"] if r.startswith("torch"))
    minimum = re.search(r">=\s*([\d.]+)", torch_spec).group(1)
    assert tuple(int(x) for x in minimum.split(".")[:2]) >= (2, 4), torch_spec
    # The reason for the minimum is still there: the agent's optimisers are fused.
    agent = ddpg_tutorial.DDPGAgent(3, np.array([-1.0]), np.array([1.0]),
                                    ddpg_tutorial.PRESETS["fast"])
    assert agent.actor_optimizer.defaults["fused"] and agent.critic_optimizer.defaults["fused"]


def test_importing_the_package_and_its_configs_does_not_wait_for_pytorch():
    # Public names load when first used, so `ddpg-tutorial presets` and `--help` need not
    # import PyTorch (seconds); the names still resolve, to the modules that define them.
    code = ("import sys, ddpg_tutorial, ddpg_tutorial.config; "
            "print('torch' in sys.modules, 'gymnasium' in sys.modules); "
            "from ddpg_tutorial import Trainer, PRESETS; print(Trainer.__module__)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.split() == ["False", "False", "ddpg_tutorial.training"]


def test_help_and_presets_start_without_pytorch_and_the_reps_help_is_the_librarys():
    from ddpg_tutorial.stats import REPS

    code = ("import sys; from ddpg_tutorial.cli import main; main(['presets']); "
            "print(*(m in sys.modules for m in ('torch', 'gymnasium', 'matplotlib')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.split()[-3:] == ["False", "False", "False"]
    from ddpg_tutorial.cli import build_parser

    report_help = build_parser()._subparsers._group_actions[0].choices["report"].format_help()
    assert f"(default: {REPS:,})" in report_help
