"""The `warroom` command: hub, token, join, send, manifest, suspects, state, events and demo."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from server.config import default as hub_default
from warroom.core import Role

ROLES = [r.value for r in Role]
DEFAULT_DATA = Path("warroom-data")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="warroom")
def main() -> None:
    """warroom: run a deployment train together, in the terminal."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=int, help="0 picks a free port.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DATA,
    show_default=True,
    help="Journals and the signing secret live here.",
)
@click.option(
    "--secret-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read the signing secret here instead of DATA_DIR/secret.key.",
)
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--max-frame",
    default=hub_default("max_frame"),
    show_default=True,
    type=click.IntRange(1024),
    help="Largest frame accepted, in bytes; bigger ones close with 1009.",
)
@click.option(
    "--rate",
    default=hub_default("rate"),
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Frames per second allowed per person (all their connections), on average.",
)
@click.option(
    "--burst",
    default=hub_default("burst"),
    show_default=True,
    type=click.FloatRange(min=1),
    help="Frames allowed at once per person.",
)
@click.option(
    "--byte-rate",
    default=hub_default("byte_rate"),
    show_default=True,
    type=click.IntRange(1024),
    help="Bytes of commands per second allowed per person (sixteen seconds of it at once).",
)
@click.option(
    "--retention",
    default=hub_default("retention"),
    show_default=True,
    type=click.IntRange(100),
    help="Log lines kept per room for late joiners and restarts.",
)
@click.option(
    "--handshake-timeout",
    default=hub_default("handshake_timeout"),
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds a new connection has to send its hello.",
)
@click.option(
    "--send-budget",
    default=hub_default("send_budget"),
    show_default=True,
    type=click.IntRange(64 << 10),
    help="Bytes queued for one client before it counts as too slow and is cut off.",
)
@click.option(
    "--max-conns",
    default=hub_default("max_conns"),
    show_default=True,
    type=click.IntRange(1),
    help="Open connections allowed per person and room.",
)
@click.option(
    "--join-rate",
    default=hub_default("join_rate"),
    show_default=True,
    type=click.FloatRange(min=1),
    help="Connections a person may open per minute (and at once).",
)
@click.option(
    "--max-pending",
    type=click.IntRange(1),
    help="Connections not yet past their hello; beyond it the oldest silent one is let go."
    "  [default: 1024, or a quarter of the open-file limit if lower]",
)
@click.option(
    "--room-idle",
    default=hub_default("room_idle"),
    show_default=True,
    type=click.FloatRange(min=0),
    help="Seconds a room nobody uses stays open before it is put away.",
)
@click.option(
    "--linger",
    default=hub_default("linger"),
    show_default=True,
    type=click.FloatRange(min=0),
    help="Seconds a visitor who left has to come back before the room records it.",
)
@click.option(
    "--io-threads",
    default=hub_default("io_threads"),
    show_default=True,
    type=click.IntRange(1, 256),
    help="Journal threads shared by every room.",
)
def hub(
    host: str,
    port: int,
    data_dir: Path,
    secret_file: Path | None,
    tls_cert: Path | None,
    tls_key: Path | None,
    max_frame: int,
    rate: float,
    burst: float,
    byte_rate: int,
    retention: int,
    handshake_timeout: float,
    send_budget: int,
    max_conns: int,
    join_rate: float,
    max_pending: int | None,
    room_idle: float,
    linger: float,
    io_threads: int,
) -> None:
    """Run the hub that holds the rooms."""
    from server.auth import AuthError, load_or_create_secret
    from server.hub import HubConfig
    from server.main import install_logging, run_hub, tls_context

    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("--tls-cert and --tls-key go together")
    try:
        secret = load_or_create_secret(data_dir, secret_file)
    except AuthError as exc:
        raise click.ClickException(str(exc)) from None
    tls = tls_context(tls_cert, tls_key) if tls_cert and tls_key else None
    config = HubConfig(
        data_dir=data_dir,
        secret=secret,
        max_frame=max_frame,
        rate=rate,
        burst=burst,
        byte_rate=byte_rate,
        send_budget=send_budget,
        handshake_timeout=handshake_timeout,
        retention=retention,
        max_conns=max_conns,
        join_rate=join_rate,
        max_pending=max_pending,
        room_idle=room_idle,
        linger=linger,
        io_threads=io_threads,
    )
    install_logging()
    try:
        asyncio.run(run_hub(config, host, port, tls))
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None


@main.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DATA,
    show_default=True,
)
@click.option("--secret-file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--room", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--ttl", default="12h", show_default=True, help="How long it is valid: 30m, 12h, 7d.")
@click.option(
    "--change-role",
    is_flag=True,
    help="Let this token give NAME a new role in a room that knows them in another.",
)
def token(
    data_dir: Path,
    secret_file: Path | None,
    room: str,
    name: str,
    role: str,
    ttl: str,
    change_role: bool,
) -> None:
    """Mint a signed token for a person in a room (its id goes to stderr, for revoking)."""
    from server.auth import AuthError, load_or_create_secret, mint, parse_ttl, token_id
    from warroom.protocol import ProtocolError

    try:
        secret = load_or_create_secret(data_dir, secret_file)
        text = mint(secret, room, name, Role(role), parse_ttl(ttl), time.time(), rerole=change_role)
        click.echo(text)
        click.echo(f"token id {token_id(text)}: `warroom revoke --id {token_id(text)}`", err=True)
    except AuthError as exc:
        raise click.ClickException(str(exc)) from None
    except ProtocolError as exc:
        raise click.ClickException(exc.message) from None


@main.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DATA,
    show_default=True,
)
@click.option("--id", "token_id", help="Revoke the token with this id (printed when minted).")
@click.option("--name", help="Revoke every token of this person issued before --before.")
@click.option("--room", default="", help="With --name: only their tokens for this room.")
@click.option(
    "--before",
    type=float,
    help="With --name: UNIX time; tokens issued before it are revoked (default: now).",
)
@click.option("--why", default="", help="Said to the person cut off, and in the hub's log.")
def revoke(
    data_dir: Path,
    token_id: str | None,
    name: str | None,
    room: str,
    before: float | None,
    why: str,
) -> None:
    """Revoke a token, or every token of a person; a running hub cuts them off within a
    second, and the revocation outlives restarts."""
    from server.auth import AuthError, check_name
    from server.revocations import Revocations

    if (token_id is None) == (name is None):
        raise click.UsageError("give --id or --name (one of them)")
    if name is not None:
        try:
            check_name(name)
        except AuthError as exc:
            raise click.BadParameter(str(exc), param_hint="--name") from None
    revoked = Revocations(data_dir)
    try:
        if token_id is not None:
            revoked.revoke_id(token_id, time.time(), why)
            click.echo(f"revoked token {token_id}")
        else:
            assert name is not None
            when = time.time() if before is None else before
            revoked.revoke_name(name, room, when, why)
            where = f"room {room}" if room else "every room"
            click.echo(f"revoked {name}'s tokens for {where} issued before {when:.0f}")
    finally:
        revoked.close()


@main.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DATA,
    show_default=True,
)
@click.argument("room")
def salvage(data_dir: Path, room: str) -> None:
    """Go on from the intact part of ROOM's damaged journal, in a new epoch.

    The damaged files are moved aside, not deleted; clients load a fresh snapshot.
    """
    from server.salvage import SalvageError
    from server.salvage import salvage as run_salvage
    from warroom.protocol import ProtocolError, check_room

    try:
        check_room(room)
    except ProtocolError as exc:
        raise click.BadParameter(exc.message, param_hint="ROOM") from None
    if (
        not (data_dir / "rooms" / f"{room}.db").exists()
        and not (data_dir / "rooms" / f"{room}.hwm").exists()
    ):
        raise click.ClickException(f"no journal for room {room} in {data_dir / 'rooms'}")
    try:
        done = run_salvage(data_dir, room)
    except SalvageError as exc:
        raise click.ClickException(str(exc)) from None
    lost = max(0, done.acknowledged - done.kept)
    click.echo(f"room {room}: kept events 1..{done.kept}, {done.log_lines} log lines")
    if done.why_stopped:
        click.echo(f"  stopped there because {done.why_stopped}")
    if lost:
        click.echo(f"  {lost} acknowledged events are lost")
    click.echo(f"  new epoch {done.epoch}; every client will load a fresh snapshot")
    click.echo(f"  the damaged files are in {done.moved_to}")


_url = click.argument("url")
_token = click.option(
    "--token",
    "-t",
    envvar="WARROOM_TOKEN",
    required=True,
    help="Your token (or set WARROOM_TOKEN).",
)


_repos = click.option(
    "--repo",
    "repo_paths",
    multiple=True,
    metavar="NAME=PATH",
    help="Where repository NAME is on this machine, for git blame (repeatable).",
)


def _repo_map(pairs: tuple[str, ...]) -> dict[str, str]:
    repos: dict[str, str] = {}
    for pair in pairs:
        repo, sep, path = pair.partition("=")
        if not sep or not repo or not path:
            raise click.BadParameter(f"{pair!r} is not NAME=PATH", param_hint="--repo")
        repos[repo] = path
    return repos


@main.command()
@_url
@_token
@click.option("--tz", help="Your time zone, e.g. Europe/Berlin (default: this machine's).")
@_repos
def join(url: str, token: str, tz: str | None, repo_paths: tuple[str, ...]) -> None:
    """Join a room in the terminal UI."""
    from warroom.client import room_of
    from warroom.timezones import check_tz, local_tz
    from warroom.tui.app import WarroomApp

    repos = _repo_map(repo_paths)
    try:
        room_of(url)
        zone = check_tz(tz) if tz else local_tz()
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    WarroomApp(url, token, zone, repos=repos).run()


@main.command(context_settings={"ignore_unknown_options": True})
@_url
@_token
@click.argument("op")
@click.argument("pairs", nargs=-1)
def send(url: str, token: str, op: str, pairs: tuple[str, ...]) -> None:
    """Send one command: OP key=value (a string) or key:=JSON (a number, true, ...)."""
    from warroom.script import parse_pairs, send_one

    try:
        args = parse_pairs(pairs)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="key=value") from None
    answer = _run(send_one(url, token, op, args))
    click.echo(json.dumps(answer))
    if not answer.get("ok"):
        sys.exit(1)


@main.command(name="open")
@_url
@_token
@click.option(
    "--runbook",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The train's runbook (TOML); see examples/.",
)
@click.option("--version", "version", required=True, help="The version going out.")
def open_train(url: str, token: str, runbook: Path, version: str) -> None:
    """Start a train run in the room (conductor)."""
    from warroom.core.runbook import RunbookError, parse, to_data
    from warroom.script import send_one

    try:
        text = runbook.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{runbook}: cannot read: {exc}") from None
    try:
        book = parse(text, str(runbook))
    except RunbookError as exc:
        raise click.ClickException(str(exc)) from None
    answer = _run(
        send_one(url, token, "open_train", {"runbook": to_data(book), "version": version})
    )
    click.echo(json.dumps(answer))
    if not answer.get("ok"):
        sys.exit(1)


@main.command(context_settings={"ignore_unknown_options": True})
@_url
@_token
@click.option("--source", required=True, help="Name of this log source, e.g. group1-sync.")
@click.option(
    "--file",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Follow this file like tail -F.",
)
@click.option("--from-start", is_flag=True, help="With --file: send what is already there too.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def feed(
    url: str, token: str, source: str, path: Path | None, from_start: bool, command: tuple[str, ...]
) -> None:
    """Stream a file (--file PATH) or a command's output (-- COMMAND ...) into the room."""
    from warroom.feed import CommandLines, Feeder, follow_file

    if (path is None) == (not command):
        raise click.UsageError("give either --file PATH or -- COMMAND [ARGS...]")
    try:
        feeder = Feeder(url, token, source)
        if not _valid_source(source):
            raise click.BadParameter(
                "use 1-64 letters, digits, '.', '_', '-', ':' or '/'", param_hint="--source"
            )
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="URL") from None
    if path is not None:
        _run(feeder.run(follow_file(path, from_start)))
        return
    lines = CommandLines(list(command))
    try:
        _run(feeder.run(aiter(lines), lambda: lines.status))
    except FileNotFoundError as exc:
        raise click.ClickException(f"cannot run {command[0]!r}: {exc.strerror}") from None
    sys.exit(lines.status or 0)


def _valid_source(source: str) -> bool:
    from warroom.protocol import SOURCE_CHARS

    return 1 <= len(source) <= 64 and set(source) <= SOURCE_CHARS


@main.command()
@_url
@_token
@click.option(
    "--repo",
    "repo_path",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The repository: a work tree or a bare repository.",
)
@click.option("--from", "from_rev", required=True, help="The version running now (left out).")
@click.option("--to", "to_rev", required=True, help="The version going out.")
@click.option("--name", default="", help="The repository's name in the room [its directory name].")
def manifest(url: str, token: str, repo_path: Path, from_rev: str, to_rev: str, name: str) -> None:
    """Publish the commits going out from one repository; run it once per repository."""
    import secrets

    from warroom.client import room_of
    from warroom.manifest import ManifestError, check_size, publish_commands, read_manifest
    from warroom.script import send_all

    try:
        room_of(url)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="URL") from None
    try:
        found = read_manifest(repo_path, from_rev, to_rev, name)
        check_size(found)
    except ManifestError as exc:
        raise click.ClickException(str(exc)) from None
    summary: dict[str, Any] = {"repo": found.name, "commits": len(found.commits)}
    if not found.commits:
        message = f"nothing going out in {found.name}: {from_rev}..{to_rev} holds no commits"
        click.echo(json.dumps({"ok": True, **summary, "published": False, "message": message}))
        return
    commands = publish_commands(found, secrets.token_hex(8))
    answer = _run(send_all(url, token, commands))
    summary.update(chunks=len(commands) - 1, published=answer["ok"], **answer)
    click.echo(json.dumps(summary))
    if not answer["ok"]:
        click.echo(
            f"warroom manifest: the hub refused {answer['op']} after {answer['applied']}"
            f" accepted: {answer['reason']}",
            err=True,
        )
        sys.exit(1)


@main.command()
@_url
@_token
@click.option(
    "--trace",
    "trace_file",
    type=click.File("r", encoding="utf-8", errors="replace"),
    default="-",
    help="A file holding the log line or stack trace [standard input].",
)
@_repos
def suspects(url: str, token: str, trace_file: Any, repo_paths: tuple[str, ...]) -> None:
    """Rank the manifest's commits a stack trace points at, as JSON."""
    from warroom.core.wire import state_from_wire
    from warroom.script import fetch_state
    from warroom.suspects import find_suspects, rank_authors

    repos = _repo_map(repo_paths)
    trace = trace_file.read()
    state = state_from_wire(_run(fetch_state(url, token))["state"])
    changes = state.changes
    found = find_suspects(changes, trace, repos=repos) if changes is not None else []
    out = {
        "suspects": [
            {
                "repo": s.repo,
                "sha": s.commit.sha,
                "short": s.commit.short,
                "subject": s.commit.subject,
                "author": s.commit.author,
                "email": s.commit.email,
                "score": s.score,
                "reasons": list(s.reasons),
                "revert": s.revert,
                "safe": None if s.mark is None else s.mark.safe,
            }
            for s in found
        ],
        "authors": [
            {"name": a.name, "email": a.email, "score": round(a.score, 3)}
            for a in rank_authors(found)
        ],
    }
    click.echo(json.dumps(out, indent=2))


@main.command()
@_url
@_token
def state(url: str, token: str) -> None:
    """Print the room's state as JSON."""
    from warroom.script import fetch_state

    click.echo(json.dumps(_run(fetch_state(url, token)), indent=2))


@main.command()
@_url
@_token
@click.option("--follow", "-f", is_flag=True, help="Keep printing new events as they happen.")
def events(url: str, token: str, follow: bool) -> None:
    """Print the room's events as JSON lines."""
    from warroom.script import print_events

    _run(print_events(url, token, follow, lambda line: click.echo(line)))


@main.command()
@_url
@_token
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "json"]),
    default="md",
    show_default=True,
    help="Markdown for a task tracker, or JSON for tools.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here instead of standard output.")  # fmt: skip
@click.option("--tz", default="UTC", show_default=True, help="The zone the times are given in.")
def export(url: str, token: str, fmt: str, output: Path | None, tz: str) -> None:
    """Write the retrospective of the room's last train run: stages, incidents, votes."""
    from warroom.retro import NoTrain, build
    from warroom.retrodoc import to_json, to_markdown
    from warroom.script import fetch_history
    from warroom.timezones import check_tz

    try:
        zone = check_tz(tz)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--tz") from None
    events, state = _run(fetch_history(url, token))
    try:
        retro = build(events, state)
    except NoTrain as exc:
        raise click.ClickException(str(exc)) from None
    text = to_markdown(retro, zone) if fmt == "md" else json.dumps(to_json(retro), indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"wrote {output}", err=True)


@main.command()
@click.option(
    "--as",
    "role",
    type=click.Choice(ROLES),
    default="conductor",
    show_default=True,
    help="Which seat to watch the demo from.",
)
@click.option(
    "--speed",
    type=click.FloatRange(0.1, 100),
    default=1.0,
    show_default=True,
    help="How fast the story runs: 2 plays its three minutes in one and a half.",
)
def demo(role: str, speed: float) -> None:
    """Run a sample train with bots, on a hub in a temporary directory, until you quit."""
    from warroom.demo import run_demo

    run_demo(Role(role), speed)


def _run(coro: Any) -> Any:
    from warroom.client import ConnectError
    from warroom.protocol import ProtocolError

    try:
        return asyncio.run(coro)
    except ConnectError as exc:
        raise click.ClickException(str(exc)) from None
    except ProtocolError as exc:
        raise click.ClickException(exc.message) from None
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        sys.exit(130)
