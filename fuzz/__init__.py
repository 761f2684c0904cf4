"""overdash's parser fuzzing harness (`make fuzz`; a fixed-seed smoke runs in `make test`).

Every parser must turn any byte sequence into data or one InputError: never another
exception, a hang or unbounded memory. targets.py names each parser's entry point and
its seed corpus, mutate.py makes the cases, run.py runs them in forked, rlimited batches.
"""
