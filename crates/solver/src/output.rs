//! Streaming sample sinks. Both write each sample as soon as it arrives and
//! leave a valid file after every sample, so an interrupted run keeps what
//! it computed.

use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::run::SampleSink;

/// Shortest text that parses back to the same f64 (Rust's float printing
/// is round-trip exact); exponent form for very small or large magnitudes.
pub fn format_f64(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 || (1e-5..1e16).contains(&a) || !x.is_finite() {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// CSV: header `time,<memristor names>`, one row per sample, flushed per
/// sample.
pub struct CsvSink<W: Write> {
    out: BufWriter<W>,
    width: usize,
    line: String,
}

impl<W: Write> std::fmt::Debug for CsvSink<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvSink")
            .field("columns", &self.width)
            .finish()
    }
}

impl CsvSink<File> {
    /// Create (truncate) `path` and write the header.
    pub fn create<S: AsRef<str>>(path: &Path, names: &[S]) -> io::Result<Self> {
        CsvSink::new(File::create(path)?, names)
    }
}

impl<W: Write> CsvSink<W> {
    pub fn new<S: AsRef<str>>(out: W, names: &[S]) -> io::Result<Self> {
        let mut out = BufWriter::new(out);
        let mut header = String::from("time");
        for n in names {
            let n = n.as_ref();
            header.push(',');
            // Names are SPICE identifiers; quote anything CSV-special anyway.
            if n.contains([',', '"', '\n', '\r']) {
                header.push('"');
                header.push_str(&n.replace('"', "\"\""));
                header.push('"');
            } else {
                header.push_str(n);
            }
        }
        header.push('\n');
        out.write_all(header.as_bytes())?;
        out.flush()?;
        Ok(CsvSink {
            out,
            width: names.len(),
            line: String::new(),
        })
    }

    /// The underlying writer (flushed).
    pub fn into_inner(self) -> io::Result<W> {
        self.out.into_inner().map_err(|e| e.into_error())
    }
}

impl<W: Write> SampleSink for CsvSink<W> {
    fn sample(&mut self, t: f64, w: &[f64]) -> io::Result<()> {
        if w.len() != self.width {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("sample has {} values, the header {}", w.len(), self.width),
            ));
        }
        self.line.clear();
        self.line.push_str(&format_f64(t));
        for &x in w {
            self.line.push(',');
            self.line.push_str(&format_f64(x));
        }
        self.line.push('\n');
        self.out.write_all(self.line.as_bytes())?;
        self.out.flush()
    }
}

/// Rows field width in the NPY header: room for any u64.
const ROWS_WIDTH: usize = 20;

/// NPY v1.0, little-endian float64 matrix, row-major, first column time.
/// The header's shape field is padded so the row count can be rewritten in
/// place after every row: the file is loadable (`numpy.load`) at any time.
/// Column names go to the sidecar `<path>.json` (`{"columns": [...]}`).
pub struct NpySink<W: Write + Seek> {
    out: W,
    cols: usize,
    rows: u64,
    header_len: usize,
    buf: Vec<u8>,
}

impl<W: Write + Seek> std::fmt::Debug for NpySink<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NpySink")
            .field("cols", &self.cols)
            .field("rows", &self.rows)
            .finish()
    }
}

/// The sidecar path holding the column names of an NPY file.
pub fn npy_sidecar_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".json");
    PathBuf::from(s)
}

fn json_string(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

impl NpySink<File> {
    /// Create `path` (and `<path>.json` with the column names).
    pub fn create<S: AsRef<str>>(path: &Path, names: &[S]) -> io::Result<Self> {
        let cols: Vec<String> = std::iter::once("time")
            .chain(names.iter().map(AsRef::as_ref))
            .map(json_string)
            .collect();
        std::fs::write(
            npy_sidecar_path(path),
            format!("{{\"columns\": [{}]}}\n", cols.join(", ")),
        )?;
        NpySink::new(File::create(path)?, names.len())
    }
}

impl<W: Write + Seek> NpySink<W> {
    /// `n_values`: memristor columns (the file has one more, time).
    pub fn new(mut out: W, n_values: usize) -> io::Result<Self> {
        let cols = n_values + 1;
        let header = Self::header(0, cols);
        out.write_all(&header)?;
        out.flush()?;
        Ok(NpySink {
            out,
            cols,
            rows: 0,
            header_len: header.len(),
            buf: Vec::new(),
        })
    }

    fn header(rows: u64, cols: usize) -> Vec<u8> {
        let dict = format!(
            "{{'descr': '<f8', 'fortran_order': False, 'shape': ({rows:>ROWS_WIDTH$}, {cols}), }}"
        );
        // magic(6) + version(2) + len(2) + dict + padding + '\\n', total a
        // multiple of 64.
        let unpadded = 10 + dict.len() + 1;
        let total = unpadded.div_ceil(64) * 64;
        let mut h = Vec::with_capacity(total);
        h.extend_from_slice(b"\x93NUMPY\x01\x00");
        h.extend_from_slice(&((total - 10) as u16).to_le_bytes());
        h.extend_from_slice(dict.as_bytes());
        h.resize(total - 1, b' ');
        h.push(b'\n');
        h
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write + Seek> SampleSink for NpySink<W> {
    fn sample(&mut self, t: f64, w: &[f64]) -> io::Result<()> {
        if w.len() + 1 != self.cols {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("sample has {} values, the file {}", w.len(), self.cols - 1),
            ));
        }
        self.buf.clear();
        self.buf.extend_from_slice(&t.to_le_bytes());
        for &x in w {
            self.buf.extend_from_slice(&x.to_le_bytes());
        }
        // Append the row, then publish it by rewriting the row count.
        let end = self.header_len as u64 + self.rows * (self.cols as u64) * 8;
        self.out.seek(SeekFrom::Start(end))?;
        self.out.write_all(&self.buf)?;
        self.rows += 1;
        let header = Self::header(self.rows, self.cols);
        debug_assert_eq!(header.len(), self.header_len);
        self.out.seek(SeekFrom::Start(0))?;
        self.out.write_all(&header)?;
        self.out.flush()
    }
}
