//! `schema.graphql` is exactly what `api export-schema` prints.

use integration_tests::{Backend, TestApp, api_binary, process};

#[tokio::test]
async fn schema_graphql_is_what_export_schema_prints() {
    let exported = process::run(api_binary!(), &["export-schema"], &[]).await;
    assert!(
        exported.status.success(),
        "export-schema fails: {}",
        exported.stderr
    );
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    if committed != exported.stdout {
        let diff = line_diff(&committed, &exported.stdout);
        panic!(
            "schema.graphql differs from the schema in the code.\n{diff}\n\
             Fix: cargo run -q -p api -- export-schema > schema.graphql"
        );
    }
}

/// The lines only in one of the two texts, marked `-` (committed) and `+` (code).
fn line_diff(committed: &str, exported: &str) -> String {
    let old: Vec<&str> = committed.lines().collect();
    let new: Vec<&str> = exported.lines().collect();
    let mut out = String::new();
    for line in old.iter().filter(|l| !new.contains(l)) {
        out.push_str(&format!("- {line}\n"));
    }
    for line in new.iter().filter(|l| !old.contains(l)) {
        out.push_str(&format!("+ {line}\n"));
    }
    if out.is_empty() {
        out.push_str("(same lines in another order)\n");
    }
    out
}

/// Third parties read the schema: every type, field, argument and enum value
/// is described.
#[tokio::test]
async fn every_type_field_argument_and_enum_value_has_a_description() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let body = app
        .graphql(
            r#"{ __schema { types {
                name description
                fields { name description args { name description } }
                inputFields { name description }
                enumValues { name description }
            } } }"#,
            serde_json::json!({}),
        )
        .await;
    let mut missing = Vec::new();
    let blank = |v: &serde_json::Value| v.as_str().map(str::trim).unwrap_or("").is_empty();
    for ty in body["data"]["__schema"]["types"].as_array().expect("types") {
        let name = ty["name"].as_str().unwrap_or_default();
        if name.starts_with("__") || ["String", "Boolean", "Int", "Float", "ID"].contains(&name) {
            continue;
        }
        if blank(&ty["description"]) {
            missing.push(name.to_owned());
        }
        for field in ty["fields"].as_array().into_iter().flatten() {
            let field_name = field["name"].as_str().unwrap_or_default();
            if blank(&field["description"]) {
                missing.push(format!("{name}.{field_name}"));
            }
            for arg in field["args"].as_array().into_iter().flatten() {
                if blank(&arg["description"]) {
                    missing.push(format!("{name}.{field_name}({})", arg["name"]));
                }
            }
        }
        for input in ty["inputFields"].as_array().into_iter().flatten() {
            if blank(&input["description"]) {
                missing.push(format!("{name}.{}", input["name"]));
            }
        }
        for value in ty["enumValues"].as_array().into_iter().flatten() {
            if blank(&value["description"]) {
                missing.push(format!("{name}.{}", value["name"]));
            }
        }
    }
    assert!(missing.is_empty(), "without a description: {missing:#?}");
    app.stop().await;
}
