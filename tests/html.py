"""The Nu HTML checker (vnu.jar, installed by `make test`) over a folder of saved pages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from tests.conftest import require

VNU_JAR = os.environ.get("VNU_JAR", ".venv/vnu/node_modules/vnu-jar/build/dist/vnu.jar")


def html_problems(folder: Path) -> list[str]:
    """Every error the checker finds in the folder's .html files, as 'file:line: message'."""
    require(Path(VNU_JAR).is_file(), "vnu.jar is not installed (make test installs it)")
    require(shutil.which("java") is not None, "Java is not installed")
    result = subprocess.run(
        ["java", "-jar", VNU_JAR, "--errors-only", "--format", "json", "--exit-zero-always",
         str(folder)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    messages = json.loads(result.stderr or result.stdout)["messages"]
    return [f"{Path(m['url']).name}:{m.get('lastLine')}: {m['message']}" for m in messages]
