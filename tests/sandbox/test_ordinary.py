"""Ordinary programs keep working in the sandbox: the standard library a solution uses,
numpy where installed, recursion to the default limit, threads, and stdin/stdout scripts."""

from __future__ import annotations

import importlib.util

import pytest
from support.sandbox import FAST, run

from execeval.sandbox import Sandbox, with_limits

USES = {
    "math": "import math\nassert math.gcd(12, 18) == 6 and math.isqrt(17) == 4",
    "re": "import re\nassert re.findall(r'\\d+', 'a1b22') == ['1', '22']",
    "itertools": "import itertools\nassert len(list(itertools.permutations(range(5)))) == 120",
    "collections": "from collections import Counter, deque, defaultdict, OrderedDict\n"
                   "assert Counter('abca')['a'] == 2 and deque([1, 2]).pop() == 2\n"
                   "d = defaultdict(list)\nd[1].append(2)\nassert OrderedDict(a=1)['a'] == 1",
    "heapq": "import heapq\nassert heapq.nsmallest(2, [5, 1, 3]) == [1, 3]",
    "functools": "import functools\n@functools.lru_cache(None)\ndef fib(n):\n"
                 "    return n if n < 2 else fib(n - 1) + fib(n - 2)\nassert fib(200) > 0\n"
                 "assert functools.reduce(lambda x, y: x * y, range(1, 6)) == 120",
    "typing": "from typing import List, Dict, Optional, Tuple\n"
              "def f(x: List[int]) -> Optional[Dict[str, Tuple[int, ...]]]:\n    return None\n"
              "assert f([1]) is None",
    "random": "import random\nrandom.seed(0)\nx = random.random()\nrandom.seed(0)\n"
              "assert x == random.random() and random.randint(1, 6) in range(1, 7)",
    "string": "import string\nassert string.ascii_lowercase[:3] == 'abc'",
    "datetime": "import datetime\nassert datetime.date(2020, 1, 1).weekday() == 2\n"
                "assert datetime.datetime.strptime('2020-03-04', '%Y-%m-%d').month == 3",
    "fractions": "from fractions import Fraction\nassert Fraction(1, 3) + Fraction(1, 6) == "
                 "Fraction(1, 2)",
    "decimal": "from decimal import Decimal\nassert Decimal('0.1') + Decimal('0.2') == "
               "Decimal('0.3')",
    "hashlib": "import hashlib\nassert hashlib.md5(b'Hello world').hexdigest() == "
               "'3e25960a79dbc69b674cd4ec67a72c62'",
    "statistics": "import statistics\nassert statistics.median([3, 1, 2]) == 2",
    "json_and_copy": "import json, copy\nassert json.loads(json.dumps({'a': [1]})) == "
                     "copy.deepcopy({'a': [1]})",
    "recursion_to_the_default_limit": "import sys\ndef depth(n):\n"
                                      "    return 0 if n == 0 else 1 + depth(n - 1)\n"
                                      "assert depth(sys.getrecursionlimit() - 50) > 900",
    "threads": "from concurrent.futures import ThreadPoolExecutor\nimport threading\n"
               "with ThreadPoolExecutor(4) as pool:\n"
               "    assert list(pool.map(lambda x: x * x, range(10)))[3] == 9\n"
               "lock = threading.Lock()\nwith lock:\n    pass",
    "scratch_files": "import os, tempfile\nopen('out.txt', 'w').write('hi')\n"
                     "assert open('out.txt').read() == 'hi'\n"
                     "with tempfile.NamedTemporaryFile() as f:\n    f.write(b'x')\n"
                     "assert os.path.isdir(os.getcwd())",
    "asyncio": "import asyncio\nasync def twice(x):\n    await asyncio.sleep(0)\n"
               "    return 2 * x\nassert asyncio.run(twice(21)) == 42",
    "multiprocessing_pool_and_lock": "import multiprocessing as mp\nlock = mp.Lock()\n"
                                     "with lock:\n    pass\nwith mp.Pool(2) as pool:\n"
                                     "    assert pool.map(abs, [-1, -2]) == [1, 2]",
    "subprocess_free_fork": "import os\npid = os.fork()\nif pid == 0:\n    os._exit(7)\n"
                            "assert os.waitpid(pid, 0)[1] >> 8 == 7",
}


@pytest.mark.parametrize("name", sorted(USES))
def test_library_use_works(sandbox: Sandbox, name: str) -> None:
    program = USES[name] + "\ndef add(a, b):\n    return a + b\n"
    verdict = run(with_limits(sandbox, FAST), program)
    assert verdict.passed, verdict


@pytest.mark.skipif(importlib.util.find_spec("numpy") is None, reason="numpy not installed")
def test_numpy_works(sandbox: Sandbox) -> None:
    program = ("import numpy as np\ndef add(a, b):\n"
               "    return np.array([a, b]).sum().item()\n")
    verdict = run(with_limits(sandbox, FAST), program)
    assert verdict.passed, verdict


def test_stdin_stdout_script(sandbox: Sandbox) -> None:
    with sandbox.start(FAST) as ex:
        out = ex.run_main("import sys\na, b = map(int, sys.stdin.read().split())\n"
                          "print(a + b)\nsys.exit(0)\n", "2 40\n")
    assert out == "42\n"
