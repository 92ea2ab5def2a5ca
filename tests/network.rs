//! The private network (the default): a tap device in the container's
//! network namespace, served by coracle's smoltcp stack in a helper process.
//! Outbound TCP to a server on the host's loopback (only when allowed),
//! DNS through the forwarder to a test resolver on loopback, published
//! ports with the client's address visible inside, the `port`/`ps`/
//! `inspect` views, and no helper left behind. Traffic goes only to the
//! host's own addresses.

mod common;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::time::Duration;

use common::*;

/// An HTTP server on the host's 127.0.0.1 answering every request with
/// `body`; its port.
fn host_http_server(body: &'static str) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = write!(
                s,
                "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

/// The host's first non-loopback IPv4 address (connections to it stay on
/// the host): a client with an address the container can see as it is.
fn host_ipv4() -> Option<Ipv4Addr> {
    nix::ifaddrs::getifaddrs().ok()?.find_map(|i| {
        let a = i.address?.as_sockaddr_in()?.ip();
        let up = i.flags.contains(nix::net::if_::InterfaceFlags::IFF_UP);
        (up && !a.is_loopback()).then_some(a)
    })
}

/// GET `path` from `addr`; the body, or None when the connection failed.
fn http_get(addr: (Ipv4Addr, u16), path: &str) -> Option<String> {
    let mut s = TcpStream::connect_timeout(&addr.into(), Duration::from_secs(5)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    // (busybox httpd passes a CGI's bare-newline headers on as they are)
    let body = out
        .split_once("\r\n\r\n")
        .or_else(|| out.split_once("\n\n"))?
        .1
        .to_string();
    out.starts_with("HTTP/1.").then_some(body)
}

/// The address in the CGI's `peer=$REMOTE_ADDR` (httpd listens on IPv6:
/// `[::ffff:10.0.2.2]`).
fn peer(body: &str) -> String {
    body.trim()
        .trim_start_matches("peer=")
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_start_matches("::ffff:")
        .to_string()
}

/// Stack helpers whose command line mentions `id`.
fn helpers_of(id: &str) -> Vec<i32> {
    let mut v = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Ok(c) = std::fs::read(e.path().join("cmdline")) {
            let c = String::from_utf8_lossy(&c);
            if c.contains("\0container-net\0") && c.contains(id) {
                v.push(pid);
            }
        }
    }
    v
}

#[test]
fn private_network_is_the_default() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let out = env.sh(
        &[],
        "ip -4 addr show eth0; ip link show eth0; ip route; cat /etc/resolv.conf /etc/hosts",
    );
    let o = out.ok();
    assert!(o.contains("inet 10.0.2.100/24"), "{out}");
    assert!(o.contains("mtu 65520"), "{out}");
    assert!(o.contains("default via 10.0.2.2"), "{out}");
    assert!(o.contains("nameserver 10.0.2.3"), "{out}");
    assert!(o.contains("10.0.2.100\t"), "{out}");
    // The gateway answers ping (the stack's own address).
    env.sh(&[], "ping -c 1 -W 5 10.0.2.2").ok();

    let out = env.sh(&["--network", "bridge:mtu=1500"], "ip link show eth0");
    assert!(out.ok().contains("mtu 1500"), "{out}");
    let out = env.sh(&["--network", "none"], "ip link show eth0");
    assert_ne!(out.code(), 0, "--network none has no eth0\n{out}");
    let out = env.sh(&["--network", "private:mtu=10"], "true");
    out.expect_code(125);
    assert!(out.stderr.contains("mtu"), "{out}");
}

#[test]
fn host_loopback_only_when_allowed() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let port = host_http_server("hello from the host\n");
    let url = format!("http://host.containers.internal:{port}/");
    let out = env.sh(
        &["--add-host", "host.containers.internal:host-gateway"],
        &format!("wget -q -O - {url}"),
    );
    assert_eq!(out.ok(), "hello from the host\n", "{out}");
    // The network option does the same for the gateway's address.
    let out = env.sh(
        &["--network", "private:allow_host_loopback=true"],
        &format!("wget -q -O - http://10.0.2.2:{port}/"),
    );
    assert_eq!(out.ok(), "hello from the host\n", "{out}");
    // Without either, the host's loopback is not reachable: the connection
    // is refused at once (a reset from the stack), not left to time out.
    // (nc: busybox's wget crashes on a refused connection.)
    let out = env.sh(&[], &format!("nc -w 20 10.0.2.2 {port} </dev/null"));
    assert_ne!(out.code(), 0, "{out}");
    assert!(out.stderr.contains("refused"), "{out}");
    // Nor is any other address on the private subnet.
    let out = env.sh(&[], &format!("nc -w 20 10.0.2.3 {port} </dev/null"));
    assert!(out.stderr.contains("refused"), "{out}");
}

#[test]
fn dns_is_forwarded_to_the_given_resolver() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let port = test_resolver();
    let out = env.sh(
        &["--dns", &format!("127.0.0.1:{port}")],
        "cat /etc/resolv.conf; nslookup -type=a some.name.test",
    );
    let o = out.ok();
    assert!(o.contains("nameserver 10.0.2.3"), "{out}");
    assert!(o.contains("192.0.2.77"), "{out}");
    // Docker's --dns on the host's network writes the resolver itself.
    let out = env.sh(
        &["--network", "host", "--dns", "192.0.2.53"],
        "cat /etc/resolv.conf",
    );
    assert!(out.ok().contains("nameserver 192.0.2.53"), "{out}");
    env.sh(&["--dns", "not-an-ip"], "true").expect_code(125);
}

const HTTPD: &str = "mkdir -p /w/cgi-bin && printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho peer=$REMOTE_ADDR\\n' > /w/cgi-bin/peer && chmod +x /w/cgi-bin/peer && exec httpd -f -p 8080 -h /w";

#[test]
fn published_port_shows_the_client_address() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let Some(host_ip) = host_ipv4() else {
        require(false, "a non-loopback IPv4 address on the host");
        return;
    };
    let _c = Cleanup(&env);
    let id = env.detached(&["-p", "8080", "--name", "web"], HTTPD);
    let port_out = env.coracle(["port", "web", "8080"]).run();
    let line = port_out.ok().trim().to_string();
    let host_port: u16 = line
        .strip_prefix("0.0.0.0:")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("port prints 0.0.0.0:PORT\n{port_out}"));
    let all = env.coracle(["port", "web"]).run();
    assert_eq!(all.ok().trim(), format!("8080/tcp -> 0.0.0.0:{host_port}"));
    let ps = env.coracle(["ps", "--format", "{{.Ports}}"]).run();
    assert_eq!(ps.ok().trim(), format!("0.0.0.0:{host_port}->8080/tcp"));
    let ports = env.inspect_field("web", "{{json .NetworkSettings.Ports}}");
    assert_eq!(
        ports,
        format!("{{\"8080/tcp\":[{{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"{host_port}\"}}]}}")
    );
    let bindings = env.inspect_field("web", "{{json .HostConfig.PortBindings}}");
    assert_eq!(
        bindings,
        "{\"8080/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"\"}]}"
    );

    let mut body = None;
    assert!(
        wait_until(|| {
            body = http_get((host_ip, host_port), "/cgi-bin/peer");
            body.is_some()
        }),
        "the published port answers"
    );
    assert_eq!(peer(&body.unwrap()), host_ip.to_string());
    // A client on the host's loopback appears as the gateway.
    let body = http_get((Ipv4Addr::LOCALHOST, host_port), "/cgi-bin/peer").unwrap();
    assert_eq!(peer(&body), "10.0.2.2");
    // Many connections one after the other (the tables are swept).
    for _ in 0..50 {
        assert!(http_get((Ipv4Addr::LOCALHOST, host_port), "/cgi-bin/peer").is_some());
    }
    assert!(!helpers_of(&id).is_empty(), "the helper runs");
}

#[test]
fn published_port_range_and_fixed_host_port() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    // Two free host ports next to each other.
    let (h0, l0, l1) = loop {
        let l0 = TcpListener::bind("127.0.0.1:0").unwrap();
        let p = l0.local_addr().unwrap().port();
        if let Ok(l1) = TcpListener::bind(("127.0.0.1", p + 1)) {
            break (p, l0, l1);
        }
    };
    drop((l0, l1));
    let spec = format!("127.0.0.1:{h0}-{}:8080-8081", h0 + 1);
    env.detached(&["-p", &spec, "--name", "r"], HTTPD);
    let out = env.coracle(["port", "r"]).run();
    assert_eq!(
        out.lines(),
        vec![
            format!("8080/tcp -> 127.0.0.1:{h0}"),
            format!("8081/tcp -> 127.0.0.1:{}", h0 + 1)
        ],
        "{out}"
    );
    assert!(wait_until(|| http_get(
        (Ipv4Addr::LOCALHOST, h0),
        "/cgi-bin/peer"
    )
    .is_some()));
    // The same host port again: one clear error, nothing left running.
    let out = env.sh(&["-p", &format!("127.0.0.1:{h0}:80")], "true");
    out.expect_code(125);
    assert!(out.stderr.contains("already in use"), "{out}");
}

#[test]
fn privileged_host_port_names_the_sysctl() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let start: u16 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    if !require(start > 80, "net.ipv4.ip_unprivileged_port_start above 80") {
        return;
    }
    let out = env.sh(&["-p", "80:80"], "true");
    out.expect_code(125);
    assert!(
        out.stderr
            .contains("sysctl -w net.ipv4.ip_unprivileged_port_start=80"),
        "{out}"
    );
    let out = env.sh(&["--network", "none", "-p", "8080:80"], "true");
    out.expect_code(125);
    assert!(out.stderr.contains("private network"), "{out}");
}

#[test]
fn no_helper_is_left_behind() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    // rm -f of a running container.
    let id = env.detached(&["-p", "8080"], "sleep 1000");
    assert!(
        wait_until(|| !helpers_of(&id).is_empty()),
        "the helper runs"
    );
    env.coracle(["rm", "-f", &id]).run().ok();
    assert!(
        wait_until(|| helpers_of(&id).is_empty()),
        "no helper after rm -f"
    );
    // kill -9 of the monitor: the helper dies with it.
    let id = env.detached(&["-p", "8080"], "sleep 1000");
    assert!(wait_until(|| !helpers_of(&id).is_empty()));
    let helper = helpers_of(&id)[0];
    let ppid: i32 = std::fs::read_to_string(format!("/proc/{helper}/stat"))
        .unwrap()
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(ppid),
        nix::sys::signal::Signal::SIGKILL,
    );
    assert!(
        wait_until(|| helpers_of(&id).is_empty()),
        "no helper after the monitor died"
    );
    env.coracle(["rm", "-f", &id]).run().ok();
    // A foreground run: gone when the command ends.
    let out = env.sh(&["--rm", "-p", "8080"], "cat /proc/self/cgroup >/dev/null");
    out.ok();
    let leftover: Vec<i32> = helpers_of(&env.data.to_string_lossy());
    assert!(leftover.is_empty(), "helpers left: {leftover:?}");
}

#[test]
fn egress_rules_allow_and_deny() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let open = host_http_server("open\n");
    let closed = host_http_server("closed\n");
    let gw = ["--add-host", "host.containers.internal:host-gateway"];
    // An allow-list: only the one port; the other is refused at once.
    let allow = format!("allow=10.0.2.2/32:{open}");
    let mut opts = gw.to_vec();
    opts.extend(["--egress", &allow]);
    let out = env.sh(&opts, &format!("wget -q -O - http://10.0.2.2:{open}/"));
    assert_eq!(out.ok(), "open\n", "{out}");
    let out = env.sh(&opts, &format!("nc -w 20 10.0.2.2 {closed} </dev/null"));
    assert!(out.stderr.contains("refused"), "{out}");
    // A deny rule, counted in inspect; everything else still reachable.
    let deny = format!("deny=10.0.2.0/24:{closed}");
    let mut opts = gw.to_vec();
    opts.extend(["--egress", &deny, "--name", "d"]);
    env.detached(
        &opts,
        &format!(
            "nc -w 20 10.0.2.2 {closed} </dev/null 2>/tmp/err; wget -q -O /tmp/ok http://10.0.2.2:{open}/; echo done >/tmp/done; sleep 1000"
        ),
    );
    assert!(wait_until(|| env
        .coracle(["exec", "d", "cat", "/tmp/done"])
        .run()
        .stdout
        .contains("done")));
    let err = env
        .coracle(["exec", "d", "cat", "/tmp/err", "/tmp/ok"])
        .run();
    assert!(err.ok().contains("refused"), "{err}");
    assert!(err.ok().contains("open"), "{err}");
    assert_eq!(
        env.inspect_field("d", "{{.NetworkSettings.EgressDenied}}"),
        "1"
    );
    assert_eq!(
        env.inspect_field("d", "{{json .HostConfig.Egress}}"),
        format!("[\"deny=10.0.2.0/24:{closed}\"]")
    );
    // Bad rules: one clear error.
    let out = env.sh(&["--egress", "allow=10.0.0.0/40"], "true");
    out.expect_code(125);
    assert!(out.stderr.contains("prefix"), "{out}");
    env.sh(
        &["--network", "none", "--egress", "deny=10.0.0.0/8"],
        "true",
    )
    .expect_code(125);
}

#[test]
fn publish_all_uses_the_images_exposed_ports() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let tarball = env.dir.join("root.tar");
    let out = std::process::Command::new("tar")
        .arg("-C")
        .arg(&env.rootfs)
        .arg("-cf")
        .arg(&tarball)
        .arg(".")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    env.chown(&tarball);
    env.coracle([
        "import",
        "-c",
        "EXPOSE 8080 9999/udp",
        tarball.to_str().unwrap(),
        "local/web:1",
    ])
    .run()
    .ok();
    let out = env
        .coracle([
            "run",
            "-d",
            "-P",
            "--name",
            "p",
            "local/web:1",
            "sh",
            "-c",
            HTTPD,
        ])
        .run();
    out.ok();
    let out = env.coracle(["port", "p"]).run();
    let lines = out.lines();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with("8080/tcp -> 0.0.0.0:"), "{out}");
    assert!(lines[1].starts_with("9999/udp -> 0.0.0.0:"), "{out}");
    let port: u16 = lines[0].rsplit(':').next().unwrap().parse().unwrap();
    assert!(wait_until(|| http_get(
        (Ipv4Addr::LOCALHOST, port),
        "/cgi-bin/peer"
    )
    .is_some()));
}

/// A policy file readable by the test user.
fn policy_file(env: &Env, name: &str, text: &str) -> std::path::PathBuf {
    let p = env.dir.join(format!("{name}.toml"));
    env.write_owned(&p, text);
    p
}

#[test]
fn policy_egress_rules_are_enforced() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let open = host_http_server("open\n");
    let closed = host_http_server("closed\n");
    let get = |port: u16| format!("wget -q -O - http://10.0.2.2:{port}/");
    let nc = |port: u16| format!("nc -w 20 10.0.2.2 {port} </dev/null");
    fn base(policy: &str) -> Vec<&str> {
        vec![
            "--add-host",
            "host.containers.internal:host-gateway",
            "--policy",
            policy,
        ]
    }

    // strict: nothing leaves; the connection is refused at once (a reset),
    // counted, and the rule shown in inspect.
    let mut opts = base("strict");
    opts.extend(["--tmpfs", "/tmp", "--name", "s"]);
    env.detached(
        &opts,
        &format!("{} 2>/tmp/err; echo done >/tmp/done; sleep 1000", nc(open)),
    );
    assert!(wait_until(|| env
        .coracle(["exec", "s", "cat", "/tmp/done"])
        .run()
        .stdout
        .contains("done")));
    let err = env.coracle(["exec", "s", "cat", "/tmp/err"]).run();
    assert!(err.ok().contains("refused"), "{err}");
    assert_eq!(
        env.inspect_field("s", "{{.NetworkSettings.EgressDenied}}"),
        "1"
    );
    assert_eq!(
        env.inspect_field("s", "{{json .HostConfig.Egress}}"),
        "[\"deny=0.0.0.0/0 (policy strict)\"]"
    );

    // A policy extending strict with one address and port: that port
    // answers, another stays refused.
    let p = policy_file(
        &env,
        "one-port",
        &format!("extends = \"strict\"\n[[egress.allow]]\nto = \"10.0.2.2\"\nports = [{open}]\n"),
    );
    let out = env.sh(&base(p.to_str().unwrap()), &get(open));
    assert_eq!(out.ok(), "open\n", "{out}");
    let out = env.sh(&base(p.to_str().unwrap()), &nc(closed));
    assert!(out.stderr.contains("refused"), "{out}");

    // A UDP-only rule does not let TCP through; a TCP one does.
    for (proto, works) in [("udp", false), ("tcp", true)] {
        let p = policy_file(
            &env,
            proto,
            &format!(
                "extends = \"strict\"\n[[egress.allow]]\nto = \"10.0.2.2\"\nports = [{open}]\nprotocol = \"{proto}\"\n"
            ),
        );
        let out = env.sh(&base(p.to_str().unwrap()), &get(open));
        if works {
            assert_eq!(out.ok(), "open\n", "{out}");
        } else {
            assert!(!out.stdout.contains("open"), "{proto}: {out}");
            assert!(out.stderr.contains("refused"), "{proto}: {out}");
        }
    }

    // A host name, resolved on the host: localhost is the host's loopback,
    // which the container reaches at the gateway.
    let p = policy_file(
        &env,
        "named",
        &format!("extends = \"strict\"\n[[egress.allow]]\nto = \"localhost\"\nports = [{open}]\n"),
    );
    let out = env.sh(&base(p.to_str().unwrap()), &get(open));
    assert_eq!(out.ok(), "open\n", "{out}");
    let out = env.sh(&base(p.to_str().unwrap()), &nc(closed));
    assert!(out.stderr.contains("refused"), "{out}");
    // The same with --egress host=NAME.
    let rule = format!("host=localhost:{open}/tcp");
    let mut opts = base("strict");
    opts.extend(["--egress", &rule]);
    let out = env.sh(&opts, &get(open));
    assert_eq!(out.ok(), "open\n", "{out}");
    let out = env.sh(&opts, &nc(closed));
    assert!(out.stderr.contains("refused"), "{out}");
    let out = env.sh(&["--egress", "host=no-such-host.invalid"], "true");
    out.expect_code(125);
    assert!(out.stderr.contains("no-such-host.invalid"), "{out}");

    // --egress comes first: it overrides the policy both ways.
    let allow = format!("allow=10.0.2.2:{closed}");
    let mut opts = base("strict");
    opts.extend(["--egress", &allow]);
    let out = env.sh(&opts, &get(closed));
    assert_eq!(out.ok(), "closed\n", "{out}");
    let deny = format!("deny=10.0.2.2:{open}");
    let mut opts = base(p.to_str().unwrap());
    opts.extend(["--egress", &deny, "--tmpfs", "/tmp", "--name", "o"]);
    env.detached(&opts, "sleep 1000");
    let out = env.coracle(["exec", "o", "sh", "-c", &nc(open)]).run();
    assert!(out.stderr.contains("refused"), "{out}");
    let rules: Vec<String> =
        serde_json::from_str(&env.inspect_field("o", "{{json .HostConfig.Egress}}")).unwrap();
    assert_eq!(
        rules,
        [
            format!("deny=10.0.2.2/32:{open}"),
            format!("allow=10.0.2.2/32:{open} (host localhost, policy named)"),
            "deny=0.0.0.0/0 (policy named)".to_string(),
        ]
    );
}

#[test]
fn the_resolver_is_reachable_under_an_allow_list_only_when_allowed() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let _c = Cleanup(&env);
    let port = test_resolver();
    let dns = format!("127.0.0.1:{port}");
    let look = "nslookup -type=a some.name.test";
    // Without an allow-list the resolver answers, under strict too when
    // the policy or the flags allow it.
    let out = env.sh(&["--dns", &dns], look);
    assert!(out.ok().contains("192.0.2.77"), "{out}");
    let out = env.sh(
        &[
            "--dns",
            &dns,
            "--policy",
            "strict",
            "--egress",
            "allow=10.0.2.3:53/udp",
        ],
        look,
    );
    assert!(out.ok().contains("192.0.2.77"), "{out}");
    // strict alone: the forwarder is a way out, and closed.
    let out = env.sh(&["--dns", &dns, "--policy", "strict"], look);
    assert!(!out.stdout.contains("192.0.2.77"), "{out}");
    // An allow-list from the flag closes it too.
    let out = env.sh(&["--dns", &dns, "--egress", "allow=192.0.2.0/24"], look);
    assert!(!out.stdout.contains("192.0.2.77"), "{out}");
}
