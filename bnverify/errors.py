"""The one exception type for bad input.

Every validation failure in bnverify raises :class:`BNVerifyError` with a one-line message that
names the offending field; the command line turns it into ``error: <message>`` and exit status 2.
"""


class BNVerifyError(ValueError):
    """Invalid input (wrong shape, non-finite value, non-SPD matrix, unknown claim ID, ...)."""

    def __init__(self, message: str):
        # Keep messages on one line whatever the caller passed.
        super().__init__(" ".join(str(message).split()))
