//! `coracle top CONTAINER [ps OPTIONS]`: the processes of a running
//! container, as Docker shows them.
//!
//! The container's processes are its host pid 1 (from its state, checked
//! against the monitor lock and against its parent, the monitor, so that a
//! recycled pid is never taken for it) and that process's descendants,
//! found through the `PPid` of every /proc/PID/stat (readable for every
//! process, non-dumpable ones too; orphans inside the container are
//! re-parented to its pid 1, so the tree holds them all), plus what `exec`
//! started in the container's pid namespace (its parent is on the host;
//! `container::procs::members`). The host's `ps`
//! runs with the given options (default `-ef`) and, as Docker does, `-q`
//! and the pids (again without them when ps refuses the combination, as
//! with `f`); its header is kept, with the rows whose PID column is one of
//! the container's.

use std::io::Write;
use std::path::Path;

use clap::Args;

use crate::container::{self, Container};
use crate::error::ExitError;

#[derive(Debug, Clone, Args)]
pub struct TopArgs {
    /// The container (name or id)
    #[arg(value_name = "CONTAINER")]
    pub container: String,
    /// Options of the host's ps (default: -ef)
    #[arg(
        value_name = "ps OPTIONS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub ps_options: Vec<String>,
}

/// Docker's CLI ends with 1 on every error the daemon reports.
fn fail(message: String) -> anyhow::Error {
    ExitError::new(1, message).into()
}

pub fn top(args: &TopArgs) -> anyhow::Result<i32> {
    let ps_args: Vec<String> = if args.ps_options.is_empty() {
        vec!["-ef".into()]
    } else {
        args.ps_options.clone()
    };
    validate_ps_args(&ps_args)?;
    let c = container::resolve(&args.container)?;
    let pids = container_pids(&c, Path::new("/proc"))?;
    let output = run_ps(&ps_args, &pids)?;
    let (titles, rows) = parse_ps_output(&output, &pids)?;
    let mut out = std::io::stdout().lock();
    let mut table = vec![titles];
    table.extend(rows);
    match write_table(&mut out, &table) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        Err(e) => Err(e.into()),
        Ok(()) => Ok(0),
    }
}

/// Docker refuses a column renamed to PID (`-o user=PID`): the PID column
/// is how the container's rows are found.
fn validate_ps_args(args: &[String]) -> anyhow::Result<()> {
    for (i, tok) in args.iter().enumerate().skip(1) {
        let eqs: Vec<usize> = tok.match_indices('=').map(|(j, _)| j).collect();
        for &j in eqs.iter().rev() {
            let rest = &tok[j + 1..];
            let val = if rest.is_empty() {
                args.get(i + 1).map(String::as_str).unwrap_or("")
            } else {
                rest
            };
            if val.starts_with("PID") {
                let key = &tok[..j];
                if key != "pid" {
                    return Err(fail(format!("specifying \"{key}={val}\" is not allowed")));
                }
                break;
            }
        }
    }
    Ok(())
}

/// The host pids of a running container's processes.
fn container_pids(c: &Container, proc: &Path) -> anyhow::Result<Vec<i32>> {
    let not_running = || fail(format!("container {} is not running", c.record.id));
    let Some(pid1) = c.state.pid.filter(|_| c.running()) else {
        return Err(not_running());
    };
    let tree = crate::container::procs::tree(proc);
    // The monitor reaps pid 1 only after it let go of the lock, so while
    // the lock was held pid 1 is its child (or gone): a pid with another
    // parent has been reused by someone else.
    let parent = tree.iter().find(|(p, _)| *p == pid1).map(|(_, pp)| *pp);
    match (parent, c.state.monitor_pid) {
        (None, _) => return Err(not_running()),
        (Some(pp), Some(m)) if pp != m => return Err(not_running()),
        _ => {}
    }
    Ok(crate::container::procs::members(pid1, &tree, proc))
}

/// Runs the host's ps; its output.
fn run_ps(args: &[String], pids: &[i32]) -> anyhow::Result<String> {
    use std::process::{Command, Stdio};
    let list = pids
        .iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let ps = |quick: bool| {
        let mut cmd = Command::new("ps");
        cmd.args(args).stdin(Stdio::null());
        if quick {
            cmd.arg("-q").arg(&list);
        }
        cmd.output()
    };
    if let Ok(o) = ps(true) {
        if o.status.success() {
            return Ok(String::from_utf8_lossy(&o.stdout).into_owned());
        }
    }
    // Some options (such as f) cannot be combined with -q.
    let o = ps(false).map_err(|e| {
        fail(format!(
            "run ps: {e}: coracle top needs the host's ps (Debian package procps)"
        ))
    })?;
    if !o.status.success() {
        return Err(fail(format!(
            "ps {}: {}: {}",
            args.join(" "),
            o.status,
            String::from_utf8_lossy(&o.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&o.stdout).into_owned())
}

/// ps's header and its rows for `pids`, as Docker picks them: the row of a
/// thread (PID `-`, with ps's `m`) follows its process; the fields past the
/// header's last title are one (the command and its arguments).
fn parse_ps_output(output: &str, pids: &[i32]) -> anyhow::Result<(Vec<String>, Vec<Vec<String>>)> {
    let mut lines = output.lines();
    let titles: Vec<String> = lines
        .next()
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let Some(pid_index) = titles.iter().position(|t| t == "PID") else {
        return Err(fail(
            "the output of ps has no PID column: give ps options that show it (e.g. -o pid,args)"
                .into(),
        ));
    };
    let row = |fields: &[&str]| -> Vec<String> {
        let last = titles.len() - 1;
        if fields.len() <= last {
            return fields.iter().map(|f| f.to_string()).collect();
        }
        let mut r: Vec<String> = fields[..last].iter().map(|f| f.to_string()).collect();
        r.push(fields[last..].join(" "));
        r
    };
    let mut rows = Vec::new();
    let mut in_container = false;
    for line in lines {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let Some(pid) = fields.get(pid_index) else {
            continue;
        };
        if *pid == "-" {
            if in_container {
                rows.push(row(&fields));
            }
            continue;
        }
        let pid: i32 = pid
            .parse()
            .map_err(|_| fail(format!("unexpected pid '{pid}' in the output of ps")))?;
        in_container = pids.contains(&pid);
        if in_container {
            rows.push(row(&fields));
        }
    }
    Ok((titles, rows))
}

/// Docker's `top` table: columns at least 20 wide, 3 spaces of padding,
/// the last column as it is.
fn write_table(out: &mut dyn Write, rows: &[Vec<String>]) -> std::io::Result<()> {
    let mut widths: Vec<usize> = Vec::new();
    for r in rows {
        for (i, cell) in r.iter().enumerate().take(r.len().saturating_sub(1)) {
            if widths.len() <= i {
                widths.push(0);
            }
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    for r in rows {
        let mut line = String::new();
        for (i, cell) in r.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < r.len() {
                let width = (widths[i] + 3).max(20);
                line.extend(std::iter::repeat_n(' ', width - cell.chars().count()));
            }
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ps_rows_of_the_container_only() {
        let out = "UID PID PPID C STIME TTY TIME CMD\n\
                   root 1 0 0 10:00 ? 00:00:01 /sbin/init\n\
                   u 50 1 0 10:01 ? 00:00:00 sh -c while :; do sleep 1; done\n\
                   u 51 50 0 10:01 ? 00:00:00 sleep 1\n";
        let (titles, rows) = parse_ps_output(out, &[50, 51]).unwrap();
        assert_eq!(titles.len(), 8);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0][7], "sh -c while :; do sleep 1; done");
        assert_eq!(rows[1][1], "51");
    }

    #[test]
    fn thread_rows_follow_their_process() {
        let out = "PID TID CMD\n7 - a\n- 7 -\n8 - b\n- 8 -\n";
        let (_, rows) = parse_ps_output(out, &[8]).unwrap();
        assert_eq!(rows, [strings(&["8", "-", "b"]), strings(&["-", "8", "-"])]);
    }

    #[test]
    fn ps_output_needs_a_pid_column() {
        assert!(parse_ps_output("USER CMD\nu sh\n", &[1]).is_err());
        assert!(parse_ps_output("PID CMD\nx sh\n", &[1]).is_err());
    }

    #[test]
    fn a_column_renamed_to_pid_is_refused() {
        assert!(validate_ps_args(&strings(&["-o", "user=PID"])).is_err());
        assert!(validate_ps_args(&strings(&["-o", "user=", "PID"])).is_err());
        assert!(validate_ps_args(&strings(&["-o", "pid=PID"])).is_ok());
        assert!(validate_ps_args(&strings(&["-o", "pid,user=USER"])).is_ok());
        assert!(validate_ps_args(&strings(&["-ef"])).is_ok());
    }

    #[test]
    fn tables_pad_like_dockers_top() {
        let rows = vec![
            strings(&["UID", "PID", "CMD"]),
            strings(&["a-user-name-that-is-long", "7", "sleep 9"]),
        ];
        let mut out = Vec::new();
        write_table(&mut out, &rows).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], format!("{:<27}{:<20}CMD", "UID", "PID"));
        assert_eq!(
            lines[1],
            format!("{:<27}{:<20}sleep 9", "a-user-name-that-is-long", "7")
        );
    }
}
