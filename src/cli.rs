//! Command line in Netdata's habits: `-c FILE`, `-D`, `-P PIDFILE`, `-p PORT`,
//! `-s PREFIX`, `-u USER`, `-W set SECTION OPTION VALUE`, `-W set2 …` (stream.conf), `-W set3 …`
//! (exporting.conf), `-W get …` (`get2`, `get3`), `-W dumpconfig` (`dumpconfig2`,
//! `dumpconfig3`), `-W buildinfo`, `-v`/`-V`, `-h`.
//!
//! Parsing is pure (no I/O) so every combination is unit-tested.

use std::fmt;
use std::path::PathBuf;

use crate::config::FileKind;

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// Run the daemon.
    Run(Options),
    Help,
    Version,
    BuildInfo,
    /// Print the effective `nanodata.conf` (`-W dumpconfig`) and exit.
    DumpConfig(Options),
    /// Print the effective `stream.conf` (`-W dumpconfig2`) and exit.
    DumpStreamConfig(Options),
    /// Print the effective `exporting.conf` (`-W dumpconfig3`) and exit.
    DumpExportingConfig(Options),
    /// Print one effective value (`-W get SECTION OPTION DEFAULT`, `get2` for stream.conf,
    /// `get3` for exporting.conf).
    Get {
        options: Options,
        file: FileKind,
        section: String,
        name: String,
        default: String,
    },
}

/// Options of a run.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `-c FILE`: the main configuration file.
    pub config_file: Option<PathBuf>,
    /// `-D`: stay in the foreground.
    pub foreground: bool,
    /// `-P FILE`: write the process id there.
    pub pid_file: Option<PathBuf>,
    /// `-p PORT`: `[web] default port`.
    pub port: Option<u16>,
    /// `-s PREFIX`: read `/proc` and `/sys` below this directory (Netdata's host prefix).
    pub host_prefix: Option<PathBuf>,
    /// `-u USER`: `[global] run as user`.
    pub user: Option<String>,
    /// `-W set SECTION OPTION VALUE` for nanodata.conf, in order.
    pub set: Vec<Override>,
    /// `-W set2 SECTION OPTION VALUE` for stream.conf, in order.
    pub set_stream: Vec<Override>,
    /// `-W set3 SECTION OPTION VALUE` for exporting.conf, in order.
    pub set_exporting: Vec<Override>,
}

/// One `-W set` override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub section: String,
    pub name: String,
    pub value: String,
}

/// A command line that cannot be run.
#[derive(Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Parses the arguments after the program name.
pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Command, UsageError> {
    let mut args = args.into_iter();
    let mut o = Options::default();
    let mut wanted: Option<Command> = None;
    while let Some(arg) = args.next() {
        // Netdata accepts both `-c FILE` and `-cFILE`.
        let (flag, inline) = if arg.len() > 2 && arg.starts_with('-') && !arg.starts_with("--") {
            (arg[..2].to_owned(), Some(arg[2..].to_owned()))
        } else {
            (arg.clone(), None)
        };
        let mut value = |what: &str| -> Result<String, UsageError> {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| UsageError(format!("option {flag} needs {what}")))
        };
        match flag.as_str() {
            "-c" => o.config_file = Some(PathBuf::from(value("a file name")?)),
            "-D" => o.foreground = true,
            "-P" => o.pid_file = Some(PathBuf::from(value("a file name")?)),
            "-p" => {
                let v = value("a port")?;
                o.port = Some(
                    v.parse::<u16>()
                        .ok()
                        .filter(|p| *p > 0)
                        .ok_or_else(|| UsageError(format!("-p: '{v}' is not a TCP port (1-65535)")))?,
                );
            }
            "-s" => o.host_prefix = Some(PathBuf::from(value("a directory")?)),
            "-u" => o.user = Some(value("a user name")?),
            "-v" | "-V" | "--version" => wanted = Some(Command::Version),
            "-h" | "-H" | "--help" => wanted = Some(Command::Help),
            "-W" => {
                let sub = value("a sub-command")?;
                match sub.as_str() {
                    "set" | "set2" | "set3" => {
                        let ov = Override {
                            section: args
                                .next()
                                .ok_or_else(|| UsageError(format!("-W {sub} needs SECTION OPTION VALUE")))?,
                            name: args
                                .next()
                                .ok_or_else(|| UsageError(format!("-W {sub} needs SECTION OPTION VALUE")))?,
                            value: args
                                .next()
                                .ok_or_else(|| UsageError(format!("-W {sub} needs SECTION OPTION VALUE")))?,
                        };
                        match sub.as_str() {
                            "set" => o.set.push(ov),
                            "set2" => o.set_stream.push(ov),
                            _ => o.set_exporting.push(ov),
                        }
                    }
                    "get" | "get2" | "get3" => {
                        let mut next = || {
                            args.next()
                                .ok_or_else(|| UsageError(format!("-W {sub} needs SECTION OPTION DEFAULT")))
                        };
                        let (section, name, default) = (next()?, next()?, next()?);
                        let file = match sub.as_str() {
                            "get" => FileKind::Netdata,
                            "get2" => FileKind::Stream,
                            _ => FileKind::Exporting,
                        };
                        wanted =
                            Some(Command::Get { options: Options::default(), file, section, name, default });
                    }
                    "dumpconfig" => wanted = Some(Command::DumpConfig(Options::default())),
                    "dumpconfig2" => wanted = Some(Command::DumpStreamConfig(Options::default())),
                    "dumpconfig3" => wanted = Some(Command::DumpExportingConfig(Options::default())),
                    "buildinfo" => wanted = Some(Command::BuildInfo),
                    other => return Err(UsageError(format!("unknown -W sub-command '{other}' (see -h)"))),
                }
            }
            other => return Err(UsageError(format!("unknown option '{other}' (see -h)"))),
        }
    }
    Ok(match wanted {
        None => Command::Run(o),
        Some(Command::DumpConfig(_)) => Command::DumpConfig(o),
        Some(Command::DumpStreamConfig(_)) => Command::DumpStreamConfig(o),
        Some(Command::DumpExportingConfig(_)) => Command::DumpExportingConfig(o),
        Some(Command::Get { file, section, name, default, .. }) => {
            Command::Get { options: o, file, section, name, default }
        }
        Some(c) => c,
    })
}

/// The `-h` text.
pub fn help() -> String {
    format!(
        "{prog} {ver} — a Netdata-compatible monitoring agent\n\
         \n\
         Usage: {prog} [options]\n\
         \n\
         \x20 -c FILE                 configuration file (default /etc/nanodata/nanodata.conf;\n\
         \x20                         built-in defaults when the default file is missing)\n\
         \x20 -D                      stay in the foreground (do not fork)\n\
         \x20 -P FILE                 write the process id to FILE\n\
         \x20 -p PORT                 web/streaming port, same as -W set web \"default port\" PORT\n\
         \x20 -s PREFIX               read /proc and /sys below PREFIX\n\
         \x20 -u USER                 started as root, switch to USER, same as\n\
         \x20                         -W set global \"run as user\" USER\n\
         \x20 -W set S O V            set option O of section [S] of nanodata.conf to V\n\
         \x20 -W set2 S O V           the same for stream.conf (set3: for exporting.conf)\n\
         \x20 -W get S O D            print the effective value of option O of [S] (D if unset)\n\
         \x20 -W get2 S O D           the same for stream.conf (get3: for exporting.conf)\n\
         \x20 -W dumpconfig           print the effective nanodata.conf and exit\n\
         \x20 -W dumpconfig2          print the effective stream.conf and exit\n\
         \x20 -W dumpconfig3          print the effective exporting.conf and exit\n\
         \x20 -W buildinfo            print the features compiled in and exit\n\
         \x20 -v, -V                  print the version and exit\n\
         \x20 -h                      this help\n\
         \n\
         Signals: TERM/INT stop in order (save mode writes its files), HUP reopens the logs.\n",
        prog = crate::PROGRAM,
        ver = crate::VERSION
    )
}

/// The `-W buildinfo` text: the cargo features compiled in and, for each role, what this
/// build supports. Every line is derived from the build (`cfg!`) or from the code it
/// describes (the stream capabilities), so it cannot claim what the binary cannot do.
pub fn build_info() -> String {
    use crate::protocol::Caps;
    let (web, tls, lz4) = (cfg!(feature = "web"), cfg!(feature = "tls"), cfg!(feature = "compression"));
    let (health, exporting) = (cfg!(feature = "health"), cfg!(feature = "exporting"));
    let yes = |b: bool| if b { "YES" } else { "NO" }.to_string();
    let compression = if lz4 { "LZ4".to_string() } else { "NO".to_string() };
    let mut out = format!(
        "{} v{} (Netdata 1.37 compatible)\n  target: {} {} ({}-endian, {}-bit)\n",
        crate::PROGRAM,
        crate::VERSION,
        std::env::consts::ARCH,
        std::env::consts::OS,
        if cfg!(target_endian = "big") { "big" } else { "little" },
        usize::BITS,
    );
    info_section(
        &mut out,
        "Features (cargo features compiled in)",
        &[
            ("web", format!("{} (HTTP API v1, dashboard, gzip, receiving children)", yes(web))),
            ("tls", format!("{} (rustls with ring; TLS 1.2 and 1.3)", yes(tls))),
            ("compression", format!("{} (LZ4 stream compression)", yes(lz4))),
            ("health", format!("{} (gate only: alarms are not implemented yet)", yes(health))),
            ("exporting", format!("{} (gate only: no exporting connector yet)", yes(exporting))),
        ],
    );
    info_section(
        &mut out,
        "Database and collection",
        &[
            ("memory modes", "none ram save map dbengine (alloc = ram; dbengine = map with tiers)".into()),
            ("storage tiers", "1".into()),
            ("internal collectors", "proc, diskspace, timex, netdata monitoring".into()),
            ("external plugins", "YES (plugins.d)".into()),
        ],
    );
    info_section(
        &mut out,
        "Child (sending to a parent)",
        &[
            ("stream to a parent", "YES".into()),
            ("TLS to the parent (:SSL)", yes(tls)),
            ("stream compression", compression.clone()),
            ("replication", "YES (answers the parent; [db] enable replication)".into()),
            ("capabilities offered", Caps::ours(lz4).to_string()),
        ],
    );
    let parent: &[(&str, String)] = if web {
        &[
            ("receive children", "YES (on the web server's port)".into()),
            ("TLS (HTTPS and streaming)", yes(tls)),
            ("stream compression", compression),
            ("replication", "YES (asks children to fill their gaps)".into()),
            ("proxy (re-stream children)", "YES".into()),
            ("health for children", "NO".into()),
            ("capabilities accepted", crate::stream::receiver::negotiate::supported(true, true).to_string()),
        ]
    } else {
        &[("receive children", "NO (needs the web feature)".into())]
    };
    info_section(&mut out, "Parent and proxy (receiving children)", parent);
    info_section(
        &mut out,
        "Not available",
        &[
            ("health (alarms, notifications)", "NO".into()),
            ("exporting connectors", "none".into()),
            ("ML, ACLK (Netdata Cloud)", "NO".into()),
        ],
    );
    out
}

/// One titled block of `name: value` rows of [`build_info`].
fn info_section(out: &mut String, title: &str, rows: &[(&str, String)]) {
    out.push_str(title);
    out.push_str(":\n");
    for (name, value) in rows {
        out.push_str(&format!("    {:<32}{value}\n", format!("{name}:")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Command, UsageError> {
        parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn run_options_in_netdata_habits() {
        let c = p(&[
            "-D",
            "-c",
            "/etc/x.conf",
            "-P/run/n.pid",
            "-p",
            "20000",
            "-u",
            "netdata",
            "-W",
            "set",
            "db",
            "update every",
            "2",
        ]);
        let Ok(Command::Run(o)) = c else { panic!("{c:?}") };
        assert!(o.foreground);
        assert_eq!(o.config_file, Some(PathBuf::from("/etc/x.conf")));
        assert_eq!(o.pid_file, Some(PathBuf::from("/run/n.pid")));
        assert_eq!(o.port, Some(20000));
        assert_eq!(o.user.as_deref(), Some("netdata"));
        assert_eq!(
            o.set,
            vec![Override { section: "db".into(), name: "update every".into(), value: "2".into() }]
        );
    }

    #[test]
    fn informational_commands() {
        assert_eq!(p(&["-v"]), Ok(Command::Version));
        assert_eq!(p(&["-V"]), Ok(Command::Version));
        assert_eq!(p(&["-h"]), Ok(Command::Help));
        assert_eq!(p(&["-W", "buildinfo"]), Ok(Command::BuildInfo));
        let Ok(Command::DumpConfig(o)) = p(&["-c", "a.conf", "-W", "dumpconfig"]) else { panic!() };
        assert_eq!(o.config_file, Some(PathBuf::from("a.conf")));
        let Ok(Command::Get { file, section, name, default, .. }) =
            p(&["-W", "get2", "stream", "enabled", "no"])
        else {
            panic!()
        };
        assert_eq!(file, FileKind::Stream);
        assert_eq!((section.as_str(), name.as_str(), default.as_str()), ("stream", "enabled", "no"));
        let Ok(Command::Get { file, section, .. }) = p(&["-W", "get3", "graphite:g", "prefix", "netdata"])
        else {
            panic!()
        };
        assert_eq!((file, section.as_str()), (FileKind::Exporting, "graphite:g"));
        let Ok(Command::Get { file, .. }) = p(&["-W", "get", "db", "mode", "ram"]) else { panic!() };
        assert_eq!(file, FileKind::Netdata);
        let Ok(Command::DumpExportingConfig(o)) = p(&["-W", "dumpconfig3", "-c", "b.conf"]) else { panic!() };
        assert_eq!(o.config_file, Some(PathBuf::from("b.conf")));
        let Ok(Command::Run(o)) =
            p(&["-W", "set3", "exporting:global", "enabled", "yes", "-W", "set2", "stream", "enabled", "no"])
        else {
            panic!()
        };
        let ov = |s: &str, n: &str, v: &str| Override { section: s.into(), name: n.into(), value: v.into() };
        assert_eq!(o.set_exporting, [ov("exporting:global", "enabled", "yes")]);
        assert_eq!(o.set_stream, [ov("stream", "enabled", "no")]);
    }

    #[test]
    fn build_info_tells_the_features_and_roles_of_this_build() {
        let info = build_info();
        let row = |name: &str| {
            let prefix = format!("    {name}:");
            info.lines().find(|l| l.starts_with(&prefix)).map(|l| l[prefix.len()..].trim().to_string())
        };
        for (feature, on) in [
            ("web", cfg!(feature = "web")),
            ("tls", cfg!(feature = "tls")),
            ("compression", cfg!(feature = "compression")),
            ("health", cfg!(feature = "health")),
            ("exporting", cfg!(feature = "exporting")),
        ] {
            let value = row(feature).unwrap_or_else(|| panic!("no {feature} row in\n{info}"));
            assert!(value.starts_with(if on { "YES" } else { "NO" }), "{feature}: {value}");
        }
        let caps = row("capabilities offered").unwrap();
        assert!(caps.contains("REPLICATION"), "{caps}");
        assert_eq!(caps.contains("COMPRESSION"), cfg!(feature = "compression"), "{caps}");
        assert_eq!(
            row("TLS to the parent (:SSL)").unwrap(),
            if cfg!(feature = "tls") { "YES" } else { "NO" }
        );
        assert_eq!(row("exporting connectors").unwrap(), "none");
        assert_eq!(row("health for children").is_some(), cfg!(feature = "web"));
    }

    #[test]
    fn usage_errors_are_clear() {
        assert_eq!(p(&["-c"]), Err(UsageError("option -c needs a file name".into())));
        assert_eq!(p(&["-u"]), Err(UsageError("option -u needs a user name".into())));
        let Ok(Command::Run(o)) = p(&["-unobody"]) else { panic!() };
        assert_eq!(o.user.as_deref(), Some("nobody"), "-uUSER as Netdata takes it");
        assert!(p(&["-p", "0"]).unwrap_err().0.contains("not a TCP port"));
        assert!(p(&["-p", "99999"]).is_err());
        assert!(p(&["-W", "set", "db", "mode"]).unwrap_err().0.contains("SECTION OPTION VALUE"));
        assert!(p(&["-W", "frobnicate"]).unwrap_err().0.contains("unknown -W"));
        assert!(p(&["--bogus"]).unwrap_err().0.contains("unknown option"));
        assert!(p(&["-x"]).unwrap_err().0.contains("unknown option"));
    }
}
