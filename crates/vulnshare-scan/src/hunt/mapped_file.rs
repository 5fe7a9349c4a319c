//! Plain log files mapped into memory, so the hunt reads them where the page cache holds them
//! instead of copying them into buffers with `read()` (a quarter of a hunt's CPU time went to
//! those copies and to the buffers' fresh pages).
//!
//! A mapped file that shrinks while it is read (a log rotated with `copytruncate`) would kill
//! the process: touching a page past the new end raises `SIGBUS`. So every mapping is
//! registered in a small table, and a `SIGBUS` handler that finds the faulting address in it
//! maps zero pages over the rest of that mapping and marks it changed; the read then goes on
//! over zeros (which hold no newline and no candidate) and the hunt reports the file as
//! changed. A `SIGBUS` anywhere else goes to the handler that was installed before (the Rust
//! runtime's, or the default, which ends the process as it would have without this module).
//!
//! Linux only; elsewhere, and when the table is full, files are read.

use std::ffi::c_void;
use std::fs::File;
use std::sync::Once;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use memmap2::{Mmap, MmapOptions};

/// Files mapped at the same time at most; the hunt maps one per input being scanned, so
/// about one per thread. Inputs beyond this are read instead.
const SLOTS: usize = 64;

/// One registered mapping: the address range the handler answers for, and whether it did.
struct Slot {
    /// Claimed by a [`MappedFile`] (set before the range, cleared after).
    taken: AtomicBool,
    /// First address of the mapping, 0 while the slot is not (or not yet) in use.
    start: AtomicUsize,
    /// End of the mapping, rounded up to a whole page.
    end: AtomicUsize,
    /// Set by the handler when a page past the file's end was touched.
    shrank: AtomicBool,
}

#[allow(clippy::declare_interior_mutable_const)] // only used to initialize the array
const FREE: Slot = Slot {
    taken: AtomicBool::new(false),
    start: AtomicUsize::new(0),
    end: AtomicUsize::new(0),
    shrank: AtomicBool::new(false),
};

static SLOTS_TABLE: [Slot; SLOTS] = [FREE; SLOTS];

/// The page size, read once when the handler is installed.
static PAGE_SIZE: AtomicUsize = AtomicUsize::new(0);

/// The `SIGBUS` action before ours, to hand other faults to.
static PREVIOUS: OnceLock<libc::sigaction> = OnceLock::new();

/// A plain file mapped read-only; the bytes are those of the file when it was mapped, or zeros
/// where the file shrank since (see [`MappedFile::shrank`]).
pub(crate) struct MappedFile {
    map: Mmap,
    /// Dropped after `map`: the slot is free again only once the range is unmapped.
    slot: SlotRelease,
}

impl MappedFile {
    /// Maps `file` when it is a non-empty regular file and a slot is free; `None` means: read it.
    pub(crate) fn new(file: &File) -> Option<Self> {
        let meta = file.metadata().ok()?;
        if !meta.is_file() || meta.len() == 0 || usize::try_from(meta.len()).is_err() {
            return None;
        }
        install_handler()?;
        let slot = SLOTS_TABLE.iter().find(|slot| {
            slot.taken
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        })?;
        // SAFETY: the map is only read; a file changed meanwhile gives other bytes (the hunt
        // reads whatever a log holds), and a file cut short gives zeros through the handler
        // below instead of SIGBUS, because the range is registered before it is read.
        let map = match unsafe { MmapOptions::new().map(file) } {
            Ok(map) => map,
            Err(_) => {
                slot.taken.store(false, Ordering::Release);
                return None;
            }
        };
        let page = PAGE_SIZE.load(Ordering::Relaxed);
        let start = map.as_ptr() as usize;
        slot.shrank.store(false, Ordering::Relaxed);
        slot.end.store(
            (start + map.len()).next_multiple_of(page),
            Ordering::Release,
        );
        slot.start.store(start, Ordering::Release);
        Some(Self {
            map,
            slot: SlotRelease(slot),
        })
    }

    /// The mapped bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// True once a page past the file's end was read: the file shrank while it was mapped, and
    /// the bytes from that page on read as zeros.
    pub(crate) fn shrank(&self) -> bool {
        self.slot.0.shrank.load(Ordering::Acquire)
    }
}

impl Drop for MappedFile {
    fn drop(&mut self) {
        // Unregistered before the map is unmapped (when `map` drops after this body), so the
        // handler never writes over an address range that was handed out again.
        self.slot.0.start.store(0, Ordering::Release);
        self.slot.0.end.store(0, Ordering::Release);
    }
}

/// A claimed slot, freed when dropped.
struct SlotRelease(&'static Slot);

impl Drop for SlotRelease {
    fn drop(&mut self) {
        self.0.taken.store(false, Ordering::Release);
    }
}

/// Installs the `SIGBUS` handler once; `None` when that failed (then files are read).
fn install_handler() -> Option<()> {
    static INSTALL: Once = Once::new();
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    INSTALL.call_once(|| {
        // SAFETY: plain libc calls on zeroed, fully initialized structures.
        unsafe {
            PAGE_SIZE.store(
                usize::try_from(libc::sysconf(libc::_SC_PAGESIZE)).unwrap_or(4096),
                Ordering::Relaxed,
            );
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigbus as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            let mut previous: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGBUS, &action, &mut previous) == 0 {
                let _ = PREVIOUS.set(previous);
                INSTALLED.store(true, Ordering::Release);
            }
        }
    });
    INSTALLED.load(Ordering::Acquire).then_some(())
}

/// The `SIGBUS` handler. Only async-signal-safe work: atomic loads and stores, `mmap`,
/// `sigaction` and `raise`.
extern "C" fn on_sigbus(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let address = unsafe { (*info).si_addr() } as usize;
    let page = PAGE_SIZE.load(Ordering::Relaxed);
    for slot in &SLOTS_TABLE {
        let start = slot.start.load(Ordering::Acquire);
        let end = slot.end.load(Ordering::Acquire);
        if start == 0 || address < start || address >= end {
            continue;
        }
        let from = address & !(page - 1);
        // SAFETY: the range lies inside a live mapping of ours (it is unregistered before it
        // is unmapped), and replacing it with anonymous zero pages is what MAP_FIXED does.
        let zeros = unsafe {
            libc::mmap(
                from as *mut c_void,
                end - from,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if zeros != libc::MAP_FAILED {
            slot.shrank.store(true, Ordering::Release);
            return;
        }
        break;
    }
    // SAFETY: hands the signal on as the previous action would have taken it.
    unsafe { pass_on(signal, info, context) }
}

/// Runs the previous `SIGBUS` action: its handler, or the default (ending the process).
unsafe fn pass_on(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
    if let Some(previous) = PREVIOUS.get()
        && previous.sa_sigaction != libc::SIG_DFL
        && previous.sa_sigaction != libc::SIG_IGN
    {
        // SAFETY: the address was installed as a handler of this kind, per its flags.
        unsafe {
            if previous.sa_flags & libc::SA_SIGINFO != 0 {
                let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut c_void) =
                    std::mem::transmute(previous.sa_sigaction);
                handler(signal, info, context);
            } else {
                let handler: extern "C" fn(libc::c_int) =
                    std::mem::transmute(previous.sa_sigaction);
                handler(signal);
            }
        }
        return;
    }
    // SAFETY: restores the default action; the signal, raised again while it is blocked in
    // this handler, is delivered on return and ends the process.
    unsafe {
        let mut default: libc::sigaction = std::mem::zeroed();
        default.sa_sigaction = libc::SIG_DFL;
        libc::sigemptyset(&mut default.sa_mask);
        libc::sigaction(libc::SIGBUS, &default, std::ptr::null_mut());
        libc::raise(signal);
    }
}
