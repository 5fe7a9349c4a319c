//! A real `vulnshare serve --demo` on a random port with a fresh SQLite database, for the CLI
//! tests that talk to a server (`hunt --submit`, `scan --upload`, `scan --advisories URL`), or
//! any `vulnshare serve` with the arguments a test gives (several nodes on one PostgreSQL).

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use serde_json::Value;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_vulnshare");

/// A `vulnshare serve --demo` child, killed when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// (organization, API token) of every demo account.
    tokens: Vec<(String, String)>,
    /// Every line the server wrote to standard error so far.
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts the demo server with its database under `data_dir`; waits until it listens.
    pub fn start(data_dir: &Path) -> Server {
        Server::start_with(data_dir, &[], &[])
    }

    /// Starts the demo server with more `serve` arguments and environment variables.
    pub fn start_with(data_dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Server {
        let dir = data_dir.display().to_string();
        let mut all = vec!["--demo", "--data-dir", dir.as_str()];
        all.extend_from_slice(args);
        Server::launch_with(&all, envs)
    }

    /// Starts `vulnshare serve --listen 127.0.0.1:0` with `args` added; waits until it listens.
    pub fn launch(args: &[&str]) -> Server {
        Server::launch_with(args, &[])
    }

    /// [`Server::launch`] with environment variables.
    pub fn launch_with(args: &[&str], envs: &[(&str, &str)]) -> Server {
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .envs(envs.iter().copied())
            .env_remove("VULNSHARE_DATABASE_URL")
            .env_remove("VULNSHARE_DATA_DIR")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server starts");
        let stderr = child.stderr.take().unwrap();
        let (send, receive) = mpsc::channel();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let keep = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                keep.lock().unwrap().push(line.clone());
                let _ = send.send(line);
            }
        });
        let mut tokens = Vec::new();
        let mut base_url = None;
        while base_url.is_none() {
            let line = receive
                .recv_timeout(Duration::from_secs(60))
                .expect("the server prints its address within a minute");
            if let Some(account) = line.strip_prefix("demo account: ") {
                // "<organization, padded> <email> password "..."  token vs_..."
                let organization = account.split("  ").next().unwrap_or("").trim();
                let token = account.split_whitespace().last().unwrap_or("");
                tokens.push((organization.to_owned(), token.to_owned()));
            }
            if let Some(url) = line.strip_prefix("vulnshare listening on ") {
                base_url = Some(url.trim().to_string());
            }
        }
        Server {
            child,
            base_url: base_url.unwrap(),
            tokens,
            stderr: lines,
        }
    }

    /// The process id (to kill it as a crash would).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the server at once (SIGKILL: no shutdown, no flush) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Every demo account's (organization, token), empty when the demo was not seeded.
    pub fn tokens(&self) -> &[(String, String)] {
        &self.tokens
    }

    /// Every line the server wrote to standard error so far.
    pub fn stderr_lines(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// The API token of the demo account of `organization`.
    pub fn token(&self, organization: &str) -> &str {
        self.tokens
            .iter()
            .find(|(name, _)| name == organization)
            .map(|(_, token)| token.as_str())
            .unwrap_or_else(|| panic!("no demo account for {organization}: {:?}", self.tokens))
    }

    /// Calls the API; returns the status and the JSON answer (Null when empty).
    pub fn call(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let url = format!("{}{path}", self.base_url);
        let auth = format!("Bearer {token}");
        let result = match (method, body) {
            ("GET", _) => agent.get(&url).header("Authorization", &auth).call(),
            ("DELETE", _) => agent.delete(&url).header("Authorization", &auth).call(),
            (_, body) => agent
                .post(&url)
                .header("Authorization", &auth)
                .content_type("application/json")
                .send(serde_json::to_vec(&body.unwrap_or(Value::Null)).unwrap()),
        };
        let mut response = result.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let text = response.body_mut().read_to_string().unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
        };
        (response.status().as_u16(), value)
    }
}
