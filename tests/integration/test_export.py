"""The real `warroom export` against a real hub: Markdown and JSON files, and its refusals."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.test_cli import running, token, warroom  # noqa: F401  (a fixture)
from warroom.hubproc import HubProcess

RUNBOOK = Path(__file__).resolve().parents[2] / "examples" / "service-rollout.toml"


def test_export_writes_the_runs_markdown_and_json(running: HubProcess, tmp_path: Path) -> None:  # noqa: F811
    url = running.room_url("train-1")
    ana = token(running.data_dir, "ana", "conductor")
    raj = token(running.data_dir, "raj", "engineer")
    empty = warroom("export", url, "-t", ana)
    assert empty.returncode == 1 and "has not run a train: nothing to export" in empty.stderr

    opened = warroom("open", url, "-t", ana, "--runbook", str(RUNBOOK), "--version", "2.7.0")
    assert opened.returncode == 0, opened.stderr
    for who, op, *args in (
        (raj, "raise_blocker", "reason=p99 latency doubled", "link=INC-42"),
        (raj, "resolve_blocker", "blocker=INC-42", "note=cache warmed"),
        (ana, "promote", "override=canary checked by hand"),
    ):
        sent = warroom("send", url, "-t", who, op, *args)
        assert sent.returncode == 0, sent.stdout + sent.stderr

    md = tmp_path / "retro.md"
    out = warroom("export", url, "-t", raj, "-o", str(md), "--tz", "Europe/Berlin")
    assert out.returncode == 0, out.stderr
    text = md.read_text()
    assert text.startswith("# Train 2.7.0: running\n") and "(times in Europe/Berlin)" in text
    assert "| INC-42 p99 latency doubled | canary |" in text
    assert "by raj: cache warmed |" in text
    assert "every blocker resolved (last by raj)" in text

    out = warroom("export", url, "-t", raj, "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["version"] == "2.7.0"
    assert [s["stage"] for s in data["stages"]] == ["canary", "10%"]
    assert data["blockers"][0]["note"] == "cache warmed"
    assert data["incidents"][0]["ttr"] is not None

    bad = warroom("export", url, "-t", raj, "--tz", "Mars/Olympus")
    assert bad.returncode == 2 and "Mars/Olympus" in bad.stderr
    unwritable = warroom("export", url, "-t", raj, "-o", str(tmp_path / "no" / "such" / "f.md"))
    assert unwritable.returncode == 1 and "cannot write" in unwritable.stderr
