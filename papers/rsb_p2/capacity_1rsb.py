"""The zero-temperature capacity of the Hopfield model (P = 2) with one step of replica symmetry breaking.

Crisanti, Amit, Gutfreund, Europhys. Lett. 2, 337 (1986) estimated alpha_c ~ 0.144 at 1RSB; Steffan and
Kuehn, Z. Phys. B 95, 249 (1994) report 0.138186 (1RSB) and 0.138187 (2RSB), RS 0.137905.  This script
settles what densehebb's 1RSB equations give (AGS log-det noise, exact T = 0 limit x -> 0 with mu = beta x
fixed; densehebb.theory.dense_rsb1, docs/theory.md) and writes the 1RSB parameters at alpha_c.

    python papers/rsb_p2/capacity_1rsb.py [--out-dir papers/rsb_p2/out]

Axes/variables: plain T = 1/beta and alpha = K/N, as in AGS and the papers above (distinct indices).
Uses the public API only.
"""
import argparse
import json
import os

import numpy as np

import densehebb as dh
from densehebb.phase_diagrams import provenance

PUBLISHED = {"RS (AGS 1987; Steffan-Kuehn 1994)": 0.137905, "1RSB (Crisanti-Amit-Gutfreund 1986)": 0.144,
             "1RSB (Steffan-Kuehn 1994)": 0.138186, "2RSB (Steffan-Kuehn 1994)": 0.138187}


def _json(v):
    """JSON-safe: NaN (a value that does not apply, e.g. the replicon at T = 0) -> null."""
    if isinstance(v, dict):
        return {k: _json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json(x) for x in v]
    if isinstance(v, np.ndarray):
        return _json(v.tolist())
    if isinstance(v, np.generic):
        v = v.item()
    return None if isinstance(v, float) and v != v else v


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "out"))
    args = ap.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    spec = dh.Model(P=2, ansatz="1rsb")
    c = dh.capacity(spec, T=0.0)  # a dh.Result: alpha_c, m_c, q0, q1, x, mu, C, alpha_c_rs; status
    out = c.to_dict()
    out["bracket"] = list(c.bracket)
    out["published"] = PUBLISHED
    out["attrs"] = provenance(spec, title="P = 2 capacity at 1RSB, T = 0")
    path = os.path.join(args.out_dir, "capacity_1rsb_P2.json")
    with open(path, "w") as fh:
        json.dump(_json(out), fh, indent=1, allow_nan=False)
    print(f"alpha_c RS   = {c.alpha_c_rs:.7f}")
    print(f"alpha_c 1RSB = {c.alpha_c:.7f}  (bracket {c.bracket[0]:.9f} .. {c.bracket[1]:.9f})")
    print(f"  at alpha_c: m = {c.m_c:.7f}, q0 = {c.q0:.7f}, q1 = 1, mu = beta x = {c.mu:.5f}, "
          f"C = beta(1-q1) = {c.C:.7f}")
    for k, v in PUBLISHED.items():
        print(f"  published {k}: {v}")
    print(f"wrote {path}  [convention: {spec.convention}]")


if __name__ == "__main__":
    main()
