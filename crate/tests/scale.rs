//! How the core's per-actor bookkeeping scales with the number of live actors (no JS, no
//! threads): with 1k, 10k, 100k and 1M actors resident in one one-for-one supervisor, the cost
//! of one more spawn, one crash and restart decision, one timed message (deadline armed) and
//! one exit for good must stay flat.
//!
//! A benchmark, not a check: ignored by `cargo test`. Run it with
//! `cargo test --release -p warden-core --test scale -- --ignored --nocapture`
//! (about 15 s and 1.5 GB at 1M; `WARDEN_SCALE_MAX=100000` stops earlier).

use std::time::Instant;
use warden_core::{
    ActorConfig, Envelope, GroupConfig, Kind, Op, RetryConfig, Runtime, Strategy, SupervisorConfig,
};

const OPS: usize = 2_000;

fn per_op_ns(start: Instant, n: usize) -> f64 {
    start.elapsed().as_nanos() as f64 / n as f64
}

#[test]
#[ignore]
fn spawn_exit_and_restart_cost_is_flat_from_1k_to_1m_actors() {
    let max: usize = std::env::var("WARDEN_SCALE_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    println!(
        "{:>10} {:>10} {:>12} {:>12} {:>10} {:>12}",
        "resident", "spawn ns", "restart ns", "deadline ns", "exit ns", "fill s"
    );
    let mut rows = Vec::new();
    for resident in [1_000usize, 10_000, 100_000, 1_000_000] {
        if resident > max {
            break;
        }
        // Each size in a fresh runtime (leaked: its timer thread needs it 'static).
        let rt: &'static Runtime = Box::leak(Box::new(Runtime::new()));
        let sup = rt.create_supervisor(SupervisorConfig {
            max_actors: resident + 2 * OPS,
            root: GroupConfig {
                strategy: Strategy::OneForOne,
                retry: RetryConfig {
                    max: u32::MAX,
                    ..RetryConfig::default()
                },
                backoff: None,
                internal: false,
            },
        });
        let fill = Instant::now();
        let resident_ids: Vec<u64> = (0..resident)
            .map(|_| rt.spawn(sup.id, ActorConfig::default(), None).unwrap().id)
            .collect();
        let fill_s = fill.elapsed().as_secs_f64();

        let t = Instant::now();
        let fresh: Vec<u64> = (0..OPS)
            .map(|_| rt.spawn(sup.id, ActorConfig::default(), None).unwrap().id)
            .collect();
        let spawn = per_op_ns(t, OPS);

        // A crash of an actor spread across the start order, its one-for-one plan, the
        // restart counted.
        let step = (resident / OPS).max(1);
        let crashed: Vec<u64> = resident_ids
            .iter()
            .step_by(step)
            .take(OPS)
            .copied()
            .collect();
        let t = Instant::now();
        for &id in &crashed {
            let out = rt.thread_gone(id, "error: x", None).unwrap();
            assert!(matches!(out.plan[..], [Op::Start { .. }]));
            rt.restart(id).unwrap();
        }
        let restart = per_op_ns(t, crashed.len());

        // A message taken under a deadline: the timer queues it.
        let timed = ActorConfig {
            timeout_ms: 60_000,
            ..Default::default()
        };
        let actors: Vec<_> = (0..OPS)
            .map(|_| rt.spawn(sup.id, timed.clone(), None).unwrap())
            .collect();
        let port = rt.new_port();
        for a in &actors {
            rt.bind(a.id, port.id, "{}".into()).unwrap();
            rt.send(a.id, Envelope::new(Kind::User, 0, 0, "1"), None, 0)
                .unwrap();
        }
        let t = Instant::now();
        for a in &actors {
            rt.pop(&port, a, 1).unwrap();
        }
        let deadline = per_op_ns(t, OPS);

        let t = Instant::now();
        for id in fresh {
            assert!(rt.finish(id, "normal"));
        }
        let exit = per_op_ns(t, OPS);
        assert_eq!(sup.active(), resident + OPS);
        print!("{resident:>10} {spawn:>10.0} {restart:>12.0} ");
        println!("{deadline:>12.0} {exit:>10.0} {fill_s:>12.2}");
        rows.push((resident, spawn, restart, exit));
        // (the runtime is leaked; drop what this test holds so the next size starts lean)
        for id in resident_ids {
            rt.finish(id, "shutdown");
        }
    }
    // Flat, not equal: a million-entry hash map misses the cache more than a thousand-entry
    // one. An O(n) step would be ~1000x slower at 1M than at 1k.
    let (_, s0, r0, e0) = rows[0];
    for &(n, s, r, e) in &rows[1..] {
        for (what, first, now) in [("spawn", s0, s), ("restart", r0, r), ("exit", e0, e)] {
            assert!(
                now < first * 20.0 + 5_000.0,
                "{what} at {n} actors: {now:.0} ns vs {first:.0} ns at 1k"
            );
        }
    }
}
