//! `wa1kpcap query` (one statement, rows out) and `wa1kpcap sql` (an
//! interactive shell) over datasets or captures; the session itself is
//! [`wa1kpcap::sql`].

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use arrow::record_batch::RecordBatch;
use wa1kpcap::sql::{Session, TABLES};

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutFormat {
    Table,
    Csv,
    Json,
    Jsonl,
    Parquet,
}

/// A tokio runtime for DataFusion.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn open(
    rt: &tokio::runtime::Runtime,
    inputs: &[PathBuf],
    analyzer: &wa1kpcap::Analyzer,
) -> anyhow::Result<Session> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let s = rt
        .block_on(wa1kpcap::sql::open(inputs, analyzer, threads))
        .map_err(|e| anyhow::anyhow!(wa1kpcap::sql::explain(&e)))?;
    if s.tables.is_empty() {
        bail!("no table found in {}", display_paths(inputs));
    }
    Ok(s)
}

fn display_paths(p: &[PathBuf]) -> String {
    p.iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `query`: the statement from `-e`, `-f FILE`, or standard input.
pub fn query(
    inputs: &[PathBuf],
    execute: Option<&str>,
    file: Option<&Path>,
    format: Option<OutFormat>,
    output: Option<&Path>,
    analyzer: &wa1kpcap::Analyzer,
) -> anyhow::Result<i32> {
    let statement = match (execute, file) {
        (Some(e), _) => e.to_string(),
        (None, Some(f)) => std::fs::read_to_string(f).with_context(|| f.display().to_string())?,
        (None, None) => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s)?;
            s
        }
    };
    if statement.trim().is_empty() {
        bail!("no SQL given (use -e \"SELECT …\", -f FILE, or standard input)");
    }
    let format = format.unwrap_or(if output.is_none() && std::io::stdout().is_terminal() {
        OutFormat::Table
    } else if output.is_some_and(|o| o.extension().is_some_and(|e| e == "parquet")) {
        OutFormat::Parquet
    } else if output.is_some_and(|o| o.extension().is_some_and(|e| e == "json")) {
        OutFormat::Json
    } else if output.is_some_and(|o| o.extension().is_some_and(|e| e == "jsonl")) {
        OutFormat::Jsonl
    } else {
        OutFormat::Csv
    });
    if format == OutFormat::Parquet && output.is_none() {
        bail!("--format parquet needs -o FILE");
    }
    let rt = runtime()?;
    let session = open(&rt, inputs, analyzer)?;
    let mut batches = Vec::new();
    for stmt in split_statements(&statement) {
        batches = rt
            .block_on(session.sql(&stmt))
            .map_err(|e| anyhow::anyhow!(wa1kpcap::sql::explain(&e)))?;
    }
    match output {
        Some(path) => {
            let tmp = path.with_extension("wa1kpcap-tmp");
            let f = std::fs::File::create(&tmp).with_context(|| tmp.display().to_string())?;
            if format == OutFormat::Parquet {
                write_parquet(&batches, f)?;
            } else {
                write_batches(&batches, format, f)?;
            }
            std::fs::rename(&tmp, path)?;
        }
        None => write_batches(&batches, format, std::io::stdout().lock())?,
    }
    Ok(0)
}

/// Statements separated by `;` outside quotes and comments.
pub fn split_statements(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                cur.push(c);
            }
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                cur.push(c);
            }
            (None, '-') if chars.peek() == Some(&'-') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        cur.push('\n');
                        break;
                    }
                }
            }
            (None, ';') => {
                if !cur.trim().is_empty() {
                    out.push(cur.trim().to_string());
                }
                cur.clear();
            }
            (None, c) => cur.push(c),
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

fn write_parquet(batches: &[RecordBatch], f: std::fs::File) -> anyhow::Result<()> {
    let schema = batches
        .first()
        .map(|b| b.schema())
        .unwrap_or_else(|| std::sync::Arc::new(arrow::datatypes::Schema::empty()));
    let mut pw = parquet::arrow::ArrowWriter::try_new(f, schema, None)?;
    for b in batches {
        pw.write(b)?;
    }
    pw.close()?;
    Ok(())
}

fn write_batches(
    batches: &[RecordBatch],
    format: OutFormat,
    mut w: impl Write,
) -> anyhow::Result<()> {
    match format {
        OutFormat::Table => {
            writeln!(
                w,
                "{}",
                arrow::util::pretty::pretty_format_batches(batches)?
            )?;
            let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
            writeln!(w, "{rows} row{}", if rows == 1 { "" } else { "s" })?;
        }
        OutFormat::Csv => {
            let mut cw = arrow::csv::WriterBuilder::new().with_header(true).build(w);
            for b in batches {
                cw.write(&csv_friendly(b)?)?;
            }
        }
        OutFormat::Json => {
            let mut jw = arrow::json::ArrayWriter::new(w);
            for b in batches {
                jw.write(b)?;
            }
            jw.finish()?;
        }
        OutFormat::Jsonl => {
            let mut jw = arrow::json::LineDelimitedWriter::new(w);
            for b in batches {
                jw.write(b)?;
            }
            jw.finish()?;
        }
        OutFormat::Parquet => bail!("Parquet output needs -o FILE"),
    }
    Ok(())
}

/// CSV cannot hold lists: they are written as their text (`[1, -2]`).
fn csv_friendly(b: &RecordBatch) -> anyhow::Result<RecordBatch> {
    use arrow::datatypes::{DataType, Field, Schema};
    let mut fields = Vec::new();
    let mut cols = Vec::new();
    for (f, c) in b.schema().fields().iter().zip(b.columns()) {
        if matches!(
            f.data_type(),
            DataType::List(_) | DataType::LargeList(_) | DataType::Struct(_) | DataType::Map(..)
        ) {
            let fmt =
                arrow::util::display::ArrayFormatter::try_new(c.as_ref(), &Default::default())?;
            let text: arrow::array::StringArray = (0..c.len())
                .map(|i| c.is_valid(i).then(|| fmt.value(i).to_string()))
                .collect();
            fields.push(Field::new(f.name(), DataType::Utf8, true));
            cols.push(std::sync::Arc::new(text) as arrow::array::ArrayRef);
        } else {
            fields.push(f.as_ref().clone());
            cols.push(c.clone());
        }
    }
    Ok(RecordBatch::try_new(
        std::sync::Arc::new(Schema::new(fields)),
        cols,
    )?)
}

/// `sql`: an interactive shell over the inputs.
pub fn shell(inputs: &[PathBuf], analyzer: &wa1kpcap::Analyzer) -> anyhow::Result<i32> {
    let rt = runtime()?;
    let session = open(&rt, inputs, analyzer)?;
    let interactive = std::io::stdin().is_terminal();
    if interactive {
        println!(
            "wa1kpcap SQL on {} — tables: {}. \\d lists tables, \\d NAME its columns, \\timing toggles timing, \\q quits; end statements with ;",
            display_paths(inputs),
            session.tables.join(", ")
        );
    }
    let mut editor = rustyline::DefaultEditor::new()?;
    let history = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".wa1kpcap_history"));
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    let mut timing = true;
    let mut pending = String::new();
    loop {
        let prompt = if pending.is_empty() {
            "wa1kpcap> "
        } else {
            "      -> "
        };
        let line = match editor.readline(prompt) {
            Ok(l) => l,
            Err(rustyline::error::ReadlineError::Interrupted) => {
                pending.clear();
                continue;
            }
            Err(_) => break,
        };
        let trimmed = line.trim();
        if pending.is_empty() {
            if let Some(cmd) = meta_command(trimmed) {
                let _ = editor.add_history_entry(trimmed);
                match cmd {
                    Meta::Quit => break,
                    Meta::Timing => {
                        timing = !timing;
                        println!("timing {}", if timing { "on" } else { "off" });
                    }
                    Meta::Tables => {
                        for t in &session.tables {
                            println!("{t}");
                        }
                    }
                    Meta::Describe(name) => {
                        if !TABLES.contains(&name.as_str()) || !session.tables.iter().any(|t| *t == name) {
                            eprintln!("no table {name} (tables: {})", session.tables.join(", "));
                        } else {
                            run_and_print(&rt, &session, &format!("SHOW COLUMNS FROM {name}"), false);
                        }
                    }
                    Meta::Help => println!(
                        "\\d or .tables: tables; \\d NAME or .schema NAME: columns; \\timing or .timer: toggle timing; \\q or .quit: leave"
                    ),
                }
                continue;
            }
        }
        pending.push_str(&line);
        pending.push('\n');
        // A statement runs once a line ends it with `;` (or at end of input
        // when not interactive).
        if !trimmed.ends_with(';') {
            continue;
        }
        let text = std::mem::take(&mut pending);
        let _ = editor.add_history_entry(text.trim());
        for stmt in split_statements(&text) {
            run_and_print(&rt, &session, &stmt, timing && interactive);
        }
    }
    if !pending.trim().is_empty() {
        for stmt in split_statements(&pending) {
            run_and_print(&rt, &session, &stmt, timing && interactive);
        }
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    Ok(0)
}

enum Meta {
    Quit,
    Timing,
    Tables,
    Describe(String),
    Help,
}

fn meta_command(line: &str) -> Option<Meta> {
    let line = line.trim_end_matches(';').trim();
    let mut words = line.split_whitespace();
    let first = words.next()?;
    let arg = words.next().map(str::to_string);
    Some(match (first, arg) {
        ("\\q" | ".quit" | ".exit" | "quit" | "exit", None) => Meta::Quit,
        ("\\timing" | ".timer", _) => Meta::Timing,
        ("\\d" | ".tables" | "\\dt", None) => Meta::Tables,
        ("\\d" | ".schema", Some(t)) => Meta::Describe(t),
        ("\\?" | ".help" | "help", None) => Meta::Help,
        _ => return None,
    })
}

fn run_and_print(rt: &tokio::runtime::Runtime, session: &Session, stmt: &str, timing: bool) {
    let started = Instant::now();
    match rt.block_on(session.sql(stmt)) {
        Ok(batches) => {
            let _ = write_batches(&batches, OutFormat::Table, std::io::stdout().lock());
            if timing {
                println!("({:.3} s)", started.elapsed().as_secs_f64());
            }
        }
        Err(e) => eprintln!("error: {}", wa1kpcap::sql::explain(&e)),
    }
}
