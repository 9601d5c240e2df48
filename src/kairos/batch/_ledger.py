"""The batch's books: which input items run, and every output line written (both engines).

An item runs unless its id is already in the output (resume) or was already seen in this input
(a duplicate id is reported as an error line with ``"id": null``, so each id keeps exactly one
line). A line that is not a valid request becomes its error line at once. Errors of lines with no
usable id are not written again on resume when the output already holds the same report.
"""

from __future__ import annotations

from typing import Any

from ..errors import ConfigurationError
from ._ids import IdSet, id_key
from ._input import BadLine, Job
from ._output import Prior, Sink, bad_line_result, encode
from ._progress import Stats

__all__ = ["Ledger"]


class Ledger:
    def __init__(self, sink: Sink, prior: Prior, stats: Stats) -> None:
        self.sink = sink
        self.prior = prior
        self.stats = stats
        self.seen = IdSet()

    def admit(self, item: Job | BadLine) -> Job | None:
        """The job to run, or None when it is done, skipped or reported here."""
        if isinstance(item, BadLine):
            self._bad(item)
            return None
        if not self._new(item.key, item.where):
            return None
        return item

    def _new(self, key_text: str, where: str) -> bool:
        key = id_key(key_text)
        if key in self.prior.done:
            self.stats.skipped += 1
            return False
        if not self.seen.add(key):
            message = f"{where}: duplicate id {key_text} (already on an earlier line)"
            self._report(None, ConfigurationError(message))
            return False
        return True

    def _bad(self, bad: BadLine) -> None:
        if bad.key is not None and not self._new(bad.key, bad.where):
            return
        self._report(bad.id, bad.error)

    def _report(self, ident: str | int | None, error: ConfigurationError) -> None:
        if ident is None:
            h = hash(str(error))
            if h in self.prior.reported:
                return  # written by an earlier run of this output
            self.prior.reported.add(h)
        self.write(bad_line_result(ident, error))

    def write(self, line: dict[str, Any]) -> None:
        self.sink.write(encode(line))
        self.stats.add(line)
