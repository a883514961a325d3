"""A tiny task for the process tests: it notes each run (which task, which process) in a file the test reads."""

import os
import time

from django.tasks import task


@task()
def note_run(*, path: str, marker: int) -> int:
    with open(path, "a", encoding="utf-8") as notes:  # one short append per run: lines never interleave
        notes.write(f"{marker} {os.getpid()}\n")
    time.sleep(0.2)  # long enough for the other worker to claim the next task meanwhile
    return marker
