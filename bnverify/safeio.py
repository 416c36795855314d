"""Safe outputs and clean interrupts for the command line.

Output files
    :func:`check_output_path` checks an output target *before* any work: an existing file is
    refused unless ``force``; a directory where a file is expected, a file where a directory is
    expected, a non-regular file (device, FIFO), a dangling symbolic link, a read-only file, a
    target under ``/proc`` or ``/sys``, a missing parent directory (unless ``create_parents``) and
    a directory in which this process cannot create a file are all refused with one
    :class:`~bnverify.errors.BNVerifyError` line.  Writability is *probed* (a temporary file is
    created and removed in the target's directory), because ``os.access`` says yes to root on a
    read-only file system.

    :func:`atomic_output` / :func:`atomic_write_text` / :func:`atomic_write_bytes` write to a
    temporary name in the target's directory and ``os.replace`` it onto the target at the end, so
    the target is either untouched or complete, whatever happens in between (exception, Ctrl-C,
    SIGTERM once :func:`install_signal_handlers` is active); the temporary file is removed on any
    exception.  :func:`staged_dir` does the same for a command that writes several files into an
    output directory: it hands out a temporary directory next to the target and moves the files
    into place only when the block completes.

Signals
    :func:`install_signal_handlers` makes SIGTERM and SIGHUP raise
    :class:`~bnverify.errors.Terminated` (a ``BaseException``, like ``KeyboardInterrupt`` for
    SIGINT), so ``finally`` blocks and the context managers above run, and ``bnverify.cli.main``
    exits with 128 + the signal number (143 for SIGTERM, 130 for SIGINT) and one line on stderr.
    :func:`ignoring_signals` shields a short cleanup section from a second signal;
    :func:`children_ignore_sigint` and :func:`worker_ignore_sigint` keep worker processes out of
    Ctrl-C (the parent stops them: :func:`stop_processes`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from .errors import BNVerifyError, Terminated

__all__ = [
    "atomic_output",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_input_file",
    "check_output_path",
    "children_ignore_sigint",
    "ignoring_signals",
    "install_signal_handlers",
    "refuse_existing",
    "restore_signal_handlers",
    "signal_handlers",
    "staged_dir",
    "stop_processes",
    "worker_ignore_sigint",
]

#: file systems that are not places for output files
FORBIDDEN_ROOTS = ("/proc", "/sys")

_umask = os.umask(0)
os.umask(_umask)
FILE_MODE = 0o666 & ~_umask
DIR_MODE = 0o777 & ~_umask


# ----------------------------------------------------------------------------------------------
# checks before work
# ----------------------------------------------------------------------------------------------


def _forbidden(p: Path) -> str | None:
    real = os.path.realpath(p)
    for root in FORBIDDEN_ROOTS:
        if real == root or real.startswith(root + os.sep):
            return root
    return None


def _nearest_existing(p: Path) -> Path:
    q = p
    while not os.path.lexists(q) and q != q.parent:
        q = q.parent
    return q


def _probe_dir(d: Path, name: str) -> None:
    """Create and remove a temporary file in directory ``d`` (the only reliable write test)."""
    try:
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".bnverify-probe-", suffix=".tmp")
    except OSError as exc:
        raise BNVerifyError(f"{name}: cannot write in {d}: {exc.strerror or exc}") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(tmp)


def _check_parent(p: Path, name: str, create_parents: bool) -> None:
    parent = p.parent
    if os.path.isdir(parent):
        _probe_dir(parent, name)
        return
    if os.path.lexists(parent):
        raise BNVerifyError(f"{name}: {parent} is not a directory")
    if not create_parents:
        raise BNVerifyError(f"{name}: directory {parent} does not exist (create it first)")
    anchor = _nearest_existing(parent)
    if not os.path.isdir(anchor):
        raise BNVerifyError(f"{name}: {anchor} is not a directory")
    _probe_dir(anchor, name)


def check_output_path(
    path: str | os.PathLike[str],
    *,
    force: bool,
    create_parents: bool = False,
    is_dir: bool = False,
    name: str = "out",
) -> Path:
    """Check that ``path`` can receive an output; return it as a :class:`Path`.

    ``is_dir=False`` (a file): refused when it exists (unless ``force``), is a directory or not a
    regular file, is read-only, is a dangling link, or when its directory is missing (unless
    ``create_parents``) or not writable.  ``is_dir=True`` (an output directory, created by the
    command if missing): refused when it exists and is not a directory, or cannot be written
    into, or its parent is missing (unless ``create_parents``); which files inside it may be
    overwritten is the caller's decision (:func:`refuse_existing`).  Anything under ``/proc`` or
    ``/sys`` is refused.  ``name`` prefixes the message (the flag: ``json``, ``out``, ...).
    Raises :class:`BNVerifyError` with one line; has no side effect beyond a probe file created
    and removed in the target's directory.
    """
    text = os.fspath(path)
    if not text or not text.strip():
        raise BNVerifyError(f"{name}: empty path")
    if "\0" in text:
        raise BNVerifyError(f"{name}: path contains a NUL character")
    p = Path(text)
    root = _forbidden(p)
    if root:
        raise BNVerifyError(f"{name}: {p} is under {root}, not a place for output files")
    try:
        if os.path.islink(p) and not os.path.exists(p):
            raise BNVerifyError(f"{name}: {p} is a dangling symbolic link")
        real = Path(os.path.realpath(p))
        if is_dir:
            if real.exists():
                if not real.is_dir():
                    raise BNVerifyError(f"{name}: {p} exists and is not a directory")
                _probe_dir(real, name)
            else:
                _check_parent(real, name, create_parents)
            return p
        if real.exists():
            if real.is_dir():
                raise BNVerifyError(f"{name}: {p} is a directory (expected a file name)")
            if not real.is_file():
                raise BNVerifyError(f"{name}: {p} exists and is not a regular file")
            if not force:
                raise BNVerifyError(f"{name}: {p} exists (use --force to overwrite it)")
            mode = real.stat().st_mode
            if not (mode & 0o222) or not os.access(real, os.W_OK):
                raise BNVerifyError(f"{name}: {p} is read-only")
        _check_parent(real, name, create_parents)
    except OSError as exc:  # ENAMETOOLONG, ELOOP, EACCES on a component, ...
        raise BNVerifyError(f"{name}: cannot use {p}: {exc.strerror or exc}") from None
    return p


def refuse_existing(
    directory: str | os.PathLike[str],
    names: Iterable[str],
    *,
    force: bool,
    name: str = "out",
    patterns: Iterable[str] = (),
) -> None:
    """Refuse (unless ``force``) when any of ``names`` or a match of the glob ``patterns``
    already exists in ``directory`` (an output directory about to receive those files)."""
    if force:
        return
    d = Path(directory)
    if not d.is_dir():
        return
    found = [n for n in names if os.path.lexists(d / n)]
    for pat in patterns:
        found.extend(sorted(q.name for q in d.glob(pat)))
    if found:
        shown = ", ".join(dict.fromkeys(found[:3])) + (", ..." if len(found) > 3 else "")
        raise BNVerifyError(
            f"{name}: {d} already holds {shown} (use --force to overwrite, or another directory)"
        )


def check_input_file(path: str | os.PathLike[str], name: str) -> Path:
    """An existing, readable regular file (``/dev/stdin`` and FIFOs are refused)."""
    p = Path(os.fspath(path))
    try:
        if not p.exists():
            raise BNVerifyError(f"{name}: file not found: {p}")
        if p.is_dir():
            raise BNVerifyError(f"{name}: {p} is a directory, expected a file")
        if not p.is_file():
            raise BNVerifyError(f"{name}: {p} is not a regular file")
        with open(p, "rb"):
            pass
    except OSError as exc:
        raise BNVerifyError(f"{name}: cannot read {p}: {exc.strerror or exc}") from None
    return p


# ----------------------------------------------------------------------------------------------
# atomic writes
# ----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def atomic_output(
    path: str | os.PathLike[str],
    mode: str = "w",
    *,
    encoding: str | None = "utf-8",
    create_parents: bool = False,
) -> Iterator[IO[Any]]:
    """``with atomic_output(path) as fh: fh.write(...)``: ``path`` appears complete or not at all.

    Writes to ``.<name>.<random>.tmp`` in the target's directory (a symbolic link is followed,
    so a linked target is updated), flushes and fsyncs it, gives it the usual permissions
    (0666 minus the umask) and ``os.replace``s it onto the target when the block ends normally.
    On any exception (including ``KeyboardInterrupt`` and
    :class:`~bnverify.errors.Terminated`) the temporary file is removed and the exception
    propagates; an existing target is left untouched.  ``mode`` is ``"w"`` or ``"wb"``.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_output: mode must be 'w' or 'wb', got {mode!r}")
    target = Path(os.path.realpath(os.fspath(path)))
    if create_parents:
        target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        if mode == "wb":
            fh = os.fdopen(fd, "wb")
        else:
            fh = os.fdopen(fd, "w", encoding=encoding, newline="")
        with fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_text(
    path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8", create_parents: bool = False
) -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_output`); return the path."""
    with atomic_output(path, "w", encoding=encoding, create_parents=create_parents) as fh:
        fh.write(text)
    return Path(path)


def atomic_write_bytes(
    path: str | os.PathLike[str], data: bytes, *, create_parents: bool = False
) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_output`); return the path."""
    with atomic_output(path, "wb", encoding=None, create_parents=create_parents) as fh:
        fh.write(data)
    return Path(path)


def _merge_into(src: Path, dst: Path) -> None:
    """Move every file of ``src`` into ``dst`` (``os.replace`` each: atomic per file)."""
    dst.mkdir(exist_ok=True)
    for entry in sorted(src.iterdir()):
        target = dst / entry.name
        if entry.is_dir() and not entry.is_symlink():
            if os.path.lexists(target) and not target.is_dir():
                raise BNVerifyError(f"out: {target} exists and is not a directory")
            _merge_into(entry, target)
        else:
            if target.is_dir() and not target.is_symlink():
                raise BNVerifyError(f"out: {target} is a directory, cannot replace it by a file")
            os.replace(entry, target)


@contextlib.contextmanager
def staged_dir(out: str | os.PathLike[str], *, create_parents: bool = False) -> Iterator[Path]:
    """``with staged_dir(out) as tmp: <write files into tmp>``: the files land in ``out`` only
    when the block completes.

    ``tmp`` is a fresh directory ``.<name>.<random>.tmp`` beside ``out`` (on the same file
    system, so the final moves are renames).  On success: if ``out`` does not exist, ``tmp`` is
    renamed to ``out`` (the directory appears complete); otherwise each file is moved into
    ``out`` with ``os.replace`` (files in ``out`` that the command did not write are kept).  On
    any exception, signal included, ``tmp`` is removed and ``out`` is left as it was -- in
    particular a failed command does not leave an empty ``out`` behind.
    """
    target = Path(os.path.realpath(os.fspath(out)))
    anchor = target.parent if target.parent.is_dir() else _nearest_existing(target.parent)
    if not create_parents and anchor != target.parent:
        raise BNVerifyError(f"out: directory {target.parent} does not exist (create it first)")
    tmp = Path(tempfile.mkdtemp(dir=anchor, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        yield tmp
        if create_parents:
            target.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(tmp, DIR_MODE)
        try:
            if os.path.lexists(target):
                raise FileExistsError(errno.EEXIST, "exists")
            os.rename(tmp, target)
        except FileExistsError:
            _merge_into(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ----------------------------------------------------------------------------------------------
# signals
# ----------------------------------------------------------------------------------------------

_TERMINATING = tuple(
    s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None
)


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated(signum)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def install_signal_handlers() -> dict[int, Any]:
    """SIGTERM and SIGHUP raise :class:`~bnverify.errors.Terminated` from now on.

    SIGINT keeps Python's handler (``KeyboardInterrupt``); if SIGINT is ignored (a background
    job of a non-interactive shell), it stays ignored.  Returns the previous handlers for
    :func:`restore_signal_handlers`; does nothing (returns ``{}``) outside the main thread.
    """
    if not _in_main_thread():
        return {}
    previous = {}
    for s in _TERMINATING:
        if signal.getsignal(s) == signal.SIG_IGN:  # nohup and friends: respect it
            continue
        previous[s] = signal.signal(s, _raise_terminated)
    if signal.getsignal(signal.SIGINT) == signal.SIG_DFL:
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.default_int_handler)
    return previous


def restore_signal_handlers(previous: dict[int, Any]) -> None:
    """Undo :func:`install_signal_handlers` (or :func:`ignoring_signals`)."""
    if not _in_main_thread():
        return
    for s, h in previous.items():
        with contextlib.suppress(TypeError, ValueError):
            signal.signal(s, h if h is not None else signal.SIG_DFL)


@contextlib.contextmanager
def signal_handlers() -> Iterator[None]:
    """:func:`install_signal_handlers` for the duration of a block."""
    prev = install_signal_handlers()
    try:
        yield
    finally:
        restore_signal_handlers(prev)


@contextlib.contextmanager
def ignoring_signals() -> Iterator[None]:
    """Ignore SIGINT, SIGTERM and SIGHUP during a short cleanup (stopping workers, removing
    temporary files), so that a second Ctrl-C cannot interrupt the cleanup itself."""
    if not _in_main_thread():
        yield
        return
    prev = {}
    for s in (signal.SIGINT, *_TERMINATING):
        prev[s] = signal.signal(s, signal.SIG_IGN)
    try:
        yield
    finally:
        restore_signal_handlers(prev)


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP during a block that must not stop half-way (a local
    cluster starting its worker processes): a signal that arrives is remembered, and acted on
    -- its previous handler called, so Ctrl-C still raises ``KeyboardInterrupt`` -- as soon as
    the block ends.  Nothing is lost, and the cleanup that follows sees a whole object."""
    if not _in_main_thread():
        yield
        return
    got: list[int] = []

    def hold(signum: int, frame: Any) -> None:
        got.append(signum)

    prev = {}
    for s in (signal.SIGINT, *_TERMINATING):
        h = signal.getsignal(s)
        if h is None or h == signal.SIG_IGN:
            continue
        prev[s] = signal.signal(s, hold)
    try:
        yield
    finally:
        restore_signal_handlers(prev)
        if got:
            h = prev[got[0]]
            if callable(h):
                h(got[0], None)
            else:  # SIG_DFL: the default action, now that the default is back
                os.kill(os.getpid(), got[0])


@contextlib.contextmanager
def children_ignore_sigint() -> Iterator[None]:
    """Start child processes inside this block: they inherit SIGINT *ignored* from their very
    first instruction (an ignored disposition survives ``exec``, and Python keeps it), so a
    terminal's Ctrl-C, sent to the whole process group, reaches only the parent, which then
    stops them (:func:`stop_processes`).  The parent itself ignores SIGINT during the block:
    keep it short (the ``submit`` loop of a process pool)."""
    if not _in_main_thread():
        yield
        return
    prev = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, prev if prev is not None else signal.SIG_DFL)


def worker_ignore_sigint() -> None:
    """For a pool's initializer: ignore SIGINT, take SIGTERM's default action (die at once)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def stop_processes(procs: Iterable[Any], timeout: float = 1.0) -> None:
    """Terminate ``multiprocessing`` processes, join them for up to ``timeout`` seconds in all,
    then kill whatever is left (and reap it)."""
    import time

    procs = [p for p in procs if p is not None]
    for p in procs:
        with contextlib.suppress(Exception):
            if p.is_alive():
                p.terminate()
    deadline = time.monotonic() + timeout
    for p in procs:
        with contextlib.suppress(Exception):
            p.join(max(0.0, deadline - time.monotonic()))
    for p in procs:
        with contextlib.suppress(Exception):
            if p.is_alive():
                p.kill()
                p.join(1.0)
