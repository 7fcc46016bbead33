//! `AbsolutePathBuf`: a path the protocol guarantees to be absolute.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use ts_rs::TS;

/// A path that is absolute (not necessarily canonical, and not necessarily existing).
///
/// On the wire it is a string; a relative path in client input fails to decode.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, JsonSchema, TS)]
#[schemars(transparent)]
#[ts(type = "string")]
pub struct AbsolutePathBuf(PathBuf);

/// The error of building an [`AbsolutePathBuf`] from a relative path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("path `{}` is not absolute", .0.display())]
pub struct RelativePathError(pub PathBuf);

impl AbsolutePathBuf {
    /// `path` if absolute, else `path` under `/`: for paths read from files that should hold
    /// absolute ones.
    pub fn anchored(path: &Path) -> Self {
        Self(Path::new("/").join(path))
    }

    /// The path.
    pub fn as_path(&self) -> &Path {
        &self.0
    }
}

impl TryFrom<PathBuf> for AbsolutePathBuf {
    type Error = RelativePathError;

    fn try_from(path: PathBuf) -> Result<Self, Self::Error> {
        if path.is_absolute() {
            Ok(Self(path))
        } else {
            Err(RelativePathError(path))
        }
    }
}

impl<'de> Deserialize<'de> for AbsolutePathBuf {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let path = PathBuf::deserialize(de)?;
        Self::try_from(path).map_err(serde::de::Error::custom)
    }
}

impl AsRef<Path> for AbsolutePathBuf {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_do_not_decode() {
        let err = serde_json::from_str::<AbsolutePathBuf>(r#""a/b""#).unwrap_err();
        assert_eq!(err.to_string(), "path `a/b` is not absolute");
        let ok: AbsolutePathBuf = serde_json::from_str(r#""/a/b""#).unwrap();
        assert_eq!(ok.as_path(), Path::new("/a/b"));
    }
}
