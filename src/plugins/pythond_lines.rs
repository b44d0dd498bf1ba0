//! The lines Netdata 1.37's `python.d.plugin` prints (written here from the formats of its
//! `bases/charts.py`: quoted ids, empty option words, `CLABEL` sources `0` and `1`, the
//! keep-alive empty lines, `obsolete` charts and dimensions, `VARIABLE CHART`), fed to the
//! session a plugin's output goes through, with the state Netdata gives them.

use std::sync::Arc;

use crate::protocol::{Action, Error, Limits, Session, Trust};
use crate::rrd::{Algorithm, ChartType, Host, HostSettings};

const T0: u64 = 1_700_000_000_000_000;
const SEC: u64 = 1_000_000;

fn feed(s: &mut Session, text: &str, now: u64) -> Result<(), Error> {
    for line in text.split('\n') {
        s.line(line.as_bytes(), now)?;
    }
    Ok(())
}

/// What python.d prints when the `fail2ban` job `local` starts (jails `sshd` and `web`): the
/// runtime chart, then each chart with its labels and dimensions, and a first iteration.
const CREATE: &str = "\
CHART netdata.runtime_fail2ban_local '' 'Execution time' 'ms' 'python.d' netdata.pythond_runtime line 145000 1 '' 'python.d.plugin' 'fail2ban'
CLABEL '_collect_job' 'local' '1'
CLABEL_COMMIT
DIMENSION run_time 'run time' absolute 1 1

CHART fail2ban_local.jails_bans '' 'Bans' 'bans/s' 'bans' 'fail2ban.bans' line 60001 1 '' 'python.d.plugin' 'fail2ban'
CLABEL '_collect_job' 'local' '0'
CLABEL_COMMIT
DIMENSION 'sshd' 'sshd' incremental 1 1 ' '
DIMENSION 'web' 'web' incremental 1 1 'hidden '
VARIABLE CHART 'jails' = 2

CHART fail2ban_local.jails_banned_ips '' 'Banned IP addresses (since the last restart of netdata)' 'ips' 'banned ips' 'fail2ban.banned_ips' line 60002 1 '' 'python.d.plugin' 'fail2ban'
CLABEL '_collect_job' 'local' '0'
CLABEL_COMMIT
DIMENSION 'sshd_in_jail' 'sshd' absolute 1 1 ' '
DIMENSION 'web_in_jail' 'web' absolute 1 1 ' '

";

fn iteration(k: u64) -> String {
    let since = if k == 0 { 0 } else { SEC };
    format!(
        "BEGIN fail2ban_local.jails_bans {since}\nSET 'sshd' = {}\nSET 'web' = 0\nVARIABLE CHART 'jails' = 2\nEND\n\n\
         BEGIN fail2ban_local.jails_banned_ips {since}\nSET 'sshd_in_jail' = {k}\nSET 'web_in_jail' = 0\nEND\n\n\
         BEGIN netdata.runtime_fail2ban_local {since}\nSET run_time = 1\nEND\n\n\n",
        3 * k
    )
}

#[test]
fn python_d_charts_are_defined_as_netdata_defines_them() {
    let host = Arc::new(Host::new("guid-py", "py", HostSettings { history: 60, ..HostSettings::default() }));
    let mut s = Session::new(Arc::clone(&host), "python.d.plugin", 1, Trust::Measured, Limits::PLUGIN);
    feed(&mut s, CREATE, T0).unwrap();
    for k in 0..6 {
        feed(&mut s, &iteration(k), T0 + k * SEC).unwrap();
    }
    assert_eq!(s.collections(), 18);

    let bans = host.chart("fail2ban_local.jails_bans").expect("the chart id is <module>_<job>.<chart>");
    let m = bans.meta();
    assert_eq!(
        (m.name.as_str(), m.title.as_str(), m.units.as_str()),
        ("fail2ban_local.jails_bans", "Bans", "bans/s")
    );
    assert_eq!((m.family.as_str(), m.context.as_str()), ("bans", "fail2ban.bans"));
    assert_eq!((m.chart_type, m.priority, m.update_every), (ChartType::Line, 60001, 1));
    assert_eq!((m.plugin.as_str(), m.module.as_str()), ("python.d.plugin", "fail2ban"));
    assert!(!m.options.hidden && !m.options.obsolete, "'' is no option");
    let label = |name: &str| m.labels.iter().find(|l| l.name == name).map(|l| l.value.clone());
    assert_eq!(label("_collect_job").as_deref(), Some("local"));
    assert_eq!(label("_collect_plugin").as_deref(), Some("python.d.plugin"));
    assert_eq!(label("_collect_module").as_deref(), Some("fail2ban"));
    assert_eq!(bans.variable("jails"), Some(2.0));

    let dims = bans.dimensions();
    let ids: Vec<(&str, &str)> = dims.iter().map(|d| (d.id.as_str(), d.name.as_str())).collect();
    assert_eq!(ids, [("sshd", "sshd"), ("web", "web")], "quotes are not part of the ids");
    assert_eq!(dims[0].algorithm, Algorithm::Incremental);
    assert!(!dims[0].options.hidden, "' ' is no option");
    assert!(dims[1].options.hidden && !dims[1].options.obsolete);

    // 3 bans a second. The first collection is at T0 + 0.5 s (aligned, .500000) and stores
    // nothing; the second's increment of 3 is split at the boundary T0 + 1 s: half (1.5) is
    // stored there, half carried; from then on every second holds 1.5 + 1.5 = 3/s.
    let points = bans.query(0, 0, i64::MAX);
    let values: Vec<f64> = points.iter().filter_map(|p| p.value).collect();
    assert_eq!(values.len(), 5, "{points:?}");
    assert!((values[0] - 1.5).abs() < 1e-6, "{values:?}");
    assert!(values[1..].iter().all(|v| (v - 3.0).abs() < 1e-6), "{values:?}");

    let ips = host.chart("fail2ban_local.jails_banned_ips").unwrap();
    let dims = ips.dimensions();
    assert_eq!((dims[0].id.as_str(), dims[0].name.as_str()), ("sshd_in_jail", "sshd"));
    assert_eq!(ips.last_values()[0].0, 5, "absolute: the last value set");
    let runtime = host.chart("netdata.runtime_fail2ban_local").unwrap().meta();
    assert_eq!((runtime.family.as_str(), runtime.context.as_str()), ("python.d", "netdata.pythond_runtime"));
    assert_eq!(runtime.priority, 145000);
}

#[test]
fn python_d_obsoletes_and_revives_charts_and_dimensions() {
    let host =
        Arc::new(Host::new("guid-py2", "py2", HostSettings { history: 60, ..HostSettings::default() }));
    let mut s = Session::new(Arc::clone(&host), "python.d.plugin", 1, Trust::Measured, Limits::PLUGIN);
    feed(&mut s, CREATE, T0).unwrap();
    feed(&mut s, &iteration(0), T0).unwrap();
    // A chart not updated for `chart_cleanup` iterations is printed again with `obsolete`
    // after its (empty) hidden option, without plugin and module.
    feed(
        &mut s,
        "CHART fail2ban_local.jails_bans '' 'Bans' 'bans/s' 'bans' 'fail2ban.bans' line 60001 1 ' obsolete'\n",
        T0 + SEC,
    )
    .unwrap();
    let bans = host.chart("fail2ban_local.jails_bans").unwrap();
    assert!(bans.meta().options.obsolete);
    assert!(bans.obsolete_since().is_some());
    // Data again: the chart is printed as at creation, and is no longer obsolete.
    let again = CREATE.split("\n\n").nth(1).unwrap();
    feed(&mut s, again, T0 + 2 * SEC).unwrap();
    feed(&mut s, &iteration(2), T0 + 2 * SEC).unwrap();
    assert!(!bans.meta().options.obsolete);
    assert_eq!(bans.meta().module, "fail2ban");
    // A removed dimension: printed with 'hidden obsolete', the chart printed with it.
    feed(
        &mut s,
        "CHART fail2ban_local.jails_bans '' 'Bans' 'bans/s' 'bans' 'fail2ban.bans' line 60001 1 '' 'python.d.plugin' 'fail2ban'\n\
         CLABEL '_collect_job' 'local' '0'\nCLABEL_COMMIT\n\
         DIMENSION 'sshd' 'sshd' incremental 1 1 ' '\n\
         DIMENSION 'web' 'web' incremental 1 1 'hidden obsolete'\n",
        T0 + 3 * SEC,
    )
    .unwrap();
    let dims = bans.dimensions();
    assert!(dims[1].options.hidden && dims[1].options.obsolete);
    assert!(bans.has_obsolete_dimensions());
    // A job that has nothing to do ends the plugin with DISABLE.
    let e = feed(&mut s, "DISABLE\n", T0 + 4 * SEC).expect_err("DISABLE");
    assert_eq!(e.action, Action::Disable);
}
