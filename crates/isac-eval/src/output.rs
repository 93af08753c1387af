//! Output files: written atomically (temporary file, then rename) so a reader never sees a
//! half-written table and an interrupted run leaves no partial file behind.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use crate::EvalError;

/// Writes `contents` to `path` atomically: into a temporary file in the same directory
/// (`tempfile`, a unique name, so concurrent writers never share it), flushed to disk
/// (`fsync`), then renamed over `path`. A reader sees the old file or the new one, never a
/// part, even across a crash.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), EvalError> {
    let io = |source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    tmp.write_all(contents).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// 64-bit FNV-1a: a stable hash for cache keys and input hashes (std's hasher is not stable
/// across Rust releases).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A CSV table with a fixed header; numbers are written with full precision (`{:e}` round-trips).
#[derive(Debug, Clone)]
pub struct Csv {
    text: String,
    columns: usize,
}

/// One CSV cell.
#[derive(Debug, Clone, Copy)]
pub enum Cell<'a> {
    /// A number, written in shortest round-trip form.
    Num(f64),
    /// An integer.
    Int(u64),
    /// A label (must not contain commas or quotes).
    Text(&'a str),
}

impl Csv {
    /// A table with these column names.
    pub fn new(header: &[&str]) -> Self {
        Self {
            text: header.join(",") + "\n",
            columns: header.len(),
        }
    }

    /// Appends a row; panics if the row length differs from the header (a programming error).
    pub fn row(&mut self, cells: &[Cell<'_>]) {
        assert_eq!(
            cells.len(),
            self.columns,
            "CSV row length must match the header"
        );
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                self.text.push(',');
            }
            match cell {
                Cell::Num(x) => write!(self.text, "{x:e}"),
                Cell::Int(x) => write!(self.text, "{x}"),
                Cell::Text(s) => write!(self.text, "{s}"),
            }
            .expect("writing to a String cannot fail");
        }
        self.text.push('\n');
    }

    /// The table as text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Writes the table atomically.
    pub fn write(&self, path: &Path) -> Result<(), EvalError> {
        write_atomic(path, self.text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_numbers_round_trip_and_files_are_atomic() {
        let mut csv = Csv::new(&["x", "label", "n"]);
        let x = 0.1f64 + 0.2;
        csv.row(&[Cell::Num(x), Cell::Text("a"), Cell::Int(3)]);
        let line = csv.as_str().lines().nth(1).unwrap();
        let back: f64 = line.split(',').next().unwrap().parse().unwrap();
        assert_eq!(back, x);
        let dir = std::env::temp_dir().join(format!("isac-eval-test-{}", std::process::id()));
        let path = dir.join("sub/table.csv");
        csv.write(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), csv.as_str());
        // Nothing but the file itself is left in its directory.
        let left: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(left.len(), 1);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
