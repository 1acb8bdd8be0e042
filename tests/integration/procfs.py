"""What a hub child process holds, read from /proc: memory, threads, open files."""

from __future__ import annotations

import os


def status(pid: int, field: str) -> int:
    """A number from /proc/PID/status (VmRSS in KiB, Threads...)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def rss_mib(pid: int) -> float:
    """The process's resident memory, in MiB."""
    return status(pid, "VmRSS") / 1024


def threads(pid: int) -> int:
    return status(pid, "Threads")


def fds(pid: int) -> int:
    """How many file descriptors the process has open."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def open_files(pid: int, suffix: str, under: str = "") -> int:
    """How many of its descriptors are files whose path ends with `suffix` (and contains
    `under`)."""
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            path = os.readlink(f"/proc/{pid}/fd/{fd}")
            if path.endswith(suffix) and under in path:
                count += 1
        except OSError:
            continue
    return count


def tcp_inode(local_port: int, remote_port: int) -> int | None:
    """The inode of the loopback TCP socket from `local_port` to `remote_port`, if any."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            next(f)
            for line in f:
                cols = line.split()
                local, remote, inode = cols[1], cols[2], int(cols[9])
                if (
                    int(local.rsplit(":", 1)[1], 16) == local_port
                    and int(remote.rsplit(":", 1)[1], 16) == remote_port
                    and inode
                ):
                    return inode
    return None


def holds_socket(pid: int, inode: int) -> bool:
    """Whether the process still has socket `inode` open."""
    target = f"socket:[{inode}]"
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                return True
        except OSError:
            continue
    return False
