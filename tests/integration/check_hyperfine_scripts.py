"""hyperfine's own analysis scripts must read fleetbench's --export-json unchanged.

Usage: check_hyperfine_scripts.py RESULTS.json [CLASS...]

Always: reads the file the way hyperfine's scripts do (scripts/ in
sharkdp/hyperfine: plot_whisker.py, plot_histogram.py, advanced_statistics.py,
welch_ttest.py, plot_parametrized.py) and checks every key they touch has the
type they use it as. The file should hold exactly two results scanning one
numeric parameter, which is what welch_ttest.py and plot_parametrized.py need
(unit.test_export writes such a sample when FB_EXPORT_SAMPLE is set).

Also, when HYPERFINE_SCRIPTS names a directory with those scripts and the
interpreter HYPERFINE_PYTHON (default: this one) has numpy, matplotlib and
scipy (Debian: python3-numpy python3-matplotlib python3-scipy), runs each
script on the file, plots to PNG with the Agg backend, and checks it succeeds.
Without them that part is skipped and the script exits 77 (fbrun.py), which
ctest shows as skipped; CLASS names the part to run (ctest runs
KeysTheScriptsRead and HyperfineScriptsRun as two tests).
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

import fbrun

RESULTS = None  # set from argv in __main__


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class KeysTheScriptsRead(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(RESULTS, encoding="utf-8") as f:  # plot_whisker opens it as UTF-8
            cls.results = json.load(f)["results"]

    def test_results_is_a_list_of_objects(self):
        self.assertIsInstance(self.results, list)
        for b in self.results:
            self.assertIsInstance(b, dict)

    def test_command_and_times(self):
        # all five: b["command"] as a label, b["times"] into numpy/matplotlib
        for b in self.results:
            self.assertIsInstance(b["command"], str)
            self.assertIsInstance(b["times"], list)
            self.assertGreater(len(b["times"]), 0)  # np.min of an empty list fails
            for t in b["times"]:
                self.assertTrue(is_number(t), t)

    def test_summary_numbers(self):
        # plot_whisker --sort-by median; plot_parametrized's errorbars
        for b in self.results:
            for key in ("median", "mean", "stddev"):
                self.assertTrue(is_number(b[key]), (key, b[key]))

    def test_welch_needs_two(self):
        self.assertEqual(len(self.results), 2)

    def test_one_numeric_parameter(self):
        # plot_parametrized: exactly one parameter, the same name in every
        # result, a value float() accepts
        names = set()
        for b in self.results:
            params = b.get("parameters", {})
            self.assertIsInstance(params, dict)
            self.assertEqual(len(params), 1, params)
            [(name, value)] = params.items()
            self.assertIsInstance(value, str)
            float(value)
            names.add(name)
        self.assertEqual(len(names), 1, names)


SCRIPTS = [
    ("advanced_statistics.py", []),
    ("welch_ttest.py", []),
    ("plot_whisker.py", ["-o", "{out}"]),
    ("plot_histogram.py", ["-o", "{out}"]),
    ("plot_parametrized.py", ["-o", "{out}"]),
]


def scripts_runnable():
    folder = os.environ.get("HYPERFINE_SCRIPTS")
    if not folder:
        return None, "HYPERFINE_SCRIPTS is not set"
    python = os.environ.get("HYPERFINE_PYTHON", sys.executable)
    probe = subprocess.run([python, "-c", "import numpy, matplotlib, scipy"],
                           capture_output=True)
    if probe.returncode != 0:
        return None, f"{python} lacks numpy, matplotlib or scipy"
    return (folder, python), ""


class HyperfineScriptsRun(unittest.TestCase):
    def test_each_script(self):
        found, why = scripts_runnable()
        if found is None:
            self.skipTest(why)
        folder, python = found
        env = dict(os.environ, MPLBACKEND="Agg")
        with tempfile.TemporaryDirectory() as tmp:
            for name, extra in SCRIPTS:
                with self.subTest(script=name):
                    out = os.path.join(tmp, name + ".png")
                    args = [a.format(out=out) for a in extra]
                    p = subprocess.run([python, os.path.join(folder, name), RESULTS, *args],
                                       capture_output=True, text=True, env=env, timeout=60)
                    self.assertEqual(p.returncode, 0, p.stderr)
                    if args:
                        self.assertGreater(os.path.getsize(out), 0)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    RESULTS = sys.argv[1]
    names = sys.argv[2:] or ["KeysTheScriptsRead", "HyperfineScriptsRun"]
    suite = unittest.defaultTestLoader.loadTestsFromNames(names, sys.modules[__name__])
    sys.exit(fbrun.run(suite))
