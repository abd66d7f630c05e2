"""The same netlist through the CLI and through Python: equal to 1e-12."""

import json
import subprocess

import numpy as np
import pytest

import memnet

# (fixture, extra CLI arguments, the same as Python keyword arguments)
CASES = [
    # memnet's linear law, RK4 (the README example)
    ("fixtures/spice/e4_grid.cir", ["--t-end", "1"], {"t_end": 1.0}),
    # a user's behavioural subcircuit compiled into the engine (dopri5)
    ("fixtures/public/ngspice-examples/drive_subckt.cir", [], {}),
    # ngspice's XSPICE memristor code model, as ngspice's example writes it
    ("fixtures/public/ngspice-examples/drive_xspice.cir", [], {}),
    # Xyce's built-in Yakopcic device (level 3)
    ("fixtures/public/xyce-yakopcic/memristorYakopcic.cir", [], {}),
    # Xyce's TEAM regression deck: one device, so switches are located by
    # default; and stepped across on request
    ("fixtures/xyce/memristorTEAM_test.cir", [], {}),
    ("fixtures/xyce/memristorTEAM_test.cir", ["--no-locate-switches"], {"locate_switches": False}),
]


def cli_run(cli, root, fixture, args, tmp_path):
    out = tmp_path / "out.npy"
    cmd = [cli, "simulate", str(root / fixture), "--out", str(out), "--save", "states", "--json", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    summary = json.loads(done.stdout)
    data = np.load(out)
    names = json.loads((tmp_path / "out.npy.json").read_text())["columns"]
    return summary, data, names


@pytest.mark.parametrize("fixture,args,kwargs", CASES, ids=[c[0].split("/")[-1] + "".join(c[1]) for c in CASES])
def test_cli_and_python_agree(cli, root, tmp_path, fixture, args, kwargs):
    if not (root / fixture).is_file():
        pytest.fail(f"fixture {fixture} is missing")
    summary, data, names = cli_run(cli, root, fixture, args, tmp_path)
    net = memnet.load(root / fixture)
    res = net.simulate(**kwargs)
    assert res.names == names[1:]
    assert res.t.shape == (data.shape[0],)
    np.testing.assert_allclose(res.t, data[:, 0], rtol=0, atol=1e-12)
    scale = max(1.0, float(np.max(np.abs(data[:, 1:]))))
    assert float(np.max(np.abs(res.w - data[:, 1:]))) <= 1e-12 * scale
    py = memnet.summary(res)
    for key in ("method", "steps", "rhs_evals", "samples", "switches_located"):
        assert py[key] == summary[key], key


def test_a_device_law_from_python_runs_as_memnet_generate_law(cli, tmp_path):
    # A 4x4 grid of HP devices with Biolek's window, driven across: made in
    # Python with `law=` and by `memnet generate --law`, then simulated.
    deck = tmp_path / "hp.cir"
    subprocess.run(
        [cli, "generate", "grid", "--rows", "4", "--cols", "4", "--drive", "sides", "--voltage", "1",
         "--law", "hp", "--law-option", "window=biolek", "--law-param", "p=2,rinit=8000",
         "--t-end", "0.01", "-o", str(deck)],
        check=True, capture_output=True,
    )
    summary, data, names = cli_run(cli, deck.parent, deck.name, [], tmp_path)
    net = memnet.generate.grid(4, drive=1.0, law="hp", law_params={"p": 2, "rinit": 8000},
                               law_options={"window": "biolek"})
    assert set(net.kinds) == {"hp"}
    res = net.simulate(0.01)
    assert res.w.shape == data[:, 1:].shape
    assert float(np.max(np.abs(res.w - data[:, 1:]))) <= 1e-12
    assert memnet.summary(res)["rhs_evals"] == summary["rhs_evals"]
    # The law moved the state: not a flat line at x0.
    assert float(np.ptp(res.w)) > 1e-6


def test_with_law_names_a_bad_law_or_parameter():
    grid = memnet.generate.grid(2)
    with pytest.raises(memnet.MemnetError, match="nosuch"):
        grid.with_law("nosuch")
    with pytest.raises(memnet.MemnetError, match="bogus"):
        grid.with_law("hp", {"bogus": 1.0})
    with pytest.raises(TypeError, match="x0"):
        memnet.generate.grid(2, w0=0.3, law="hp")


def _random_reservoir(cli, tmp_path):
    # The 10-node network both reservoir agreement tests drive.
    net_file = tmp_path / "r.csv"
    subprocess.run(
        [cli, "generate", "random-connected", "--nodes", "10", "--p", "0.3", "--ron", "1", "--roff", "11",
         "--alpha", "-0.2", "--beta", "2", "--seed", "4", "-o", str(net_file)],
        check=True, capture_output=True,
    )
    return net_file


def test_a_reservoir_from_python_scores_as_memnet_reservoir(cli, root, tmp_path):
    # The same network, drive and readout through `memnet reservoir` and
    # through Network.drive + score_readout: the same test NRMSE.
    net_file = _random_reservoir(cli, tmp_path)
    fixture = root / "fixtures/narma10/narma10_seed42.csv"
    done = subprocess.run(
        [cli, "reservoir", str(net_file), "--series", str(fixture), "--virtual-nodes", "2", "--json"],
        check=True, capture_output=True, text=True,
    )
    want = json.loads(done.stdout)
    data = np.loadtxt(fixture, delimiter=",", skiprows=1)
    u, y = data[:5200, 1], data[:5200, 2]
    x = memnet.load(net_file).drive(u, centre=0.25, virtual_nodes=2)
    assert x.shape == (5200, want["features"]) and x.dtype == np.float64
    np.testing.assert_array_equal(x[:, 0], 1.0)
    np.testing.assert_array_equal(x[:, 1], u)
    got = memnet.score_readout(x, y)
    assert abs(got["test_nrmse"] - want["test_nrmse"]) <= 1e-12
    assert got["lambda"] == want["lambda"]
    with pytest.raises(memnet.MemnetError, match="split"):
        memnet.score_readout(x, y, split=(10, 5, 20, 30))


def _narma_reservoir_by_cli(cli, root, tmp_path, *args):
    # `memnet reservoir` on a random reservoir and the NARMA10 fixture with
    # biases in [-1, 0] and gain 0.1, plus `args`: the network file, the
    # CLI's report and the fixture's u and y.
    net_file = _random_reservoir(cli, tmp_path)
    fixture = root / "fixtures/narma10/narma10_seed42.csv"
    done = subprocess.run(
        [cli, "reservoir", str(net_file), "--series", str(fixture), "--bias=-1,0", "--gain", "0.1",
         *args, "--json"],
        check=True, capture_output=True, text=True,
    )
    data = np.loadtxt(fixture, delimiter=",", skiprows=1)
    return net_file, json.loads(done.stdout), data[:5200, 1], data[:5200, 2]


def test_delays_and_a_bias_range_agree_with_the_cli(cli, root, tmp_path):
    # bias=(lo, hi) and delays= are --bias=LO,HI and --delays: the same
    # features, so the same score; the delayed block is the earlier rows.
    net_file, want, u, y = _narma_reservoir_by_cli(cli, root, tmp_path, "--delays", "3")
    assert want["delays"] == 3
    net = memnet.load(net_file)
    x = net.drive(u, centre=0.25, bias=(-1.0, 0.0), gain=0.1, delays=3)
    assert x.shape == (5200, want["features"])
    q = (x.shape[1] - 2) // 4
    np.testing.assert_array_equal(x[5:, 2 + 2 * q:2 + 3 * q], x[3:-2, 2:2 + q])
    np.testing.assert_array_equal(x[:2, 2 + 2 * q:2 + 3 * q], 0.0)
    assert abs(memnet.score_readout(x, y)["test_nrmse"] - want["test_nrmse"]) <= 1e-12
    with pytest.raises(memnet.MemnetError, match="bias"):
        net.drive(u[:10], bias=(0.0, -1.0))
    with pytest.raises(memnet.MemnetError, match="finite"):
        net.drive(u[:10], bias=float("nan"))
    euler = net.drive(u[:20], method="euler", reuse_factorization=True)
    assert euler.shape == (20, 2 + q) and np.all(np.isfinite(euler))
    assert np.max(np.abs(euler - net.drive(u[:20])[:, :2 + q])) > 0.0
    with pytest.raises(memnet.MemnetError, match="rk4 or euler"):
        net.drive(u[:10], method="dopri5")


def test_input_lags_agree_with_the_cli(cli, root, tmp_path):
    # input_lags= is --input-lags: the same features, so the same score, and
    # the lagged inputs change the states.
    net_file, want, u, y = _narma_reservoir_by_cli(cli, root, tmp_path, "--input-lags", "10")
    assert want["input_lags"] == 10
    net = memnet.load(net_file)
    x = net.drive(u, centre=0.25, bias=(-1.0, 0.0), gain=0.1, input_lags=10)
    assert x.shape == (5200, want["features"])
    assert abs(memnet.score_readout(x, y)["test_nrmse"] - want["test_nrmse"]) <= 1e-12
    plain = net.drive(u[:30], centre=0.25, bias=(-1.0, 0.0), gain=0.1)
    assert np.max(np.abs(plain[:, 2:] - x[:30, 2:])) > 1e-6


def test_sources_nodes_features_and_memory_capacity_agree_with_the_cli(cli, root, tmp_path):
    # A deck driven through its own source and a node, read through states,
    # currents and potentials: Network.drive + memory_capacity give what
    # `memnet reservoir --capacity` reports.
    deck = tmp_path / "r.cir"
    deck.write_text(
        "reservoir deck\n"
        "V1 a 0 DC 0.2\n"
        "XM1 a b memristor ron=1 roff=11 w0=0.4 alpha=-0.1 beta=2\n"
        "XM2 b c memristor ron=1 roff=11 w0=0.6 alpha=-0.1 beta=2\n"
        "XM3 c 0 memristor ron=1 roff=11 w0=0.5 alpha=-0.1 beta=2\n"
        "XM4 b 0 memristor ron=1 roff=11 w0=0.3 alpha=-0.1 beta=2\n"
        ".end\n"
    )
    fixture = root / "fixtures/narma10/narma10_seed42.csv"
    done = subprocess.run(
        [cli, "reservoir", str(deck), "--series", str(fixture), "--source", "v1", "--node", "c",
         "--features", "states,currents,potentials", "--capacity", "30", "--json"],
        check=True, capture_output=True, text=True,
    )
    want = json.loads(done.stdout)
    data = np.loadtxt(fixture, delimiter=",", skiprows=1)
    u, y = data[:5200, 1], data[:5200, 2]
    net = memnet.load(deck)
    x = net.drive(u, sources=["v1"], nodes=["c"], features="states,currents,potentials", centre=0.25)
    assert x.shape == (5200, want["features"])
    assert abs(memnet.score_readout(x, y)["test_nrmse"] - want["test_nrmse"]) <= 1e-12
    mc = memnet.memory_capacity(x, u, k_max=30)
    assert abs(mc["total"] - want["memory_capacity"]) <= 1e-9
    assert len(mc["curve"]) == 30
    with pytest.raises(memnet.MemnetError, match="v9"):
        net.drive(u[:10], sources=["v9"])
    with pytest.raises(memnet.MemnetError, match="flux"):
        net.drive(u[:10], features="states,flux")
    with pytest.raises(memnet.MemnetError, match="washout"):
        memnet.memory_capacity(x, u, k_max=500)
