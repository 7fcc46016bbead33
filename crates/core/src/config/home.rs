//! Where tern keeps its state: `$TERN_HOME`, else `$CODEX_HOME`, else `~/.tern`.
//!
//! `CODEX_HOME` is honoured because clients written for the reference server set it when they
//! spawn one; the layout inside is the same.

use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::ConfigError;

/// Resolves the home directory from the given environment lookup and creates it (mode 0700)
/// when missing. A relative path is taken relative to `cwd`.
pub fn resolve_home(
    env: impl Fn(&str) -> Option<String>,
    cwd: &Path,
) -> Result<PathBuf, ConfigError> {
    let non_empty = |name: &str| env(name).filter(|value| !value.is_empty());
    let path = if let Some(path) = non_empty("TERN_HOME") {
        PathBuf::from(path)
    } else if let Some(path) = non_empty("CODEX_HOME") {
        PathBuf::from(path)
    } else {
        let user_home = non_empty("HOME").ok_or_else(|| ConfigError::Home {
            path: PathBuf::from("~/.tern"),
            reason: "neither TERN_HOME, CODEX_HOME nor HOME is set".to_owned(),
        })?;
        Path::new(&user_home).join(".tern")
    };
    let path = cwd.join(path);
    match std::fs::metadata(&path) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(ConfigError::Home {
                path,
                reason: "exists but is not a directory".to_owned(),
            });
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&path)
                .map_err(|err| ConfigError::Home {
                    path: path.clone(),
                    reason: format!("cannot create it: {err}"),
                })?;
        }
        Err(err) => {
            return Err(ConfigError::Home {
                path,
                reason: err.to_string(),
            });
        }
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    }

    #[test]
    fn tern_home_wins_then_codex_home_then_the_default() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_str().unwrap();
        let all = [("TERN_HOME", "t"), ("CODEX_HOME", "c"), ("HOME", root)];
        assert_eq!(
            resolve_home(env(&all), dir.path()).unwrap(),
            dir.path().join("t")
        );
        let empty_tern = [("TERN_HOME", ""), ("CODEX_HOME", "c"), ("HOME", root)];
        assert_eq!(
            resolve_home(env(&empty_tern), dir.path()).unwrap(),
            dir.path().join("c")
        );
        let only_home = [("HOME", root)];
        assert_eq!(
            resolve_home(env(&only_home), Path::new("/")).unwrap(),
            dir.path().join(".tern")
        );
    }

    #[test]
    fn a_missing_home_is_created_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = resolve_home(env(&[("TERN_HOME", "a/b")]), dir.path()).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[test]
    fn a_file_in_the_way_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), "").unwrap();
        let err = resolve_home(env(&[("TERN_HOME", "f")]), dir.path()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "tern home {}: exists but is not a directory",
                dir.path().join("f").display()
            )
        );
    }
}
