//! `VARIABLE` lines: the scope Netdata 1.37 chooses, and the bounds.

use super::*;

#[test]
fn variables_go_to_the_scope_netdata_chooses() {
    let h = host("vars");
    let mut s = session(&h);
    // No chart yet: no scope means the host; CHART scope is logged and ignored (Netdata
    // 1.37 carries on, it does not disable the source).
    feed(&mut s, "VARIABLE plain = 1\nVARIABLE CHART lost = 2\nVARIABLE LOCAL lost2 = 2\n", T0).unwrap();
    assert_eq!(h.variable("plain"), Some(1.0));
    assert_eq!((h.variable("lost"), h.variable("lost2")), (None, None));

    feed(&mut s, "CHART a.b\nDIMENSION x\n", T0).unwrap();
    let chart = h.chart("a.b").unwrap();
    feed(
        &mut s,
        "VARIABLE onchart = 3\nVARIABLE CHART c = 4\nVARIABLE LOCAL l = 5\nVARIABLE HOST hv = 6\nVARIABLE GLOBAL g = 7\n",
        T0,
    )
    .unwrap();
    assert_eq!(chart.variable("onchart"), Some(3.0), "no scope with a current chart: the chart");
    assert_eq!(h.variable("onchart"), None);
    assert_eq!((chart.variable("c"), chart.variable("l")), (Some(4.0), Some(5.0)));
    assert_eq!((h.variable("hv"), h.variable("g")), (Some(6.0), Some(7.0)));
    assert_eq!((chart.variable("hv"), chart.variable("g")), (None, None));

    // Inside BEGIN … END too; END clears the chart, so the next plain one is the host's.
    feed(&mut s, "BEGIN a.b\nVARIABLE inside = 8\nSET x = 1\nEND\nVARIABLE after = 9\n", T0).unwrap();
    assert_eq!((chart.variable("inside"), h.variable("after")), (Some(8.0), Some(9.0)));

    // An empty value is ignored; NaN is a value; a name is cleaned like Netdata's.
    let version = h.variables_version();
    feed(&mut s, "VARIABLE HOST hv =\nVARIABLE HOST hv = ''\n", T0).unwrap();
    assert_eq!((h.variable("hv"), h.variables_version()), (Some(6.0), version));
    feed(&mut s, "VARIABLE HOST n = nan\nVARIABLE HOST 'we-ird name' = 1.25\n", T0).unwrap();
    assert!(h.variable("n").is_some_and(f64::is_nan));
    assert_eq!(h.variable("we_ird_name"), Some(1.25));
    assert_eq!(h.variables_version(), version + 2);
    feed(&mut s, "VARIABLE HOST hv = 6\n", T0).unwrap();
    assert_eq!(h.variables_version(), version + 2, "the same value is no change");
    feed(&mut s, "VARIABLE HOST hv = 6.5\n", T0).unwrap();
    assert_eq!(h.variables_version(), version + 3);
}

#[test]
fn variables_are_bounded_per_chart_and_per_host() {
    use crate::rrd::{MAX_CHART_VARIABLES, MAX_HOST_VARIABLES};
    let h = host("vars-bound");
    let mut s = session(&h);
    let mut text = String::new();
    for i in 0..MAX_HOST_VARIABLES + 10 {
        text.push_str(&format!("VARIABLE HOST h{i} = {i}\n"));
    }
    feed(&mut s, &text, T0).unwrap();
    assert_eq!(h.with_variables(|v| v.len()), MAX_HOST_VARIABLES);
    assert_eq!(h.variable(&format!("h{}", MAX_HOST_VARIABLES - 1)), Some((MAX_HOST_VARIABLES - 1) as f64));
    assert_eq!(h.variable(&format!("h{MAX_HOST_VARIABLES}")), None, "refused, not replacing");
    feed(&mut s, "VARIABLE HOST h0 = -1\n", T0).unwrap();
    assert_eq!(h.variable("h0"), Some(-1.0), "a full set still updates what it has");

    let mut text = String::from("CHART a.b\n");
    for i in 0..MAX_CHART_VARIABLES + 10 {
        text.push_str(&format!("VARIABLE CHART c{i} = {i}\n"));
    }
    feed(&mut s, &text, T0).unwrap();
    let chart = h.chart("a.b").unwrap();
    assert_eq!(chart.with_view(|v, _| v.variables().len()), MAX_CHART_VARIABLES);
    assert_eq!(chart.variable(&format!("c{MAX_CHART_VARIABLES}")), None);
    let long = "n".repeat(crate::rrd::MAX_VARIABLE_NAME + 1);
    feed(&mut s, &format!("VARIABLE HOST {long} = 1\n"), T0).unwrap();
    assert_eq!(h.variable(&long), None, "an over-long name is not kept");
}
