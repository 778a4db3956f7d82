//! What the end-to-end tests share: a scratch directory, the `sluice`
//! binary, and waiting for files to fill.

#![allow(dead_code)]

pub mod certs;
pub mod peers;
// The HTTP receiver the sinks' unit tests use, shared rather than copied.
#[path = "../../host/src/sinks/testing/receiver.rs"]
pub mod receiver;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A test plugin built by the workspace (see host/build.rs).
pub fn test_plugin(name: &str) -> String {
    format!("{}/{name}.wasm", env!("SLUICE_TEST_PLUGINS"))
}

/// Install Debian packages that are missing (as root), so that a fresh
/// machine needs nothing beyond `cargo test --workspace`.
pub fn apt_install(who: &str, packages: &[&str]) {
    let missing = |pkg: &&str| !Command::new("dpkg").args(["-s", pkg]).output().is_ok_and(|o| o.status.success());
    if !packages.iter().any(missing) {
        return;
    }
    let apt = |args: &[&str]| {
        Command::new("apt-get")
            .args(["-o", "DPkg::Lock::Timeout=120", "-y", "-qq"])
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success())
    };
    let installed = apt(&["update"]) && apt(&[&["install", "--no-install-recommends"][..], packages].concat());
    assert!(installed, "{who} need {packages:?}: `apt-get install` them (as root)");
}

/// A scratch directory that holds one test's config, inputs and outputs.
pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Self {
        Scratch { dir: tempfile::tempdir().expect("temp dir") }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Write a file, creating its directory.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Append to a file.
    pub fn append(&self, name: &str, text: &str) {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new().append(true).create(true).open(self.path(name)).unwrap();
        file.write_all(text.as_bytes()).unwrap();
    }

    pub fn lines(&self, name: &str) -> Vec<String> {
        read_lines(&self.path(name))
    }
}

pub fn read_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).map(|t| t.lines().map(str::to_owned).collect()).unwrap_or_default()
}

/// `sluice` with these arguments, run to completion.
pub fn sluice(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sluice")).args(args).output().expect("run sluice")
}

/// A running `sluice run`.
pub struct Router {
    child: Child,
}

impl Router {
    pub fn start(config: &Path) -> Self {
        Router::spawn(config, "warn", Stdio::inherit(), Stdio::null())
    }

    /// Start it with its own log (info level) written to `log`.
    pub fn start_logging_to(config: &Path, log: &Path) -> Self {
        Router::spawn(config, "info", create(log), Stdio::null())
    }

    /// Start it with its standard output (where `stdout` sinks write) going to `stdout`.
    pub fn start_with_stdout_to(config: &Path, stdout: &Path) -> Self {
        Router::spawn(config, "warn", Stdio::inherit(), create(stdout))
    }

    fn spawn(config: &Path, level: &str, stderr: Stdio, stdout: Stdio) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_sluice"))
            .args(["run", "--config"])
            .arg(config)
            .env("RUST_LOG", level)
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("start sluice");
        Router { child }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Send it a signal (`TERM`, `INT` …).
    pub fn signal(&self, name: &str) {
        signal(self.child.id(), name);
    }

    /// Its exit status if it has exited.
    pub fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().unwrap()
    }

    /// Wait for it to exit by itself; panics after `timeout`.
    pub fn wait(mut self, timeout: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "sluice did not exit within {timeout:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kill it as a crash would (SIGKILL): no chance to flush anything.
    pub fn crash(mut self) {
        self.child.kill().expect("SIGKILL sluice");
        self.child.wait().unwrap();
    }

    /// Stop it the way an operator would (SIGTERM) and wait for a clean exit.
    pub fn stop(mut self) {
        signal(self.child.id(), "TERM");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "sluice exited with {status}");
                return;
            }
            assert!(Instant::now() < deadline, "sluice did not stop within 30 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn create(path: &Path) -> Stdio {
    std::fs::File::create(path).unwrap_or_else(|err| panic!("creating {}: {err}", path.display())).into()
}

/// Send `kill -<name>` to a process.
pub fn signal(pid: u32, name: &str) {
    let status = Command::new("kill").arg(format!("-{name}")).arg(pid.to_string()).status().unwrap();
    assert!(status.success(), "kill -{name} {pid}");
}

/// Wait until `path` has at least `n` lines; panics after `timeout`.
pub fn wait_for_lines(path: &Path, n: usize, timeout: Duration) -> Vec<String> {
    let deadline = Instant::now() + timeout;
    loop {
        let lines = read_lines(path);
        if lines.len() >= n {
            return lines;
        }
        assert!(
            Instant::now() < deadline,
            "{} has {} lines, expected {n} within {timeout:?}",
            path.display(),
            lines.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
