"""The repository itself: what README's two commands leave behind is ignored.

scripts/run.sh leaves build/ and results.json (with its journal, or a
temporary file when killed mid-export) in the top directory; scripts/test.sh
leaves build-test-*/ and Python's caches. `git check-ignore` must ignore
each, so that `git status` after the README's commands shows nothing new.
(scripts/test.sh also compares `git status` before and after its run.)
Skipped outside a git checkout (a source tarball has no .gitignore to check).
"""

import os
import shutil
import subprocess
import unittest

SOURCE = os.environ.get("FB_SOURCE_DIR",
                        os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

LITTER = [
    "build/CMakeCache.txt",
    "build/fuzz-build/findings/crash-1",
    "build-test-plain/CMakeCache.txt",
    "build-test-asan/test_report/shot.png",
    "build-test-tsan/Testing/Temporary/LastTest.log",
    "build-soak-address/target-server/target-server",
    "build-bench/CMakeCache.txt",
    "results.json",
    "results.json.journal",
    "results.json.tmp",
    "tests/integration/__pycache__/fbtest.cpython-311.pyc",
]

# What must stay visible: sources that look like litter.
KEPT = ["coordinator/report.css", "tests/integration/fbtest.py", "docs/protocol.md"]


class GitIgnore(unittest.TestCase):
    def setUp(self):
        if shutil.which("git") is None or not os.path.exists(os.path.join(SOURCE, ".git")):
            self.skipTest("not a git checkout")

    def ignored(self, path):
        r = subprocess.run(["git", "-C", SOURCE, "check-ignore", "-q", "--no-index", path],
                           capture_output=True, text=True, timeout=30)
        self.assertIn(r.returncode, (0, 1), r.stderr)
        return r.returncode == 0

    def test_litter_is_ignored(self):
        for path in LITTER:
            with self.subTest(path=path):
                self.assertTrue(self.ignored(path), f"{path} is not in .gitignore")

    def test_sources_are_not(self):
        for path in KEPT:
            with self.subTest(path=path):
                self.assertFalse(self.ignored(path), f".gitignore hides {path}")
