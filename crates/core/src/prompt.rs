//! What the model is told besides the conversation: base instructions, `AGENTS.md` files, and
//! the environment context, in the message layout the reference implementation uses.
//!
//! The base instructions are tern's own text. They travel as the first `developer` message of
//! every request (there is no `instructions` field), and are stored in the rollout's
//! `session_meta` so a resumed thread keeps the instructions it started with.

use std::path::{Path, PathBuf};

use tern_protocol::v2::{AskForApproval, SandboxPolicy};

use crate::model::ResponseItem;

/// tern's base instructions.
pub const BASE_INSTRUCTIONS: &str = "\
You are tern, a coding agent working in the user's workspace through the tools you are given.

How to work:
- Understand the request before acting. Read the relevant code; do not guess at APIs, paths or \
behaviour you can check.
- Make the smallest change that fully solves the problem, in the style of the surrounding code. \
Do not fix unrelated things unless asked; mention them instead.
- Verify your work when you can: build, run the tests that cover the change, and read the output.
- When a tool fails, read the error and adapt; do not repeat the same failing call.
- Respect the sandbox and approval settings you are given. If an action needs permissions you \
lack, say so and explain why it is needed.
- Never expose secrets from the environment or files in your answers.

How to answer:
- Be concise and concrete. Lead with the outcome, then what you changed and how you checked it.
- Refer to files by path and to code by name. Use Markdown only where it helps reading.
- If you could not finish, say what is left and what would unblock it.
";

/// Asks the model for the summary that replaces the conversation when it is compacted.
pub const COMPACTION_PROMPT: &str = "\
The conversation above is about to be replaced by a summary to free context space. Write that \
summary now, for yourself, so the work can continue without the original messages. Include: the \
user's goals and constraints; decisions made and why; files and code touched (paths, names); \
commands run and what they showed; what is finished, what is in progress, and the next steps. \
Be concrete and complete; leave out pleasantries. Reply with the summary only.";

/// Introduces the summary in the compacted history.
pub const SUMMARY_PREFIX: &str = "\
Earlier parts of this conversation were compacted. Summary of what happened so far:\n\n";

/// Largest `AGENTS.md` content included, over all files; the rest is cut.
const MAX_AGENTS_MD_BYTES: usize = 32 * 1024;

/// The `AGENTS.md` files that apply to `cwd`: from the repository root (the nearest ancestor
/// with `.git`, else `cwd` itself) down to `cwd`, outermost first.
pub fn agents_md_files(cwd: &Path) -> Vec<PathBuf> {
    let root = cwd
        .ancestors()
        .find(|dir| dir.join(".git").exists())
        .unwrap_or(cwd);
    let mut dirs: Vec<&Path> = cwd.ancestors().take_while(|dir| *dir != root).collect();
    dirs.push(root);
    dirs.reverse();
    dirs.into_iter()
        .map(|dir| dir.join("AGENTS.md"))
        .filter(|path| path.is_file())
        .collect()
}

/// The `AGENTS.md` user message for `cwd`, when there are any files.
pub fn agents_md_message(cwd: &Path) -> Option<ResponseItem> {
    let mut contents = String::new();
    for path in agents_md_files(cwd) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if !contents.is_empty() {
            contents.push_str("\n\n");
        }
        contents.push_str(text.trim_end());
    }
    if contents.is_empty() {
        return None;
    }
    if contents.len() > MAX_AGENTS_MD_BYTES {
        let mut cut = MAX_AGENTS_MD_BYTES;
        while !contents.is_char_boundary(cut) {
            cut -= 1;
        }
        contents.truncate(cut);
    }
    Some(ResponseItem::text_message(
        "user",
        None,
        format!(
            "# AGENTS.md instructions for {}\n\n<INSTRUCTIONS>\n{contents}\n</INSTRUCTIONS>",
            cwd.display()
        ),
    ))
}

/// The `<environment_context>` user message.
pub fn environment_context(
    cwd: &Path,
    approval_policy: AskForApproval,
    sandbox: &SandboxPolicy,
    date: &str,
) -> ResponseItem {
    let shell = std::env::var("SHELL")
        .ok()
        .and_then(|shell| Some(Path::new(&shell).file_name()?.to_str()?.to_owned()))
        .unwrap_or_else(|| "bash".to_owned());
    let timezone = std::env::var("TZ")
        .ok()
        .filter(|tz| !tz.is_empty())
        .unwrap_or_else(|| "Etc/UTC".to_owned());
    let approval = match approval_policy {
        AskForApproval::Untrusted => "untrusted",
        AskForApproval::OnRequest => "on-request",
        AskForApproval::Granular(_) => "granular",
        AskForApproval::Never => "never",
    };
    let (sandbox_mode, network) = match sandbox {
        SandboxPolicy::DangerFullAccess => ("danger-full-access", "enabled"),
        SandboxPolicy::ReadOnly { network_access } => ("read-only", enabled(*network_access)),
        SandboxPolicy::WorkspaceWrite { network_access, .. } => {
            ("workspace-write", enabled(*network_access))
        }
        SandboxPolicy::ExternalSandbox { network_access } => (
            "external-sandbox",
            enabled(*network_access == tern_protocol::v2::NetworkAccess::Enabled),
        ),
    };
    ResponseItem::text_message(
        "user",
        None,
        format!(
            "<environment_context>\n  <cwd>{}</cwd>\n  <shell>{shell}</shell>\n  \
             <current_date>{date}</current_date>\n  <timezone>{timezone}</timezone>\n  \
             <approval_policy>{approval}</approval_policy>\n  \
             <sandbox_mode>{sandbox_mode}</sandbox_mode>\n  \
             <network_access>{network}</network_access>\n</environment_context>",
            cwd.display()
        ),
    )
}

fn enabled(on: bool) -> &'static str {
    if on { "enabled" } else { "restricted" }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    #[test]
    fn agents_md_files_run_from_the_repository_root_down_to_cwd() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        let cwd = repo.join("a/b");
        std::fs::create_dir_all(&cwd).unwrap();
        std::fs::create_dir(repo.join(".git")).unwrap();
        std::fs::write(dir.path().join("AGENTS.md"), "outside the repo").unwrap();
        std::fs::write(repo.join("AGENTS.md"), "root rules").unwrap();
        std::fs::write(cwd.join("AGENTS.md"), "leaf rules").unwrap();
        assert_eq!(
            agents_md_files(&cwd),
            [repo.join("AGENTS.md"), cwd.join("AGENTS.md")]
        );
        let message = agents_md_message(&cwd).unwrap().message_text().unwrap();
        assert_eq!(
            message,
            format!(
                "# AGENTS.md instructions for {}\n\n<INSTRUCTIONS>\nroot rules\n\nleaf rules\n</INSTRUCTIONS>",
                cwd.display()
            )
        );
    }
}
