//! Named networks: `network create/ls/inspect/rm/prune`, containers on one
//! network reaching each other by address, name and alias through the
//! network's switch, isolation between networks, published ports on a
//! named network, concurrent starts and no switch left after `rm -f`.
//! Traffic stays among the test's containers and the host's loopback.

mod common;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::time::Duration;

use common::*;

// (no `wget -T`: busybox's wget crashes with it, and on a refused
// connection; `nc -w` tells whether something answers)
const HTTPD: &str =
    "mkdir -p /w && echo hello-from-web > /w/index.html && exec httpd -f -p 8080 -h /w";

/// Switch processes whose command line mentions `what` (the test's data
/// directory is in the socket path of the switch's configuration).
fn switches_of(what: &str) -> Vec<i32> {
    let mut v = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Ok(c) = std::fs::read(e.path().join("cmdline")) {
            let c = String::from_utf8_lossy(&c);
            if c.contains("\0network-switch\0") && c.contains(what) {
                v.push(pid);
            }
        }
    }
    v
}

/// The address of container `id` on network `net`, from `network inspect`.
fn ip_on(env: &Env, net: &str, id: &str) -> String {
    let out = env.coracle(["network", "inspect", net]).run();
    let v: serde_json::Value = serde_json::from_str(out.ok()).unwrap();
    let a = v[0]["Containers"][id]["IPv4Address"]
        .as_str()
        .unwrap_or_else(|| panic!("{id} is on {net}\n{out}"))
        .to_string();
    a.split('/').next().unwrap().to_string()
}

#[test]
fn containers_reach_each_other_by_address_name_and_alias() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    env.coracle(["network", "create", "front"]).run().ok();
    // (internal: a connection that is not switched must not leave the host
    // through the NAT, whatever answers there)
    env.coracle(["network", "create", "--internal", "other"])
        .run()
        .ok();
    let web = env.detached(
        &[
            "--network",
            "front",
            "--name",
            "web",
            "--network-alias",
            "www",
            "-p",
            "8080",
        ],
        HTTPD,
    );
    let ip = ip_on(&env, "front", &web);
    assert!(ip.starts_with("10.89."), "{ip}");
    assert_eq!(
        env.inspect_field("web", "{{.NetworkSettings.Networks.front.IPAddress}}"),
        ip
    );
    assert_eq!(
        env.inspect_field("web", "{{json .NetworkSettings.Networks.front.Aliases}}"),
        "[\"www\"]"
    );

    // By address, by name, by alias and by short id, with the resolver
    // at the network's gateway.
    let script = format!(
        "cat /etc/resolv.conf; ip -4 addr show eth1; \
         for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O - http://{ip}:8080/ && break; sleep 0.5; done; \
         for n in web www {short}; do a=$(nslookup -type=a $n | awk '/^Address/ {{a=$NF}} END {{print a}}'); echo \"$n=$a\"; wget -q -O - http://$a:8080/; done",
        short = &web[..12]
    );
    let out = env.sh(&["--network", "front"], &script);
    let o = out.ok();
    assert!(o.contains("nameserver 10.89."), "{out}");
    assert!(o.contains("inet 10.89."), "{out}");
    assert_eq!(o.matches("hello-from-web").count(), 4, "{out}");
    for n in ["web", "www", &web[..12]] {
        assert!(
            o.contains(&format!("{n}={ip}")),
            "{n} resolves to {ip}\n{out}"
        );
    }

    // Names resolve through busybox's libc too (wget http://web).
    let out = env.sh(&["--network", "front"], "wget -q -O - http://web:8080/");
    assert!(out.ok().contains("hello-from-web"), "{out}");

    // Another network: neither the address nor the name.
    let out = env.sh(
        &["--network", "other"],
        &format!(
            "nc -w 3 {ip} 8080 </dev/null && echo REACHED; nslookup -type=a web || echo NONAME"
        ),
    );
    assert!(!out.stdout.contains("REACHED"), "{out}");
    assert!(out.stdout.contains("NONAME"), "{out}");

    // The published port works on a named network.
    let line = env
        .coracle(["port", "web", "8080"])
        .run()
        .ok()
        .trim()
        .to_string();
    let port: u16 = line
        .strip_prefix("0.0.0.0:")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("port prints 0.0.0.0:PORT: {line}"));
    let mut body = String::new();
    assert!(
        wait_until(|| {
            let Ok(mut s) = TcpStream::connect_timeout(
                &(Ipv4Addr::LOCALHOST, port).into(),
                Duration::from_secs(5),
            ) else {
                return false;
            };
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = write!(s, "GET / HTTP/1.0\r\n\r\n");
            body.clear();
            let _ = s.read_to_string(&mut body);
            body.contains("hello-from-web")
        }),
        "the published port answers: {body}"
    );
}

#[test]
fn internal_network_has_no_way_out() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    env.coracle([
        "network",
        "create",
        "--internal",
        "--subnet",
        "10.91.0.0/24",
        "in",
    ])
    .run()
    .ok();
    let db = env.detached(&["--network", "in", "--name", "db"], HTTPD);
    let out = env.sh(
        &["--network", "in"],
        "ip -4 addr show eth0; ip route; ip link show eth1 || echo NO-ETH1; \
         for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O - http://db:8080/ && break; sleep 0.5; done",
    );
    let o = out.ok();
    assert!(o.contains("inet 10.91.0."), "{out}");
    assert!(!o.contains("default"), "no default route\n{out}");
    assert!(o.contains("NO-ETH1"), "{out}");
    assert!(o.contains("hello-from-web"), "{out}");
    let out = env.sh(&["--network", "in", "-p", "8080"], "true");
    out.expect_code(125);
    assert!(out.stderr.contains("internal"), "{out}");
    env.coracle(["rm", "-f", &db]).run().ok();
}

#[test]
fn network_commands() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let id = env
        .coracle(["network", "create", "n1"])
        .run()
        .ok()
        .trim()
        .to_string();
    assert_eq!(id.len(), 64, "create prints the id");
    env.coracle([
        "network",
        "create",
        "--subnet",
        "10.95.0.0/16",
        "--gateway",
        "10.95.0.254",
        "-o",
        "mtu=1500",
        "--label",
        "k=v",
        "n2",
    ])
    .run()
    .ok();
    // Taken name, overlapping subnet, the private network's subnet, bad names.
    let out = env.coracle(["network", "create", "n1"]).run();
    assert!(out.stderr.contains("already exists"), "{out}");
    let out = env
        .coracle(["network", "create", "--subnet", "10.95.3.0/24", "n3"])
        .run();
    assert!(out.stderr.contains("overlaps"), "{out}");
    let out = env
        .coracle(["network", "create", "--subnet", "10.0.0.0/8", "n3"])
        .run();
    assert!(out.stderr.contains("10.0.2.0/24"), "{out}");
    assert_ne!(env.coracle(["network", "create", "host"]).run().code(), 0);
    assert_ne!(
        env.coracle(["network", "create", "bad/name"]).run().code(),
        0
    );

    let ls = env.coracle(["network", "ls"]).run();
    let lines = ls.lines();
    assert!(lines[0].starts_with("NETWORK ID"), "{ls}");
    for h in ["NAME", "DRIVER", "SCOPE"] {
        assert!(lines[0].contains(h), "{ls}");
    }
    assert!(
        lines.iter().any(|l| l.starts_with(&id[..12])
            && l.contains("n1")
            && l.contains("bridge")
            && l.contains("local")),
        "{ls}"
    );
    let q = env
        .coracle(["network", "ls", "-q", "--filter", "name=n2"])
        .run();
    assert_eq!(q.lines().len(), 1, "{q}");

    let out = env.coracle(["network", "inspect", "n2", "n1"]).run();
    let v: serde_json::Value = serde_json::from_str(out.ok()).unwrap();
    assert_eq!(v[0]["Name"], "n2");
    assert_eq!(v[0]["IPAM"]["Config"][0]["Subnet"], "10.95.0.0/16");
    assert_eq!(v[0]["IPAM"]["Config"][0]["Gateway"], "10.95.0.254");
    assert_eq!(v[0]["Internal"], false);
    assert_eq!(v[0]["Driver"], "bridge");
    assert_eq!(v[0]["Labels"]["k"], "v");
    assert_eq!(v[1]["Id"], id.as_str());
    assert!(
        v[1]["IPAM"]["Config"][0]["Subnet"]
            .as_str()
            .unwrap()
            .starts_with("10.89."),
        "{out}"
    );
    let missing = env.coracle(["network", "inspect", "nope"]).run();
    assert_ne!(missing.code(), 0);
    assert!(missing.stderr.contains("not found"), "{missing}");
    // An unknown network in run.
    let out = env.sh(&["--network", "nope"], "true");
    assert_ne!(out.code(), 0);
    assert!(out.stderr.contains("network nope not found"), "{out}");

    // rm is refused while a container (even a stopped one) uses it.
    let ran = env.sh(&["--network", "n1", "--name", "user1"], "true");
    ran.ok();
    let out = env.coracle(["network", "rm", "n1"]).run();
    assert_ne!(out.code(), 0, "{out}");
    assert!(
        out.stderr.contains("active endpoints") && out.stderr.contains("user1"),
        "{out}"
    );
    // prune keeps it too, removes n2.
    let out = env.coracle(["network", "prune", "-f"]).run();
    assert!(out.ok().contains("n2"), "{out}");
    let ls = env.coracle(["network", "ls", "--format", "x"]).run();
    assert_ne!(ls.code(), 0, "ls takes no --format");
    let names = env.coracle(["network", "ls"]).run();
    assert!(
        names.ok().contains("n1") && !names.ok().contains("n2"),
        "{names}"
    );
    env.coracle(["rm", "user1"]).run().ok();
    env.coracle(["network", "rm", "n1"]).run().ok();
    let q = env.coracle(["network", "ls", "-q"]).run();
    assert!(q.ok().trim().is_empty(), "{q}");
    assert_ne!(env.coracle(["network", "rm", "n1"]).run().code(), 0);
    env.coracle(["network", "rm", "-f", "n1"]).run().ok();
}

#[test]
fn concurrent_starts_share_one_switch_and_rm_leaves_none() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    env.coracle(["network", "create", "crowd"]).run().ok();
    let data = env.data.to_string_lossy().into_owned();
    let ids: Vec<String> = std::thread::scope(|s| {
        let h: Vec<_> = (0..3)
            .map(|_| s.spawn(|| env.detached(&["--network", "crowd"], "sleep 1000")))
            .collect();
        h.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut ips: Vec<String> = ids.iter().map(|id| ip_on(&env, "crowd", id)).collect();
    ips.sort();
    ips.dedup();
    assert_eq!(ips.len(), 3, "three addresses: {ips:?}");
    assert_eq!(switches_of(&data).len(), 1, "one switch for the network");
    // It confined itself (seccomp filter mode).
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", switches_of(&data)[0])).unwrap();
    assert_eq!(status_field(&status, "Seccomp"), Some("2"), "{status}");
    // They reach each other.
    let out = env
        .coracle(["exec", &ids[0], "ping", "-c", "1", "-W", "5", &ips[1]])
        .run();
    out.ok();
    for id in &ids {
        env.coracle(["rm", "-f", id]).run().ok();
    }
    assert!(
        wait_until(|| switches_of(&data).is_empty()),
        "no switch left after rm -f: {:?}",
        switches_of(&data)
    );
    // The next container starts a new switch.
    let out = env.sh(&["--rm", "--network", "crowd"], "ip -4 addr show eth1");
    assert!(out.ok().contains("inet 10.89."), "{out}");
    assert!(wait_until(|| switches_of(&data).is_empty()));
    // A switch killed under a running container: the next start makes a
    // new one (the socket left behind is replaced).
    let a = env.detached(&["--network", "crowd"], "sleep 1000");
    assert!(wait_until(|| switches_of(&data).len() == 1));
    for p in switches_of(&data) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(p),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    assert!(wait_until(|| switches_of(&data).is_empty()));
    let out = env.sh(&["--rm", "--network", "crowd"], "ip -4 addr show eth1");
    assert!(out.ok().contains("inet 10.89."), "{out}");
    // A stopped container leaves the network too (its shim held the link).
    let b = env.detached(&["--network", "crowd"], "sleep 1000");
    assert!(wait_until(|| switches_of(&data).len() == 1));
    env.coracle(["stop", "-t", "1", &b]).run().ok();
    env.coracle(["rm", "-f", &a]).run().ok();
    assert!(
        wait_until(|| switches_of(&data).is_empty()),
        "no switch once its containers stopped"
    );
}

#[test]
fn connect_and_disconnect_stopped_containers() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    env.coracle(["network", "create", "--subnet", "10.93.0.0/24", "net1"])
        .run()
        .ok();
    let out = env.sh(
        &["--name", "c1"],
        "ip -4 addr show eth1 || echo NOT-ON; grep nameserver /etc/resolv.conf",
    );
    assert!(out.ok().contains("NOT-ON"), "{out}");
    env.coracle(["network", "connect", "--alias", "one", "net1", "c1"])
        .run()
        .ok();
    let again = env.coracle(["network", "connect", "net1", "c1"]).run();
    assert_ne!(again.code(), 0, "{again}");
    assert!(again.stderr.contains("already exists"), "{again}");
    let out = env.coracle(["start", "-a", "c1"]).run();
    let o = out.ok();
    assert!(o.contains("inet 10.93.0."), "{out}");
    assert!(o.contains("nameserver 10.93.0.1"), "{out}");
    let mode = env.inspect_field("c1", "{{.HostConfig.NetworkMode}}");
    assert_eq!(mode, "net1");
    env.coracle(["network", "disconnect", "net1", "c1"])
        .run()
        .ok();
    let out = env.coracle(["start", "-a", "c1"]).run();
    assert!(out.ok().contains("NOT-ON"), "{out}");
    assert!(out.ok().contains("nameserver 10.0.2.3"), "{out}");
    let out = env.coracle(["network", "disconnect", "net1", "c1"]).run();
    assert!(out.stderr.contains("not connected"), "{out}");
    // A running container: refused, saying so.
    let r = env.detached(&["--name", "busy"], "sleep 1000");
    let out = env.coracle(["network", "connect", "net1", "busy"]).run();
    assert_ne!(out.code(), 0);
    assert!(out.stderr.contains("running"), "{out}");
    env.coracle(["rm", "-f", &r]).run().ok();
    // Not on --network none.
    env.sh(&["--name", "c2", "--network", "none"], "true").ok();
    let out = env.coracle(["network", "connect", "net1", "c2"]).run();
    assert_ne!(out.code(), 0, "{out}");
}

#[test]
fn other_names_are_relayed_to_the_upstream_resolver() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let port = test_resolver();
    env.coracle(["network", "create", "relay"]).run().ok();
    // The switch (started by this container) relays to its resolvers; the
    // container's own short id (its host name) is answered by the switch,
    // after the relay too.
    let out = env.sh(
        &["--network", "relay", "--dns", &format!("127.0.0.1:{port}")],
        "nslookup -type=a some.name.test; nslookup -type=a $(hostname)",
    );
    let o = out.ok();
    assert!(o.contains("192.0.2.77"), "{out}");
    assert!(o.contains("10.89."), "{out}");
}
