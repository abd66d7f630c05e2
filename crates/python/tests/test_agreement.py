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
]


def cli_run(cli, root, fixture, args, tmp_path):
    out = tmp_path / "out.npy"
    cmd = [cli, "simulate", str(root / fixture), "--out", str(out), "--save", "states", "--json", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    summary = json.loads(done.stdout)
    data = np.load(out)
    names = json.loads((tmp_path / "out.npy.json").read_text())["columns"]
    return summary, data, names


@pytest.mark.parametrize("fixture,args,kwargs", CASES, ids=[c[0].split("/")[-1] for c in CASES])
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
    for key in ("method", "steps", "rhs_evals", "samples"):
        assert py[key] == summary[key], key
