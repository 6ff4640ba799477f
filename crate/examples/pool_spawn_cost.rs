//! What the core costs per child a pool worker spawns by itself (`Runtime::pool_spawn` from a
//! template, as `ctx.spawn` does after its first alike child), next to `Runtime::spawn_many`
//! alone (the records, the tree and the registry, without binding): `ROUNDS` batches of
//! `BATCH` children each, ns per child printed per batch. The actors stay alive (like the
//! children of bench/pooled.mjs's ctxspawn row), so later batches run on a larger registry.
//!
//! `cargo run -p warden-core --release --example pool_spawn_cost [ROUNDS] [BATCH]`

use std::time::Instant;
use warden_core::pooled::SpawnTemplate;
use warden_core::supervisor::RetryConfig;
use warden_core::tree::{GroupConfig, Strategy};
use warden_core::{ActorConfig, Runtime, SupervisorConfig};

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().ok());
    let rounds = args.next().flatten().unwrap_or(12);
    let batch = args.next().flatten().unwrap_or(20_000);
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
    let port = rt.new_pool_port();
    let pooled = ActorConfig {
        pooled: true,
        ..Default::default()
    };
    // the parent, bound to the pool port as a worker's actor is, and its template
    let parent = rt.spawn(sup.id, pooled.clone(), None).expect("spawn");
    let inc = rt.bind(parent.id, port.id, "{}".into()).expect("bind");
    rt.pool_ack(&port, parent.id, inc, 0);
    let template = rt.pool_template(SpawnTemplate {
        sup_id: sup.id,
        config: pooled.clone(),
        group: sup.root_group(),
        parent: parent.id,
        parent_inc: parent.incarnation(),
    });
    for round in 0..rounds {
        let t = Instant::now();
        let made = rt
            .pool_spawn(&port, parent.id, template, batch, true)
            .expect("pool_spawn");
        let spawn_ns = t.elapsed().as_nanos() / batch as u128;
        while sup.port.take_urgent().is_some() {} // (the host's `spawned` notes)
        let t = Instant::now();
        let alone = rt
            .spawn_many(sup.id, &pooled, None, batch)
            .expect("spawn_many");
        let many_ns = t.elapsed().as_nanos() / batch as u128;
        println!(
            "batch {round}: pool_spawn {spawn_ns} ns/child, spawn_many alone {many_ns} ns/actor ({} + {} actors)",
            made.len() / 2,
            alone.len()
        );
    }
}
