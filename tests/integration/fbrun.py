"""Runs integration tests for ctest so that a skip is reported as a skip.

Usage: fbrun.py NAME... [--exclude NAME]...

NAME is what `python -m unittest` takes: a module, module.Class or
module.Class.test_name.  --exclude drops the tests whose id is NAME or
starts with NAME + "." (a part that has a ctest test of its own).

Exit status: 0 when every selected test ran and passed; 77 when none failed
but at least one was skipped (ctest shows the test as skipped: the tests
set SKIP_RETURN_CODE 77); 1 on any failure or error, or when nothing was
selected.  `python -m unittest` returns 0 for a run where everything was
skipped, which ctest would count as a pass.
"""

import sys
import unittest

SKIPPED = 77


def _flatten(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from _flatten(t)
        else:
            yield t


def _excluded(test_id, excludes):
    return any(test_id == e or test_id.startswith(e + ".") for e in excludes)


def run(suite, excludes=()):
    """Runs the tests of suite not excluded; returns the exit status above."""
    tests = [t for t in _flatten(suite) if not _excluded(t.id(), excludes)]
    if not tests:
        print("fbrun: no test selected", file=sys.stderr)
        return 1
    result = unittest.TextTestRunner(verbosity=2).run(unittest.TestSuite(tests))
    if not result.wasSuccessful():
        return 1
    if result.skipped:
        for test, why in result.skipped:
            print(f"SKIPPED: {test.id()}: {why}", flush=True)
        return SKIPPED
    return 0


def main(argv):
    names, excludes = [], []
    it = iter(argv)
    for a in it:
        if a == "--exclude":
            excludes.append(next(it, ""))
        elif a.startswith("-"):
            sys.exit(__doc__)
        else:
            names.append(a)
    if not names:
        sys.exit(__doc__)
    suite = unittest.defaultTestLoader.loadTestsFromNames(names)
    return run(suite, excludes)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
