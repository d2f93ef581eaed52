//! Guards a memory-mapped capture against the file changing under it.
//!
//! Another process may truncate a capture while we read its map (a rotating
//! tcpdump, a user's `truncate`): touching a page past the new end raises
//! `SIGBUS`, and the zeroed tail of the last page reads as empty records.
//! Two defences, both cheap:
//! - a process-wide `SIGBUS` handler that, for a fault inside a registered
//!   map, puts a zero page in place of the vanished one and counts the
//!   fault, so the reader sees zeros instead of dying (other faults go to
//!   the handler that was there before, or kill the process as usual);
//! - [`FileGuard::verify`], which the record iterator calls every
//!   [`VERIFY_STEP`] bytes and after every counted fault: it re-reads the
//!   file's size and mtime, so a record is delivered only when the file
//!   held its bytes a moment before it was read, and after any record with
//!   a zeroed header (what the cleared tail of the file's new last page
//!   reads as). Packets past a truncation are never counted; a file that
//!   grew is read up to the size it had when opened, and the change is
//!   reported.
//!
//! The one race left: a cut landing less than [`VERIFY_STEP`] ahead of the
//! reader may let the record that straddles it through with its tail
//! zeroed (its header was still in the file); the next record ends the
//! read with the `Changed` error.

use std::fs::File;
use std::time::SystemTime;

/// The iterator re-checks the file each time it moves this far past its
/// last check: a `fstat` per 256 KiB is ≈ 4 000 per GiB read, unmeasurable
/// next to decoding, and bounds how far a truncation can go unseen.
pub const VERIFY_STEP: usize = 256 << 10;

/// The file behind a map, and what it was when mapped.
#[derive(Debug)]
pub struct FileGuard {
    file: File,
    size: u64,
    mtime: Option<SystemTime>,
    slot: Option<usize>,
}

/// What the file is now, against what it was when mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileState {
    Unchanged,
    /// Shorter than when mapped: bytes past `now` are gone.
    Truncated {
        was: u64,
        now: u64,
    },
    /// Same size or longer, but written to since it was mapped.
    Modified {
        was: u64,
        now: u64,
    },
}

impl FileGuard {
    /// Guard `file`, mapped at `map` for `len` bytes.
    pub fn new(file: File, map: *const u8, len: usize) -> std::io::Result<FileGuard> {
        let meta = file.metadata()?;
        Ok(FileGuard {
            size: meta.len(),
            mtime: meta.modified().ok(),
            slot: sigbus::register(map as usize, len),
            file,
        })
    }

    /// The file's state now (an unreadable file counts as truncated to 0).
    pub fn verify(&self) -> FileState {
        match self.file.metadata() {
            Ok(m) if m.len() < self.size => FileState::Truncated {
                was: self.size,
                now: m.len(),
            },
            Ok(m) if m.len() != self.size || m.modified().ok() != self.mtime => {
                FileState::Modified {
                    was: self.size,
                    now: m.len(),
                }
            }
            Ok(_) => FileState::Unchanged,
            Err(_) => FileState::Truncated {
                was: self.size,
                now: 0,
            },
        }
    }
}

impl Drop for FileGuard {
    fn drop(&mut self) {
        if let Some(s) = self.slot {
            sigbus::unregister(s);
        }
    }
}

/// Faults inside guarded maps so far, process-wide: a reader that sees the
/// count move re-checks its file at once.
pub fn faults() -> u64 {
    sigbus::FAULTS.load(std::sync::atomic::Ordering::Acquire)
}

#[cfg(target_os = "linux")]
mod sigbus {
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
    use std::sync::Once;

    /// Maps open at once that can be guarded; past this a map is read
    /// unguarded against faults (its size is still verified).
    const SLOTS: usize = 256;
    const PAGE: usize = 4096;

    pub static FAULTS: AtomicU64 = AtomicU64::new(0);
    static STARTS: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
    static LENS: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
    static INSTALL: Once = Once::new();
    /// The handler that was installed before ours (Rust's own stack
    /// overflow guard, Python's faulthandler): faults we do not own go there.
    static mut PREVIOUS: Option<libc::sigaction> = None;

    pub fn register(start: usize, len: usize) -> Option<usize> {
        if len == 0 {
            return None;
        }
        INSTALL.call_once(install);
        for i in 0..SLOTS {
            if LENS[i]
                .compare_exchange(0, usize::MAX, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                STARTS[i].store(start, Ordering::Release);
                LENS[i].store(len, Ordering::Release);
                return Some(i);
            }
        }
        None
    }

    pub fn unregister(slot: usize) {
        STARTS[slot].store(0, Ordering::Release);
        LENS[slot].store(0, Ordering::Release);
    }

    fn install() {
        // SAFETY: sigaction with a handler that only reads atomics, maps
        // a page and counts; the previous action is saved before ours is in.
        unsafe {
            let mut new: libc::sigaction = std::mem::zeroed();
            new.sa_sigaction = handler as *const () as usize;
            new.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut new.sa_mask);
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGBUS, &new, &mut old) == 0 {
                PREVIOUS = Some(old);
            }
        }
    }

    extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
        // SAFETY: the kernel hands a valid siginfo to an SA_SIGINFO handler.
        let addr = unsafe { (*info).si_addr() } as usize;
        for i in 0..SLOTS {
            let len = LENS[i].load(Ordering::Acquire);
            let start = STARTS[i].load(Ordering::Acquire);
            if len == 0 || len == usize::MAX || addr < start || addr - start >= len {
                continue;
            }
            let page = addr & !(PAGE - 1);
            // SAFETY: the page lies inside a live read-only map of ours;
            // replacing it by zeros changes what a reader sees, never memory
            // it owns. mmap is a plain system call here.
            let p = unsafe {
                libc::mmap(
                    page as *mut libc::c_void,
                    PAGE,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                    -1,
                    0,
                )
            };
            if p != libc::MAP_FAILED {
                FAULTS.fetch_add(1, Ordering::AcqRel);
                return;
            }
        }
        // Not ours: hand over to the previous handler, or die as before.
        // SAFETY: PREVIOUS is written once, before this handler is installed.
        unsafe {
            let prev = *std::ptr::addr_of!(PREVIOUS);
            match prev {
                Some(p) if p.sa_flags & libc::SA_SIGINFO != 0 && p.sa_sigaction > 1 => {
                    let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                        std::mem::transmute(p.sa_sigaction);
                    f(sig, info, ctx);
                }
                Some(p) if p.sa_sigaction > 1 => {
                    let f: extern "C" fn(libc::c_int) = std::mem::transmute(p.sa_sigaction);
                    f(sig);
                }
                _ => {
                    let mut dfl: libc::sigaction = std::mem::zeroed();
                    dfl.sa_sigaction = libc::SIG_DFL;
                    libc::sigaction(libc::SIGBUS, &dfl, std::ptr::null_mut());
                    // Returning re-executes the faulting access: it dies.
                }
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod sigbus {
    use std::sync::atomic::AtomicU64;
    pub static FAULTS: AtomicU64 = AtomicU64::new(0);
    pub fn register(_: usize, _: usize) -> Option<usize> {
        None
    }
    pub fn unregister(_: usize) {}
}
