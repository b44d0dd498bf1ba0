//! Netdata's own `alarm-notify.sh` (Debian's `netdata-plugins-bash`, run in place, unchanged)
//! as nanodata's notification script: an alarm on a chart a test plugin feeds goes WARNING,
//! the script gets Netdata's arguments and environment, reads its configuration
//! (`health_alarm_notify.conf`: Debian's stock one, then the test's, which turns on the
//! custom sender) and the custom sender writes what it was told to a file. Then the value
//! drops and the CLEAR arrives the same way.

// Tests and benches time themselves with the standard clock; clippy.toml's rule is for src/.
#![allow(clippy::disallowed_methods)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use common::{require, wait_until, Dep, Node};

const NOTIFY: &str = "/usr/lib/netdata/plugins.d/alarm-notify.sh";
const STOCK_CONF: &str = "/usr/lib/netdata/conf.d";

#[test]
fn netdata_s_alarm_notify_sh_sends_through_its_custom_sender() {
    if !require(Dep::NetdataPluginsBash, "the notification test runs Netdata's own alarm-notify.sh") {
        return;
    }
    assert!(
        std::path::Path::new(NOTIFY).is_file(),
        "{NOTIFY} is missing (Debian package netdata-plugins-bash)"
    );
    let node = Node::new("health-notify", "ram");
    let d = node.dir.clone();
    for sub in ["etc", "plugins.d", "health.d", "stock-health.d"] {
        std::fs::create_dir_all(d.join(sub)).unwrap();
    }
    let value = d.join("value");
    let sent = d.join("sent.txt");
    std::fs::write(&value, "1").unwrap();

    // A plugin whose one dimension is whatever `value` holds.
    let plugin = d.join("plugins.d/hv.plugin");
    std::fs::write(
        &plugin,
        format!(
            "#!/bin/sh\necho \"CHART test.hv '' 'Test value' 'things' 'test' 'test.hv' line 1 1\"\n\
             echo \"DIMENSION v '' absolute 1 1\"\n\
             while :; do echo BEGIN test.hv; echo \"SET v = $(cat '{}')\"; echo END; sleep 1; done\n",
            value.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();

    std::fs::write(
        d.join("health.d/test.conf"),
        "   alarm: it_value_high\n      on: test.hv\n  lookup: average -2s unaligned of v\n   every: 1s\n\
         \x20  units: things\n    warn: $this > 5\n    info: the test value is high\n      to: sysadmin\n",
    )
    .unwrap();
    // Read after Debian's stock copy (the script's rule): email off, the custom sender on,
    // writing its variables to a file.
    std::fs::write(
        d.join("etc/health_alarm_notify.conf"),
        format!(
            "SEND_EMAIL=\"NO\"\nSEND_CUSTOM=\"YES\"\nDEFAULT_RECIPIENT_CUSTOM=\"tester\"\n\
             role_recipients_custom[sysadmin]=\"tester\"\n\
             custom_sender() {{\n\
             \x20   echo \"to=${{1}} host=${{host}} chart=${{chart}} name=${{name}} status=${{status}} old=${{old_status}} value=${{value_string}} info=${{info}}\" >> '{}'\n\
             \x20   sent=$((sent + 1))\n}}\n",
            sent.display()
        ),
    )
    .unwrap();
    node.append_config(&format!(
        "[directories]\n\tplugins = {d}/plugins.d\n\tstock config = {STOCK_CONF}\n\
         \thealth config = {d}/health.d\n\tstock health config = {d}/stock-health.d\n\
         [plugins]\n\tproc = no\n\tdiskspace = no\n\
         [health]\n\tenabled = yes\n\tscript to execute on alarm = {NOTIFY}\n",
        d = d.display()
    ));
    let mut run = node.start_ready(&[]);
    let read = || std::fs::read_to_string(&sent).unwrap_or_default();

    std::fs::write(&value, "10").unwrap();
    wait_until("the WARNING notification through alarm-notify.sh", Duration::from_secs(30), &[&run], || {
        read().contains("status=WARNING")
    });
    let line = read().lines().find(|l| l.contains("status=WARNING")).unwrap().to_string();
    for want in [
        "to=tester",
        "host=it-health-notify",
        "chart=test.hv",
        "name=it_value_high",
        "value=10 things",
        "info=the test value is high",
    ] {
        assert!(line.contains(want), "{want:?} not in what the custom sender got: {line}");
    }

    std::fs::write(&value, "1").unwrap();
    wait_until("the CLEAR notification", Duration::from_secs(30), &[&run], || {
        read().contains("status=CLEAR")
    });
    let clear = read().lines().find(|l| l.contains("status=CLEAR")).unwrap().to_string();
    assert!(clear.contains("old=WARNING"), "{clear}");
    assert!(run.is_running(), "the daemon stopped; log:\n{}", run.log());
    assert_eq!(read().lines().count(), 2, "exactly two notifications: {}", read());
    run.stop_orderly();
}
