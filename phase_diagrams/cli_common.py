"""Shared pieces of the densehebb CLI: one-line-error parser, number validation, JSON output."""
from __future__ import annotations

import argparse
import json
import math
import sys


class Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)  # --r is not --replicas: no option prefixes
        super().__init__(*args, **kwargs)

    def error(self, message):  # one line, no usage dump
        sys.stderr.write(f"densehebb: error: {message}\n")
        sys.exit(2)


class UsageError(ValueError):
    pass


def finite(name, lo=None, strict=False, integer=False):
    def conv(text):
        try:
            v = int(text) if integer else float(text)
        except ValueError:
            kind = "an integer" if integer else "a number"
            raise argparse.ArgumentTypeError(f"{name} must be {kind}, got {text!r}") from None
        if not math.isfinite(v):
            raise argparse.ArgumentTypeError(f"{name} must be finite, got {text!r}")
        if lo is not None and (v <= lo if strict else v < lo):
            raise argparse.ArgumentTypeError(f"{name} must be {'>' if strict else '>='} {lo}, got {text!r}")
        return v
    return conv


def jsonable(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None  # JSON has no NaN: a missing number is null (see "converged"/"status")
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    return v


def emit(obj, as_json):
    obj = jsonable(obj)
    if as_json:
        print(json.dumps(obj))
    else:
        w = max(len(k) for k in obj)
        for k, v in obj.items():
            print(f"{k:<{w}}  {v}")
