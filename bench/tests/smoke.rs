//! The benchmark suite end to end at a small scale: it seeds a municipality,
//! runs every phase (home screen, caseload, fan-out, `suggestSlots`) against a
//! real server on SQLite and, when `TEST_POSTGRES_URL` is set, on PostgreSQL,
//! and writes its table as JSON. Figures are not judged here (they depend on
//! the machine); that every phase ran without an error and delivered
//! everything is.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::process::Command;

use serde_json::Value;

#[test]
fn the_municipality_suite_runs_every_phase_at_a_small_scale() {
    let dir = std::env::temp_dir().join(format!("bench-smoke-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("municipality.json");
    let mut backends = vec!["sqlite"];
    let mut command = Command::new(env!("CARGO_BIN_EXE_municipality"));
    if let Ok(url) = std::env::var("TEST_POSTGRES_URL") {
        backends.push("postgresql");
        command.args(["--database-url", &url]);
    }
    let status = command
        .args(["--server-bin", env!("CARGO_BIN_EXE_bench-api-under-test")])
        .args(["--backends", &backends.join(",")])
        .args(["--families", "100", "--caseworkers", "2"])
        .args([
            "--messages-per-family",
            "4",
            "--appointments-per-family",
            "4",
        ])
        .args([
            "--guardian-sessions",
            "5",
            "--connections",
            "2",
            "--seconds",
            "1",
        ])
        .args([
            "--subscribers",
            "20",
            "--fanout-families",
            "2",
            "--rate",
            "5",
        ])
        .args(["--fanout-seconds", "2", "--scheduling-requests", "5"])
        .args(["--json", &json.display().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "the suite failed: {status}");
    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    for backend in backends {
        let figures = &report["backends"][backend];
        for screen in ["home_screen", "caseload"] {
            let load = &figures[screen];
            assert!(
                load["requests"].as_u64().unwrap() > 0,
                "{backend} {screen}: {load}"
            );
            assert_eq!(load["errors"], 0, "{backend} {screen}: {load}");
            assert!(
                load["statements_per_request"].as_f64().unwrap() >= 1.0,
                "{backend} {screen} read the database: {load}"
            );
        }
        let fanout = &figures["fanout"];
        assert_eq!(fanout["sends_failed"], 0, "{backend}: {fanout}");
        assert!(
            fanout["deliveries_expected"].as_u64().unwrap() > 0,
            "{backend}: {fanout}"
        );
        assert_eq!(
            fanout["deliveries_received"], fanout["deliveries_expected"],
            "{backend}: every message reaches every subscriber: {fanout}"
        );
        assert!(figures["scheduling"].is_object(), "{backend}: {figures}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
