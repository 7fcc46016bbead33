//! `-c key=value`, `--enable FEATURE` and `--disable FEATURE`: the command-line config layer.

use crate::ConfigError;

/// Command-line overrides, applied over `config.toml` in the order given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigOverrides {
    /// (dotted key, value) pairs.
    entries: Vec<(Vec<String>, toml::Value)>,
}

impl ConfigOverrides {
    /// Parses `-c` arguments, then `--enable` and `--disable` features (which become
    /// `features.<name> = true|false`).
    ///
    /// A value is parsed as TOML (`-c 'model="o3"'`, `-c retries=3`, `-c 'list=["a"]'`); when it
    /// is not valid TOML it is taken as a literal string (`-c model=o3`).
    pub fn parse(
        config: &[String],
        enable: &[String],
        disable: &[String],
    ) -> Result<Self, ConfigError> {
        let mut entries = Vec::new();
        for argument in config {
            let Some((key, value)) = argument.split_once('=') else {
                return Err(ConfigError::Override {
                    argument: argument.clone(),
                    reason: "expected key=value".to_owned(),
                });
            };
            let key = parse_key(argument, key.trim())?;
            entries.push((key, parse_value(value.trim())));
        }
        for (names, on) in [(enable, true), (disable, false)] {
            for name in names {
                let key = parse_key(name, &format!("features.{}", name.trim()))?;
                entries.push((key, toml::Value::Boolean(on)));
            }
        }
        Ok(Self { entries })
    }

    /// A request's `config` object: each key dotted or not, each value JSON (objects become
    /// tables, `null` entries are left out).
    pub(crate) fn from_json(
        overrides: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Self, ConfigError> {
        let mut entries = Vec::new();
        for (key, value) in overrides {
            let argument = format!("config.{key}");
            let path = parse_key(&argument, key)?;
            if let Some(value) = toml_value(value) {
                entries.push((path, value));
            }
        }
        Ok(Self { entries })
    }

    /// Whether an override sets `dotted` or a table above or below it.
    pub(crate) fn touches(&self, dotted: &str) -> bool {
        let key: Vec<&str> = dotted.split('.').collect();
        self.entries.iter().any(|(path, _)| {
            let shared = path.len().min(key.len());
            path.iter()
                .take(shared)
                .map(String::as_str)
                .eq(key.iter().take(shared).copied())
        })
    }

    /// Writes the overrides into `table`, creating intermediate tables (and replacing a
    /// non-table value that stands in the way).
    pub(crate) fn apply(&self, table: &mut toml::Table) {
        'entries: for (key, value) in &self.entries {
            let Some((last, parents)) = key.split_last() else {
                continue;
            };
            let mut current = &mut *table;
            for part in parents {
                let slot = current
                    .entry(part.clone())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                if !slot.is_table() {
                    *slot = toml::Value::Table(toml::Table::new());
                }
                let Some(next) = slot.as_table_mut() else {
                    continue 'entries;
                };
                current = next;
            }
            current.insert(last.clone(), value.clone());
        }
    }
}

/// Splits a dotted key, rejecting empty segments.
fn parse_key(argument: &str, key: &str) -> Result<Vec<String>, ConfigError> {
    let parts: Vec<String> = key.split('.').map(|part| part.trim().to_owned()).collect();
    if parts.iter().any(String::is_empty) {
        return Err(ConfigError::Override {
            argument: argument.to_owned(),
            reason: format!("`{key}` is not a valid dotted key"),
        });
    }
    Ok(parts)
}

/// The TOML form of a JSON value; `None` for `null` (TOML has none), also inside arrays and
/// objects.
fn toml_value(value: &serde_json::Value) -> Option<toml::Value> {
    use serde_json::Value;
    Some(match value {
        Value::Null => return None,
        Value::Bool(flag) => toml::Value::Boolean(*flag),
        Value::Number(number) => match number.as_i64() {
            Some(int) => toml::Value::Integer(int),
            None => toml::Value::Float(number.as_f64()?),
        },
        Value::String(text) => toml::Value::String(text.clone()),
        Value::Array(items) => toml::Value::Array(items.iter().filter_map(toml_value).collect()),
        Value::Object(fields) => toml::Value::Table(
            fields
                .iter()
                .filter_map(|(key, value)| Some((key.clone(), toml_value(value)?)))
                .collect(),
        ),
    })
}

/// A TOML value, or the raw text as a string when it is not one.
fn parse_value(text: &str) -> toml::Value {
    let document = format!("value = {text}");
    match document.parse::<toml::Table>() {
        Ok(mut table) if table.len() == 1 => table
            .remove("value")
            .unwrap_or_else(|| toml::Value::String(text.to_owned())),
        _ => toml::Value::String(text.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    fn applied(config: &[&str], enable: &[&str], disable: &[&str]) -> toml::Table {
        let strings = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let overrides =
            ConfigOverrides::parse(&strings(config), &strings(enable), &strings(disable)).unwrap();
        let mut table: toml::Table = "model = \"a\"\n[features]\nx = true\n".parse().unwrap();
        overrides.apply(&mut table);
        table
    }

    #[test]
    fn values_parse_as_toml_else_as_strings() {
        let table = applied(
            &[
                "model=o3",
                "n=3",
                "list=[\"a\", 1]",
                "quoted=\"x y\"",
                "text=a = b",
            ],
            &[],
            &[],
        );
        let expected: toml::Table = "model = \"o3\"\nn = 3\nlist = [\"a\", 1]\nquoted = \"x y\"\n\
             text = \"a = b\"\n[features]\nx = true\n"
            .parse()
            .unwrap();
        assert_eq!(table, expected);
    }

    #[test]
    fn dotted_keys_nest_and_features_toggle() {
        let table = applied(&["a.b.c=1", "model.x=2"], &["y"], &["x"]);
        let expected: toml::Table =
            "[a.b]\nc = 1\n[model]\nx = 2\n[features]\nx = false\ny = true\n"
                .parse()
                .unwrap();
        assert_eq!(table, expected);
    }

    #[test]
    fn malformed_arguments_are_named() {
        let err = ConfigOverrides::parse(&["model".to_owned()], &[], &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid override `model`: expected key=value"
        );
        let err = ConfigOverrides::parse(&["a..b=1".to_owned()], &[], &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid override `a..b=1`: `a..b` is not a valid dotted key"
        );
    }
}
