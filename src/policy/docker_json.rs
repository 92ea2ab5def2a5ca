//! `--security-opt seccomp=FILE`: Docker's seccomp profile format (a
//! superset of the OCI runtime spec's `linux.seccomp`): `defaultAction`,
//! `defaultErrnoRet`, `architectures` or `archMap`, and `syscalls` entries
//! with `names` (or `name`), `action`, `errnoRet`, `args` (`index`,
//! `value`, `valueTwo`, `op`) and Docker's `includes`/`excludes`
//! conditions on capabilities and architectures, evaluated as Docker does
//! against the container's capabilities. Every error names the field.
//!
//! coracle compiles profiles with seccompiler, which gives it ALLOW and
//! ERRNO actions (see `sandbox::seccomp`): a profile using another action
//! (KILL, TRAP, LOG, TRACE, NOTIFY) is refused, naming the entry.

use std::collections::HashSet;

use anyhow::{bail, Context};
use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArgBuilder, LinuxSeccompBuilder,
    LinuxSeccompOperator, LinuxSyscallBuilder,
};
use serde_json::Value;

fn action(v: &Value, field: &str) -> anyhow::Result<LinuxSeccompAction> {
    let s = v
        .as_str()
        .with_context(|| format!("{field}: expected a string such as \"SCMP_ACT_ERRNO\""))?;
    match s {
        "SCMP_ACT_ALLOW" => Ok(LinuxSeccompAction::ScmpActAllow),
        "SCMP_ACT_ERRNO" => Ok(LinuxSeccompAction::ScmpActErrno),
        "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" | "SCMP_ACT_KILL_PROCESS" | "SCMP_ACT_TRAP"
        | "SCMP_ACT_TRACE" | "SCMP_ACT_LOG" | "SCMP_ACT_NOTIFY" => bail!(
            "{field}: action {s} is not supported by coracle (only SCMP_ACT_ALLOW and SCMP_ACT_ERRNO)"
        ),
        _ => bail!("{field}: unknown action {s:?}"),
    }
}

fn op(v: &Value, field: &str) -> anyhow::Result<LinuxSeccompOperator> {
    use LinuxSeccompOperator::*;
    Ok(match v.as_str() {
        Some("SCMP_CMP_NE") => ScmpCmpNe,
        Some("SCMP_CMP_LT") => ScmpCmpLt,
        Some("SCMP_CMP_LE") => ScmpCmpLe,
        Some("SCMP_CMP_EQ") => ScmpCmpEq,
        Some("SCMP_CMP_GE") => ScmpCmpGe,
        Some("SCMP_CMP_GT") => ScmpCmpGt,
        Some("SCMP_CMP_MASKED_EQ") => ScmpCmpMaskedEq,
        _ => bail!(
            "{field}: unknown operator {v} (SCMP_CMP_EQ, _NE, _LT, _LE, _GE, _GT, _MASKED_EQ)"
        ),
    })
}

fn arch(s: &str) -> Option<Arch> {
    use Arch::*;
    Some(match s {
        "SCMP_ARCH_X86" => ScmpArchX86,
        "SCMP_ARCH_X86_64" => ScmpArchX86_64,
        "SCMP_ARCH_X32" => ScmpArchX32,
        "SCMP_ARCH_ARM" => ScmpArchArm,
        "SCMP_ARCH_AARCH64" => ScmpArchAarch64,
        "SCMP_ARCH_MIPS" => ScmpArchMips,
        "SCMP_ARCH_MIPS64" => ScmpArchMips64,
        "SCMP_ARCH_MIPS64N32" => ScmpArchMips64n32,
        "SCMP_ARCH_MIPSEL" => ScmpArchMipsel,
        "SCMP_ARCH_MIPSEL64" => ScmpArchMipsel64,
        "SCMP_ARCH_MIPSEL64N32" => ScmpArchMipsel64n32,
        "SCMP_ARCH_PPC" => ScmpArchPpc,
        "SCMP_ARCH_PPC64" => ScmpArchPpc64,
        "SCMP_ARCH_PPC64LE" => ScmpArchPpc64le,
        "SCMP_ARCH_S390" => ScmpArchS390,
        "SCMP_ARCH_S390X" => ScmpArchS390x,
        "SCMP_ARCH_RISCV64" => ScmpArchRiscv64,
        _ => return None,
    })
}

fn u64_of(v: &Value, field: &str) -> anyhow::Result<u64> {
    v.as_u64()
        .with_context(|| format!("{field}: expected a non-negative integer, found {v}"))
}

fn strings(v: &Value, field: &str) -> anyhow::Result<Vec<String>> {
    v.as_array()
        .with_context(|| format!("{field}: expected an array of strings"))?
        .iter()
        .enumerate()
        .map(|(i, s)| {
            s.as_str()
                .map(str::to_string)
                .with_context(|| format!("{field}[{i}]: expected a string, found {s}"))
        })
        .collect()
}

/// Whether an entry's `includes`/`excludes` select it for a container with
/// `caps` on this machine (Docker: every listed cap and arch must match
/// for includes; any match excludes).
fn selected(entry: &Value, field: &str, caps: &HashSet<String>) -> anyhow::Result<bool> {
    let this = std::env::consts::ARCH;
    let arch_name = |a: &str| match this {
        "x86_64" => a == "amd64" || a == "x86_64",
        "aarch64" => a == "arm64" || a == "aarch64",
        other => a == other,
    };
    let cond = |key: &str| -> anyhow::Result<(Vec<String>, Vec<String>)> {
        let Some(c) = entry.get(key).filter(|c| !c.is_null()) else {
            return Ok((Vec::new(), Vec::new()));
        };
        let obj = c
            .as_object()
            .with_context(|| format!("{field}.{key}: expected an object"))?;
        for k in obj.keys() {
            if !matches!(k.as_str(), "caps" | "arches" | "minKernel") {
                bail!("{field}.{key}.{k}: unknown field (caps, arches, minKernel)");
            }
        }
        let caps = match obj.get("caps") {
            Some(v) => strings(v, &format!("{field}.{key}.caps"))?,
            None => Vec::new(),
        };
        let arches = match obj.get("arches") {
            Some(v) => strings(v, &format!("{field}.{key}.arches"))?,
            None => Vec::new(),
        };
        Ok((caps, arches))
    };
    let (icaps, iarches) = cond("includes")?;
    let (ecaps, earches) = cond("excludes")?;
    let has = |c: &String| caps.contains(c) || caps.contains(&format!("CAP_{c}"));
    if !icaps.iter().all(has) {
        return Ok(false);
    }
    if !iarches.is_empty() && !iarches.iter().any(|a| arch_name(a)) {
        return Ok(false);
    }
    if ecaps.iter().any(has) || earches.iter().any(|a| arch_name(a)) {
        return Ok(false);
    }
    Ok(true)
}

/// Parses a Docker/OCI seccomp profile for a container with `caps`.
pub fn parse(text: &str, caps: &HashSet<String>) -> anyhow::Result<LinuxSeccomp> {
    let v: Value = serde_json::from_str(text).context("not valid JSON")?;
    let obj = v.as_object().context("expected a JSON object")?;
    for k in obj.keys() {
        if !matches!(
            k.as_str(),
            "defaultAction"
                | "defaultErrnoRet"
                | "architectures"
                | "archMap"
                | "syscalls"
                | "flags"
                | "listenerPath"
                | "listenerMetadata"
        ) {
            bail!("{k}: unknown field (defaultAction, defaultErrnoRet, architectures, archMap, syscalls)");
        }
    }
    let default = action(
        obj.get("defaultAction").context("defaultAction: missing")?,
        "defaultAction",
    )?;
    let mut b = LinuxSeccompBuilder::default().default_action(default);
    if let Some(e) = obj.get("defaultErrnoRet").filter(|e| !e.is_null()) {
        b = b.default_errno_ret(
            u32::try_from(u64_of(e, "defaultErrnoRet")?).context("defaultErrnoRet: too large")?,
        );
    }
    // Architectures: `architectures`, or every arch of `archMap`.
    let mut arches: Vec<String> = match obj.get("architectures").filter(|a| !a.is_null()) {
        Some(a) => strings(a, "architectures")?,
        None => Vec::new(),
    };
    if let Some(m) = obj.get("archMap").filter(|a| !a.is_null()) {
        for (i, e) in m
            .as_array()
            .context("archMap: expected an array")?
            .iter()
            .enumerate()
        {
            let f = format!("archMap[{i}]");
            arches.push(
                e.get("architecture")
                    .and_then(Value::as_str)
                    .with_context(|| format!("{f}.architecture: expected a string"))?
                    .to_string(),
            );
            if let Some(s) = e.get("subArchitectures").filter(|s| !s.is_null()) {
                arches.extend(strings(s, &format!("{f}.subArchitectures"))?);
            }
        }
    }
    let mut archs = Vec::new();
    for (i, a) in arches.iter().enumerate() {
        archs.push(
            arch(a).with_context(|| format!("architectures[{i}]: unknown architecture {a:?}"))?,
        );
    }
    if !archs.is_empty() {
        b = b.architectures(archs);
    }
    let mut syscalls = Vec::new();
    let list = match obj.get("syscalls").filter(|s| !s.is_null()) {
        Some(s) => s.as_array().context("syscalls: expected an array")?.clone(),
        None => Vec::new(),
    };
    for (i, e) in list.iter().enumerate() {
        let f = format!("syscalls[{i}]");
        let eo = e
            .as_object()
            .with_context(|| format!("{f}: expected an object"))?;
        for k in eo.keys() {
            if !matches!(
                k.as_str(),
                "names"
                    | "name"
                    | "action"
                    | "errnoRet"
                    | "args"
                    | "includes"
                    | "excludes"
                    | "comment"
            ) {
                bail!("{f}.{k}: unknown field (names, action, errnoRet, args, includes, excludes, comment)");
            }
        }
        if !selected(e, &f, caps)? {
            continue;
        }
        let mut names = match eo.get("names").filter(|n| !n.is_null()) {
            Some(n) => strings(n, &format!("{f}.names"))?,
            None => Vec::new(),
        };
        if let Some(n) = eo.get("name").filter(|n| !n.is_null()) {
            names.push(
                n.as_str()
                    .with_context(|| format!("{f}.name: expected a string"))?
                    .to_string(),
            );
        }
        if names.is_empty() {
            bail!("{f}.names: missing or empty");
        }
        let act = action(
            eo.get("action")
                .with_context(|| format!("{f}.action: missing"))?,
            &format!("{f}.action"),
        )?;
        let mut sb = LinuxSyscallBuilder::default().names(names).action(act);
        if let Some(r) = eo.get("errnoRet").filter(|r| !r.is_null()) {
            sb = sb.errno_ret(
                u32::try_from(u64_of(r, &format!("{f}.errnoRet"))?)
                    .with_context(|| format!("{f}.errnoRet: too large"))?,
            );
        }
        let mut args = Vec::new();
        if let Some(a) = eo.get("args").filter(|a| !a.is_null()) {
            for (j, x) in a
                .as_array()
                .with_context(|| format!("{f}.args: expected an array"))?
                .iter()
                .enumerate()
            {
                let af = format!("{f}.args[{j}]");
                let index = u64_of(
                    x.get("index")
                        .with_context(|| format!("{af}.index: missing"))?,
                    &format!("{af}.index"),
                )?;
                if index > 5 {
                    bail!("{af}.index: {index} is out of range (0 to 5)");
                }
                let value = u64_of(
                    x.get("value")
                        .with_context(|| format!("{af}.value: missing"))?,
                    &format!("{af}.value"),
                )?;
                let two = match x.get("valueTwo").filter(|v| !v.is_null()) {
                    Some(v) => u64_of(v, &format!("{af}.valueTwo"))?,
                    None => 0,
                };
                let o = op(
                    x.get("op").with_context(|| format!("{af}.op: missing"))?,
                    &format!("{af}.op"),
                )?;
                args.push(
                    LinuxSeccompArgBuilder::default()
                        .index(index as usize)
                        .value(value)
                        .value_two(two)
                        .op(o)
                        .build()?,
                );
            }
        }
        if !args.is_empty() {
            sb = sb.args(args);
        }
        syscalls.push(sb.build()?);
    }
    Ok(b.syscalls(syscalls).build()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps() -> HashSet<String> {
        ["CAP_CHOWN".to_string()].into_iter().collect()
    }

    #[test]
    fn docker_profile_shape() {
        let text = r#"{
          "defaultAction": "SCMP_ACT_ERRNO",
          "defaultErrnoRet": 1,
          "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
                      {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
          "syscalls": [
            {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
            {"names": ["bpf"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
            {"names": ["chown"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_CHOWN"]}},
            {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "excludes": {"caps": ["CAP_CHOWN"]}}
          ]
        }"#;
        let p = parse(text, &caps()).unwrap();
        let names: Vec<String> = p
            .syscalls()
            .as_ref()
            .unwrap()
            .iter()
            .flat_map(|s| s.names().clone())
            .collect();
        assert_eq!(names, ["read", "write", "personality", "chown"]);
        assert!(p.architectures().as_ref().unwrap().len() >= 5);
        crate::sandbox::seccomp::compile(&p).unwrap();
    }

    #[test]
    fn errors_name_the_field() {
        let e = |t: &str| format!("{:#}", parse(t, &caps()).unwrap_err());
        assert!(e("{}").contains("defaultAction: missing"));
        assert!(e(r#"{"defaultAction":"SCMP_ACT_NOPE"}"#).contains("defaultAction: unknown action"));
        let s = e(
            r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_KILL"}]}"#,
        );
        assert!(
            s.contains("syscalls[0].action") && s.contains("not supported"),
            "{s}"
        );
        let s = e(
            r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":7,"value":1,"op":"SCMP_CMP_EQ"}]}]}"#,
        );
        assert!(s.contains("syscalls[0].args[0].index"), "{s}");
        let s = e(
            r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":1,"value":1,"op":"EQ"}]}]}"#,
        );
        assert!(s.contains("syscalls[0].args[0].op"), "{s}");
        let s = e(r#"{"defaultAction":"SCMP_ACT_ERRNO","sycalls":[]}"#);
        assert!(s.contains("sycalls: unknown field"), "{s}");
    }
}
