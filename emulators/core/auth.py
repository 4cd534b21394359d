"""Credentials an emulator's request verifier reads, kept live in the backend."""

from __future__ import annotations

from collections.abc import Mapping


class LiveSecretKeys(Mapping):
    """access key -> secret key for the authenticator, read live from a backend's `access_keys` ({ak: {field:
    secret, ...}}): keys added by the control API count at once, and reset and persistence keep them."""

    def __init__(self, backend, field: str):
        self._backend, self._field = backend, field

    def __getitem__(self, access_key: str) -> str:
        return self._backend.access_keys[access_key][self._field]

    def __iter__(self):
        return iter(self._backend.access_keys)

    def __len__(self) -> int:
        return len(self._backend.access_keys)
