//! Custom variables: numbers a plugin, a streaming child or a collector attaches to a chart
//! or to a host (`VARIABLE [CHART|HOST] name = value`, protocol.md §2.2) for health
//! expressions to read (`$name`, §9.1).
//!
//! A set is bounded (a chart holds at most [`MAX_CHART_VARIABLES`], a host
//! [`MAX_HOST_VARIABLES`]); a new name past the bound is refused, and the owner logs that
//! once. Names are cleaned the way Netdata cleans them (every character other than a letter,
//! a digit, `.` or `_` becomes `_`, so that an expression can name them) and are at most
//! [`MAX_VARIABLE_NAME`] bytes. Values are doubles; NaN is a value like any other.

/// Custom variables one chart keeps; more are refused.
pub const MAX_CHART_VARIABLES: usize = 64;
/// Custom variables one host keeps; more are refused.
pub const MAX_HOST_VARIABLES: usize = 256;
/// The longest variable name kept, in bytes (Netdata's are a few dozen).
pub const MAX_VARIABLE_NAME: usize = 128;

/// What [`Variables::set`] did.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum VariableSet {
    /// A new variable.
    Added,
    /// An existing variable got a different value.
    Changed,
    /// An existing variable already had this value (NaN counts as equal to NaN).
    Unchanged,
    /// The set is full: the new name was not kept.
    Full,
    /// The name is empty or longer than [`MAX_VARIABLE_NAME`].
    BadName,
}

impl VariableSet {
    /// Whether the set now differs from before.
    pub fn changed(self) -> bool {
        matches!(self, VariableSet::Added | VariableSet::Changed)
    }
}

/// A bounded set of named doubles, in the order they were first set.
#[derive(Clone, Debug, Default)]
pub struct Variables {
    list: Vec<(Box<str>, f64)>,
    /// A refusal was already logged (one log line per owner).
    refusal_logged: bool,
}

impl Variables {
    /// Sets `name` (cleaned, see the module) to `value`, keeping at most `limit` variables.
    pub fn set(&mut self, name: &str, value: f64, limit: usize) -> VariableSet {
        if name.is_empty() || name.len() > MAX_VARIABLE_NAME {
            return VariableSet::BadName;
        }
        let clean = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '_';
        let found = if name.chars().all(clean) {
            self.position(name)
        } else {
            let fixed: String = name.chars().map(|c| if clean(c) { c } else { '_' }).collect();
            return self.set_clean(fixed, value, limit);
        };
        match found {
            Some(i) => Self::update(&mut self.list[i].1, value),
            None => self.set_clean(name.to_owned(), value, limit),
        }
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.position(name).map(|i| self.list[i].1)
    }

    /// Every variable, in the order they were first set.
    pub fn iter(&self) -> impl Iterator<Item = (&str, f64)> + '_ {
        self.list.iter().map(|(n, v)| (&**n, *v))
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// True the first time it is called after a refusal: the owner logs then, and only then.
    pub fn first_refusal(&mut self) -> bool {
        !std::mem::replace(&mut self.refusal_logged, true)
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.list.iter().position(|(n, _)| &**n == name)
    }

    fn set_clean(&mut self, name: String, value: f64, limit: usize) -> VariableSet {
        if let Some(i) = self.position(&name) {
            return Self::update(&mut self.list[i].1, value);
        }
        if self.list.len() >= limit {
            return VariableSet::Full;
        }
        self.list.push((name.into_boxed_str(), value));
        VariableSet::Added
    }

    fn update(slot: &mut f64, value: f64) -> VariableSet {
        let same = *slot == value || (slot.is_nan() && value.is_nan());
        if same {
            return VariableSet::Unchanged;
        }
        *slot = value;
        VariableSet::Changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_changes_only_on_a_different_value() {
        let mut v = Variables::default();
        assert_eq!(v.set("max", 1.5, 4), VariableSet::Added);
        assert_eq!(v.set("max", 1.5, 4), VariableSet::Unchanged);
        assert_eq!(v.set("max", 2.0, 4), VariableSet::Changed);
        assert_eq!(v.set("max", f64::NAN, 4), VariableSet::Changed);
        assert_eq!(v.set("max", f64::NAN, 4), VariableSet::Unchanged, "NaN stays NaN");
        assert!(v.get("max").is_some_and(f64::is_nan));
        assert_eq!(v.get("min"), None);
    }

    #[test]
    fn names_are_cleaned_like_netdata_and_bounded() {
        let mut v = Variables::default();
        assert_eq!(v.set("a-b c", 1.0, 4), VariableSet::Added);
        assert_eq!(v.get("a_b_c"), Some(1.0));
        assert_eq!(v.set("a_b_c", 2.0, 4), VariableSet::Changed, "the same variable");
        assert_eq!(v.set("x.y_1", 3.0, 4), VariableSet::Added, "dots and underscores stay");
        assert_eq!(v.set("", 1.0, 4), VariableSet::BadName);
        assert_eq!(v.set(&"n".repeat(MAX_VARIABLE_NAME + 1), 1.0, 4), VariableSet::BadName);
        assert_eq!(v.iter().map(|(n, _)| n).collect::<Vec<_>>(), ["a_b_c", "x.y_1"]);
    }

    #[test]
    fn a_full_set_refuses_new_names_but_updates_known_ones() {
        let mut v = Variables::default();
        for i in 0..3 {
            assert_eq!(v.set(&format!("v{i}"), 0.0, 3), VariableSet::Added);
        }
        assert_eq!(v.set("v3", 0.0, 3), VariableSet::Full);
        assert_eq!(v.set("v1", 9.0, 3), VariableSet::Changed);
        assert_eq!(v.len(), 3);
        assert!(v.first_refusal());
        assert!(!v.first_refusal(), "logged once");
    }
}
