"""Errors of the DNS emulator's zone store (the control API answers them as 404 and 400)."""


class NoSuchZone(KeyError):
    """The store holds no zone of that name."""

    def __init__(self, zone: str):
        super().__init__(zone)
        self.zone = zone

    def __str__(self) -> str:
        return f"no zone {self.zone}"


class InvalidRecord(ValueError):
    """An rrset the store refuses: bad name, type, TTL or value, or a record the server manages itself."""


class DnsFeedError(Exception):
    """A DnsFeed call the DNS emulator did not accept (or could not be reached for)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status
