"""Coverage-guided fuzzing of one parser with atheris (libFuzzer), where it is installed.

`python -m fuzz.coverage TARGET [libFuzzer options]`, e.g. -max_total_time=600. The
parser packages are instrumented, the corpus starts from the target's seeds (written to
/tmp/overdash-fuzz/corpus-TARGET, which keeps what libFuzzer adds), and each case is bounded
as in run.py: -timeout=2 s and -rss_limit_mb=1024 unless given. libFuzzer stops at the
first finding and writes it as crash-*/timeout-*/oom-* in the current folder; replay one
by handing that file to the parser (`overdash info FILE`, or the target's entry point).
atheris is optional: the mutation fuzzer (run.py) is the one `make fuzz` and the tests use.
"""
from __future__ import annotations

import sys
import warnings
from pathlib import Path


def main(argv: list[str]) -> None:
    import atheris  # not a dependency: pip install atheris

    with atheris.instrument_imports(include=["overlay", "encoders"]):
        import encoders.profiles  # noqa: F401
        import overlay.layout.parse  # noqa: F401
        import overlay.maps.mosaic  # noqa: F401
        import overlay.telemetry.fit  # noqa: F401
        import overlay.telemetry.gopro  # noqa: F401
        import overlay.telemetry.gpx  # noqa: F401
    from fuzz.targets import TARGETS
    from overdash import InputError

    name, options = argv[0], argv[1:]
    target = TARGETS[name]
    corpus = Path(f"/tmp/overdash-fuzz/corpus-{name}")
    corpus.mkdir(parents=True, exist_ok=True)
    for seed in target.seeds():
        (corpus / seed.name.replace("/", "-")).write_bytes(seed.data)
    scratch = Path("/dev/shm" if Path("/dev/shm").is_dir() else "/tmp") / f"overdash-atheris-{name}{target.suffix}"
    warnings.simplefilter("ignore")

    def one(data: bytes) -> None:
        scratch.write_bytes(data)
        try:
            target.call(scratch)
        except InputError:
            pass

    defaults = [o for o in ("-timeout=2", "-rss_limit_mb=1024", "-max_len=4000000")
                if not any(opt.startswith(o.split("=")[0] + "=") for opt in options)]
    atheris.Setup([sys.argv[0], *defaults, *options, str(corpus)], one)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv[1:])
