//! E-mail subscriptions are delivered through a real SMTP server (Python's aiosmtpd, from
//! target/interop-venv or the system Python). In CI the server must be present.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use common::TestApp;
use serde_json::json;
use vulnshare_core::organization::OrganizationKind;
use vulnshare_core::user::Role;
use vulnshare_server::outbox::{Mailer, deliver_due};

struct Smtp {
    child: Child,
    port: u16,
    output: Arc<Mutex<String>>,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python_with_aiosmtpd() -> Option<String> {
    let venv = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../target/interop-venv/bin/python"
    );
    [venv, "python3"].into_iter().map(str::to_owned).find(|py| {
        Command::new(py)
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

fn start_smtp() -> Option<Smtp> {
    let python = python_with_aiosmtpd()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(python)
        .args([
            "-u",
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let output = Arc::new(Mutex::new(String::new()));
    let sink = output.clone();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let mut o = sink.lock().unwrap();
            o.push_str(&line);
            o.push('\n');
        }
    });
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(Smtp {
                child,
                port,
                output,
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_subscriptions_are_delivered_through_smtp() {
    let Some(smtp) = start_smtp() else {
        assert!(
            std::env::var("CI").is_err(),
            "CI must provide aiosmtpd (scripts/interop.sh --install)"
        );
        eprintln!(
            "aiosmtpd is not installed: e-mail delivery not exercised (scripts/interop.sh --install)"
        );
        return;
    };
    let port = smtp.port;
    let output = smtp.output.clone();
    TestApp::each(|mut app| {
        let output = output.clone();
        async move {
            // Without a relay, e-mail subscriptions are refused clearly.
            let watcher = app.member("Watcher", OrganizationKind::Operator, &[Role::Member]).await;
            let (s, p) = app.call("POST", "/api/v1/subscriptions", Some(&watcher.token), Some(json!({"channel": "email", "url": "soc@watcher.example"}))).await;
            assert_eq!(s, StatusCode::CONFLICT, "{p}");

            app.state = app.state.clone().with_mailer(Mailer::new(&format!("smtp://127.0.0.1:{port}"), "vulnshare <noreply@platform.example>").unwrap());
            let (s, p) = app.call("POST", "/api/v1/subscriptions", Some(&watcher.token), Some(json!({"channel": "email", "url": "not an address"}))).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
            let (s, sub) = app
                .call("POST", "/api/v1/subscriptions", Some(&watcher.token), Some(json!({"channel": "email", "url": "mailto:SOC@watcher.example", "filter": {"purl_prefix": "pkg:maven/org.apache.logging.log4j/"}})))
                .await;
            assert_eq!(s, StatusCode::CREATED, "{sub}");

            let vendor = app.member("Vendor", OrganizationKind::Provider, &[Role::Member]).await;
            let analyst = app.member("Platform", OrganizationKind::Coordinator, &[Role::Analyst]).await;
            let (_, advisory_id) = app.publish_log4shell(&vendor, &analyst, "CLEAR", "Log4Shell mail test").await;
            let report = deliver_due(&app.state).await.unwrap();
            assert_eq!(report.delivered, 1, "{report:?}");
            let mut seen = String::new();
            for _ in 0..50 {
                seen = output.lock().unwrap().clone();
                if seen.contains(&advisory_id) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert!(seen.contains("soc@watcher.example"), "{seen}");
            assert!(seen.contains(&format!("advisory.published {advisory_id}: Log4Shell mail test")), "{seen}");
            assert_eq!(deliver_due(&app.state).await.unwrap().delivered, 0, "delivered once");
        }
    })
    .await;
}
