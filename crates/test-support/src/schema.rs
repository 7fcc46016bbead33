//! Validation of server messages against the reference implementation's JSON Schema.
//!
//! The schema is read from `../shared/upstream-schema/` (beside the repository; override with
//! `TERN_UPSTREAM_SCHEMA_DIR`), never copied into the repository. Messages to a client that
//! negotiated `experimentalApi` are checked against the experimental bundle, others against
//! the stable one.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::{Context, anyhow, bail};
use serde_json::{Value, json};

/// Where the upstream schema lives.
pub fn upstream_schema_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TERN_UPSTREAM_SCHEMA_DIR") {
        return PathBuf::from(dir);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/upstream-schema")
}

/// One upstream bundle (`stable` or `experimental`) with compiled validators, cached per
/// definition.
pub struct UpstreamSchema {
    bundle: Value,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

impl UpstreamSchema {
    /// The process-wide copy of the stable or experimental bundle.
    pub fn get(experimental: bool) -> &'static UpstreamSchema {
        static STABLE: OnceLock<UpstreamSchema> = OnceLock::new();
        static EXPERIMENTAL: OnceLock<UpstreamSchema> = OnceLock::new();
        let (cell, flavor) = if experimental {
            (&EXPERIMENTAL, "experimental")
        } else {
            (&STABLE, "stable")
        };
        cell.get_or_init(|| match Self::load(flavor) {
            Ok(schema) => schema,
            Err(err) => panic!("cannot load the upstream schema: {err:#}"),
        })
    }

    fn load(flavor: &str) -> anyhow::Result<Self> {
        let path = upstream_schema_dir()
            .join(flavor)
            .join("codex_app_server_protocol.schemas.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {} (is ../shared present?)", path.display()))?;
        Ok(Self {
            bundle: serde_json::from_str(&text).context("parsing the upstream bundle")?,
            validators: Mutex::new(HashMap::new()),
        })
    }

    /// The JSON pointer of a definition: top-level ones (`InitializeResponse`) or v2 ones.
    pub fn pointer(&self, name: &str) -> Option<String> {
        let definitions = &self.bundle["definitions"];
        if definitions.get(name).is_some() {
            Some(format!("#/definitions/{name}"))
        } else if definitions["v2"].get(name).is_some() {
            Some(format!("#/definitions/v2/{name}"))
        } else {
            None
        }
    }

    /// A definition by name.
    pub fn definition(&self, name: &str) -> Option<&Value> {
        let definitions = &self.bundle["definitions"];
        definitions
            .get(name)
            .or_else(|| definitions["v2"].get(name))
    }

    /// Validates `instance` against the definition called `name`.
    pub fn validate(&self, name: &str, instance: &Value) -> anyhow::Result<()> {
        let validator = self.validator(name)?;
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|error| format!("{} at {}", error, error.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            bail!(
                "{instance} does not match upstream `{name}`:\n  {}",
                errors.join("\n  ")
            )
        }
    }

    fn validator(&self, name: &str) -> anyhow::Result<Arc<jsonschema::Validator>> {
        let mut cache = self
            .validators
            .lock()
            .map_err(|_| anyhow!("validator cache poisoned"))?;
        if let Some(validator) = cache.get(name) {
            return Ok(Arc::clone(validator));
        }
        let pointer = self
            .pointer(name)
            .ok_or_else(|| anyhow!("upstream defines no `{name}`"))?;
        let mut root = json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "$ref": pointer,
        });
        root["definitions"] = self.bundle["definitions"].clone();
        let validator = Arc::new(
            jsonschema::validator_for(&root)
                .map_err(|err| anyhow!("compiling upstream `{name}`: {err}"))?,
        );
        cache.insert(name.to_owned(), Arc::clone(&validator));
        Ok(validator)
    }

    /// The params definition of a method in a union (`ClientRequest`, `ServerNotification`,
    /// `ServerRequest`), e.g. `InitializeParams` for `initialize`.
    pub fn params_type_of(&self, union: &str, method: &str) -> Option<String> {
        let variants = self.definition(union)?["oneOf"].as_array()?;
        let variant = variants
            .iter()
            .find(|variant| variant["properties"]["method"]["enum"][0] == method)?;
        let reference = variant["properties"]["params"]["$ref"].as_str()?;
        Some(reference.rsplit('/').next()?.to_owned())
    }

    /// Validates a result of `method` against upstream's `<Name>Response`.
    pub fn validate_result(&self, method: &str, result: &Value) -> anyhow::Result<()> {
        let params = self
            .params_type_of("ClientRequest", method)
            .ok_or_else(|| anyhow!("upstream has no client method `{method}`"))?;
        let response = params
            .strip_suffix("Params")
            .map(|stem| format!("{stem}Response"))
            .ok_or_else(|| anyhow!("`{params}` does not end in Params"))?;
        self.validate(&response, result)
    }

    /// Validates a server notification (`{method, params, emittedAtMs}`).
    pub fn validate_notification(&self, message: &Value) -> anyhow::Result<()> {
        let emitted = &message["emittedAtMs"];
        if !emitted.is_u64() {
            bail!("notification without an integer emittedAtMs: {message}");
        }
        let mut without_stamp = message.clone();
        if let Some(object) = without_stamp.as_object_mut() {
            object.remove("emittedAtMs");
        }
        self.validate("ServerNotification", &without_stamp)
    }
}
