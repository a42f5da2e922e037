//! Per-group settings: `[[detector.groups]]` entries that give a set of
//! symbols (SPY is not a small cap) their own rule settings.
//!
//! A group matches by underlying, symbol prefix and asset class (every
//! criterion given must hold) and overrides any per-symbol rule setting. The
//! first matching group wins. Groups are resolved once, at start: each becomes
//! a whole [`DetectorConfig`] (the section's settings with the group's on
//! top), checked like the section itself, so a typo or a value out of range
//! names its key before anything runs. The detector then resolves each symbol
//! to its group once, when the symbol is first seen, and keeps the group's
//! number in the symbol's state, so matching costs nothing per trade.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::config::{DetectorConfig, InvalidDetectorConfig};
use crate::events::AssetClass;

/// Settings that size the shared tables or the groups themselves: they cannot
/// differ from one group to another.
const SECTION_ONLY: [&str; 4] = [
    "max_symbols",
    "max_active_contracts",
    "track_underlying",
    "groups",
];

/// Most groups: a symbol's group number is kept in one byte, and 0 means
/// the section's own settings.
pub const MAX_GROUPS: usize = 254;

/// One `[[detector.groups]]` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GroupConfig {
    /// A name for logs and documentation.
    pub name: String,
    /// Matches a stock in the list and every option contract whose
    /// underlying (OCC root) is in it.
    pub underlyings: Vec<String>,
    /// Matches a symbol starting with this text (`O:SPY`, `BTC`).
    pub prefix: Option<String>,
    /// Matches one asset class (`stock`, `option`, `crypto`).
    pub asset_class: Option<AssetClass>,
    /// The settings that differ for the group, with the keys of `[detector]`.
    pub settings: Map<String, Value>,
}

impl GroupConfig {
    /// True when every criterion the group gives holds for the symbol.
    pub fn matches(&self, symbol: &str, class: AssetClass, underlying: Option<&str>) -> bool {
        let root = underlying.unwrap_or(symbol);
        let by_underlying =
            self.underlyings.is_empty() || self.underlyings.iter().any(|u| u == root);
        let by_prefix = self.prefix.as_deref().is_none_or(|p| symbol.starts_with(p));
        let by_class = self.asset_class.is_none_or(|c| c == class);
        by_underlying && by_prefix && by_class
    }

    fn has_criterion(&self) -> bool {
        !self.underlyings.is_empty() || self.prefix.is_some() || self.asset_class.is_some()
    }
}

/// The section's settings and each group's resolved settings.
#[derive(Debug, Clone)]
pub struct Groups {
    /// Index 0 is the section itself; group `i` is at `i + 1`.
    configs: Vec<DetectorConfig>,
    matchers: Vec<GroupConfig>,
}

impl Groups {
    /// Resolves every group of `base`; the error names the first bad key.
    pub fn resolve(base: &DetectorConfig) -> Result<Groups, InvalidDetectorConfig> {
        if base.groups.len() > MAX_GROUPS {
            return Err(invalid("groups".into(), "a list of at most 254 groups"));
        }
        let mut own = base.clone();
        own.groups = Vec::new();
        let template = serde_json::to_value(&own).unwrap_or(Value::Null);
        let mut configs = vec![own];
        for (i, group) in base.groups.iter().enumerate() {
            configs.push(resolve_one(i, group, &template)?);
        }
        Ok(Groups {
            configs,
            matchers: base.groups.clone(),
        })
    }

    /// The section's settings alone, for a configuration whose groups do not
    /// resolve (the detector warns and runs without them).
    pub fn ungrouped(base: &DetectorConfig) -> Groups {
        let mut own = base.clone();
        own.groups = Vec::new();
        Groups {
            configs: vec![own],
            matchers: Vec::new(),
        }
    }

    /// The number of the first group matching the symbol, 0 for none.
    pub fn index_of(&self, symbol: &str, class: AssetClass, underlying: Option<&str>) -> u8 {
        self.matchers
            .iter()
            .position(|g| g.matches(symbol, class, underlying))
            .and_then(|i| u8::try_from(i + 1).ok())
            .unwrap_or(0)
    }

    /// The settings of group number `index` (0: the section's own).
    pub fn config(&self, index: u8) -> &DetectorConfig {
        self.configs
            .get(usize::from(index))
            .unwrap_or(&self.configs[0])
    }

    /// The section's own settings.
    pub fn base(&self) -> &DetectorConfig {
        &self.configs[0]
    }

    /// True when there are groups to match.
    pub fn any(&self) -> bool {
        !self.matchers.is_empty()
    }
}

fn invalid(field: String, requirement: &'static str) -> InvalidDetectorConfig {
    InvalidDetectorConfig { field, requirement }
}

/// Group `i`'s settings: the section's with the group's overrides on top.
fn resolve_one(
    i: usize,
    group: &GroupConfig,
    template: &Value,
) -> Result<DetectorConfig, InvalidDetectorConfig> {
    let at = format!("groups[{i}]");
    if !group.has_criterion() {
        return Err(invalid(
            at,
            "a group with underlyings, prefix or asset_class to match",
        ));
    }
    let mut merged = template.clone();
    for (key, value) in &group.settings {
        let field = format!("{at}.settings.{key}");
        if SECTION_ONLY.contains(&key.as_str()) {
            return Err(invalid(field, "set in [detector] itself, not per group"));
        }
        let Some(slot) = merged.get_mut(key.as_str()) else {
            return Err(invalid(field, "a known [detector] setting"));
        };
        *slot = value.clone();
    }
    let resolved: DetectorConfig = serde_json::from_value(merged).map_err(|_| {
        // Only the overrides can be of the wrong type; find the first one.
        let key = first_mistyped(group, template).unwrap_or_default();
        invalid(
            format!("{at}.settings.{key}"),
            "of the same type as in [detector]",
        )
    })?;
    resolved.validate_own().map_err(|e| InvalidDetectorConfig {
        field: format!("{at}.settings.{}", e.field),
        requirement: e.requirement,
    })?;
    Ok(resolved)
}

/// The first override that does not deserialise on its own over the template.
fn first_mistyped(group: &GroupConfig, template: &Value) -> Option<String> {
    group.settings.iter().find_map(|(key, value)| {
        let mut one = template.clone();
        *one.get_mut(key.as_str())? = value.clone();
        serde_json::from_value::<DetectorConfig>(one)
            .is_err()
            .then(|| key.clone())
    })
}

#[cfg(test)]
#[path = "groups_tests.rs"]
mod tests;
