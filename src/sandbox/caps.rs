//! Identity and capabilities of the container process, applied right before
//! exec (seccomp and landlock will be applied after this, last of all).

use std::collections::HashSet;

use caps::{CapSet, Capability, CapsHashSet};
use nix::unistd::{Gid, Uid};
use oci_spec::runtime::{Capabilities, Process};

use super::SetupError;

fn to_caps(set: Option<&Capabilities>) -> CapsHashSet {
    set.map(|s| {
        s.iter()
            .filter_map(|c| format!("CAP_{c}").parse::<Capability>().ok())
            .collect()
    })
    .unwrap_or_default()
}

fn cap_err(what: &str) -> impl FnOnce(caps::errors::CapsError) -> SetupError + '_ {
    move |e| SetupError::setup(format!("{what}: {e}"))
}

/// Whether setgroups(2) is allowed in this user namespace (it is not when
/// the gid map was written without a privileged helper).
pub(super) fn setgroups_allowed() -> bool {
    std::fs::read_to_string("/proc/self/setgroups").map_or(true, |s| s.trim() == "allow")
}

/// Drops the bounding set to the spec's, switches to the spec's user and
/// groups, and sets the effective, permitted, inheritable and ambient sets.
pub fn apply(process: &Process) -> Result<(), SetupError> {
    let c = process.capabilities().as_ref();
    let bounding = to_caps(c.and_then(|c| c.bounding().as_ref()));
    let effective = to_caps(c.and_then(|c| c.effective().as_ref()));
    let permitted = to_caps(c.and_then(|c| c.permitted().as_ref()));
    let inheritable = to_caps(c.and_then(|c| c.inheritable().as_ref()));
    let ambient = to_caps(c.and_then(|c| c.ambient().as_ref()));

    for cap in caps::all() {
        if !bounding.contains(&cap) {
            match caps::drop(None, CapSet::Bounding, cap) {
                Ok(()) => {}
                // A capability this kernel does not know is not in the set.
                Err(_) if !caps::has_cap(None, CapSet::Bounding, cap).unwrap_or(false) => {}
                Err(e) => {
                    return Err(SetupError::setup(format!(
                        "drop {cap} from the bounding set: {e}"
                    )))
                }
            }
        }
    }

    let user = process.user();
    nix::sys::prctl::set_keepcaps(true)
        .map_err(|e| SetupError::setup(format!("keep capabilities: {e}")))?;
    let groups: Vec<Gid> = user
        .additional_gids()
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|g| Gid::from_raw(*g))
        .collect();
    if setgroups_allowed() {
        nix::unistd::setgroups(&groups)
            .map_err(|e| SetupError::setup(format!("set supplementary groups {groups:?}: {e}")))?;
    } else if !groups.is_empty() {
        return Err(SetupError::setup(
            "supplementary groups cannot be set in single-id mode (setgroups is denied)".into(),
        ));
    }
    let gid = Gid::from_raw(user.gid());
    let uid = Uid::from_raw(user.uid());
    nix::unistd::setresgid(gid, gid, gid)
        .map_err(|e| SetupError::setup(format!("set group id {gid}: {e}")))?;
    nix::unistd::setresuid(uid, uid, uid)
        .map_err(|e| SetupError::setup(format!("set user id {uid}: {e}")))?;
    nix::sys::prctl::set_keepcaps(false)
        .map_err(|e| SetupError::setup(format!("reset keepcaps: {e}")))?;

    // Effective first: it must stay a subset of permitted at every step.
    caps::set(None, CapSet::Effective, &effective)
        .map_err(cap_err("set effective capabilities"))?;
    caps::set(None, CapSet::Inheritable, &inheritable)
        .map_err(cap_err("set inheritable capabilities"))?;
    caps::set(None, CapSet::Permitted, &permitted)
        .map_err(cap_err("set permitted capabilities"))?;
    caps::clear(None, CapSet::Ambient).map_err(cap_err("clear ambient capabilities"))?;
    for cap in ambient {
        caps::raise(None, CapSet::Ambient, cap).map_err(cap_err("raise ambient capability"))?;
    }
    if process.no_new_privileges().unwrap_or(false) {
        nix::sys::prctl::set_no_new_privs()
            .map_err(|e| SetupError::setup(format!("set no_new_privs: {e}")))?;
    }
    Ok(())
}

/// Gives up every capability (coracle's init keeps none).
pub fn clear_all() -> Result<(), SetupError> {
    let none: HashSet<Capability> = HashSet::new();
    for set in [CapSet::Effective, CapSet::Inheritable, CapSet::Permitted] {
        caps::set(None, set, &none).map_err(cap_err("clear capabilities"))?;
    }
    Ok(())
}
