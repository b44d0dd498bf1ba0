//! Custom chart and host variables in alarm expressions and in `alarm_variables`.

use super::*;

#[test]
fn custom_chart_and_host_variables_resolve_in_netdata_order() {
    let (hosts, chart) = hosts();
    let host = Arc::clone(hosts.localhost());
    let other = host.chart_define(ChartMeta::new("test", "other").context("ctx.other").family("load"));
    other.dimension(DimensionMeta::new("y"));
    chart.set_variable("limit", 20.0);
    chart.set_variable("x", 99.0); // a dimension of the chart has this name
    chart.set_variable("both", 2.0);
    chart.set_variable("shadow", 11.0); // an alarm of the chart has this name
    host.set_variable("it_limit", 5.0);
    host.set_variable("both", 3.0);
    host.set_variable("ex", 1.0); // the dimension's name
    let calc = |name: &str, on: &str, source: &str| {
        let mut c = config(Kind::Alarm, name, on);
        c.calc = expr(source);
        c.every = Some(1);
        c
    };
    let mut over = calc("over", "test.load", "$x");
    over.warn = expr("$this > $it_limit");
    let configs = vec![
        calc("share", "test.load", "$x * 100 / $limit"),
        calc("host_var", "test.load", "$it_limit"),
        calc("dim_beats_chart_var", "test.load", "$x"),
        calc("dim_name_beats_host_var", "test.load", "$ex"),
        calc("chart_var_beats_host_var", "test.load", "$both"),
        calc("shadow", "test.load", "$shadow"),
        calc("other_chart_var_by_chart", "test.other", "$test.load.limit"),
        calc("other_chart_var_plain", "test.other", "$limit"),
        calc("host_var_elsewhere", "test.other", "$it_limit"),
        over,
    ];
    let h = health(configs);
    collect(&chart, 0..=10, 7);
    collect(&other, 0..=10, 40);
    h.pass(&hosts, T0 + 10);
    let alarms = h.host_alarms("g0");
    let value = |name: &str| alarms.iter().find(|a| a.name == name).map(|a| a.value);
    assert_eq!(value("share"), Some(35.0), "7 × 100 / 20");
    assert_eq!(value("host_var"), Some(5.0));
    assert_eq!(value("dim_beats_chart_var"), Some(7.0), "the dimension, not the chart variable 99");
    assert_eq!(value("dim_name_beats_host_var"), Some(7.0));
    assert_eq!(value("chart_var_beats_host_var"), Some(2.0));
    assert_eq!(value("shadow"), Some(11.0), "chart variables come before the chart's alarms");
    assert_eq!(value("other_chart_var_by_chart"), Some(20.0), "`<chart>.<variable>` at host level");
    assert!(value("other_chart_var_plain").is_some_and(f64::is_nan), "another chart's variable is not plain");
    assert_eq!(value("host_var_elsewhere"), Some(5.0), "host variables are seen from every chart");
    let over = alarms.iter().find(|a| a.name == "over").unwrap();
    assert_eq!((over.value, over.status), (7.0, Status::Warning), "7 > $it_limit (5)");

    // A host variable that changes is seen on the next evaluation.
    host.set_variable("it_limit", 8.0);
    collect(&chart, 11..=11, 7);
    collect(&other, 11..=11, 40);
    h.pass(&hosts, T0 + 11);
    let over = h.host_alarms("g0").into_iter().find(|a| a.name == "over").unwrap();
    assert_eq!(over.status, Status::Clear, "7 > 8 is false");

    // `/api/v1/alarm_variables`.
    let listed = h.chart_variables(&host, "test.load").unwrap();
    let find = |list: &[(String, f64)], name: &str| list.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
    assert_eq!(find(&listed.chart_variables, "limit"), Some(20.0));
    assert_eq!(find(&listed.chart_variables, "x"), Some(7.0), "the dimension is listed first");
    assert_eq!(find(&listed.family_variables, "test.load.limit"), Some(20.0));
    assert_eq!(find(&listed.host_variables, "test.load.limit"), Some(20.0));
    assert_eq!(find(&listed.host_variables, "it_limit"), Some(8.0));
    assert_eq!(find(&listed.host_variables, "both"), Some(3.0));
    let host_names: Vec<&str> = listed.host_variables.iter().map(|(n, _)| n.as_str()).collect();
    let custom_at = host_names.iter().position(|n| *n == "it_limit").unwrap();
    assert!(
        host_names[..custom_at].iter().all(|n| n.contains('.')),
        "host custom variables come after `chart.var`: {host_names:?}"
    );
    assert!(find(&listed.chart_variables, "it_limit").is_none());
}
