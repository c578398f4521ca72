"""`cityhealth insurance vss-simulator` serves the gateway's contract on its own port."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from cityhealth.insurance.contract import TOKEN_PATH, password_hash

SRC = Path(__file__).resolve().parents[3]


def test_the_command_serves_the_simulator_with_its_settings():
    command = [sys.executable, "-m", "cityhealth", "insurance", "vss-simulator", "--port", "0"]
    command += ["--latency-ms", "5", "--error-rate", "0.25", "--outage"]
    command += ["--account", "01001_BV=facility-secret"]
    process = subprocess.Popen(
        command,
        cwd=SRC.parent,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("VSS simulator listening on http://127.0.0.1:"), line
        url = line.split()[-1]
        state = httpx.get(f"{url}/_simulator", timeout=5).json()
        assert (state["latency_ms"], state["error_rate"], state["outage"]) == (5, 0.25, True)
        assert httpx.post(f"{url}{TOKEN_PATH}", timeout=5).status_code == 503
        httpx.post(f"{url}/_simulator", json={"outage": False, "error_rate": 0}, timeout=5)
        form = {"username": "01001_BV", "password": password_hash("facility-secret")}
        taken = httpx.post(f"{url}{TOKEN_PATH}", data=form, timeout=5).json()
        assert taken["maKetQua"] == "200"
        assert taken["APIKey"]["access_token"]
        form["password"] = password_hash("wrong")
        refused = httpx.post(f"{url}{TOKEN_PATH}", data=form, timeout=5)
        assert (refused.status_code, refused.json()["maKetQua"]) == (401, "401")
        assert httpx.get(f"{url}/_simulator", timeout=5).json()["requests"] == {"token": 3}
    finally:
        process.terminate()
        process.wait(timeout=10)
