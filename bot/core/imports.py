"""What a CSV import reports back, shared by the imports of the roster and of the visit schedule."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ImportReport:
    """Rows created, updated and left unchanged, and the errors that stopped the import (none: it went through)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors
