"""The Python surface: arrays, constructors, networkx, errors, interruption."""

import _thread
import json
import math
import signal
import threading
import time

import networkx as nx
import numpy as np
import pytest

import memnet


def test_arrays_have_documented_dtypes_and_shapes(root):
    net = memnet.load(root / "fixtures/spice/e4_grid.cir")
    assert (net.n_nodes, net.n_edges, net.n_devices) == (9, 12, 12)
    assert net.tails.dtype == np.int64 and net.heads.shape == (12,)
    res = net.simulate(1.0, sample_dt=0.1)
    assert res.t.dtype == np.float64 and res.t.shape == (11,)
    assert res.w.dtype == np.float64 and res.w.shape == (11, 12)
    assert res.w.flags["C_CONTIGUOUS"]
    assert res.names == net.device_names
    # No outputs asked for: an empty (samples x 0) array, not None.
    assert res.outputs.shape == (11, 0)
    params = dict(net.parameters())
    assert set(params) == {"ron", "roff", "w0", "alpha", "beta", "polarity", "resistance", "source"}
    assert all(p.shape == (12,) for p in params.values())


def test_save_all_adds_potentials_and_source_currents(root):
    net = memnet.load(root / "fixtures/spice/e4_grid.cir")
    res = net.simulate(1.0, save=["all"])
    assert res.output_names[0].startswith("v(")
    assert any(n.startswith("i(") for n in res.output_names)
    assert res.outputs.shape == (res.t.size, len(res.output_names))
    assert np.all(np.isfinite(res.outputs))


def test_reused_factorizations_give_the_direct_states():
    # A grid driven on its sides, RK4: the states of the two paths agree to
    # the 1e-10 the Rust tests hold them to; the reused run factorises less.
    net = memnet.generate.grid(12, drive=1.0, seed=3, w0_range=(0.2, 0.8))
    direct = net.simulate(0.2, method="rk4", dt=0.01)
    reused = net.simulate(0.2, method="rk4", dt=0.01, reuse_factorization=True)
    assert np.max(np.abs(direct.w - reused.w)) < 1e-10
    d, r = (json.loads(x.summary_json) for x in (direct, reused))
    assert r["factorizations"] < d["factorizations"]
    assert r["reused_solves"] > 0 and r["cg_iterations"] > 0
    nd = net.simulate(0.2, method="rk4", dt=0.01, ordering="nd")
    assert json.loads(nd.summary_json)["ordering"] == "nested_dissection"
    assert np.max(np.abs(direct.w - nd.w)) < 1e-12
    metis = net.simulate(0.2, method="rk4", dt=0.01, ordering="metis")
    assert json.loads(metis.summary_json)["ordering"] == "metis"
    assert np.max(np.abs(direct.w - metis.w)) < 1e-12
    with pytest.raises(memnet.MemnetError, match="ordering `colamd`"):
        net.simulate(0.2, ordering="colamd")


def test_from_edges_broadcasts_and_matches_the_generator():
    g = memnet.generate.grid(3, sources=[(0, 1.0)], w0=0.3)
    h = memnet.Network.from_edges(
        g.tails, g.heads, node_names=g.node_names, w0=0.3, source=dict(g.parameters())["source"]
    )
    assert (h.n_nodes, h.n_edges) == (g.n_nodes, g.n_edges)
    a = g.simulate(0.5, dt=1e-3)
    b = h.simulate(0.5, dt=1e-3)
    np.testing.assert_array_equal(a.w, b.w)


def test_from_edges_resistor_edges_and_defaults():
    net = memnet.Network.from_edges(
        [0, 1, 1], [1, 2, 0], ground=0, resistance=[math.nan, 1e3, math.nan], source=[1.0, 0.0, 0.0]
    )
    assert net.kinds == ["memristor", "resistor", "memristor"]
    assert net.node_names[0] == "0"
    assert net.n_devices == 2
    params = dict(net.parameters())
    assert params["resistance"][1] == 1e3 and math.isnan(params["ron"][1])


@pytest.mark.parametrize(
    "kwargs,needle",
    [
        ({"ron": -5.0}, "edge 0 (n0 -> n1)"),
        ({"resistance": 1e3, "ron": 10.0}, "cannot have `ron`"),
        ({"w0": [0.5, 0.5, 0.5]}, "`w0` has 3 entries for 2 edges"),
    ],
)
def test_from_edges_errors_name_the_edge_and_column(kwargs, needle):
    with pytest.raises(memnet.MemnetError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        memnet.Network.from_edges([0, 1], [1, 2], **kwargs)


def test_networkx_round_trip_keeps_nodes_edges_and_parameters():
    g = memnet.generate.grid(3, 4, sources=[(2, 0.5)], w0_range=(0.2, 0.8), seed=7)
    G = g.to_networkx()
    assert isinstance(G, nx.MultiDiGraph)
    assert G.number_of_nodes() == 12 and G.number_of_edges() == g.n_edges
    back = memnet.Network.from_networkx(G)
    assert back.node_names == g.node_names
    np.testing.assert_array_equal(back.tails, g.tails)
    np.testing.assert_array_equal(back.heads, g.heads)
    for (name, a), (_, b) in zip(g.parameters(), back.parameters()):
        np.testing.assert_array_equal(a, b, err_msg=name)
    np.testing.assert_array_equal(g.simulate(0.2).w, back.simulate(0.2).w)


def test_from_networkx_reads_edge_attributes_and_a_ground():
    G = nx.Graph()
    G.add_edge("a", "b", ron=50.0, source=1.0)
    G.add_edge("b", "gnd", resistance=200.0)
    net = memnet.Network.from_networkx(G, ground="gnd")
    assert net.node_names == ["a", "b", "0"]
    assert net.kinds == ["memristor", "resistor"]
    assert dict(net.parameters())["ron"][0] == 50.0


def test_netlist_errors_carry_file_line_and_column(tmp_path):
    bad = tmp_path / "bad.cir"
    bad.write_text("title\nR1 a 0 1k\nXM1 a 0 nosuchsubckt\n.tran 1m 1\n.end\n")
    with pytest.raises(memnet.MemnetError) as err:
        memnet.load(bad)
    assert f"{bad}:3:" in str(err.value)
    assert "error:" in str(err.value)


def test_bad_options_are_errors_in_python_spelling(root):
    net = memnet.load(root / "fixtures/spice/e4_grid.cir")
    with pytest.raises(memnet.MemnetError, match="rtol and atol set the tolerances"):
        net.simulate(1.0, method="rk4", rtol=1e-6)
    with pytest.raises(memnet.MemnetError, match="method `rk5`"):
        net.simulate(1.0, method="rk5")
    with pytest.raises(memnet.MemnetError, match="memristor_subckt nosuch: the netlist defines no"):
        memnet.load(root / "fixtures/spice/e4_grid.cir", memristor_subckt="nosuch")


def test_ctrl_c_interrupts_a_long_run_with_the_gil_released():
    net = memnet.generate.grid(60, drive=1.0)
    # interrupt_main does nothing where SIGINT is ignored, as it is for a
    # job started in the background of a non-interactive shell: install
    # Python's own handler for the test.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    # The timer thread runs while simulate holds no GIL; interrupt_main
    # is what Ctrl-C does.
    timer = threading.Timer(0.5, _thread.interrupt_main)
    start = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            net.simulate(1e3, dt=1e-3, progress=False)
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    assert time.monotonic() - start < 10.0


def test_other_threads_run_while_simulating():
    net = memnet.generate.grid(20, drive=1.0)
    ticks = []
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.001)

    t = threading.Thread(target=count)
    t.start()
    time.sleep(0.05)
    start = time.monotonic()
    net.simulate(2.0, dt=1e-3, progress=False)
    end = time.monotonic()
    stop.set()
    t.join()
    during = [x for x in ticks if start < x < end]
    # Holding the GIL, the counter would not run at all during the call.
    assert end - start > 0.05, "the run is too short to tell"
    assert len(during) >= 10, f"{len(during)} ticks in {end - start:.3f} s"


def test_analyze_returns_the_cli_report_as_python_data(root, cli):
    import json
    import subprocess

    deck = root / "fixtures/spice/e4_grid.cir"
    report = memnet.load(deck).analyze(1.0)
    assert isinstance(report, dict)
    out = subprocess.run([cli, "analyze", str(deck), "--t-end", "1", "--json"],
                         capture_output=True, text=True, check=True)
    want = json.loads(out.stdout)
    # The CLI adds the file and the topology counts around the same report.
    for key in report:
        if key != "wall_time_s":
            assert key in want, key
    assert report["counts"]["effective_memory"] == want["effective_memory"]


def test_export_ngspice_writes_the_cli_deck(root, cli, tmp_path):
    import subprocess

    deck = root / "fixtures/spice/e4_grid.cir"
    ours = tmp_path / "py.cir"
    theirs = tmp_path / "cli.cir"
    memnet.load(deck).export_ngspice(ours, t_end=1.0, raw_path="x.raw")
    subprocess.run([cli, "export", str(deck), "--to", "ngspice", "-o", str(theirs), "--t-end", "1",
                    "--raw", "x.raw"], check=True, capture_output=True)
    assert ours.read_text() == theirs.read_text()
    with pytest.raises(memnet.MemnetError, match="give t_end"):
        memnet.generate.grid(2).export_ngspice(tmp_path / "g.cir")


@pytest.mark.parametrize(
    "family,kwargs,flags",
    [
        ("erdos_renyi", dict(n=30, p=0.1, seed=3), ["erdos-renyi", "--nodes", "30", "--p", "0.1", "--seed", "3"]),
        ("geometric", dict(n=40, radius=0.25, seed=2), ["geometric", "--nodes", "40", "--radius", "0.25", "--seed", "2"]),
        ("watts_strogatz", dict(n=20, k=4, rewire=0.2, seed=5),
         ["watts-strogatz", "--nodes", "20", "--k", "4", "--rewire", "0.2", "--seed", "5"]),
        ("triangular", dict(rows=4, cols=3), ["triangular", "--rows", "4", "--cols", "3"]),
    ],
)
def test_generators_make_what_memnet_generate_makes(cli, tmp_path, family, kwargs, flags):
    import subprocess

    out = tmp_path / "g.csv"
    subprocess.run([cli, "generate", *flags, "-o", str(out)], check=True, capture_output=True)
    theirs = memnet.load(out)
    ours = getattr(memnet.generate, family)(**kwargs)
    edges = lambda net: [(net.node_names[t], net.node_names[h]) for t, h in zip(net.tails, net.heads)]
    assert edges(ours) == edges(theirs)
    np.testing.assert_array_equal(dict(ours.parameters())["w0"], dict(theirs.parameters())["w0"])
