//! Real syslog peers for interop tests: util-linux `logger` and `rsyslogd`,
//! run in the foreground with their own config in the test's scratch
//! directory, never as the system service.

use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

/// The Debian packages of the peers: rsyslogd, its TLS driver, and logger.
const PACKAGES: [&str; 3] = ["rsyslog", "rsyslog-gnutls", "bsdutils"];

/// Make sure the peers are installed, installing them from Debian on a fresh
/// machine, so that `cargo test --workspace` alone sets everything up.
pub fn ensure_installed() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| super::apt_install("the interop tests", &PACKAGES));
}

/// A TCP port nothing listens on right now.
pub fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A UDP port nothing is bound to right now.
pub fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Wait until something accepts TCP connections on `port`.
pub fn wait_for_listener(port: u16, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on port {port} after {timeout:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Run util-linux `logger` with these arguments; it must succeed.
pub fn logger(args: &[&str]) {
    ensure_installed();
    let output = Command::new("logger").args(args).output().expect("util-linux logger is installed");
    assert!(output.status.success(), "logger {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// A foreground `rsyslogd` with a config of the test's.
pub struct Rsyslog {
    child: Child,
    pub dir: PathBuf,
}

impl Rsyslog {
    /// Start rsyslogd with `config` (its work directory is `dir`), and wait
    /// for it to listen on `port`.
    pub fn start(dir: &Path, config: &str, port: u16) -> Rsyslog {
        ensure_installed();
        std::fs::create_dir_all(dir).unwrap();
        let conf = dir.join("rsyslog.conf");
        std::fs::write(&conf, format!("global(workDirectory=\"{}\")\n{config}", dir.display())).unwrap();
        let check = Command::new("rsyslogd").args(["-N1", "-f"]).arg(&conf).output().expect("rsyslogd is installed");
        assert!(check.status.success(), "rsyslog rejects the test config: {}", String::from_utf8_lossy(&check.stderr));
        let child = Command::new("rsyslogd")
            .args(["-n", "-f"])
            .arg(&conf)
            .arg("-i")
            .arg(dir.join("rsyslogd.pid"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start rsyslogd");
        wait_for_listener(port, Duration::from_secs(20));
        Rsyslog { child, dir: dir.to_owned() }
    }
}

impl Rsyslog {
    /// An rsyslogd listening for TCP syslog on 127.0.0.1:`port` that writes
    /// each message to `dir/received.log` with `template`, a
    /// `template(name="…" …)` statement whose name is `name`.
    pub fn tcp_collector(dir: &Path, port: u16, template: &str, name: &str) -> Rsyslog {
        let conf = format!(
            "module(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"{port}\" address=\"127.0.0.1\")\n{template}\n\
             action(type=\"omfile\" file=\"{}\" template=\"{name}\")\n",
            dir.join("received.log").display()
        );
        Rsyslog::start(dir, &conf, port)
    }

    /// Freeze it (SIGSTOP): it stops reading, as a hung collector does, and
    /// TCP back-pressures the sender.
    pub fn pause(&self) {
        super::signal(self.child.id(), "STOP");
    }

    /// Let it go on (SIGCONT).
    pub fn resume(&self) {
        super::signal(self.child.id(), "CONT");
    }

    /// Stop it as its operator would (SIGTERM) and wait until it has exited.
    pub fn stop(mut self) {
        super::signal(self.child.id(), "TERM");
        self.child.wait().unwrap();
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The rsyslog template the tests read back: every header field, `|`-separated.
pub const FIELDS_TEMPLATE: &str = "template(name=\"fields\" type=\"string\" string=\"%pri%|%syslogfacility%|\
%syslogseverity%|%timereported:::date-rfc3339%|%hostname%|%app-name%|%procid%|%msgid%|%structured-data%|%msg%\\n\")";
