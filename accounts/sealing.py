"""Secrets sealed by other apps (an import's typed passwords), registered here by the app that keeps them, so that
`rotate_secret_keys` re-seals them and the start-up check opens a sample of them, as it does the accounts' own."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Model, QuerySet

from portal.keyring import Keyring


@dataclass(frozen=True)
class SealedColumn:
    model: type[Model]  # its rows have an `associated_data` property: what their seal is bound to
    field: str  # the sealed column; "" where nothing waits
    key: str  # its name in the rotation's audit event, resealed_<key> (not a secret-like word: the trail refuses those)
    noun: str  # what the audit trail calls its rows: "passwords waiting in imports"
    account: str  # the lookup from a row to its primary account's primary key: "job__account_id"

    def waiting(self) -> QuerySet[Any]:
        """The rows whose column holds a sealed secret."""
        return self.model._default_manager.exclude(**{self.field: ""})

    def open(self, row: Any, ring: Keyring) -> str:
        return ring.open(getattr(row, self.field), associated_data=row.associated_data)

    def reseal(self, row: Any, ring: Keyring) -> None:
        setattr(row, self.field, ring.seal(self.open(row, ring), associated_data=row.associated_data))


_COLUMNS: list[SealedColumn] = []


def add_sealed_column(column: SealedColumn) -> None:
    """Called by an app's `ready()`."""
    if column not in _COLUMNS:
        _COLUMNS.append(column)


def sealed_columns() -> tuple[SealedColumn, ...]:
    return tuple(_COLUMNS)
