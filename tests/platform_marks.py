"""Marks for tests that cannot apply on every OS (the Wine stage runs the suite on Windows)."""

from __future__ import annotations

import sys

import pytest

# llama-cpp-python has no Windows wheel on PyPI (sdist only): Windows gets gpt4all alone.
NO_LLAMA_ON_WINDOWS = pytest.mark.skipif(
    sys.platform == "win32",
    reason="llama-cpp-python is not installed on Windows (no wheel on PyPI; gpt4all is used)")
ENGINES = [pytest.param("llama-cpp", marks=NO_LLAMA_ON_WINDOWS), "gpt4all"]
