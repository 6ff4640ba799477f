//! What the core alone costs per pooled actor: spawns `N` (default 1,000,000) pooled actors
//! through `Runtime::spawn_many` in chunks of 100k, binds them to two pool ports as the host
//! does (`pool_bind`, one start order per chunk and worker), acknowledges their start-up, then
//! gives each one message and takes and acknowledges it, as a pool worker would. After each
//! stage it prints the bytes the allocator holds (counted here, exactly) and the process RSS,
//! per actor, and at the end the runtime's own breakdown by structure
//! (`Runtime::footprint`). Finally it ends every actor and prints what is left.
//!
//! `cargo run -p warden-core --release --example core_memory [N]`

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Instant;
use warden_core::supervisor::RetryConfig;
use warden_core::tree::{GroupConfig, Strategy};
use warden_core::{ActorConfig, Envelope, Kind, Runtime, SupervisorConfig};

/// The system allocator, counting the bytes it holds for the program.
struct Counting;

static HELD: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded to `System` with the caller's arguments unchanged; the
// counter is only arithmetic on the sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        HELD.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded as is (see the impl).
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HELD.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded as is (see the impl).
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        HELD.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: forwarded as is (see the impl).
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn rss() -> isize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: isize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let rt: &'static Runtime = Box::leak(Box::new(Runtime::new()));
    let sup = rt.create_supervisor(SupervisorConfig {
        max_actors: 1000,
        root: GroupConfig {
            strategy: Strategy::OneForOne,
            retry: RetryConfig::default(),
            backoff: None,
            internal: false,
        },
    });
    let ports = [rt.new_pool_port(), rt.new_pool_port()];
    let pooled = ActorConfig {
        pooled: true,
        ..Default::default()
    };
    let (held0, rss0) = (HELD.load(Ordering::Relaxed), rss());
    let report = |stage: &str| {
        let held = HELD.load(Ordering::Relaxed) - held0;
        let rss = rss() - rss0;
        println!(
            "{stage:<44} allocated {:>6} B/actor   RSS {:>6} B/actor",
            held / n as isize,
            rss / n as isize
        );
    };
    const CHUNK: usize = 100_000;
    let mut ids = Vec::with_capacity(n);
    let mut spawn_ns = 0u128;
    let mut rates = Vec::new();
    while ids.len() < n {
        let k = CHUNK.min(n - ids.len());
        let t = Instant::now();
        let chunk = rt.spawn_many(sup.id, &pooled, None, k).expect("spawn");
        let ns = t.elapsed().as_nanos();
        spawn_ns += ns;
        rates.push((k as u128 * 1_000_000_000 / ns.max(1)) as u64);
        ids.extend(chunk);
    }
    println!(
        "spawn_many: {} actors, {:.0}k/s overall, first chunk {}k/s, last chunk {}k/s",
        n,
        n as f64 / (spawn_ns as f64 / 1e9) / 1000.0,
        rates[0] / 1000,
        rates.last().unwrap() / 1000
    );
    report("after spawn_many");
    for (i, chunk) in ids.chunks(CHUNK).enumerate() {
        // (the host binds each chunk's actors to the less loaded of two workers; here halves)
        let half = chunk.len() / 2;
        for (j, part) in [&chunk[..half], &chunk[half..]].into_iter().enumerate() {
            rt.pool_bind(part, ports[(i + j) % 2].id, r#"{"sup":1,"key":1}"#);
        }
    }
    report("after pool_bind (start orders queued)");
    for p in &ports {
        while p.take_urgent().is_some() {}
    }
    for id in &ids {
        let a = rt.actor(*id).expect("alive");
        let port = a.port().expect("bound");
        rt.pool_ack(&port, *id, 0, 0);
    }
    report("after start-up acknowledged (idle)");
    for id in &ids {
        rt.send(*id, Envelope::new(Kind::User, 0, 0, "\"hit\""), None, 0)
            .expect("send");
    }
    report("one message queued to each");
    for p in &ports {
        while let Some(batch) = rt.pool_take(p, 256, 16) {
            drop(batch);
        }
    }
    for id in &ids {
        let a = rt.actor(*id).expect("alive");
        let port = a.port().expect("bound");
        rt.pool_ack(&port, *id, 0, 1);
    }
    report("after each message taken and acknowledged");
    println!(
        "size_of Actor: {} B",
        std::mem::size_of::<warden_core::actor::Actor>()
    );
    {
        println!("breakdown by structure (the runtime's own count, bytes per actor):");
        for (name, bytes) in rt.footprint() {
            println!("  {name:<42} {:>6}", bytes / n);
        }
        println!("  (mail buffers and allocator overhead: the difference to the total above)");
    }
    for id in &ids {
        rt.thread_gone(*id, "shutdown", None);
        rt.finish(*id, "shutdown");
    }
    drop(ids);
    report("after every actor ended");
    println!("live actors left: {}", rt.actor_count());
}
