import os

# The tests exercise internals (dense_rs, dynamics, ...) directly, outside the public entry points that scope
# float64 themselves, so the whole test process runs with x64 (tests of the scoping run in subprocesses).
# The persistent compilation cache makes a repeated run (the edit-test loop) skip recompiling; the CLI's
# subprocesses inherit it.  A cache directory chosen by the user wins.
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "densehebb", "jax-tests"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.5")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import pytest  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    """Drop JAX's in-memory compiled programs after each test module.  One process runs the whole suite;
    every compiled XLA CPU program keeps its code mapped, and the suite compiles thousands (one set per
    model, branch, shape and lane count), which crashed the process inside XLA (segfault / abort while
    compiling or loading) at 80-90% of the suite once the learning tests were added.  Later modules reload
    what they need from the persistent compilation cache."""
    yield
    jax.clear_caches()
