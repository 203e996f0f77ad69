"""Tuning on several machines, as the README says: a real PostgreSQL server, a database, and two
``ddpg-tutorial tune`` processes given the same ``--storage postgresql://...`` and ``--study``.

The server is PostgreSQL's own binaries (Debian's ``postgresql`` package, which .ci/run
installs), started in a temporary folder on a free local port with password authentication,
and stopped after the tests. initdb and postgres refuse to run as root: as root (CI, containers)
they run as the user ``nobody``. Without PostgreSQL the tests are skipped, except where the
environment variable CI is set (.ci/run sets it): there they fail.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

REPO = Path(__file__).resolve().parent.parent
DATABASE = "ddpg_tuning"
USER = "tuner"
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


def postgres_bin() -> Path | None:
    """The folder of initdb, pg_ctl and postgres: on the PATH, or Debian's
    /usr/lib/postgresql/VERSION/bin (newest first), which is not on the PATH."""
    on_path = shutil.which("initdb")
    folders = [Path(on_path).parent] if on_path else []
    folders += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True,
                      key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    for folder in folders:
        if all((folder / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A PostgreSQL cluster of its own in a temporary folder, on 127.0.0.1:PORT."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        # Not pytest's tmp_path: as root it lies in a folder only root may enter.
        self.root = Path(tempfile.mkdtemp(prefix="ddpg-postgres-"))
        self.data, self.log = self.root / "data", self.root / "server.log"
        self.password, self.port = secrets.token_hex(12), free_port()
        self.as_user: dict = {}
        if os.geteuid() == 0:  # "initdb: cannot be run as root"
            nobody = pwd.getpwnam("nobody")
            os.chown(self.root, nobody.pw_uid, nobody.pw_gid)
            self.as_user = dict(user=nobody.pw_uid, group=nobody.pw_gid, extra_groups=[])
        self.started = False

    def run(self, *argv: str, timeout: float = 120) -> None:
        result = subprocess.run([str(self.bin / argv[0]), *argv[1:]], cwd=self.root,
                                env={**os.environ, "LC_ALL": "C"}, capture_output=True,
                                text=True, timeout=timeout, **self.as_user)
        assert result.returncode == 0, f"{argv[0]} failed:\n{result.stdout}\n{result.stderr}" \
            + (f"\n{self.log.read_text()}" if self.log.exists() else "")

    def start(self) -> None:
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self.as_user:
            os.chown(pwfile, self.as_user["user"], self.as_user["group"])
        self.run("initdb", "-D", str(self.data), "-U", USER, f"--pwfile={pwfile}",
                 "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-sync")
        pwfile.unlink()
        # Only this port on 127.0.0.1, and a Unix socket in the cluster's own folder (not
        # /var/run/postgresql); no fsync, since the data are thrown away.
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
                   "-c fsync=off -c full_page_writes=off")
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w",
                 "-t", "60", "start")
        self.started = True

    def url(self, database: str) -> str:
        """The README's form of URL: postgresql://USER:PASSWORD@HOST/DATABASE."""
        return f"postgresql://{USER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        try:
            if self.started:
                self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres():
    """A running server with an empty database; yields its URL."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL's initdb is not installed, and CI must run these tests: "
                        "apt-get install postgresql (.ci/run does)")
        pytest.skip("PostgreSQL is not installed: apt-get install postgresql (.ci/run does)")
    import psycopg  # the driver of the postgres extra, which SQLAlchemy's postgresql:// uses

    server = Server(bin_dir)
    try:
        server.start()
        # "once, on the database host: createdb ddpg_tuning"
        with psycopg.connect(server.url("postgres"), autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {DATABASE}")
        yield server.url(DATABASE)
    finally:
        server.stop()


def tune_process(url: str, out: Path, trials: int) -> subprocess.Popen:
    """``python -m ddpg_tutorial tune`` on study 'pg' of ``url``, with runs of a second or two:
    three evaluations of two episodes on one seed."""
    command = [sys.executable, "-m", "ddpg_tutorial", "tune", "--out", str(out), "--seeds", "0",
               "--trials", str(trials), "--steps", "600", "--set", "warmup_steps=100",
               "--set", "eval_every=200", "--set", "eval_episodes=2",
               "--storage", url, "--study", "pg"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "SDL_VIDEODRIVER": "dummy",
           "SDL_AUDIODRIVER": "dummy"}
    return subprocess.Popen(command, cwd=out.parent, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_two_tune_processes_share_one_postgresql_study(postgres, tmp_path):
    trials = 6
    start = time.monotonic()
    # Started together on an empty database: both create Optuna's tables and the study.
    processes = [tune_process(postgres, tmp_path / f"machine{i}", trials) for i in range(2)]
    results = []
    try:
        for process in processes:
            out, err = process.communicate(timeout=300)
            results.append((process.returncode, out, err))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()
    for code, out, err in results:
        assert code == 0, f"exit status {code}\n{out}\n{err}"
        assert "Traceback" not in err, err
        assert re.search(r"^best: trial \d+, mean greedy return", out, re.MULTILINE), out
    print(f"two workers, {trials} trials: {time.monotonic() - start:.1f} s")

    study = optuna.load_study(study_name="pg", storage=postgres)
    done = study.get_trials(states=FINISHED)
    assert len(done) == trials  # the study's total, not each process's
    assert {trial.number for trial in done} == {
        int(n) for _, out, _ in results for n in re.findall(r"^trial (\d+): (?!fail)", out,
                                                            re.MULTILINE)}
    # Both processes ran trials: each records its worker as host:pid.
    workers = {trial.user_attrs["worker"] for trial in done}
    assert workers == {f"{socket.gethostname()}:{process.pid}" for process in processes}, \
        [(trial.number, trial.user_attrs["worker"]) for trial in done]
    # Only a trial that a worker yielded (both started the last one) may be other than finished.
    for trial in study.get_trials():
        if trial.state not in FINISHED:
            assert trial.state == TrialState.FAIL, trial
            assert "another worker took" in trial.user_attrs["error"], trial.user_attrs
