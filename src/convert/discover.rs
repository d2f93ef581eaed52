//! Input discovery: files, directories (walked recursively, sorted),
//! globs; which files met in a directory are captures; each input's
//! `capture` name (relative to the root it was found under).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// One input: the file and its path relative to the input root.
#[derive(Clone, Serialize, Deserialize)]
pub struct Input {
    pub path: PathBuf,
    pub rel: String,
    /// Size and mtime (unix seconds) known without a `stat` (a listing by
    /// Spark's `binaryFile` source, whose paths are URIs); `None`: the file's.
    #[serde(default)]
    pub known_size_mtime: Option<(u64, i64)>,
    /// The file's bytes, when they were handed over instead of a path the
    /// reader can open (Spark's `binaryFile` source: object stores).
    #[serde(skip)]
    pub data: Option<Arc<Vec<u8>>>,
}

impl Input {
    /// A file to open by its path.
    pub fn file(path: PathBuf, rel: String) -> Input {
        Input {
            path,
            rel,
            known_size_mtime: None,
            data: None,
        }
    }

    /// Size and mtime (whole seconds): as known, else the file's (0, 0 if
    /// it cannot be read).
    pub fn size_mtime(&self) -> (u64, i64) {
        if let Some(sm) = self.known_size_mtime {
            return sm;
        }
        if let Some(d) = &self.data {
            return (d.len() as u64, 0);
        }
        super::size_mtime(&self.path)
    }

    /// Its capture: the bytes handed over, else the file.
    pub fn open(&self) -> Result<crate::capture::Capture, crate::capture::CaptureError> {
        match &self.data {
            Some(bytes) => crate::capture::Capture::from_shared(bytes.clone()),
            None => crate::capture::Capture::open(&self.path),
        }
    }
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Input")
            .field("path", &self.path)
            .field("rel", &self.rel)
            .field("known_size_mtime", &self.known_size_mtime)
            .field("data", &self.data.as_ref().map(|d| d.len()))
            .finish()
    }
}

/// What [`discover_all`] found.
#[derive(Debug, Default)]
pub struct Discovered {
    pub inputs: Vec<Input>,
    /// Named inputs that do not exist or match nothing, with why.
    pub missing: Vec<(PathBuf, String)>,
    /// Files met while walking a directory that are not captures (neither
    /// a capture extension nor capture/compression magic): README files,
    /// logs, oracles. Counted, not converted; a file named explicitly is
    /// always tried.
    pub ignored: Vec<PathBuf>,
}

/// File name endings of captures (also behind `.gz`/`.zst`).
const CAPTURE_EXTENSIONS: [&str; 6] = ["pcap", "pcapng", "cap", "dmp", "ntar", "pcapnp"];

/// Does a file met in a directory look like a capture?
fn looks_like_capture(p: &Path) -> bool {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let stem = name
        .strip_suffix(".gz")
        .or_else(|| name.strip_suffix(".zst"))
        .unwrap_or(&name);
    if CAPTURE_EXTENSIONS
        .iter()
        .any(|e| stem.rsplit('.').next() == Some(e))
    {
        return true;
    }
    let mut magic = [0u8; 4];
    let n = std::fs::File::open(p)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut magic))
        .unwrap_or(0);
    n == 4
        && matches!(
            magic,
            [0xd4, 0xc3, 0xb2, 0xa1]
                | [0xa1, 0xb2, 0xc3, 0xd4]
                | [0x4d, 0x3c, 0xb2, 0xa1]
                | [0xa1, 0xb2, 0x3c, 0x4d]
                | [0xa1, 0xb2, 0xcd, 0x34]
                | [0x34, 0xcd, 0xb2, 0xa1]
                | [0x0a, 0x0d, 0x0d, 0x0a]
                | [0x1f, 0x8b, _, _]
                | [0x28, 0xb5, 0x2f, 0xfd]
        )
}

/// Expand files, directories (recursively, sorted) and globs (`*`, `?` in
/// the file name, `**` for any depth of directories) into inputs; returns
/// the inputs and the named paths that do not exist.
pub fn discover(inputs: &[PathBuf]) -> (Vec<Input>, Vec<(PathBuf, String)>) {
    let d = discover_all(inputs);
    (d.inputs, d.missing)
}

/// As [`discover`], also listing the non-capture files skipped in
/// directories. A relative name that two roots share is replaced by the
/// full path.
pub fn discover_all(inputs: &[PathBuf]) -> Discovered {
    let mut out = Vec::new();
    let mut missing = Vec::new();
    let mut ignored = Vec::new();
    for root in inputs {
        if root.is_dir() {
            let mut files = Vec::new();
            walk(root, &mut files);
            files.sort();
            for f in files {
                if !looks_like_capture(&f) {
                    ignored.push(f);
                    continue;
                }
                let rel = f
                    .strip_prefix(root)
                    .unwrap_or(&f)
                    .to_string_lossy()
                    .into_owned();
                out.push(Input::file(f, rel));
            }
        } else if root.is_file() {
            let rel = root.file_name().map_or_else(
                || root.to_string_lossy().into_owned(),
                |n| n.to_string_lossy().into_owned(),
            );
            out.push(Input::file(root.clone(), rel));
        } else if let Some(found) = glob(root) {
            if found.is_empty() {
                missing.push((root.clone(), "no file matches the pattern".to_string()));
            }
            out.extend(found);
        } else {
            missing.push((root.clone(), "no such file or directory".to_string()));
        }
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for i in &out {
        *seen.entry(i.rel.clone()).or_default() += 1;
    }
    for i in &mut out {
        if seen.get(&i.rel).is_some_and(|&n| n > 1) {
            i.rel = i.path.to_string_lossy().into_owned();
        }
    }
    Discovered {
        inputs: out,
        missing,
        ignored,
    }
}

/// Expand a pattern whose wildcards are in the file name, optionally after
/// a `**` directory (any depth). `None` if it has no wildcard.
fn glob(pattern: &Path) -> Option<Vec<Input>> {
    let text = pattern.to_string_lossy();
    if !text.contains(['*', '?']) {
        return None;
    }
    let name = pattern.file_name()?.to_string_lossy().into_owned();
    let mut dir = pattern.parent().unwrap_or(Path::new("")).to_path_buf();
    let recursive = dir.file_name().is_some_and(|d| d == "**");
    if recursive {
        dir = dir.parent().unwrap_or(Path::new("")).to_path_buf();
    }
    let base = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    let mut files = Vec::new();
    if recursive {
        walk(&base, &mut files);
    } else if let Ok(rd) = std::fs::read_dir(&base) {
        files.extend(rd.flatten().map(|e| e.path()).filter(|p| p.is_file()));
    }
    files.sort();
    Some(
        files
            .into_iter()
            .filter(|f| {
                f.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| crate::analyzer::wildcard(&name, n))
            })
            .map(|f| {
                let rel = f
                    .strip_prefix(&base)
                    .unwrap_or(&f)
                    .to_string_lossy()
                    .into_owned();
                Input::file(f, rel)
            })
            .collect(),
    )
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.is_file() {
            out.push(p);
        }
    }
}
