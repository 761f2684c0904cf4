"""One render for a coordinator (`overdash batch`, `overdash render --ray`): run as
`python -m pipeline.commands.child` with a pickled (RenderConfig, Part or None) on stdin.

It is `overdash render` without the command line: the same plan and pipeline, the same
signal handling (SIGTERM ends it like Ctrl-C, its partial output removed), the same exit
statuses (2 bad input, 1 failed render, 128 + signal) and one "overdash: error: …" line,
which the coordinator shows as the unit's reason (pipeline.distributed.tasks).
$OVERDASH_CHILD_WORKERS, when set, is the number of drawing processes: on a Ray node the
CPUs Ray gave the task, known only there.
"""
from __future__ import annotations

import dataclasses
import os
import pickle
import sys
import traceback

from overdash import InputError, OverdashError

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy: see pipeline.commands.cli

EXIT_USER, EXIT_RENDER = 2, 1


def main() -> int:
    from pipeline.procs import end_on_termination, signal_status

    end_on_termination()
    config = None
    try:
        config, part = pickle.loads(sys.stdin.buffer.read())
        workers = os.environ.get("OVERDASH_CHILD_WORKERS")
        if workers:
            config = dataclasses.replace(config, workers=max(1, int(workers)))
        from pipeline.commands.render import render

        render(config, part=part)
        return 0
    except KeyboardInterrupt as exc:
        return signal_status(exc)
    except OverdashError as exc:
        if config is not None and config.debug:
            traceback.print_exception(exc)
        print(f"overdash: error: {exc}", file=sys.stderr)
        return EXIT_USER if isinstance(exc, InputError) else EXIT_RENDER


if __name__ == "__main__":
    from overdash.codecache import install_for_command

    compiled = install_for_command()  # as pipeline.commands.cli.entry: before the config is unpickled
    code = main()
    if compiled is not None:
        compiled.save()
    sys.stderr.flush()
    os._exit(code)
