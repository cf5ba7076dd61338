"""APPS grading (Hendrycks et al. 2021): every test run, every result kept, APPS's metrics.

Standard-input problems run as a script per test; call-based problems (`fn_name`) call
the function (or `Solution().fn_name`) per test. The program's answer comes back as
plain data and is compared here, with APPS's own rules (`stdout_matches`,
`call_result_matches`). Per-test results go to `Verdict.extra`: `per_test` (pass, fail,
error, timeout, memory, crash, not_run), `tests_passed`, `tests_total`. A timeout ends
the program's run: the tests after it count as failed, so a program costs at most one
timeout; `tests_total` is always the problem's real number of tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from execeval.dataset import Problem
from execeval.judge import Grader, Verdict
from execeval.judge.session import Case, grade_cases
from execeval.sandbox import Execution, Sandbox

# APPS's harness puts these imports before every program; programs written for APPS
# rely on them (math, collections, heapq... without importing them).
APPS_HEADER = (
    "import sys\nimport time\nimport itertools\n"
    "from itertools import accumulate, product, permutations, combinations\n"
    "import collections\n"
    "from collections import Counter, OrderedDict, deque, defaultdict, ChainMap\n"
    "from functools import lru_cache\nimport math\n"
    "from math import sqrt, sin, cos, tan, ceil, fabs, floor, gcd, exp, log, log2\n"
    "import fractions\nfrom typing import List, Tuple\nimport numpy as np\nimport random\n"
    "import heapq\nfrom heapq import *\n"
)
CALL_FN = "__execeval_apps_call__"


# ---- output comparison, as APPS's testing_util does it -------------------------------

def _floats_close(a: Sequence[str], b: Sequence[str]) -> bool:
    try:
        floats_a, floats_b = [float(x) for x in a], [float(x) for x in b]
    except (TypeError, ValueError):
        return False
    return len(floats_a) == len(floats_b) and bool(np.allclose(floats_a, floats_b))


def _token_sets(lines: Sequence[str]) -> list[set[str]]:
    return [set(line.split()) for line in lines if line.split()]


def _rounded_sets(lines: Sequence[set[str]]) -> set[frozenset[float]] | None:
    try:
        return {frozenset(round(float(t), 3) for t in s) for s in lines}
    except (TypeError, ValueError):
        return None


def stdout_matches(stdout: str, expected: str) -> bool:
    """APPS's cascade of ever looser comparisons, in its order (docs/benchmarks.md):
    1. whole text equal after stripping, also with every line stripped;
    2. the non-empty, stripped lines equal (the program's lines unstripped, then without
       its empty lines);
    3. both as lists of numbers, equal within numpy's allclose;
    4. the lines as sets of whitespace-separated tokens, equal as a set of lines, or so
       after rounding every token to 3 decimals.
    Steps 3-4 ignore token order within a line, line order and repeated lines: APPS
    accepts such answers, so numbers stay comparable with the paper's."""
    lines = stdout.splitlines()
    want = expected.strip()
    if "\n".join(lines).strip() == want or "\n".join(x.strip() for x in lines).strip() == want:
        return True
    want_lines = [x.strip() for x in expected.split("\n") if x]
    if lines == want_lines:
        return True
    lines = [x for x in lines if x]
    if lines == want_lines or _floats_close(lines, want_lines):
        return True
    want_sets = [set(x.split()) for x in want_lines]
    if not lines and not want_sets:
        return True
    got_sets = _token_sets(lines)
    if {frozenset(s) for s in got_sets} == {frozenset(s) for s in want_sets}:
        return True
    got_r, want_r = _rounded_sets(got_sets), _rounded_sets(want_sets)
    return got_r is not None and got_r == want_r


def _int_keys(d: dict[Any, Any]) -> dict[Any, Any] | None:
    try:
        return {int(k): v for k, v in d.items()}
    except (TypeError, ValueError):
        return None


def call_args(inputs: Any) -> list[Any]:
    """APPS turns a JSON object argument's keys back into ints (JSON forced them to strings)."""
    args = list(inputs) if isinstance(inputs, list) else [inputs]
    if args and isinstance(args[0], dict):
        fixed = _int_keys(args[0])
        if fixed is not None:
            args = [fixed]
    return args


def call_expected(expected: Any) -> Any:
    if isinstance(expected, dict):
        fixed = _int_keys(expected)
        return [fixed] if fixed is not None else expected
    if isinstance(expected, list) and expected and isinstance(expected[0], dict):
        fixed = _int_keys(expected[0])
        return [fixed] if fixed is not None else expected
    return expected


def call_result_matches(output: Any, expected: Any) -> bool:
    """APPS: equal, or equal to the single element of a one-element expected list
    (tuples read as lists, also one level down)."""
    if isinstance(output, tuple):
        output = list(output)
    try:
        if output == expected:
            return True
        if isinstance(expected, list) and expected and output == expected[0]:
            return True
        if isinstance(output, list) and output and isinstance(output[0], tuple):
            return bool([list(x) for x in output] == expected[0])
    except (TypeError, IndexError, KeyError):
        return False
    return False


# ---- grading ------------------------------------------------------------------------

def _stdin_text(x: Any) -> str:
    return "\n".join(x) if isinstance(x, list) else str(x)


def grade_apps(problem: Problem, program: str, sandbox: Sandbox) -> Verdict:
    """Every test in turn; a compile error fails them all (as APPS), and after a timeout
    the rest count as failed without running, so a bad program costs one timeout."""
    tests = problem.tests
    code = APPS_HEADER + program
    call_based = tests["fn_name"] is not None

    def setup(ex: Execution) -> None:
        if call_based:
            ex.exec_program(code)
            if "class Solution" in program:
                ex.exec_program(f"def {CALL_FN}(*args):\n"
                                f"    return getattr(Solution(), {tests['fn_name']!r})(*args)\n")

    function_name = CALL_FN if call_based and "class Solution" in program else tests["fn_name"]

    def case(inp: Any, out: Any) -> Case:
        if call_based:
            args, expected = tuple(call_args(inp)), call_expected(out)
            return lambda ex: call_result_matches(ex.call(function_name, args), expected)
        stdin, stdout = _stdin_text(inp), _stdin_text(out)
        return lambda ex: stdout_matches(ex.run_main(code, stdin), stdout)

    cases = [case(i, o) for i, o in zip(tests["inputs"], tests["outputs"], strict=True)]
    return grade_cases(sandbox, setup, cases, "output", stop_at_timeout=True)


GRADER = Grader("apps", grade_apps, self_timed=True)
