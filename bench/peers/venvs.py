"""One virtual environment per requirement file, rebuilt only when the file changes.

The venvs live under `.nox/peer-venvs/` (gitignored with the rest of `.nox/`). A stamp
file holds the hash of the requirement file and of every file it includes, so an edited
pin reinstalls and an unchanged one is reused as it is.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REQUIREMENTS = Path(__file__).resolve().parent / "requirements"
VENVS = REPO / ".nox" / "peer-venvs"
STAMP = "requirements.sha256"


def requirement_digest(path: Path) -> str:
    """The hash of a requirement file and the files it includes with `-r`."""
    digest = hashlib.sha256()
    pending = [path]
    while pending:
        current = pending.pop()
        text = current.read_text()
        digest.update(text.encode())
        for line in text.splitlines():
            if line.startswith("-r "):
                pending.append(current.parent / line[3:].strip())
    return digest.hexdigest()


def python_of(env: Path) -> Path:
    return env / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def ensure_venv(name: str, log: Path) -> Path:
    """The python of venv `name`, created or updated from requirements/<name>.txt."""
    requirements = REQUIREMENTS / f"{name}.txt"
    env = VENVS / name
    stamp = env / STAMP
    digest = requirement_digest(requirements)
    if stamp.exists() and stamp.read_text() == digest and python_of(env).exists():
        return python_of(env)
    if env.exists():
        shutil.rmtree(env)
    print(f"  installing venv {name} (log: {log})", flush=True)
    venv.EnvBuilder(with_pip=True).create(env)
    python = python_of(env)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        # The repo root is the working directory: llmtap.txt names its packages from there.
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "-r", str(requirements)],
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
        )
    stamp.write_text(digest)
    return python


def venv_names() -> list[str]:
    return sorted(p.stem for p in REQUIREMENTS.glob("*.txt") if p.stem != "common")


if __name__ == "__main__":
    for venv_name in sys.argv[1:] or venv_names():
        print(ensure_venv(venv_name, VENVS / f"{venv_name}.log"))
