//! One line of the protocol as a typed command (protocol.md §2.2).
//!
//! [`Command::parse`] checks arity and converts numbers; what a command *means* for a host
//! (current chart, defaults that depend on the source) is the business of
//! [`super::Session`]. Words are borrowed from the line; only a multi-word `LABEL` value is
//! joined into a new string.

use std::borrow::Cow;

use super::number::{c_integer, decimal, double, unsigned};
use super::words::Words;
use super::{Action, Cause, Error};
use crate::rrd::{Algorithm, ChartOptions, ChartType, DimensionOptions};

/// A parsed protocol line.
#[derive(Debug, Clone, PartialEq)]
pub enum Command<'a> {
    Chart(ChartDef<'a>),
    Dimension(DimensionDef<'a>),
    ChartDefinitionEnd {
        first_entry_t: i64,
        last_entry_t: i64,
        child_now_t: Option<i64>,
    },
    /// `BEGIN type.id [microseconds]`; `usec` 0 when absent.
    Begin {
        chart: &'a str,
        usec: u64,
    },
    /// `SET dim = value`; `None`: the dimension is not updated this time.
    Set {
        dim: &'a str,
        value: Option<i64>,
    },
    End,
    Flush,
    Disable,
    /// `VARIABLE [scope] name = value`; `None` value when empty (ignored).
    Variable {
        scope: Option<VariableScope>,
        name: &'a str,
        value: Option<f64>,
    },
    Label {
        name: &'a str,
        source: u32,
        value: Cow<'a, str>,
    },
    Overwrite,
    Clabel {
        name: &'a str,
        value: &'a str,
        source: u32,
    },
    ClabelCommit,
    Function {
        global: bool,
        name: &'a str,
        timeout_s: u32,
        help: &'a str,
    },
    /// Starts raw capture of the lines up to `FUNCTION_RESULT_END`.
    FunctionResultBegin {
        transaction: &'a str,
        code: i64,
        content_type: &'a str,
        expires: i64,
    },
    FunctionResultEnd,
    /// `RBEGIN [chart [start end [child_now]]]`; `chart` `None` means the current chart.
    ReplayBegin {
        chart: Option<&'a str>,
        start_t: i64,
        end_t: i64,
        child_now_t: Option<i64>,
    },
    ReplaySet {
        dim: &'a str,
        value: f64,
        flags: &'a str,
    },
    ReplayDimensionState {
        dim: &'a str,
        last_collected_ut: u64,
        last_collected_value: i64,
        last_calculated_value: f64,
        last_stored_value: f64,
    },
    ReplayChartState {
        last_collected_ut: u64,
        last_updated_ut: u64,
    },
    ReplayEnd {
        update_every: u32,
        first_entry_t: i64,
        last_entry_t: i64,
        start_streaming: bool,
        after: i64,
        before: i64,
        child_now_t: Option<i64>,
    },
    ClaimedId {
        machine_guid: &'a str,
        claim_id: Option<&'a str>,
    },
}

/// Scope of a `VARIABLE` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariableScope {
    /// `GLOBAL` or `HOST`.
    Host,
    /// `LOCAL` or `CHART`.
    Chart,
}

/// The words of a `CHART` line, typed; defaults that depend on the source are left `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartDef<'a> {
    /// Part of the id before the first `.`.
    pub type_: &'a str,
    /// Part of the id after the first `.`.
    pub id: &'a str,
    /// The name after `type.` (stripped when given); `None` when absent, empty, `NULL`,
    /// `(NULL)` or equal to the id.
    pub name: Option<&'a str>,
    pub title: &'a str,
    pub units: Option<&'a str>,
    pub family: Option<&'a str>,
    pub context: Option<&'a str>,
    pub chart_type: ChartType,
    pub priority: i64,
    /// 0: the source's default.
    pub update_every: u32,
    /// `None` when absent or empty.
    pub options: Option<ChartOptions>,
    pub plugin: Option<&'a str>,
    pub module: Option<&'a str>,
}

impl ChartDef<'_> {
    /// `type.id`.
    pub fn full_id(&self) -> String {
        format!("{}.{}", self.type_, self.id)
    }
}

/// The words of a `DIMENSION` line, typed and defaulted.
#[derive(Debug, Clone, PartialEq)]
pub struct DimensionDef<'a> {
    pub id: &'a str,
    /// Defaults to the id.
    pub name: &'a str,
    pub algorithm: Algorithm,
    /// Never 0 (0 becomes 1).
    pub multiplier: i64,
    /// Never 0 (0 becomes 1).
    pub divisor: i64,
    pub options: DimensionOptions,
}

impl<'a> Command<'a> {
    /// Parses the words of one non-blank line.
    pub fn parse(w: &Words<'a>) -> Result<Command<'a>, Error> {
        let Some(keyword) = w.keyword() else {
            return Err(Error::stop("empty line"));
        };
        Ok(match keyword {
            "CHART" => Command::Chart(chart(w)?),
            "DIMENSION" => Command::Dimension(dimension(w)?),
            "CHART_DEFINITION_END" => Command::ChartDefinitionEnd {
                first_entry_t: w.get(1).map_or(0, decimal),
                last_entry_t: w.get(2).map_or(0, decimal),
                child_now_t: w.non_empty(3).map(decimal),
            },
            "BEGIN" => Command::Begin {
                chart: required(w, 1, "BEGIN", "chart id", Action::Disable)?,
                usec: w.get(2).map_or(0, unsigned),
            },
            "SET" => Command::Set {
                dim: required(w, 1, "SET", "dimension id", Action::Disable)
                    .map_err(|e| e.because(Cause::SetWithoutDimension))?,
                value: w.non_empty(2).map(c_integer),
            },
            "END" => Command::End,
            "FLUSH" => Command::Flush,
            "DISABLE" => Command::Disable,
            "VARIABLE" => variable(w)?,
            "LABEL" => {
                let name = required(w, 1, "LABEL", "name", Action::Disable)?;
                let source = required(w, 2, "LABEL", "source", Action::Disable)?;
                present(w, 3, "LABEL", "value", Action::Disable)?;
                let value = if w.len() > 4 {
                    Cow::Owned(w.iter().skip(3).collect::<Vec<_>>().join(" "))
                } else {
                    Cow::Borrowed(w.get(3).unwrap_or(""))
                };
                Command::Label { name, source: label_source(source), value }
            }
            "OVERWRITE" => Command::Overwrite,
            "CLABEL" => Command::Clabel {
                name: required(w, 1, "CLABEL", "name", Action::Stop)?,
                value: present(w, 2, "CLABEL", "value", Action::Stop)?,
                source: label_source(required(w, 3, "CLABEL", "source", Action::Stop)?),
            },
            "CLABEL_COMMIT" => Command::ClabelCommit,
            "FUNCTION" => {
                let global = w.get(1) == Some("GLOBAL");
                let at = if global { 2 } else { 1 };
                let name = required(w, at, "FUNCTION", "name", Action::Stop)?;
                let timeout = decimal(required(w, at + 1, "FUNCTION", "timeout", Action::Stop)?);
                let help = required(w, at + 2, "FUNCTION", "help", Action::Stop)?;
                let timeout_s = if timeout <= 0 { 10 } else { timeout.min(i64::from(u32::MAX)) as u32 };
                Command::Function { global, name, timeout_s, help }
            }
            "FUNCTION_RESULT_BEGIN" => Command::FunctionResultBegin {
                transaction: w.get(1).unwrap_or(""),
                code: w.get(2).map_or(0, decimal),
                content_type: w.get(3).unwrap_or(""),
                expires: w.get(4).map_or(0, decimal),
            },
            "FUNCTION_RESULT_END" => Command::FunctionResultEnd,
            "RBEGIN" => Command::ReplayBegin {
                chart: w.non_empty(1),
                start_t: w.get(2).map_or(0, decimal),
                end_t: w.get(3).map_or(0, decimal),
                child_now_t: w.non_empty(4).map(decimal),
            },
            "RSET" => Command::ReplaySet {
                dim: required(w, 1, "RSET", "dimension id", Action::Disable)?,
                value: w.get(2).map_or(f64::NAN, double),
                flags: w.get(3).unwrap_or(""),
            },
            "RDSTATE" => Command::ReplayDimensionState {
                dim: required(w, 1, "RDSTATE", "dimension id", Action::Disable)?,
                last_collected_ut: w.get(2).map_or(0, unsigned),
                last_collected_value: w.get(3).map_or(0, c_integer),
                last_calculated_value: w.get(4).map_or(0.0, double),
                last_stored_value: w.get(5).map_or(f64::NAN, double),
            },
            "RSSTATE" => Command::ReplayChartState {
                last_collected_ut: w.get(1).map_or(0, unsigned),
                last_updated_ut: w.get(2).map_or(0, unsigned),
            },
            "REND" => {
                if w.len() < 7 {
                    return Err(Error::stop(format!("REND needs 6 arguments, got {}", w.len() - 1)));
                }
                let word = |i| w.get(i).unwrap_or("");
                Command::ReplayEnd {
                    update_every: decimal(word(1)).clamp(0, i64::from(u32::MAX)) as u32,
                    first_entry_t: decimal(word(2)),
                    last_entry_t: decimal(word(3)),
                    start_streaming: word(4) == "true",
                    after: decimal(word(5)),
                    before: decimal(word(6)),
                    child_now_t: w.non_empty(7).map(decimal),
                }
            }
            "CLAIMED_ID" => {
                let machine_guid = required(w, 1, "CLAIMED_ID", "machine GUID", Action::Stop)?;
                let claim = required(w, 2, "CLAIMED_ID", "claim id", Action::Stop)?;
                if !is_guid(machine_guid) {
                    return Err(Error::stop(format!("CLAIMED_ID: malformed machine GUID '{machine_guid}'")));
                }
                let claim_id = match claim {
                    "NULL" => None,
                    c if is_guid(c) => Some(c),
                    c => return Err(Error::stop(format!("CLAIMED_ID: malformed claim id '{c}'"))),
                };
                Command::ClaimedId { machine_guid, claim_id }
            }
            other => {
                let word = printable(other);
                let message = format!("unknown keyword '{word}'");
                return Err(Error::stop(message).because(Cause::UnknownKeyword(word)));
            }
        })
    }
}

fn chart<'a>(w: &Words<'a>) -> Result<ChartDef<'a>, Error> {
    let full = required(w, 1, "CHART", "type.id", Action::Disable)?;
    let Some((type_, id)) = full.split_once('.') else {
        return Err(Error::disable(format!("CHART '{}' has no '.' between type and id", printable(full))));
    };
    if type_.is_empty() || id.is_empty() {
        return Err(Error::disable(format!("CHART '{}': empty type or id", printable(full))));
    }
    let name = w.non_empty(2).map(|n| n.strip_prefix(type_).and_then(|r| r.strip_prefix('.')).unwrap_or(n));
    let name = name.filter(|n| !n.is_empty() && *n != "NULL" && *n != "(NULL)" && *n != id && *n != full);
    Ok(ChartDef {
        type_,
        id,
        name,
        title: w.get(3).unwrap_or(""),
        units: w.non_empty(4),
        family: w.non_empty(5),
        context: w.non_empty(6),
        chart_type: ChartType::parse(w.get(7).unwrap_or("")),
        priority: w.non_empty(8).map_or(1000, decimal),
        update_every: w.get(9).map_or(0, decimal).clamp(0, 86_400) as u32,
        options: w.non_empty(10).map(ChartOptions::parse),
        plugin: w.non_empty(11),
        module: w.non_empty(12),
    })
}

fn dimension<'a>(w: &Words<'a>) -> Result<DimensionDef<'a>, Error> {
    let id = required(w, 1, "DIMENSION", "id", Action::Stop)?;
    let scale = |i| match w.non_empty(i).map_or(1, c_integer) {
        0 => 1,
        v => v,
    };
    Ok(DimensionDef {
        id,
        name: w.non_empty(2).unwrap_or(id),
        algorithm: Algorithm::parse(w.get(3).unwrap_or("")),
        multiplier: scale(4),
        divisor: scale(5),
        options: DimensionOptions::parse(w.get(6).unwrap_or("")),
    })
}

fn variable<'a>(w: &Words<'a>) -> Result<Command<'a>, Error> {
    let (scope, at) = match w.get(1) {
        Some("GLOBAL" | "HOST") => (Some(VariableScope::Host), 2),
        Some("LOCAL" | "CHART") => (Some(VariableScope::Chart), 2),
        _ => (None, 1),
    };
    let name = required(w, at, "VARIABLE", "name", Action::Stop)?;
    Ok(Command::Variable { scope, name, value: w.non_empty(at + 1).map(double) })
}

fn required<'a>(
    w: &Words<'a>,
    i: usize,
    keyword: &str,
    what: &str,
    action: Action,
) -> Result<&'a str, Error> {
    w.non_empty(i).ok_or_else(|| Error {
        action,
        message: format!("{keyword} without a {what}"),
        cause: Cause::Other,
    })
}

/// Like [`required`], but the word may be empty (`""`): a label's value may be empty, and
/// `protocol::emit` writes it so (found by tests/properties.rs).
fn present<'a>(w: &Words<'a>, i: usize, keyword: &str, what: &str, action: Action) -> Result<&'a str, Error> {
    w.get(i).ok_or_else(|| Error {
        action,
        message: format!("{keyword} without a {what}"),
        cause: Cause::Other,
    })
}

fn label_source(word: &str) -> u32 {
    decimal(word).clamp(0, i64::from(u32::MAX)) as u32
}

fn is_guid(s: &str) -> bool {
    crate::config::keys::is_uuid(s)
}

/// A word for a log line: at most 64 characters, control characters replaced.
pub(crate) fn printable(word: &str) -> String {
    word.chars().take(64).map(|c| if c.is_control() { '?' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Command<'_>, Error> {
        // Leak-free: the words borrow `line`, which outlives the call in each test.
        let w = Words::split(line);
        Command::parse(&w)
    }

    fn action(line: &str) -> Action {
        parse(line).expect_err(line).action
    }

    #[test]
    fn chart_with_every_word() {
        let Command::Chart(c) = parse(
            r#"CHART net.eth0 "net.wan" "Traffic" "kilobits/s" "eth0" "net.net" area 3000 5 "detail hidden" "proc.plugin" "/proc/net/dev""#,
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!((c.type_, c.id, c.name), ("net", "eth0", Some("wan")));
        assert_eq!(
            (c.title, c.units, c.family, c.context),
            ("Traffic", Some("kilobits/s"), Some("eth0"), Some("net.net"))
        );
        assert_eq!((c.chart_type, c.priority, c.update_every), (ChartType::Area, 3000, 5));
        let o = c.options.unwrap();
        assert!(o.detail && o.hidden && !o.obsolete);
        assert_eq!((c.plugin, c.module), (Some("proc.plugin"), Some("/proc/net/dev")));
        assert_eq!(c.full_id(), "net.eth0");
    }

    #[test]
    fn chart_defaults_and_null_names() {
        for name in ["", "''", "NULL", "(NULL)", "eth0", "net.eth0"] {
            let line = format!("CHART net.eth0 {name}");
            let Command::Chart(c) = parse(&line).unwrap() else { panic!() };
            assert_eq!(c.name, None, "{line}");
            assert_eq!(
                (c.title, c.units, c.chart_type, c.priority, c.update_every),
                ("", None, ChartType::Line, 1000, 0)
            );
            assert_eq!(c.options, None);
        }
        let Command::Chart(c) = parse("CHART a.b.c x pie 'u' '' '' bogus abc -3").unwrap() else { panic!() };
        assert_eq!((c.type_, c.id, c.name), ("a", "b.c", Some("x")));
        assert_eq!((c.chart_type, c.priority, c.update_every, c.family), (ChartType::Line, 0, 0, None));
    }

    #[test]
    fn chart_without_a_dot_disables() {
        assert_eq!(action("CHART nodot"), Action::Disable);
        assert_eq!(action("CHART"), Action::Disable);
        assert_eq!(action("CHART .x"), Action::Disable);
        assert_eq!(action("CHART x."), Action::Disable);
    }

    #[test]
    fn dimension_defaults_and_c_numbers() {
        let Command::Dimension(d) = parse("DIMENSION rx").unwrap() else { panic!() };
        assert_eq!(
            (d.id, d.name, d.algorithm, d.multiplier, d.divisor),
            ("rx", "rx", Algorithm::Absolute, 1, 1)
        );
        let Command::Dimension(d) =
            parse("DIMENSION rx received incremental 0x10 010 'hidden noreset'").unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (d.name, d.algorithm, d.multiplier, d.divisor),
            ("received", Algorithm::Incremental, 16, 8)
        );
        assert!(d.options.hidden && d.options.noreset && !d.options.obsolete);
        let Command::Dimension(d) = parse("DIMENSION tx '' bogus 0 -8").unwrap() else { panic!() };
        assert_eq!((d.name, d.algorithm, d.multiplier, d.divisor), ("tx", Algorithm::Absolute, 1, -8));
        assert_eq!(action("DIMENSION"), Action::Stop);
    }

    #[test]
    fn begin_set_end_flush_disable() {
        assert_eq!(parse("BEGIN a.b").unwrap(), Command::Begin { chart: "a.b", usec: 0 });
        assert_eq!(parse("BEGIN a.b 1000123").unwrap(), Command::Begin { chart: "a.b", usec: 1_000_123 });
        assert_eq!(parse("BEGIN a.b 010").unwrap(), Command::Begin { chart: "a.b", usec: 10 }, "decimal");
        assert_eq!(action("BEGIN"), Action::Disable);
        assert_eq!(parse("SET x = 010").unwrap(), Command::Set { dim: "x", value: Some(8) });
        assert_eq!(parse("SET x=0x10").unwrap(), Command::Set { dim: "x", value: Some(16) });
        assert_eq!(parse("SET x = -12.7").unwrap(), Command::Set { dim: "x", value: Some(-12) });
        assert_eq!(parse("SET x =").unwrap(), Command::Set { dim: "x", value: None });
        assert_eq!(parse("SET x = ''").unwrap(), Command::Set { dim: "x", value: None });
        assert_eq!(action("SET"), Action::Disable);
        assert_eq!(parse("END").unwrap(), Command::End);
        assert_eq!(parse("FLUSH").unwrap(), Command::Flush);
        assert_eq!(parse("DISABLE").unwrap(), Command::Disable);
    }

    #[test]
    fn variables() {
        assert_eq!(
            parse("VARIABLE CHART max = 1.5").unwrap(),
            Command::Variable { scope: Some(VariableScope::Chart), name: "max", value: Some(1.5) }
        );
        assert_eq!(
            parse("VARIABLE GLOBAL x = 2").unwrap(),
            Command::Variable { scope: Some(VariableScope::Host), name: "x", value: Some(2.0) }
        );
        assert_eq!(parse("VARIABLE y =").unwrap(), Command::Variable { scope: None, name: "y", value: None });
        let Command::Variable { value: Some(v), .. } = parse("VARIABLE HOST n = NAN").unwrap() else {
            panic!()
        };
        assert!(v.is_nan());
        assert_eq!(action("VARIABLE"), Action::Stop);
        assert_eq!(action("VARIABLE LOCAL"), Action::Stop);
    }

    #[test]
    fn labels() {
        assert_eq!(
            parse(r#"LABEL "room" = 2 "kitchen""#).unwrap(),
            Command::Label { name: "room", source: 2, value: Cow::Borrowed("kitchen") }
        );
        assert_eq!(
            parse("LABEL note 1 the  quick fox").unwrap(),
            Command::Label { name: "note", source: 1, value: Cow::Owned("the quick fox".into()) }
        );
        assert_eq!(action("LABEL room 2"), Action::Disable);
        assert_eq!(action("LABEL"), Action::Disable);
        assert_eq!(parse("OVERWRITE labels").unwrap(), Command::Overwrite);
        assert_eq!(
            parse(r#"CLABEL "a" "b c" 536870913"#).unwrap(),
            Command::Clabel { name: "a", value: "b c", source: 536_870_913 }
        );
        assert_eq!(action("CLABEL a b"), Action::Stop);
        assert_eq!(parse("CLABEL_COMMIT").unwrap(), Command::ClabelCommit);
    }

    #[test]
    fn functions() {
        assert_eq!(
            parse(r#"FUNCTION GLOBAL "processes" 0 "top""#).unwrap(),
            Command::Function { global: true, name: "processes", timeout_s: 10, help: "top" }
        );
        assert_eq!(
            parse(r#"FUNCTION ps 30 "help me""#).unwrap(),
            Command::Function { global: false, name: "ps", timeout_s: 30, help: "help me" }
        );
        assert_eq!(action("FUNCTION ps 30"), Action::Stop);
        assert_eq!(
            parse(r#"FUNCTION_RESULT_BEGIN tx 200 "application/json" 1700000000"#).unwrap(),
            Command::FunctionResultBegin {
                transaction: "tx",
                code: 200,
                content_type: "application/json",
                expires: 1_700_000_000
            }
        );
    }

    #[test]
    fn replication_keywords() {
        assert_eq!(
            parse("CHART_DEFINITION_END 100 200 300").unwrap(),
            Command::ChartDefinitionEnd { first_entry_t: 100, last_entry_t: 200, child_now_t: Some(300) }
        );
        assert_eq!(
            parse("RBEGIN '' 10 20").unwrap(),
            Command::ReplayBegin { chart: None, start_t: 10, end_t: 20, child_now_t: None }
        );
        let Command::ReplaySet { dim, value, flags } = parse("RSET d NAN E").unwrap() else { panic!() };
        assert!(dim == "d" && value.is_nan() && flags == "E");
        assert_eq!(
            parse("RSSTATE 5000000 4000000").unwrap(),
            Command::ReplayChartState { last_collected_ut: 5_000_000, last_updated_ut: 4_000_000 }
        );
        assert!(matches!(
            parse("RDSTATE d 1 010 2.5 3").unwrap(),
            Command::ReplayDimensionState { last_collected_value: 8, last_calculated_value: 2.5, .. }
        ));
        assert_eq!(
            parse("REND 1 100 200 true 150 200 210").unwrap(),
            Command::ReplayEnd {
                update_every: 1,
                first_entry_t: 100,
                last_entry_t: 200,
                start_streaming: true,
                after: 150,
                before: 200,
                child_now_t: Some(210)
            }
        );
        assert_eq!(action("REND 1 100 200 true 150"), Action::Stop);
    }

    #[test]
    fn claimed_id() {
        let g = "11111111-2222-3333-4444-555555555555";
        assert_eq!(
            parse(&format!("CLAIMED_ID {g} NULL")).unwrap(),
            Command::ClaimedId { machine_guid: g, claim_id: None }
        );
        assert!(matches!(
            parse(&format!("CLAIMED_ID {g} {g}")).unwrap(),
            Command::ClaimedId { claim_id: Some(_), .. }
        ));
        assert_eq!(action("CLAIMED_ID nope NULL"), Action::Stop);
        assert_eq!(action(&format!("CLAIMED_ID {g} bad")), Action::Stop);
    }

    #[test]
    fn unknown_keywords_are_case_sensitive_errors() {
        assert_eq!(action("begin a.b"), Action::Stop);
        assert_eq!(action("HELLO"), Action::Stop);
        assert_eq!(action("BEGIN2 a.b"), Action::Stop, "not in 1.37");
    }

    /// tests/properties.rs found a chart label with an empty value, as `protocol::emit`
    /// writes it (`CLABEL "name" "" 1`), refused and the source stopped; a host label
    /// likewise. An empty value is a value; a missing one is still an error.
    #[test]
    fn label_with_an_empty_value_is_a_label() {
        let Command::Clabel { name, value, source } = parse("CLABEL \"k\" \"\" 1").unwrap() else { panic!() };
        assert_eq!((name, value, source), ("k", "", 1));
        let Command::Label { name, value, source } = parse("LABEL \"k\" = 2 \"\"").unwrap() else { panic!() };
        assert_eq!((name, value.as_ref(), source), ("k", "", 2));
        assert_eq!(action("CLABEL k"), Action::Stop);
        assert_eq!(action("LABEL k = 1"), Action::Disable);
        assert_eq!(action("CLABEL \"\" v 1"), Action::Stop, "the name is still required");
    }
}
