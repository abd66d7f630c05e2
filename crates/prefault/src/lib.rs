//! A global allocator that hands every large fresh block to a helper thread,
//! which faults its pages in (`madvise(MADV_POPULATE_WRITE)`, from the end of
//! the block backwards) while the owner starts writing it from the front.
//!
//! Why: a run at ten million devices faults in about 14 GB of fresh memory
//! (3.7M faults, peak 7 GB), and on the virtual machines memnet is measured
//! on a first touch costs 0.5 to 1.8 s per GB (the host backs the page as the guest zeroes it). The import
//! and most of the solver's set-up run on one thread, so those faults were
//! serial: 23 s of system time in a 62 s run. With the second core faulting
//! the far end of each block the two meet in the middle (docs/engine.md,
//! "Ten million devices", has the measurements).
//!
//! What it does not change: contents. `MADV_POPULATE_WRITE` maps the pages
//! as a write would, without writing, so a block's bytes are exactly what
//! the system allocator gave (zeroes for `alloc_zeroed`). A block freed
//! while the helper is still on it is harmless: the helper's next `madvise`
//! fails (the range is unmapped) and it drops the job, or it prefaults
//! memory the process has mapped again since. Only fresh blocks are
//! offered, never the grown tail of a `realloc` (a doubling `Vec` would have
//! half its capacity made resident for nothing), nor a block asked to be
//! page-aligned (a workspace that may stay mostly untouched). A fresh block
//! is made resident whole, so a large reservation that is never filled
//! costs memory here that it would not cost under `System`. The allocator
//! never waits on the helper: offers use `try_lock` and a fixed queue (in
//! the kernel, each `madvise` holds the address-space lock for reading).
//! A job whose block was freed may fault in whatever is mapped there next.
//!
//! Elsewhere than Linux, and before [`start`], it is the system allocator.

#![allow(unsafe_code)] // a GlobalAlloc and madvise are necessarily unsafe

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};

/// Blocks of at least this many bytes are offered to the helper. glibc
/// normally serves blocks this large from their own mappings (its mmap
/// threshold tops out at 32 MiB), so they are rarely part of the heap that
/// smaller ones share; if one is, faulting it in is still harmless.
pub const THRESHOLD: usize = 64 << 20;

/// Requests with at least this alignment are not offered (see `offer`).
const PAGE_ALIGNED: usize = 4096;

/// The helper faults pages in chunks of this size, last chunk first.
#[cfg(target_os = "linux")]
const CHUNK: usize = 4 << 20;

/// Offers waiting for the helper; more are dropped (the owner then faults
/// those pages itself, as without this allocator).
const SLOTS: usize = 16;

struct Queue {
    jobs: [(usize, usize); SLOTS],
    len: usize,
}

static QUEUE: Mutex<Queue> = Mutex::new(Queue {
    jobs: [(0, 0); SLOTS],
    len: 0,
});
static WAKE: Condvar = Condvar::new();
static RUNNING: AtomicBool = AtomicBool::new(false);
static PREFAULTED: AtomicU64 = AtomicU64::new(0);

/// The system allocator, with large fresh blocks prefaulted by the helper
/// once [`start`] has run.
#[derive(Debug, Default, Clone, Copy)]
pub struct Prefaulting;

// SAFETY: every call is forwarded to `System` unchanged; `offer` only
// records the address range of a block that was just allocated.
unsafe impl GlobalAlloc for Prefaulting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is `System`'s.
        let p = unsafe { System.alloc(layout) };
        offer(p, layout);
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { System.alloc_zeroed(layout) };
        offer(p, layout);
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

fn offer(p: *mut u8, layout: Layout) {
    let size = layout.size();
    // A block asked to be page-aligned is a workspace that manages its own
    // pages and may leave most of them untouched (private-gemm's packing
    // buffer reserves 520 MiB at 2M devices): faulting it in would only add
    // to the peak.
    if size < THRESHOLD
        || layout.align() >= PAGE_ALIGNED
        || p.is_null()
        || !RUNNING.load(Ordering::Relaxed)
    {
        return;
    }
    // Never wait inside the allocator: a busy queue means no prefault.
    if let Ok(mut q) = QUEUE.try_lock()
        && q.len < SLOTS
    {
        let n = q.len;
        q.jobs[n] = (p as usize, size);
        q.len += 1;
        WAKE.notify_one();
    }
}

/// Starts the helper thread (once; later calls only report). Returns
/// whether large blocks will be prefaulted: not on one core, not off Linux,
/// not where the kernel refuses `MADV_POPULATE_WRITE` (before Linux 5.14,
/// some sandboxes), not if the thread cannot be spawned. Call it before the
/// work, from `main`.
pub fn start() -> bool {
    static STARTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *STARTED.get_or_init(|| {
        if std::thread::available_parallelism().map_or(1, |n| n.get()) < 2 || !supported() {
            return false;
        }
        let spawned = std::thread::Builder::new()
            .name("prefault".into())
            .spawn(helper)
            .is_ok();
        RUNNING.store(spawned, Ordering::Relaxed);
        spawned
    })
}

/// The system's page size.
#[cfg(target_os = "linux")]
fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096)
}

/// Whether the kernel accepts `MADV_POPULATE_WRITE` (tried on a page of a
/// small block of our own).
#[cfg(target_os = "linux")]
fn supported() -> bool {
    let page = page_size();
    let block = vec![0u8; 2 * page];
    let lo = (block.as_ptr() as usize).div_ceil(page) * page;
    // SAFETY: [lo, lo + page) lies inside `block`, which is alive;
    // MADV_POPULATE_WRITE changes no contents.
    let r = unsafe { libc::madvise(lo as *mut libc::c_void, page, libc::MADV_POPULATE_WRITE) };
    r == 0
}

#[cfg(not(target_os = "linux"))]
fn supported() -> bool {
    false
}

/// Bytes the helper has faulted in so far (for measurements).
pub fn prefaulted_bytes() -> u64 {
    PREFAULTED.load(Ordering::Relaxed)
}

fn helper() {
    loop {
        let (addr, size) = {
            let mut q = QUEUE.lock().unwrap_or_else(|e| e.into_inner());
            while q.len == 0 {
                q = WAKE.wait(q).unwrap_or_else(|e| e.into_inner());
            }
            // Newest first: it is the one about to be written.
            q.len -= 1;
            q.jobs[q.len]
        };
        populate_backwards(addr, size);
    }
}

/// Faults in the whole pages of [addr, addr + size), last chunk first.
#[cfg(target_os = "linux")]
fn populate_backwards(addr: usize, size: usize) {
    let page = page_size();
    let lo = addr.div_ceil(page) * page;
    let hi = (addr + size) / page * page;
    let mut end = hi;
    while end > lo {
        let start = end.saturating_sub(CHUNK).max(lo);
        // SAFETY: MADV_POPULATE_WRITE changes no contents; on a range that
        // is no longer mapped it fails, and the job ends.
        let r = unsafe {
            libc::madvise(
                start as *mut libc::c_void,
                end - start,
                libc::MADV_POPULATE_WRITE,
            )
        };
        if r != 0 {
            return;
        }
        PREFAULTED.fetch_add((end - start) as u64, Ordering::Relaxed);
        end = start;
    }
}

#[cfg(not(target_os = "linux"))]
fn populate_backwards(_addr: usize, _size: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[global_allocator]
    static GLOBAL: Prefaulting = Prefaulting;

    /// Contents are the system allocator's: zeroed blocks stay zero, written
    /// blocks keep what was written, while the helper works on them.
    #[test]
    fn contents_are_untouched() {
        let on = start();
        for round in 0..4u8 {
            let zeroed = vec![0u64; (THRESHOLD / 8) * 2];
            assert!(zeroed.iter().all(|&x| x == 0), "round {round}");
            let mut written: Vec<u8> = Vec::with_capacity(THRESHOLD + 12345);
            for i in 0..THRESHOLD + 12345 {
                written.push((i % 251) as u8 ^ round);
            }
            assert!(
                written
                    .iter()
                    .enumerate()
                    .all(|(i, &b)| b == (i % 251) as u8 ^ round)
            );
        }
        // Freed blocks in flight are harmless.
        for _ in 0..8 {
            drop(vec![1u8; THRESHOLD]);
        }
        if on {
            // A block kept alive is faulted in, eventually (an offer made
            // while the helper holds the queue is dropped: offer again).
            let kept = vec![7u8; THRESHOLD];
            let before = prefaulted_bytes();
            for _ in 0..200 {
                let fresh: Vec<u8> = Vec::with_capacity(THRESHOLD);
                std::thread::sleep(std::time::Duration::from_millis(50));
                if prefaulted_bytes() > before {
                    break;
                }
                assert!(fresh.capacity() >= THRESHOLD);
            }
            assert!(prefaulted_bytes() > before, "the helper faulted pages in");
            assert!(kept.iter().all(|&b| b == 7));
        }
    }
}
