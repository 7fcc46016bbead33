//! Small serde adapters for leniency the protocol promises clients.

use serde::{Deserialize, Deserializer};

/// Deserializes `null` as the type's default, so an explicit `null` on an optional field with a
/// default (`"experimentalApi": null`) is accepted like an absent one.
pub(crate) fn null_as_default<'de, D, T>(de: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(de)?.unwrap_or_default())
}
