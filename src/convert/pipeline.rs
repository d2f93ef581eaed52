//! The pipeline of one job: a reader walks the memory-mapped inputs, decodes
//! each packet just far enough to pick its worker by a symmetric hash of the
//! (innermost) IP address pair — both directions and every fragment of a
//! datagram meet in one worker — and sends batches of packet references
//! over bounded crossbeam channels to per-core workers; each worker runs its
//! own engine (decode → defrag → flow table) and output. Batch vectors
//! travel back to the reader for reuse: no allocation per packet.
//!
//! Memory: the reader releases the pages of the map behind the oldest packet
//! still queued or in a worker's hands, so the resident set holds the
//! channels' window, not the file. A job with one worker (small or
//! compressed inputs) runs the same engine inline, with no channel.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crossbeam_channel::{bounded, unbounded, Receiver, Sender};

use super::output::{OutputCtx, WorkerOutput};
use super::{ConvertOptions, InputReport, Job};
use crate::analyzer::{Analyzer, Engine, RunSummary};
use crate::capture::{Capture, RawPacket};
use crate::decode::{decode, plain_ip_pair};
use crate::keyed::DispatchKey;

/// Packets per batch sent to a worker.
const BATCH: usize = 1024;
/// Batches queued per worker: with `BATCH`, the window of the map that
/// stays resident.
const QUEUE: usize = 8;
/// The reader releases pages behind it every this many bytes.
const RELEASE_EVERY: usize = 16 << 20;

/// Counters a progress display reads while a run goes on.
#[derive(Debug, Default)]
pub struct Progress {
    pub bytes_done: AtomicU64,
    pub packets_done: AtomicU64,
    pub jobs_done: AtomicU64,
    pub bytes_total: AtomicU64,
    pub jobs_total: AtomicU64,
    pub finished: AtomicBool,
    /// Set by whoever watches the run (Ctrl-C in Python): readers stop at
    /// their next progress report, and the inputs report `cancelled`.
    pub cancel: AtomicBool,
}

impl Progress {
    pub(crate) fn set_total(&self, bytes: u64, jobs: u64) {
        self.bytes_total.store(bytes, Ordering::Relaxed);
        self.jobs_total.store(jobs, Ordering::Relaxed);
    }

    fn add(&self, bytes: u64, packets: u64) {
        self.bytes_done.fetch_add(bytes, Ordering::Relaxed);
        self.packets_done.fetch_add(packets, Ordering::Relaxed);
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// The error of an input whose reading was cancelled.
pub const CANCELLED: &str = "cancelled";

/// The outcome of one job.
pub(crate) struct JobResult {
    pub index: u32,
    pub reports: Vec<InputReport>,
    pub summary: RunSummary,
    /// Its files are committed (a done marker may be written).
    pub committed: bool,
    /// Rows written to each of the row tables (`output::ROW_TABLES`).
    pub row_counts: [u64; 3],
    /// In memory mode: `flows` and the row tables' batches.
    pub batches: [Vec<arrow::record_batch::RecordBatch>; 4],
}

/// A batch of one input's packets for one worker.
struct Batch<'a> {
    input: usize,
    packets: Vec<RawPacket<'a>>,
}

/// Per-worker state while a job runs.
struct Worker<'c> {
    engine: Engine,
    out: WorkerOutput<'c>,
    input: usize,
    /// Anomaly total when each input began (per-input deltas).
    anomalies_at: Vec<u64>,
    anomalies: Vec<u64>,
    want_records: bool,
}

impl<'c> Worker<'c> {
    fn new(engine: Engine, out: WorkerOutput<'c>, inputs: usize, want_records: bool) -> Self {
        Worker {
            engine,
            out,
            input: usize::MAX,
            anomalies_at: vec![0; inputs],
            anomalies: vec![0; inputs],
            want_records,
        }
    }

    fn begin(&mut self, input: usize) {
        if input == self.input {
            return;
        }
        self.close_input();
        self.input = input;
        self.anomalies_at[input] = self.engine.anomalies_total();
        self.out.begin_input(input, self.engine.flows_started());
    }

    fn close_input(&mut self) {
        if let Some(a) = self.anomalies.get_mut(self.input) {
            *a += self.engine.anomalies_total() - self.anomalies_at[self.input];
        }
    }

    #[inline]
    fn packet(&mut self, raw: &RawPacket<'_>) {
        let out = &mut self.out;
        let rec = self
            .engine
            .packet_with(raw, &mut |f| out.flow(f), self.want_records);
        if let Some(r) = rec {
            self.out
                .packet(self.input, raw.frame, raw.data.len() as u32, raw.data, &r);
        }
        for e in self.engine.take_dns_events() {
            self.out.dns(self.input, e);
        }
    }

    fn finish(mut self) -> WorkerResult {
        self.close_input();
        let out = &mut self.out;
        let summary = self.engine.finish(&mut |f| out.flow(f));
        WorkerResult {
            summary,
            done: self.out.finish(),
            anomalies: self.anomalies,
        }
    }
}

struct WorkerResult {
    summary: RunSummary,
    done: super::output::WorkerDone,
    anomalies: Vec<u64>,
}

/// Keyed symmetric hash of a packet's innermost IP pair (0 without IP):
/// read cheaply for plain frames, else from a full decode. The key is the
/// dataset's secret ([`DispatchKey`]): with a fixed mix, crafted address
/// pairs could steer every packet onto one worker.
#[inline]
pub fn pair_hash(key: DispatchKey, raw: &RawPacket<'_>) -> u64 {
    let (src, dst) = match plain_ip_pair(raw.linktype, raw.data) {
        Some(pair) => pair,
        None => match decode(raw.linktype, raw.data, raw.wire_len).ip {
            Some(ip) => (ip.src, ip.dst),
            None => return 0,
        },
    };
    let bits = |a: std::net::IpAddr| match a {
        std::net::IpAddr::V4(v) => u128::from(u32::from(v)),
        std::net::IpAddr::V6(v) => u128::from(v),
    };
    key.pair(bits(src), bits(dst))
}

/// Run one job with `workers` workers (1: inline).
pub(crate) fn run_job(
    analyzer: &Analyzer,
    ctx: &OutputCtx,
    opts: &ConvertOptions,
    job: &Job,
    workers: usize,
) -> JobResult {
    let mut reports: Vec<InputReport> = job
        .inputs
        .iter()
        .map(|i| {
            let (size, mtime) = i.size_mtime();
            InputReport {
                path: i.path.display().to_string(),
                capture: i.rel.clone(),
                capture_index: job.index,
                size_bytes: size,
                mtime_unix_s: mtime,
                packets: 0,
                flows: 0,
                anomalies: 0,
                error: None,
                outputs: Vec::new(),
                skipped: false,
            }
        })
        .collect();
    if opts.progress.as_deref().is_some_and(Progress::cancelled) {
        for r in &mut reports {
            r.error = Some(CANCELLED.into());
        }
        return JobResult {
            index: job.index,
            reports,
            summary: RunSummary::default(),
            committed: false,
            row_counts: [0; 3],
            batches: Default::default(),
        };
    }
    let captures: Vec<String> = job.inputs.iter().map(|i| i.rel.clone()).collect();
    let mut opened: Vec<Option<Capture>> = Vec::with_capacity(job.inputs.len());
    for (i, input) in job.inputs.iter().enumerate() {
        match input.open() {
            Ok(c) => opened.push(Some(c)),
            Err(e) => {
                reports[i].error = Some(e.to_string());
                opened.push(None);
            }
        }
    }
    let streamed = opened.iter().flatten().any(|c| c.bytes().is_none());
    let workers = if streamed { 1 } else { workers.clamp(1, 255) };
    let engine = || {
        let mut a = analyzer.clone();
        if let Some(budget) = opts.max_memory_bytes {
            // Divided among every worker that may run at once: small jobs
            // run side by side, one worker each.
            let concurrent = opts.threads.max(workers);
            a = a.max_flow_memory(Some(super::flow_budget(budget, concurrent)));
        }
        a = a.dns_messages(ctx.tables[super::output::DNS]);
        a.engine().with_filter(opts.filter.clone())
    };
    let new_worker = |w: usize| {
        Worker::new(
            engine(),
            WorkerOutput::new(ctx, job.index, w as u8, captures.clone()),
            job.inputs.len(),
            ctx.tables[super::output::PACKETS],
        )
    };
    let progress = opts.progress.as_deref();

    let results: Vec<WorkerResult> = if workers == 1 {
        let mut w = new_worker(0);
        for (i, cap) in opened.iter_mut().enumerate() {
            let Some(cap) = cap else { continue };
            w.begin(i);
            let (packets, error) = read_inline(cap, &mut w, progress);
            reports[i].packets = packets;
            if reports[i].error.is_none() {
                reports[i].error = error;
            }
        }
        vec![w.finish()]
    } else {
        run_parallel(
            &opened,
            workers,
            job.dispatch_key,
            &new_worker,
            &mut reports,
            progress,
        )
    };

    let mut summary = RunSummary::default();
    let mut staged = Vec::new();
    let mut write_error = None;
    let mut row_counts = [0u64; 3];
    let mut batches: [Vec<arrow::record_batch::RecordBatch>; 4] = Default::default();
    for r in results {
        for (all, b) in batches.iter_mut().zip(r.done.batches) {
            all.extend(b);
        }
        summary.merge(&r.summary);
        for (i, n) in r.done.flows_per_input.iter().enumerate() {
            reports[i].flows += n;
        }
        for (i, n) in r.anomalies.iter().enumerate() {
            reports[i].anomalies += n;
        }
        for (total, n) in row_counts.iter_mut().zip(r.done.row_counts) {
            *total += n;
        }
        staged.extend(r.done.staged);
        if write_error.is_none() {
            write_error = r.done.error;
        }
    }
    // A job is committed only when every input opened and every file was
    // written: its files then appear together.
    // A cancelled job is never committed: a resumed run redoes it.
    let opened_all = opened.iter().all(Option::is_some)
        && !reports
            .iter()
            .any(|r| r.error.as_deref() == Some(CANCELLED));
    let mut committed = false;
    if let Some(e) = write_error {
        for r in &mut reports {
            r.error.get_or_insert_with(|| e.clone());
        }
    } else if opened_all {
        let mut outputs = Vec::new();
        let mut failed = None;
        for s in staged {
            match s.commit() {
                Ok(p) => outputs.push(
                    p.strip_prefix(&ctx.out_dir)
                        .unwrap_or(&p)
                        .to_string_lossy()
                        .into_owned(),
                ),
                Err(e) => failed = Some(e.to_string()),
            }
        }
        outputs.sort();
        committed = failed.is_none();
        for r in &mut reports {
            r.outputs.clone_from(&outputs);
            if let Some(e) = &failed {
                r.error.get_or_insert_with(|| e.clone());
            }
        }
    }
    if let Some(p) = progress {
        p.jobs_done.fetch_add(1, Ordering::Relaxed);
    }
    JobResult {
        index: job.index,
        reports,
        summary,
        committed,
        row_counts,
        batches,
    }
}

/// One worker, no channel: read and analyse in this thread.
fn read_inline(
    cap: &mut Capture,
    w: &mut Worker<'_>,
    progress: Option<&Progress>,
) -> (u64, Option<String>) {
    if let (Some(bytes), Some(it)) = (cap.bytes(), cap.slice_packets()) {
        let base = bytes.as_ptr() as usize;
        let mut it = match it {
            Ok(it) => it,
            Err(e) => return (0, Some(e.to_string())),
        };
        let (mut packets, mut released, mut reported, mut last) = (0u64, 0usize, 0usize, 0u64);
        for raw in it.by_ref() {
            w.packet(&raw);
            packets += 1;
            if packets & 4095 == 0 {
                let pos = raw.data.as_ptr() as usize - base;
                if let Some(p) = progress {
                    p.add((pos - reported) as u64, packets - last);
                    reported = pos;
                    last = packets;
                    if p.cancelled() {
                        cap.release(released, bytes.len());
                        return (packets, Some(CANCELLED.into()));
                    }
                }
                if pos - released >= RELEASE_EVERY {
                    cap.release(released, pos);
                    released = pos;
                }
            }
        }
        let error = it.take_error().map(|e| e.to_string());
        if let Some(p) = progress {
            p.add((bytes.len() - reported) as u64, packets - last);
        }
        cap.release(released, bytes.len());
        return (packets, error);
    }
    let mut packets = 0u64;
    let mut cancelled = false;
    let outcome = cap.try_for_each_packet(|raw| {
        w.packet(raw);
        packets += 1;
        if packets & 4095 == 0 {
            if let Some(p) = progress {
                p.add(0, 4096);
                cancelled = p.cancelled();
            }
        }
        if cancelled {
            std::ops::ControlFlow::Break(())
        } else {
            std::ops::ControlFlow::Continue(())
        }
    });
    match outcome {
        _ if cancelled => (packets, Some(CANCELLED.into())),
        Ok(o) => (o.packets, o.error.map(|e| e.to_string())),
        Err(e) => (packets, Some(e.to_string())),
    }
}

/// Where the oldest packet a batch holds lies: (input, byte offset).
type Mark = (usize, usize);

/// Reader in this thread, `n` workers in scoped threads.
fn run_parallel<'c>(
    opened: &[Option<Capture>],
    n: usize,
    key: DispatchKey,
    new_worker: &(dyn Fn(usize) -> Worker<'c> + Sync),
    reports: &mut [InputReport],
    progress: Option<&Progress>,
) -> Vec<WorkerResult> {
    std::thread::scope(|s| {
        let (recycle_tx, recycle_rx) = unbounded::<Vec<RawPacket<'_>>>();
        let done: Arc<Vec<AtomicU64>> = Arc::new((0..n).map(|_| AtomicU64::new(0)).collect());
        let mut txs: Vec<Sender<Batch<'_>>> = Vec::with_capacity(n);
        let mut handles = Vec::with_capacity(n);
        for w in 0..n {
            let (tx, rx): (Sender<Batch<'_>>, Receiver<Batch<'_>>) = bounded(QUEUE);
            txs.push(tx);
            let recycle = recycle_tx.clone();
            let done = done.clone();
            // Named so that profilers and `top -H` show who is who; failing
            // to start a thread panics, as `std::thread::scope`'s `spawn` does.
            let builder = std::thread::Builder::new().name(format!("wa1kpcap-worker-{w}"));
            handles.push(
                builder
                    .spawn_scoped(s, move || {
                        let mut worker = new_worker(w);
                        for mut batch in rx {
                            worker.begin(batch.input);
                            for raw in &batch.packets {
                                worker.packet(raw);
                            }
                            batch.packets.clear();
                            done[w].fetch_add(1, Ordering::Release);
                            let _ = recycle.send(batch.packets);
                        }
                        worker.finish()
                    })
                    .expect("spawn a worker thread"),
            );
        }
        drop(recycle_tx);
        let mut reader = Reader {
            txs,
            recycle: recycle_rx,
            pending: (0..n).map(|_| Vec::with_capacity(BATCH)).collect(),
            pending_mark: vec![None; n],
            inflight: (0..n).map(|_| VecDeque::new()).collect(),
            sent: vec![0; n],
            done,
            released: vec![0; opened.len()],
            key,
        };
        for (i, cap) in opened.iter().enumerate() {
            let Some(cap) = cap else { continue };
            let (packets, error) = reader.read_input(i, cap, opened, progress);
            reports[i].packets = packets;
            if reports[i].error.is_none() {
                reports[i].error = error;
            }
        }
        // Closing the channels ends the workers' loops.
        drop(reader);
        handles
            .into_iter()
            .map(|h| match h.join() {
                Ok(r) => r,
                Err(p) => std::panic::resume_unwind(p),
            })
            .collect()
    })
}

struct Reader<'a> {
    txs: Vec<Sender<Batch<'a>>>,
    recycle: Receiver<Vec<RawPacket<'a>>>,
    pending: Vec<Vec<RawPacket<'a>>>,
    pending_mark: Vec<Option<Mark>>,
    /// Per worker: (batch number, oldest packet) of batches sent, not done.
    inflight: Vec<VecDeque<(u64, Mark)>>,
    sent: Vec<u64>,
    done: Arc<Vec<AtomicU64>>,
    /// Per input: bytes released so far.
    released: Vec<usize>,
    key: DispatchKey,
}

impl<'a> Reader<'a> {
    fn read_input(
        &mut self,
        i: usize,
        cap: &'a Capture,
        all: &'a [Option<Capture>],
        progress: Option<&Progress>,
    ) -> (u64, Option<String>) {
        let Some(bytes) = cap.bytes() else {
            return (0, Some("not memory-mapped".into()));
        };
        let base = bytes.as_ptr() as usize;
        let mut it = match cap.slice_packets() {
            Some(Ok(it)) => it,
            Some(Err(e)) => return (0, Some(e.to_string())),
            None => return (0, Some("not memory-mapped".into())),
        };
        let n = self.txs.len();
        let (mut packets, mut reported, mut last, mut checked) = (0u64, 0usize, 0u64, 0usize);
        for raw in it.by_ref() {
            let w = DispatchKey::worker(pair_hash(self.key, &raw), n);
            let pos = raw.data.as_ptr() as usize - base;
            if self.pending[w].is_empty() {
                self.pending_mark[w] = Some((i, pos));
            }
            self.pending[w].push(raw);
            if self.pending[w].len() >= BATCH {
                self.send(w, i);
            }
            packets += 1;
            if packets & 4095 == 0 {
                if let Some(p) = progress {
                    p.add((pos - reported) as u64, packets - last);
                    reported = pos;
                    last = packets;
                    if p.cancelled() {
                        for w in 0..self.txs.len() {
                            self.send(w, i);
                        }
                        return (packets, Some(CANCELLED.into()));
                    }
                }
                if pos - checked >= RELEASE_EVERY {
                    checked = pos;
                    self.release(all, (i, pos));
                }
            }
        }
        // Batches never mix inputs: the workers learn input boundaries.
        for w in 0..self.txs.len() {
            self.send(w, i);
        }
        if let Some(p) = progress {
            p.add((bytes.len() - reported) as u64, packets - last);
        }
        (packets, it.take_error().map(|e| e.to_string()))
    }

    fn send(&mut self, w: usize, input: usize) {
        if self.pending[w].is_empty() {
            return;
        }
        let fresh = self
            .recycle
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BATCH));
        let packets = std::mem::replace(&mut self.pending[w], fresh);
        self.sent[w] += 1;
        if let Some(m) = self.pending_mark[w].take() {
            self.inflight[w].push_back((self.sent[w], m));
        }
        // A worker gone (it cannot be, short of a panic) drops the batch.
        let _ = self.txs[w].send(Batch { input, packets });
    }

    /// Release the pages before the oldest packet still held anywhere.
    fn release(&mut self, all: &[Option<Capture>], now: Mark) {
        let mut floor = now;
        for w in 0..self.txs.len() {
            let done = self.done[w].load(Ordering::Acquire);
            while self.inflight[w]
                .front()
                .is_some_and(|&(seq, _)| seq <= done)
            {
                self.inflight[w].pop_front();
            }
            if let Some(&(_, m)) = self.inflight[w].front() {
                floor = floor.min(m);
            }
            if let Some(m) = self.pending_mark[w] {
                floor = floor.min(m);
            }
        }
        for (i, cap) in all.iter().enumerate().take(floor.0 + 1) {
            let Some(cap) = cap else { continue };
            let end = if i < floor.0 {
                cap.bytes().map_or(0, <[u8]>::len)
            } else {
                floor.1
            };
            if end > self.released[i] {
                cap.release(self.released[i], end);
                self.released[i] = end;
            }
        }
    }
}
