//! Debug-build fault injection, so end-to-end tests can drive failure paths of the real binary.
//!
//! `TERN_DEBUG_FAULT=<method>=panic` makes that method's handler panic (to watch it become a
//! `-32603` answer); `TERN_DEBUG_FAULT=<method>=sleep:<ms>` delays it (to watch a slow request
//! not block others). Several faults are separated by `,`. Release builds never read the
//! variable.

use std::time::Duration;

/// What to do to a method's handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    Panic,
    Sleep(Duration),
}

/// Faults by method name.
#[derive(Debug, Default)]
pub(crate) struct Faults(Vec<(String, Fault)>);

impl Faults {
    /// Reads `TERN_DEBUG_FAULT` in debug builds; empty otherwise or when malformed (logged).
    pub(crate) fn from_env() -> Self {
        if !cfg!(debug_assertions) {
            return Self::default();
        }
        let Ok(spec) = std::env::var("TERN_DEBUG_FAULT") else {
            return Self::default();
        };
        let Some(faults) = parse(&spec) else {
            tracing::warn!(%spec, "ignoring malformed TERN_DEBUG_FAULT");
            return Self::default();
        };
        Self(faults)
    }

    /// Applies the fault configured for `method`, if any.
    pub(crate) async fn inject(&self, method: &str) {
        let Some((_, fault)) = self.0.iter().find(|(name, _)| name == method) else {
            return;
        };
        match fault {
            #[allow(clippy::panic, reason = "the fault being injected is a panic")]
            Fault::Panic => panic!("TERN_DEBUG_FAULT: panicking in `{method}` on purpose"),
            Fault::Sleep(duration) => tokio::time::sleep(*duration).await,
        }
    }
}

fn parse(spec: &str) -> Option<Vec<(String, Fault)>> {
    spec.split(',')
        .map(|entry| {
            let (method, fault) = entry.trim().rsplit_once('=')?;
            let fault = match fault.split_once(':') {
                None if fault == "panic" => Fault::Panic,
                Some(("sleep", ms)) => Fault::Sleep(Duration::from_millis(ms.parse().ok()?)),
                _ => return None,
            };
            Some((method.to_owned(), fault))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_into_faults_per_method() {
        assert_eq!(
            parse("a/b=panic, c=sleep:250"),
            Some(vec![
                ("a/b".to_owned(), Fault::Panic),
                ("c".to_owned(), Fault::Sleep(Duration::from_millis(250))),
            ])
        );
        assert_eq!(parse("a/b=explode"), None);
        assert_eq!(parse("a/b"), None);
    }
}
