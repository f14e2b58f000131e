"""bin/audit-dependencies: fails on a vulnerable pin, says loudly when the advisory data was unreachable."""

import importlib.util
import json
import subprocess
from importlib.machinery import SourceFileLoader
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bin" / "audit-dependencies"


@pytest.fixture
def audit(monkeypatch):
    loader = SourceFileLoader("audit_dependencies", str(SCRIPT))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(module)

    def run_with(report, stderr=""):
        stdout = json.dumps(report) if isinstance(report, dict) else report

        def fake_run(command, **kwargs):
            assert "-r" in command
            return subprocess.CompletedProcess(command, 1 if "vulns" in stdout else 0, stdout, stderr)

        monkeypatch.setattr(module.subprocess, "run", fake_run)
        return module.main()

    run_with.module = module
    return run_with


def test_it_fails_on_a_known_vulnerability(audit, capsys):
    report = {
        "dependencies": [
            {"name": "django", "version": "5.2.0", "vulns": [{"id": "PYSEC-1", "fix_versions": ["5.2.1"]}]},
        ]
    }
    assert audit(report) == 1
    assert "VULNERABLE: django 5.2.0: PYSEC-1 (fixed in 5.2.1)" in capsys.readouterr().out


def test_it_passes_quietly_when_everything_was_checked(audit, capsys):
    assert audit({"dependencies": [{"name": "django", "version": "5.2.19", "vulns": []}]}) == 0
    assert "1 of 1 packages checked" in capsys.readouterr().out


def test_it_prints_a_notice_when_packages_could_not_be_checked(audit, capsys, monkeypatch):
    report = {"dependencies": [{"name": "django", "skip_reason": "Dependency not found on PyPI"}]}
    assert audit(report) == 0
    assert "NOTICE: 1 packages could NOT be checked" in capsys.readouterr().err


def test_strict_mode_fails_when_packages_could_not_be_checked(audit, monkeypatch):
    monkeypatch.setattr(audit.module, "STRICT", True)
    report = {"dependencies": [{"name": "django", "skip_reason": "Dependency not found on PyPI"}]}
    assert audit(report) == 1


def test_it_prints_a_notice_when_pip_audit_cannot_run(audit, capsys):
    assert audit("", stderr="ConnectionError: network unreachable") == 0
    assert "NOTICE: pip-audit could not run" in capsys.readouterr().err
