"""What ``diplograph load`` and ``diplograph import`` show on standard error while they work.

A bar of the documents (or lines) done, and a line for each step of the run outside its batches
(:mod:`diplograph.loader.steps`), with its time once it ends:

    reading the stored documents' identities… 5.2 s
    documents  [####################################]  100000/100000
    writing the claims file… 3.5 s
    rebuilding the summary graph… 70.2 s

so that the minutes a large run spends after its last batch are not a full bar that does not
end. A step closes the bar: the steps that end a run come after its documents. Shown only with
the bar (``--progress``, or a terminal on standard error), so that scripts read the report
alone.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from itertools import count
from types import TracebackType
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

__all__ = ["Progress"]


class Progress:
    """The bar of a run's items, opened at the first item, and its steps, each on a line."""

    def __init__(self, shown: bool, *, label: str, length: int | None) -> None:
        self.shown = shown
        self._label = label
        self._length = length
        self._bar: ProgressBar[int] | None = None
        self._closing = ExitStack()
        #: whether the bar is over (a step came after items): later items are not drawn
        self._over = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._closing.close()

    def update(self, done: int) -> None:
        """``done`` more items: the bar opens at the first, and moves."""
        # Items come from the batches, never during a step (the steps are outside them).
        if not self.shown or self._over:
            return
        if self._bar is None:
            # Without a length (standard input, a pretty-printed JSON file) the bar counts the
            # items without a total, where a length of 0 drew "1000/0" under a full bar: click
            # takes an iterable it cannot size for an unknown length.
            sized = {"length": self._length} if self._length is not None else {"iterable": count()}
            self._bar = self._closing.enter_context(
                click.progressbar(label=self._label, file=sys.stderr, show_pos=True, **sized)
            )
        self._bar.update(done)

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        """Say that the step ``label`` runs, and how long it took once it ends."""
        if not self.shown:
            yield
            return
        if self._bar is not None:
            self._closing.close()  # the bar's last line ends here
            self._over = True
        click.echo(f"{label}…", err=True, nl=False)
        started = time.perf_counter()
        try:
            yield
        except BaseException:
            click.echo(" stopped", err=True)
            raise
        click.echo(f" {time.perf_counter() - started:.1f} s", err=True)
