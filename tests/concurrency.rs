//! Many coracle commands at once: 50 containers started and removed
//! concurrently leave no process, namespace, mount, lock or directory;
//! 50 runs racing for one name make exactly one container.

mod common;
#[path = "common/procs.rs"]
mod procs;

use std::collections::BTreeSet;

use common::*;
use procs::*;

const N: usize = 50;

/// Runs `f(i)` for i in 0..N, each on a thread of its own, all at once.
fn all_at_once<T: Send>(f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let barrier = std::sync::Barrier::new(N);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..N)
            .map(|i| {
                let (f, barrier) = (&f, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    f(i)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn state_pid(env: &Env, id: &str) -> i32 {
    let p = env
        .data
        .join("coracle/containers")
        .join(id)
        .join("state.json");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
    assert_eq!(v["status"], "running", "{v}");
    v["pid"].as_i64().unwrap() as i32
}

#[test]
fn fifty_containers_start_and_are_removed_concurrently() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let mark = marker(&env);
    let outs = all_at_once(|i| {
        let name = format!("c{i}");
        env.run(
            &["-d", "--name", &name, "-e", &mark],
            &["sh", "-c", "while :; do sleep 1; done"],
        )
        .run()
    });
    let ids: Vec<String> = outs.iter().map(|o| o.ok().trim().to_string()).collect();
    for (o, id) in outs.iter().zip(&ids) {
        assert_eq!(id.len(), 64, "{o}");
        assert_eq!(o.stderr, "", "{o}");
    }
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), N, "every run made its own container");

    // All listed as running, each with its own name.
    let running: BTreeSet<String> = env
        .coracle(["ps", "-q", "--no-trunc"])
        .run()
        .lines()
        .into_iter()
        .collect();
    assert_eq!(running, ids.iter().cloned().collect());
    let names: BTreeSet<String> = env
        .coracle(["ps", "--format", "{{.Names}}"])
        .run()
        .lines()
        .into_iter()
        .collect();
    assert_eq!(names, (0..N).map(|i| format!("c{i}")).collect());
    let held: Vec<HeldNs> = ids
        .iter()
        .map(|id| HeldNs::of(state_pid(&env, id)))
        .collect();
    assert!(pids_with_env(&mark).len() >= N, "every container runs");

    // `ps -a` meanwhile, again and again: it never fails and never takes a
    // container being removed for a damaged one.
    let done = std::sync::atomic::AtomicBool::new(false);
    let (outs, listings) = std::thread::scope(|s| {
        let lister = s.spawn(|| {
            let mut outs = Vec::new();
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                outs.push(env.coracle(["ps", "-a"]).run());
            }
            outs
        });
        let outs = all_at_once(|i| env.coracle(["rm", "-f", &ids[i]]).run());
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        (outs, lister.join().unwrap())
    });
    assert!(!listings.is_empty());
    for o in &listings {
        o.ok();
        assert_eq!(o.stderr, "", "{o}");
    }
    for (o, id) in outs.iter().zip(&ids) {
        assert_eq!(o.ok().trim(), id, "{o}");
        // No half-removed container was ever taken for a damaged one.
        assert_eq!(o.stderr, "", "{o}");
    }
    assert_eq!(env.coracle(["ps", "-aq"]).run().ok(), "");
    assert_nothing_left(&env, &ids, &held);
}

#[test]
fn fifty_runs_racing_for_one_name_make_one_container() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let mark = marker(&env);
    let outs = all_at_once(|_| {
        env.run(
            &["-d", "--name", "same", "-e", &mark],
            &["sh", "-c", "while :; do sleep 1; done"],
        )
        .run()
    });
    let winners: Vec<&Out> = outs.iter().filter(|o| o.status.success()).collect();
    assert_eq!(winners.len(), 1, "exactly one run gets the name");
    let id = winners[0].stdout.trim().to_string();
    assert_eq!(id.len(), 64, "{}", winners[0]);
    for o in outs.iter().filter(|o| !o.status.success()) {
        o.expect_code(125);
        assert_eq!(
            o.stderr.trim(),
            format!(
                "coracle: Conflict. The container name \"/same\" is already in use by container \"{id}\". \
                 You have to remove (or rename) that container to be able to reuse that name."
            ),
            "{o}"
        );
        assert_eq!(o.stdout, "", "{o}");
    }
    // The losers leave nothing behind.
    assert_eq!(env.state_dirs(), vec![id.clone()]);
    assert_eq!(runtime_dirs(&env), vec![id.clone()]);
    assert_eq!(
        env.coracle(["ps", "-q", "--no-trunc"]).run().ok().trim(),
        id
    );
    let held = HeldNs::of(state_pid(&env, &id));
    assert_eq!(env.coracle(["rm", "-f", "same"]).run().ok().trim(), "same");
    assert_nothing_left(&env, &[id], &[held]);
}
