"""Memory guard of the theory solvers: the memory a vmapped :func:`theory.solve` on a grid needs, the memory
available to this process, and a one-line ValueError when a grid cannot fit (refused before anything is
allocated).  NumPy and the standard library only (no JAX)."""
from __future__ import annotations

import os

# Bytes per grid point of the jitted, vmapped RS solve, per float64 of its inputs and outputs: Newton and
# fixed-point workspace, Jacobians and the quadrature arrays (DEFAULT_NODES Gauss-Hermite nodes per point).
# Measured roughly (peak RSS on CPU, 5000-20000 points): about 58 kB per point for P = 4 with 160 nodes,
# i.e. ~400 x (variables + outputs) x 8 bytes; 500 keeps a margin.
WORKSPACE_FACTOR = 500
_OUTPUTS = 11  # alpha, T, m, q, r, C, f, replicon, status, residual, iterations (plus x: the variables)


def available_memory():
    """Bytes of memory this process can still use: the smallest of /proc/meminfo's MemAvailable and the
    cgroup (v2 or v1) limit minus its usage; where neither exists, the physical memory (``os.sysconf``
    SC_PHYS_PAGES x SC_PAGE_SIZE).  None if nothing can be read."""
    found = []
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    found.append(int(line.split()[1]) * 1024)
                    break
    except (OSError, ValueError, IndexError):
        pass
    for limit, usage in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                         ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                          "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            with open(limit) as f:
                lim = f.read().strip()
            with open(usage) as f:
                used = int(f.read().strip())
        except (OSError, ValueError):
            continue
        if lim.isdigit() and int(lim) < 2**60:           # "max" / a huge number: no limit
            found.append(max(int(lim) - used, 0))
        break
    if found:
        return min(found)
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


def format_bytes(n) -> str:
    """1536 -> '1.5 KiB' (binary units up to YiB; larger numbers in YiB)."""
    n = float(n)
    units = ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")
    k = 0
    while n >= 1024 and k < len(units) - 1:
        n /= 1024
        k += 1
    return f"{int(n)} bytes" if k == 0 else f"{n:.3g} {units[k]}"


def solve_memory_estimate(n_points: int, n_variables: int) -> int:
    """Peak bytes of a vmapped RS solve on n_points grid points with n_variables solver variables:
    points x (variables + outputs) x 8 bytes x :data:`WORKSPACE_FACTOR`."""
    return int(n_points) * (int(n_variables) + _OUTPUTS + int(n_variables)) * 8 * WORKSPACE_FACTOR


def check_solve_memory(shape, n_variables: int, *, available=None) -> int:
    """:func:`solve_memory_estimate` for a grid of this shape, or a one-line ValueError saying how much it
    would need and how much memory is available, when it does not fit (``available``: bytes, default
    :func:`available_memory`; if that is unknown nothing is refused)."""
    n = 1
    for s in shape:
        n *= int(s)
    need = solve_memory_estimate(n, n_variables)
    avail = available_memory() if available is None else int(available)
    if avail is not None and need > avail:
        raise ValueError(f"a solve on {n} grid points (shape {tuple(int(s) for s in shape)}) needs about "
                         f"{format_bytes(need)} of memory but {format_bytes(avail)} is available; "
                         "use a smaller grid or solve it in chunks")
    return need
