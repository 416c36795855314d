"""The exception types of bnverify.

Every validation failure raises :class:`BNVerifyError` with a one-line message that names the
offending field; the command line turns it into ``error: <message>`` and exit status 2.

:class:`Terminated` is raised by the signal handlers of :func:`bnverify.safeio.install_signal_handlers`
when the process receives SIGTERM (or SIGHUP); like :class:`KeyboardInterrupt` (SIGINT) it derives
from :class:`BaseException`, so ``except Exception`` blocks do not swallow it, and the command
line turns it into one line and exit status ``128 + signal number`` (143 for SIGTERM).
"""

import signal


class BNVerifyError(ValueError):
    """Invalid input (wrong shape, non-finite value, non-SPD matrix, unknown claim ID, ...)."""

    def __init__(self, message: str):
        # Keep messages on one line whatever the caller passed.
        super().__init__(" ".join(str(message).split()))


class Terminated(BaseException):
    """The process was asked to stop by a signal other than SIGINT (SIGTERM, SIGHUP)."""

    def __init__(self, signum: int):
        self.signum = int(signum)
        try:
            self.signame = signal.Signals(self.signum).name
        except ValueError:  # pragma: no cover - not a known signal number
            self.signame = f"signal {self.signum}"
        super().__init__(f"terminated by {self.signame}")

    @property
    def exit_code(self) -> int:
        """The shell's convention: 128 + the signal number (143 for SIGTERM)."""
        return 128 + self.signum
