"""Phase-diagram figures: Figure returned, PNG written without a display, region names inside the regions,
legend off the curves, convention in the title, matplotlib's backend left alone.

The Dataset is a subsample of the computed P = 2 (AGS) diagram (`papers/ags1987/phase_diagram.py`, values
rounded), so that these tests take no solver time.
"""
import os
import subprocess
import sys
import textwrap

import numpy as np
import xarray as xr

from densehebb.phase_diagrams import plotting

nan = np.nan


def ags_dataset(convention="distinct-indices"):
    alpha = [0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.12, 0.13, 0.1375]
    T = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    ds = xr.Dataset(
        {"T_g": ("alpha", [1.0707, 1.1, 1.1414, 1.1732, 1.2, 1.2236, 1.2449, 1.2828, 1.3162, 1.3464, 1.3606, 1.3708]),
         "T_M": ("alpha", [0.86, 0.801, 0.7165, 0.6504, 0.5936, 0.5423, 0.4945, 0.4046, 0.3154, 0.2151, 0.1489,
                           0.0587]),
         "T_c": ("alpha", [0.8074, 0.7216, 0.5913, 0.4788, 0.3652, 0.2164, nan, nan, nan, nan, nan, nan]),
         "T_AT": ("alpha", [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0003, 0.0015, 0.005, 0.0095, 0.0195]),
         "alpha_c": ("T", [0.13791, 0.13505, 0.12256, 0.10333, 0.08104, 0.05882, 0.03881, 0.02232, 0.0101, 0.00257]),
         "m_c": ("T", [0.96742, 0.96255, 0.95086, 0.92921, 0.89494, 0.84594, 0.77994, 0.69327, 0.57861, 0.41645]),
         "alpha_Tc": ("T", [0.05185, 0.05309, 0.05072, 0.04503, 0.03705, 0.02808, 0.01926, 0.01148, nan, nan]),
         "alpha_c_T0": ((), 0.1379056), "m_c_T0": ((), 0.9674171), "alpha_Tc_T0": ((), 0.0518543)},
        coords={"alpha": alpha, "T": T})
    ds.attrs.update(P=2, ansatz="rs", convention=convention)
    return ds


def test_figure_png_regions_legend(tmp_path):
    from matplotlib.figure import Figure

    path = tmp_path / "pd.png"
    fig = plotting.plot_phase_diagram(ags_dataset(), str(path))
    assert isinstance(fig, Figure)
    assert path.stat().st_size > 10_000 and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ax = fig.axes[0]
    labels = {t.get_text() for t in ax.texts}
    assert labels == {plotting.PARAMAGNET, plotting.SPIN_GLASS, plotting.RETRIEVAL_GLOBAL,
                      plotting.RETRIEVAL_METASTABLE}
    # each label sits in the region it names
    for t in ax.texts:
        a, T = t.get_position()
        assert plotting.region_names(ags_dataset(), a, T)[()] == t.get_text()
    # the whole retrieval region is shown: alpha beyond the T = 0 capacity, T above the highest line
    assert ax.get_xlim()[1] > 0.1379056 and ax.get_ylim()[1] > 1.3708
    assert "distinct-indices" in ax.get_title()
    # the legend lies outside the axes, so it covers no curve
    fig.draw_without_rendering()
    leg = ax.get_legend().get_window_extent()
    assert not leg.overlaps(ax.get_window_extent())
    # and inside the figure
    assert fig.bbox.contains(leg.x1 - 1, leg.y0 + 1)


def test_region_names():
    ds = ags_dataset()
    a = np.array([0.01, 0.1, 0.1, 0.05, 0.15])
    T = np.array([0.3, 0.1, 0.8, 1.45, 0.2])
    assert list(plotting.region_names(ds, a, T)) == [
        plotting.RETRIEVAL_GLOBAL, plotting.RETRIEVAL_METASTABLE, plotting.SPIN_GLASS, plotting.PARAMAGNET,
        plotting.SPIN_GLASS]  # beyond the computed loads: T_g continued as c0 + c1 sqrt(alpha)


def test_into_given_axes_and_convention():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 4), layout="constrained")
    ax = fig.add_subplot()
    out = plotting.plot_phase_diagram(ags_dataset("all-tuples"), ax=ax, regions=False, T_max=1.0)
    assert out is fig and not ax.texts
    assert ax.get_ylim() == (0.0, 1.0)
    assert "all-tuples" in ax.get_title()


def test_without_T_c_one_retrieval_region():
    ds = ags_dataset().drop_vars(["T_c", "alpha_Tc", "alpha_Tc_T0"])
    fig = plotting.plot_phase_diagram(ds)
    assert plotting.RETRIEVAL in {t.get_text() for t in fig.axes[0].texts}


def _run(code, env):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True,
                          text=True, timeout=120)


def test_backend_untouched_and_headless_png(tmp_path):
    """Importing the module (or plotting) changes no backend and imports no pyplot; with no MPLBACKEND and no
    DISPLAY the PNG is still written."""
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "DISPLAY", "WAYLAND_DISPLAY")}
    env["MPLBACKEND"] = "svg"
    code = f"""
        import sys, matplotlib
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        import densehebb.phase_diagrams.plotting as p
        assert "matplotlib.pyplot" not in sys.modules
        assert matplotlib.get_backend() == "svg", matplotlib.get_backend()
        from test_plotting import ags_dataset
        p.plot_phase_diagram(ags_dataset(), {str(tmp_path / 'a.png')!r})
        assert "matplotlib.pyplot" not in sys.modules
        assert matplotlib.get_backend() == "svg", matplotlib.get_backend()
        """
    r = _run(code, env)
    assert r.returncode == 0, r.stderr
    del env["MPLBACKEND"]
    code = f"""
        import sys
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        import densehebb as dh
        from test_plotting import ags_dataset
        dh.plot_phase_diagram(ags_dataset(), {str(tmp_path / 'b.png')!r})
        """
    r = _run(code, env)
    assert r.returncode == 0, r.stderr
    for name in ("a.png", "b.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"


def test_pyplot_figure(tmp_path):
    """pyplot=True: a figure that pyplot manages (plt.show() would display it); Agg in a subprocess."""
    env = dict(os.environ, MPLBACKEND="agg")
    code = f"""
        import sys
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        import matplotlib.pyplot as plt
        from densehebb.phase_diagrams.plotting import plot_phase_diagram
        from test_plotting import ags_dataset
        fig = plot_phase_diagram(ags_dataset(), {str(tmp_path / 'c.png')!r}, pyplot=True)
        assert plt.fignum_exists(fig.number)
        """
    r = _run(code, env)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "c.png").exists()


def test_figure_displays_without_pyplot():
    """The returned Figure renders as PNG in IPython even where pyplot (the inline backend) was never
    imported; it is not registered with pyplot, so a notebook shows it once."""
    fig = plotting.plot_phase_diagram(ags_dataset(), regions=False)
    assert fig._repr_png_()[:4] == b"\x89PNG"
    assert type(fig) is type(plotting.plot_phase_diagram(ags_dataset(), regions=False, legend=False))
