//! The server as a child process, for what only a real process shows: `kill -9`,
//! signals, start-up errors and the command line.

use std::{
    net::SocketAddr,
    process::{ExitStatus, Stdio},
    time::Duration,
};

use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

/// The path of the `api` command line built for the tests. `env!` is expanded in
/// the calling test crate, where Cargo defines it.
#[macro_export]
macro_rules! api_binary {
    () => {
        env!("CARGO_BIN_EXE_api-under-test")
    };
}

/// A command for the `api` binary (`bin`, from `api_binary!()`) with a clean
/// environment for the settings.
pub fn command(bin: &str, envs: &[(&str, &str)]) -> Command {
    let mut command = Command::new(bin);
    for name in [
        "APP_ENV",
        "DATABASE_URL",
        "DATABASE_MAX_CONNECTIONS",
        "DATA_DIR",
        "BIND_ADDR",
        "LOG_FORMAT",
        "GRAPHIQL",
        "TOKEN_SIGNING_KEY",
        "DEMO",
        "NO_MIGRATE",
        "RUST_LOG",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_SERVICE_NAME",
    ] {
        command.env_remove(name);
    }
    command.envs(envs.iter().copied());
    command.kill_on_drop(true);
    command
}

/// What a finished command did.
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the binary to completion (at most 60 s).
pub async fn run(bin: &str, args: &[&str], envs: &[(&str, &str)]) -> Finished {
    let output = tokio::time::timeout(
        Duration::from_secs(60),
        command(bin, envs).args(args).output(),
    )
    .await
    .expect("the command finishes within 60 s")
    .expect("the command starts");
    Finished {
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A running server process.
pub struct ServerProcess {
    pub child: Child,
    pub addr: SocketAddr,
}

impl ServerProcess {
    /// Starts `api serve` with JSON logs on a free port and waits until it listens.
    pub async fn start(bin: &str, args: &[&str], envs: &[(&str, &str)]) -> ServerProcess {
        let mut all_envs = vec![("BIND_ADDR", "127.0.0.1:0"), ("LOG_FORMAT", "json")];
        all_envs.extend_from_slice(envs);
        let mut child = command(bin, &all_envs)
            .arg("serve")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server process starts");
        let stderr = child.stderr.take().expect("piped stderr");
        let mut lines = BufReader::new(stderr).lines();
        let addr = tokio::time::timeout(Duration::from_secs(60), async {
            while let Ok(Some(line)) = lines.next_line().await {
                let Ok(entry) = serde_json::from_str::<serde_json::Value>(&line) else {
                    continue;
                };
                if let Some(addr) = entry["fields"]["address"].as_str() {
                    return addr.parse::<SocketAddr>().expect("a socket address");
                }
            }
            panic!("the server exited before listening");
        })
        .await
        .expect("the server listens within 60 s");
        // Keep draining the log so the process never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        ServerProcess { child, addr }
    }

    /// `http://addr/graphql`.
    pub fn graphql_url(&self) -> String {
        format!("http://{}/graphql", self.addr)
    }

    /// Sends SIGKILL: no clean-up, no flushing, as after a crash.
    pub async fn kill_9(mut self) {
        self.child.kill().await.expect("SIGKILL is delivered");
    }

    /// Sends SIGTERM and waits (at most 30 s) for the process to exit.
    pub async fn terminate(mut self) -> ExitStatus {
        let pid = self.child.id().expect("the process is running");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "SIGTERM is delivered");
        tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("the server exits within 30 s of SIGTERM")
            .expect("the exit status is known")
    }
}
