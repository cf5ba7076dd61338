"""execeval: evaluate code-writing language models by running what they write.

Kept import-free so that the sandbox child, which imports this package, starts fast.
"""

__version__ = "0.1.0"
