//! The Linux sandbox commands run under.
//!
//! A sandboxed command is started through tern itself: `tern sandbox-exec --plan <json> --
//! <argv>`. That helper process is single-threaded and has nothing else to protect, so it can
//! restrict itself step by step and then `exec` the command, which inherits every restriction:
//!
//! 1. `.git` (and other protected paths inside writable roots) become read-only bind mounts, in
//!    a user and mount namespace of the helper's own (the only way to carve a read-only hole
//!    out of a writable tree);
//! 2. Landlock: the whole filesystem readable and executable, writable only beneath the
//!    writable roots (and a few device nodes such as `/dev/null`); Landlock also forbids
//!    any later mount change, so the read-only mounts stay;
//! 3. seccomp, when network access is off: `socket` for anything but Unix sockets, and
//!    `io_uring` (which can open sockets), fail with `EPERM`.
//!
//! Any step that cannot be applied (a kernel without Landlock, user namespaces disabled) fails
//! the command with a message saying so: a command never runs with less sandbox than asked.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use landlock::{
    ABI, Access, AccessFs, CompatLevel, Compatible, PathBeneath, PathFd, Ruleset, RulesetAttr,
    RulesetCreatedAttr, RulesetStatus,
};
use serde::{Deserialize, Serialize};
use tern_protocol::v2::SandboxPolicy;

/// The name of the helper subcommand of the `tern` binary.
pub const HELPER_SUBCOMMAND: &str = "sandbox-exec";

/// Exit status of the helper when the sandbox cannot be set up or the command cannot start
/// (as a shell's "command not found").
pub const SETUP_FAILED_EXIT: i32 = 127;

/// The Landlock ABI tern asks for; older kernels get what they have (at least ABI 1).
const LANDLOCK_ABI: ABI = ABI::V5;

/// Device nodes a sandboxed command may write to.
const WRITABLE_DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/tty",
    "/dev/ptmx",
    "/dev/pts",
    "/dev/random",
    "/dev/urandom",
];

/// What a sandboxed command may do, resolved from a [`SandboxPolicy`] for one command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxPlan {
    /// Directories (and beneath) the command may write; empty for read-only.
    pub writable_roots: Vec<PathBuf>,
    /// Paths inside writable roots that stay read-only (`.git`).
    pub read_only_paths: Vec<PathBuf>,
    /// Whether the command may open network sockets.
    pub network: bool,
}

impl SandboxPlan {
    /// The plan for `policy` with the command running in `cwd`; `None` when the policy runs
    /// commands without a sandbox of tern's (`dangerFullAccess`, and `externalSandbox`, where
    /// the caller's environment is the sandbox).
    pub fn for_policy(policy: &SandboxPolicy, cwd: &Path) -> Option<Self> {
        match policy {
            SandboxPolicy::DangerFullAccess | SandboxPolicy::ExternalSandbox { .. } => None,
            SandboxPolicy::ReadOnly { network_access } => Some(Self {
                writable_roots: Vec::new(),
                read_only_paths: Vec::new(),
                network: *network_access,
            }),
            SandboxPolicy::WorkspaceWrite {
                writable_roots,
                network_access,
                exclude_tmpdir_env_var,
                exclude_slash_tmp,
            } => {
                let mut roots = vec![cwd.to_owned()];
                roots.extend(writable_roots.iter().map(|root| root.as_path().to_owned()));
                if !exclude_slash_tmp {
                    roots.push(PathBuf::from("/tmp"));
                }
                if !exclude_tmpdir_env_var {
                    roots.extend(std::env::var_os("TMPDIR").map(PathBuf::from));
                }
                // Only existing directories can be rules; the canonical path is what the kernel
                // checks, and duplicates would only repeat a rule.
                let mut roots: Vec<PathBuf> = roots
                    .iter()
                    .filter(|root| root.is_absolute())
                    .filter_map(|root| root.canonicalize().ok())
                    .filter(|root| root.is_dir())
                    .collect();
                roots.sort();
                roots.dedup();
                let read_only_paths = roots
                    .iter()
                    .map(|root| root.join(".git"))
                    .filter(|git| git.exists())
                    .collect();
                Some(Self {
                    writable_roots: roots,
                    read_only_paths,
                    network: *network_access,
                })
            }
        }
    }
}

impl SandboxPlan {
    /// Whether the plan lets a command write `path` (a file that may not exist yet).
    pub fn allows_write(&self, path: &Path) -> bool {
        // The nearest existing ancestor is what the kernel would check.
        let existing = path
            .ancestors()
            .find_map(|dir| dir.canonicalize().ok())
            .unwrap_or_else(|| path.to_owned());
        self.writable_roots
            .iter()
            .any(|root| existing.starts_with(root))
            && !self
                .read_only_paths
                .iter()
                .any(|read_only| existing.starts_with(read_only))
    }
}

/// The helper's arguments (after the `tern` binary) that run `command` under `plan` (none: no
/// sandbox), with `tty` making its terminal the controlling one.
pub fn helper_args(
    plan: Option<&SandboxPlan>,
    tty: bool,
    command: &[String],
) -> Result<Vec<String>, serde_json::Error> {
    let mut helper = vec![HELPER_SUBCOMMAND.to_owned()];
    if tty {
        helper.push("--tty".to_owned());
    }
    if let Some(plan) = plan {
        helper.extend(["--plan".to_owned(), serde_json::to_string(plan)?]);
    }
    helper.push("--".to_owned());
    helper.extend(command.iter().cloned());
    Ok(helper)
}

/// Why the sandbox could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(
        "cannot make {path} read-only: {reason} (tern needs unprivileged user namespaces for this)"
    )]
    ReadOnlyMount { path: String, reason: String },
    #[error(
        "Landlock is not available on this kernel (Linux 5.13 or later with Landlock enabled is required): {0}"
    )]
    Landlock(String),
    #[error("cannot install the network filter: {0}")]
    Seccomp(String),
}

/// Restricts the calling process to `plan`. Call it in the single-threaded helper, right before
/// `exec`: every step is irreversible.
pub fn enter(plan: &SandboxPlan) -> Result<(), SandboxError> {
    if !plan.read_only_paths.is_empty() {
        read_only_mounts(&plan.read_only_paths)?;
    }
    landlock(plan)?;
    if !plan.network {
        deny_network()?;
    }
    Ok(())
}

/// Re-mounts each path read-only, in a user and mount namespace of this process's own (the
/// user keeps their uid and gid inside).
fn read_only_mounts(paths: &[PathBuf]) -> Result<(), SandboxError> {
    use rustix::mount::{MountFlags, MountPropagationFlags};
    let failed = |path: &Path, reason: String| SandboxError::ReadOnlyMount {
        path: path.display().to_string(),
        reason,
    };
    let first = paths.first().map_or(Path::new("/"), PathBuf::as_path);
    let (uid, gid) = (rustix::process::getuid(), rustix::process::getgid());
    unshare_user_and_mount().map_err(|err| failed(first, format!("unshare: {err}")))?;
    let maps = [
        ("/proc/self/setgroups", "deny".to_owned()),
        ("/proc/self/uid_map", format!("{0} {0} 1", uid.as_raw())),
        ("/proc/self/gid_map", format!("{0} {0} 1", gid.as_raw())),
    ];
    for (file, content) in maps {
        std::fs::write(file, content).map_err(|err| failed(first, format!("{file}: {err}")))?;
    }
    // Keep every mount change inside this namespace.
    rustix::mount::mount_change(
        "/",
        MountPropagationFlags::REC | MountPropagationFlags::PRIVATE,
    )
    .map_err(|err| failed(first, format!("making mounts private: {err}")))?;
    for path in paths {
        rustix::mount::mount_bind(path, path)
            .map_err(|err| failed(path, format!("bind mount: {err}")))?;
        rustix::mount::mount_remount(
            path,
            MountFlags::BIND | MountFlags::RDONLY | MountFlags::NOSUID | MountFlags::NODEV,
            "",
        )
        .map_err(|err| failed(path, format!("read-only remount: {err}")))?;
    }
    Ok(())
}

#[allow(unsafe_code)]
fn unshare_user_and_mount() -> std::io::Result<()> {
    use rustix::thread::UnshareFlags;
    // SAFETY: the flags do not include `FILES`, the one that can invalidate descriptors other
    // threads hold; the helper is single-threaded anyway.
    unsafe { rustix::thread::unshare_unsafe(UnshareFlags::NEWUSER | UnshareFlags::NEWNS) }
        .map_err(std::io::Error::from)
}

fn landlock(plan: &SandboxPlan) -> Result<(), SandboxError> {
    let error = |err: &dyn std::fmt::Display| SandboxError::Landlock(err.to_string());
    let all = AccessFs::from_all(LANDLOCK_ABI);
    let read = AccessFs::from_read(LANDLOCK_ABI);
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(all)
        .map_err(|err| error(&err))?
        .create()
        .map_err(|err| error(&err))?
        .add_rule(PathBeneath::new(
            PathFd::new("/").map_err(|err| error(&err))?,
            read,
        ))
        .map_err(|err| error(&err))?;
    for root in &plan.writable_roots {
        let Ok(fd) = PathFd::new(root) else {
            continue;
        };
        ruleset = ruleset
            .add_rule(PathBeneath::new(fd, all))
            .map_err(|err| error(&err))?;
    }
    let device_access = read | AccessFs::WriteFile;
    for device in WRITABLE_DEVICES {
        let Ok(fd) = PathFd::new(device) else {
            continue;
        };
        ruleset = ruleset
            .add_rule(PathBeneath::new(fd, device_access))
            .map_err(|err| error(&err))?;
    }
    let status = ruleset.restrict_self().map_err(|err| error(&err))?;
    if status.ruleset == RulesetStatus::NotEnforced {
        return Err(SandboxError::Landlock(
            "the kernel enforces none of it".to_owned(),
        ));
    }
    Ok(())
}

/// A seccomp filter that makes `socket` fail for every family but `AF_UNIX`, and `io_uring`
/// fail altogether.
fn deny_network() -> Result<(), SandboxError> {
    use seccompiler::{
        BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
        SeccompRule, TargetArch,
    };
    let error = |err: &dyn std::fmt::Display| SandboxError::Seccomp(err.to_string());
    let arch = match std::env::consts::ARCH {
        "x86_64" => TargetArch::x86_64,
        "aarch64" => TargetArch::aarch64,
        "riscv64" => TargetArch::riscv64,
        other => return Err(error(&format!("unsupported architecture {other}"))),
    };
    let not_unix = SeccompCondition::new(
        0,
        SeccompCmpArgLen::Dword,
        SeccompCmpOp::Ne,
        libc::AF_UNIX as u64,
    )
    .map_err(|err| error(&err))?;
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    rules.insert(
        libc::SYS_socket,
        vec![SeccompRule::new(vec![not_unix]).map_err(|err| error(&err))?],
    );
    for call in [
        libc::SYS_io_uring_setup,
        libc::SYS_io_uring_enter,
        libc::SYS_io_uring_register,
    ] {
        rules.insert(call, Vec::new());
    }
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )
    .map_err(|err| error(&err))?;
    let program: BpfProgram = filter.try_into().map_err(|err| error(&err))?;
    seccompiler::apply_filter(&program).map_err(|err| error(&err))
}

/// The helper's whole life: parse `--plan <json> -- <argv>`, enter the sandbox, `exec`. Returns
/// only on failure, with the exit status to leave with (the message is on stderr).
pub fn helper_main(arguments: &[String]) -> i32 {
    let fail = |message: String| {
        #[allow(clippy::print_stderr, reason = "the helper's stderr is the command's")]
        {
            eprintln!("tern sandbox: {message}");
        }
        SETUP_FAILED_EXIT
    };
    let usage =
        || fail("usage: tern sandbox-exec [--tty] [--plan <json>] -- <command>...".to_owned());
    let mut tty = false;
    let mut plan = None;
    let mut rest = arguments;
    let command = loop {
        match rest {
            [flag, more @ ..] if flag == "--tty" => {
                tty = true;
                rest = more;
            }
            [flag, json, more @ ..] if flag == "--plan" => {
                match serde_json::from_str::<SandboxPlan>(json) {
                    Ok(parsed) => plan = Some(parsed),
                    Err(err) => return fail(format!("invalid plan: {err}")),
                }
                rest = more;
            }
            [separator, command @ ..] if separator == "--" => break command,
            _ => return usage(),
        }
    };
    let Some((program, rest)) = command.split_first() else {
        return fail("no command".to_owned());
    };
    if tty {
        // A session of its own, with stdin (the terminal) as its controlling terminal.
        let controlled = rustix::process::setsid()
            .map_err(std::io::Error::from)
            .and_then(|_| {
                rustix::process::ioctl_tiocsctty(std::io::stdin()).map_err(std::io::Error::from)
            });
        if let Err(err) = controlled {
            return fail(format!("cannot take the terminal: {err}"));
        }
    }
    if let Some(plan) = &plan {
        if let Err(err) = enter(plan) {
            return fail(err.to_string());
        }
    }
    let err =
        std::os::unix::process::CommandExt::exec(std::process::Command::new(program).args(rest));
    fail(format!("cannot run {program}: {err}"))
}
