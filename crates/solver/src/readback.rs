//! Reading a run's output back (`memnet plot RESULT`, `--resume`): the
//! CSV, NPY and raw files the sinks of [`crate::output`] and the CLI's raw
//! writer produce, with the column names they carry. A file cut short by
//! an interrupted run reads up to its last complete sample.

use std::path::Path;

use memnet_graph::files::split_csv;
use memnet_spice::raw::{Columns, RawFile, ReadOptions};

/// A run's samples: `names` are the output columns (time not included),
/// `values` row-major, one row of `names.len()` per time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SavedRun {
    pub names: Vec<String>,
    pub times: Vec<f64>,
    pub values: Vec<f64>,
}

impl SavedRun {
    /// Sample `i`'s values.
    pub fn row(&self, i: usize) -> &[f64] {
        let w = self.names.len();
        &self.values[i * w..(i + 1) * w]
    }

    /// Column `c` over time.
    pub fn column(&self, c: usize) -> impl Iterator<Item = f64> + '_ {
        let w = self.names.len();
        (0..self.times.len()).map(move |i| self.values[i * w + c])
    }
}

/// Reads `path` by its extension (.csv, .npy, .raw). Errors name the file
/// and, where it has lines, the line and column.
pub fn read_saved_run(path: &Path) -> Result<SavedRun, String> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| format!("{shown}: error: {e}"))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("csv") => parse_csv(&bytes, &shown),
        Some("npy") => {
            let sidecar = crate::output::npy_sidecar_path(path);
            let names = match std::fs::read_to_string(&sidecar) {
                Ok(text) => Some(
                    sidecar_names(&text)
                        .map_err(|e| format!("{}: error: {e}", sidecar.display()))?,
                ),
                Err(_) => None,
            };
            parse_npy(&bytes, names, &shown)
        }
        Some("raw") => parse_raw(&bytes, &shown),
        _ => Err(format!(
            "{shown}: error: unknown output format (memnet reads back .csv, .npy and .raw)"
        )),
    }
}

/// memnet's CSV: header `time,<names>`, one row per sample. A last line
/// without its newline is an interrupted write and is left out.
pub fn parse_csv(bytes: &[u8], shown: &str) -> Result<SavedRun, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        format!("{shown}:{line}: error: not UTF-8 text")
    })?;
    let complete = match text.rfind('\n') {
        Some(end) => &text[..=end],
        None => "",
    };
    let mut lines = complete.lines().enumerate();
    let Some((_, header)) = lines.next() else {
        return Err(format!("{shown}:1:1: error: no header line `time,...`"));
    };
    let header = header.trim_end_matches('\r');
    let fields = split_csv(header).map_err(|(col, e)| format!("{shown}:1:{col}: error: {e}"))?;
    if fields.first().map(|f| f.0.as_str()) != Some("time") {
        return Err(format!(
            "{shown}:1:1: error: the first column must be `time` (a memnet output file)"
        ));
    }
    let names: Vec<String> = fields[1..].iter().map(|f| f.0.trim().to_string()).collect();
    let mut run = SavedRun {
        names,
        ..SavedRun::default()
    };
    let width = run.names.len() + 1;
    for (i, line) in lines {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let fields =
            split_csv(line).map_err(|(col, e)| format!("{shown}:{}:{col}: error: {e}", i + 1))?;
        if fields.len() != width {
            return Err(format!(
                "{shown}:{}:1: error: {} fields, the header has {width}",
                i + 1,
                fields.len()
            ));
        }
        for (c, (f, col)) in fields.iter().enumerate() {
            let v: f64 = f.trim().parse().map_err(|_| {
                format!(
                    "{shown}:{}:{}: error: `{}` is not a number",
                    i + 1,
                    col,
                    f.trim()
                )
            })?;
            if c == 0 {
                run.times.push(v);
            } else {
                run.values.push(v);
            }
        }
    }
    Ok(run)
}

/// The column names of an NPY sidecar `{"columns": ["time", ...]}`.
fn sidecar_names(text: &str) -> Result<Vec<String>, String> {
    #[derive(serde::Deserialize)]
    struct Sidecar {
        columns: Vec<String>,
    }
    let s: Sidecar = serde_json::from_str(text).map_err(|e| e.to_string())?;
    match s.columns.split_first() {
        Some((t, rest)) if t == "time" => Ok(rest.to_vec()),
        _ => Err("the first column must be `time`".into()),
    }
}

/// NPY v1/v2 little-endian float64, C order, shape (rows, cols) with time
/// first. Names from the sidecar, else `col1`, `col2`, ...; a file whose
/// data stops short reads its complete rows.
pub fn parse_npy(
    bytes: &[u8],
    names: Option<Vec<String>>,
    shown: &str,
) -> Result<SavedRun, String> {
    let bad = |why: &str| format!("{shown}: error: {why}");
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("not an NPY file (no \\x93NUMPY magic)"));
    }
    let (header_len, start): (usize, usize) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(bad(&format!("NPY version {v} is not read"))),
    };
    let end = start
        .checked_add(header_len)
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| bad("the header runs past the end of the file"))?;
    let dict =
        std::str::from_utf8(&bytes[start..end]).map_err(|_| bad("the header is not text"))?;
    let compact: String = dict.chars().filter(|c| !c.is_whitespace()).collect();
    if !(compact.contains("'descr':'<f8'") || compact.contains("'descr':'float64'")) {
        return Err(bad("only little-endian float64 ('<f8') arrays are read"));
    }
    if compact.contains("'fortran_order':True") {
        return Err(bad(
            "a Fortran-order array is not read (memnet writes C order)",
        ));
    }
    let shape = compact
        .split("'shape':(")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| bad("the header has no shape"))?;
    let dims: Vec<usize> = shape
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad(&format!("shape ({shape}) is not a list of sizes")))?;
    let [rows, cols] = dims[..] else {
        return Err(bad(&format!(
            "shape ({shape}): a 2-d array (samples, 1 + outputs) is read"
        )));
    };
    if cols == 0 {
        return Err(bad("no time column"));
    }
    let names = match names {
        Some(n) if n.len() + 1 == cols => n,
        Some(n) => {
            return Err(bad(&format!(
                "the sidecar names {} outputs, the array has {}",
                n.len(),
                cols - 1
            )));
        }
        None => (1..cols).map(|c| format!("col{c}")).collect(),
    };
    let data = &bytes[end..];
    let complete = rows.min(data.len() / (8 * cols));
    let mut run = SavedRun {
        names,
        ..SavedRun::default()
    };
    run.times.reserve(complete);
    run.values.reserve(complete * (cols - 1));
    for (i, chunk) in data.chunks_exact(8).take(complete * cols).enumerate() {
        let v = f64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        if i % cols == 0 {
            run.times.push(v);
        } else {
            run.values.push(v);
        }
    }
    Ok(run)
}

/// The first real plot of a raw file; memnet's `v(<device>.w)` state
/// columns get their device's name back (as the CSV names them).
pub fn parse_raw(bytes: &[u8], shown: &str) -> Result<SavedRun, String> {
    let raw = RawFile::parse_with(
        bytes,
        ReadOptions {
            allow_truncated: true,
        },
    )
    .map_err(|e| format!("{shown}:{}: error: {}", e.line, e.message))?;
    let Some(plot) = raw.plots.first() else {
        return Err(format!("{shown}: error: the file holds no plot"));
    };
    let Columns::Real(cols) = &plot.columns else {
        return Err(format!(
            "{shown}: error: a complex (AC) plot has no time samples"
        ));
    };
    if cols.is_empty() || !plot.variables[0].kind.eq_ignore_ascii_case("time") {
        return Err(format!("{shown}: error: the first variable is not `time`"));
    }
    let names = plot.variables[1..]
        .iter()
        .map(|v| {
            v.name
                .strip_prefix("v(")
                .and_then(|s| s.strip_suffix(".w)"))
                .map_or_else(|| v.name.clone(), str::to_string)
        })
        .collect();
    let n = plot.n_points();
    let mut run = SavedRun {
        names,
        times: cols[0][..n].to_vec(),
        values: Vec::with_capacity(n * (cols.len() - 1)),
    };
    for i in 0..n {
        run.values.extend(cols[1..].iter().map(|c| c[i]));
    }
    Ok(run)
}
