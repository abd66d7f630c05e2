"""Type stubs of memnet's native module (crates/python/src/lib.rs)."""

from os import PathLike
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

ArrayLike = Union[float, npt.ArrayLike]

class MemnetError(Exception):
    """A failure the user can cause; the message is the CLI's, with
    FILE:LINE:COL where there is one."""

class SimResult:
    """The samples of one run."""

    #: Sample times, shape (samples,).
    t: npt.NDArray[np.float64]
    #: Device states, shape (samples, devices), columns in the order of `names`.
    w: npt.NDArray[np.float64]
    #: Device (state) names, the columns of `w`.
    names: List[str]
    #: The outputs asked for with `save`, shape (samples, len(output_names)).
    outputs: npt.NDArray[np.float64]
    output_names: List[str]
    #: The run summary as `memnet simulate --json` prints it (JSON text).
    summary_json: str

class Network:
    """A network ready to simulate."""

    @staticmethod
    def from_edges(
        tails: npt.ArrayLike,
        heads: npt.ArrayLike,
        *,
        n_nodes: Optional[int] = None,
        node_names: Optional[Sequence[str]] = None,
        ground: Optional[int] = None,
        ron: Optional[ArrayLike] = None,
        roff: Optional[ArrayLike] = None,
        w0: Optional[ArrayLike] = None,
        alpha: Optional[ArrayLike] = None,
        beta: Optional[ArrayLike] = None,
        source: Optional[ArrayLike] = None,
        polarity: Optional[ArrayLike] = None,
        resistance: Optional[ArrayLike] = None,
        title: str = "",
    ) -> "Network": ...
    @staticmethod
    def from_networkx(graph: Any, *, ground: Any = None, title: str = "") -> "Network": ...
    def to_networkx(self) -> Any: ...
    @property
    def title(self) -> str: ...
    @property
    def node_names(self) -> List[str]: ...
    @property
    def edge_names(self) -> List[str]: ...
    @property
    def device_names(self) -> List[str]: ...
    @property
    def n_nodes(self) -> int: ...
    @property
    def n_edges(self) -> int: ...
    @property
    def n_devices(self) -> int: ...
    @property
    def tails(self) -> npt.NDArray[np.int64]: ...
    @property
    def heads(self) -> npt.NDArray[np.int64]: ...
    @property
    def kinds(self) -> List[str]: ...
    @property
    def warnings(self) -> List[str]: ...
    def parameters(self) -> List[Tuple[str, npt.NDArray[np.float64]]]: ...
    def drive(
        self,
        u: npt.ArrayLike,
        *,
        every: Optional[int] = None,
        sources: Sequence[str] = (),
        nodes: Sequence[str] = (),
        features: str = "states",
        gain: float = 0.5,
        bias: Union[float, Tuple[float, float]] = 1.0,
        centre: Optional[float] = None,
        period: float = 1.0,
        steps: int = 10,
        virtual_nodes: int = 1,
        read: Optional[int] = None,
        delays: int = 0,
        input_lags: int = 0,
        method: str = "rk4",
        reuse_factorization: bool = False,
        seed: int = 1,
    ) -> npt.NDArray[np.float64]: ...
    def with_law(
        self,
        law: str,
        params: Optional[Dict[str, float]] = None,
        options: Optional[Dict[str, str]] = None,
    ) -> Network: ...
    def simulate(
        self,
        t_end: Optional[float] = None,
        *,
        method: str = "auto",
        dt: Optional[float] = None,
        sample_dt: Optional[float] = None,
        rtol: Optional[float] = None,
        atol: Optional[float] = None,
        locate_switches: bool | None = None,
        max_step: Optional[float] = None,
        error_norm: Optional[str] = None,
        bounds: str = "clip",
        save: Sequence[str] = (),
        reuse_factorization: bool = False,
        ordering: str = "auto",
        progress: Optional[bool] = None,
    ) -> SimResult: ...

def load(path: Union[str, PathLike], memristor_subckt: Sequence[str] = ..., params: Sequence[str] = ...) -> Network: ...
def generate_network(
    kind: str,
    *,
    rows: int = 10,
    cols: int = 10,
    diagonals: bool = False,
    n: int = 100,
    p: float = 0.05,
    degree: int = 3,
    k: int = 4,
    rewire: float = 0.1,
    radius: float = 0.15,
    p_extra: float = 0.1,
    sources: Sequence[Tuple[int, float]] = ...,
    random_sources: Optional[int] = None,
    source_range: Tuple[float, float] = (-1.0, 1.0),
    drive: Optional[float] = None,
    seed: int = 0,
    w0: Optional[float] = None,
    w0_range: Optional[Tuple[float, float]] = None,
    ron: Optional[float] = None,
    roff: Optional[float] = None,
    alpha: Optional[float] = None,
    beta: Optional[float] = None,
) -> Network: ...

def score_readout(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    split: Tuple[int, int, int, int] = (200, 2200, 3200, 5200),
    grid: Optional[Sequence[float]] = None,
) -> dict: ...

def memory_capacity(
    x: npt.ArrayLike,
    u: npt.ArrayLike,
    k_max: int = 200,
    split: Tuple[int, int, int, int] = (200, 2200, 3200, 5200),
    grid: Optional[Sequence[float]] = None,
) -> dict: ...
