//! Relationships (spec §5) and every line of the release notes about them.

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashMap;

on_both_backends!(
    each_bad_relationship_is_400_and_stores_nothing,
    bulk_put_is_idempotent_and_patch_changes_one,
    strict_stix_flags_follow_the_specifications,
    relationships_need_both_ends_visible_and_go_with_them,
    poison_ivy_report_loads_with_its_stix_alignment,
);

async fn entity(app: &TestApp, kind: &str, title: &str) -> String {
    let answer = app
        .post(
            "/api/v2/entities",
            &app.admin,
            json!({"data": {"data": {"type": kind, "title": title}}}),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.data()["id"].as_str().unwrap().to_owned()
}

async fn admin_source(app: &TestApp) -> String {
    TestApp::id_of(&app.get("/api/v2/users/self", &app.admin).await.data()["default_source"])
}

async fn count(app: &TestApp) -> u64 {
    app.get("/api/v2/relationships?data=false", &app.admin).await.body["total_count"]
        .as_u64()
        .unwrap()
}

async fn each_bad_relationship_is_400_and_stores_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (a, b) = (entity(&app, "indicator", "a").await, entity(&app, "malware", "b").await);
    let source = admin_source(&app).await;
    let good = json!({"data": {"source": a, "target": b, "key": "indicates"}, "sources": [source]});
    let with = |path: &[&str], value: Value| {
        let mut body = good.clone();
        let mut at = &mut body;
        for step in &path[..path.len() - 1] {
            at = &mut at[*step];
        }
        match value {
            Value::Null => {
                at.as_object_mut().unwrap().remove(path[path.len() - 1]);
            }
            v => at[path[path.len() - 1]] = v,
        }
        json!({"data": body})
    };
    let unknown_entity = uuid::Uuid::new_v4().to_string();
    let cases = [
        (with(&["sources"], Value::Null), "/data/sources", "sources is required"),
        (with(&["sources"], json!([])), "/data/sources", "cannot be empty"),
        (
            with(&["sources"], json!([uuid::Uuid::new_v4().to_string()])),
            "/data/sources/0",
            "does not exist",
        ),
        (
            with(&["sources"], json!(["not-an-id"])),
            "/data/sources/0",
            "not a source id",
        ),
        (
            with(&["data", "key"], json!("Indicates")),
            "/data/data/key",
            "lowercase a-z",
        ),
        (
            with(&["data", "key"], json!("related_to")),
            "/data/data/key",
            "lowercase a-z",
        ),
        (
            with(&["data", "key"], json!("related to")),
            "/data/data/key",
            "lowercase a-z",
        ),
        (
            with(&["data", "key"], json!("relaté")),
            "/data/data/key",
            "lowercase a-z",
        ),
        (
            with(&["data", "key"], json!("a".repeat(257))),
            "/data/data/key",
            "got 257 characters",
        ),
        (with(&["data", "key"], json!("")), "/data/data/key", "1 to 256"),
        (with(&["data", "key"], Value::Null), "/data/data/key", "key is required"),
        (
            with(&["data", "subtype"], json!("update_of")),
            "/data/data/subtype",
            "stix_update_of",
        ),
        (
            with(&["data", "subtype"], json!(3)),
            "/data/data/subtype",
            "stix_update_of",
        ),
        (
            with(&["data", "source"], json!(unknown_entity)),
            "/data/data/source",
            "does not exist",
        ),
        (
            with(&["data", "target"], json!("https://h/api/v2/entities/nope")),
            "/data/data/target",
            "not an entity id",
        ),
        (
            with(&["data", "colour"], json!("red")),
            "/data/data/colour",
            "not a property",
        ),
        (
            with(&["meta"], json!({"tlp_color": "BLUE"})),
            "/data/meta/tlp_color",
            "not a TLP colour",
        ),
        (
            with(
                &["meta"],
                json!({"estimated_threat_start_time": "2024-02-01T00:00:00Z", "estimated_threat_end_time": "2024-01-01T00:00:00Z"}),
            ),
            "/data/meta/estimated_threat_end_time",
            "cannot end before",
        ),
    ];
    for (body, pointer, says) in cases {
        for (method, body) in [
            (Method::POST, body.clone()),
            (Method::PUT, json!({"data": [body["data"].clone()]})),
        ] {
            let answer = app
                .send(
                    method.clone(),
                    "/api/v2/relationships",
                    Some(&app.admin),
                    Some(body.clone()),
                )
                .await;
            assert_eq!(answer.status, 400, "{method} {body}: {}", answer.body);
            let pointer = if method == Method::PUT {
                pointer.replacen("/data", "/data/0", 1)
            } else {
                pointer.to_owned()
            };
            assert!(
                answer.sources().contains(&pointer),
                "{method} {body}: {:?}",
                answer.sources()
            );
            let detail = answer.body["errors"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["source"]["pointer"] == pointer.as_str())
                .unwrap()["detail"]
                .clone();
            assert!(detail.as_str().unwrap().contains(says), "{body}: {detail}");
        }
    }
    assert_eq!(count(&app).await, 0, "nothing was stored");
    let created = app
        .post("/api/v2/relationships", &app.admin, json!({"data": good}))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.data()["id"].as_str().unwrap();
    for sources in [json!(null), json!([])] {
        let mut change = json!({"data": {"data": {"description": "x"}}});
        if !sources.is_null() {
            change["data"]["sources"] = sources;
        }
        let patch = app
            .patch(&format!("/api/v2/relationships/{id}"), &app.admin, change)
            .await;
        assert_eq!(
            (patch.status, patch.source(0)),
            (400, "/data/sources"),
            "{}",
            patch.body
        );
    }
    let again = app
        .post("/api/v2/relationships", &app.admin, json!({"data": good}))
        .await;
    assert_eq!(again.status, 409);
    for (query, parameter) in [
        ("filter[data.source]=1111", "filter[data.source]"),
        ("filter[sources]=x", "filter[sources]"),
    ] {
        let answer = app.get(&format!("/api/v2/relationships?{query}"), &app.admin).await;
        assert_eq!((answer.status, answer.source(0)), (400, parameter));
    }
}

async fn bulk_put_is_idempotent_and_patch_changes_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (i, m, c) = (
        entity(&app, "indicator", "i").await,
        entity(&app, "malware", "m").await,
        entity(&app, "campaign", "c").await,
    );
    let source = admin_source(&app).await;
    let bulk = json!({"data": [
        {"data": {"source": i, "target": m, "key": "indicates", "description": "first"}, "sources": [source]},
        {"data": {"source": c, "target": m, "key": "uses", "subtype": "stix_update_of"}, "sources": [{"source_id": source}],
         "meta": {"tlp_color": "GREEN", "estimated_threat_start_time": "2024-01-01T00:00:00Z"}},
        {"data": {"source": format!("{}/api/v2/entities/{i}", app.base), "target": c, "key": "indicates"}, "sources": [source]},
    ]});
    let first = app
        .send(
            Method::PUT,
            "/api/v2/relationships",
            Some(&app.admin),
            Some(bulk.clone()),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    let keys: Vec<&str> = first
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["data"]["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["indicates", "uses", "indicates"]);
    assert_eq!(first.data()[1]["data"]["subtype"], "stix_update_of");
    assert_eq!(first.data()[1]["meta"]["tlp_color"], "GREEN");
    assert_eq!(
        first.data()[0]["data"]["target"],
        format!("{}/api/v2/entities/{m}", app.base)
    );
    assert!(first.data()[0]["meta"]["stix_id"]
        .as_str()
        .unwrap()
        .starts_with("relationship--"));
    let second = app
        .send(Method::PUT, "/api/v2/relationships", Some(&app.admin), Some(bulk))
        .await;
    assert_eq!(second.status, 200);
    assert_eq!(count(&app).await, 3, "the same bulk twice creates nothing new");
    for (a, b) in first
        .data()
        .as_array()
        .unwrap()
        .iter()
        .zip(second.data().as_array().unwrap())
    {
        assert_eq!((&a["id"], &a["meta"]["stix_id"]), (&b["id"], &b["meta"]["stix_id"]));
    }

    let id = first.data()[0]["id"].as_str().unwrap();
    let patched = app
        .patch(&format!("/api/v2/relationships/{id}"), &app.admin, json!({"data": {
            "data": {"description": "updated description"},
            "meta": {"estimated_threat_start_time": "2024-03-01T00:00:00Z", "estimated_threat_end_time": "2024-04-01T10:00:00+02:00"},
            "sources": [source]}}))
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    let r = patched.data();
    assert_eq!(r["data"]["description"], "updated description");
    assert_eq!(
        r["meta"]["estimated_threat_start_time"],
        "2024-03-01T00:00:00.000000+00:00"
    );
    assert_eq!(
        r["meta"]["estimated_threat_end_time"],
        "2024-04-01T08:00:00.000000+00:00"
    );
    assert_eq!(r["data"]["key"], "indicates", "what was not named stays");
    assert_eq!(r["meta"]["stix_id"], first.data()[0]["meta"]["stix_id"]);
    let by_id = app.send(Method::PUT, "/api/v2/relationships", Some(&app.admin), Some(json!({"data": [
        {"id": id, "data": {"source": i, "target": m, "key": "indicates", "description": "by id"}, "sources": [source]}]}))).await;
    assert_eq!(by_id.data()[0]["id"], id);
    assert_eq!(count(&app).await, 3);

    let filtered = app
        .get(
            &format!("/api/v2/relationships?filter[data.source]={i}&filter[data.key]=indicates"),
            &app.admin,
        )
        .await;
    assert_eq!(filtered.body["total_count"], 2);
    let to_m = app
        .get(
            &format!("/api/v2/relationships?filter[data.target]={m}&sort=data.key"),
            &app.admin,
        )
        .await;
    assert_eq!(to_m.body["total_count"], 2);
    assert_eq!(
        app.delete(&format!("/api/v2/relationships/{id}"), &app.admin)
            .await
            .status,
        204
    );
    assert_eq!(
        app.get(&format!("/api/v2/relationships/{id}"), &app.admin).await.status,
        404
    );
}

async fn strict_stix_flags_follow_the_specifications(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let source = admin_source(&app).await;
    let mut ids = HashMap::new();
    for kind in [
        "malware",
        "attack-pattern",
        "indicator",
        "ttp",
        "threat-actor",
        "identity",
    ] {
        ids.insert(kind, entity(&app, kind, kind).await);
    }
    // (source, key, target, strict_stix_1, strict_stix_2), from the STIX 2.1 and 1.2 texts.
    let cases = [
        ("malware", "uses", "attack-pattern", false, true),
        ("indicator", "indicates", "malware", false, true),
        ("malware", "indicates", "indicator", false, false),
        ("indicator", "indicates", "ttp", false, false),
        ("indicator", "indicated-ttp", "ttp", true, false),
        ("threat-actor", "observed-ttp", "ttp", true, false),
        ("threat-actor", "attributed-to", "identity", false, true),
        ("identity", "related-to", "malware", false, true),
        ("ttp", "related-to", "malware", false, false),
        ("malware", "x-custom-link", "identity", false, false),
    ];
    let body: Vec<Value> = cases
        .iter()
        .map(|(s, k, t, ..)| json!({"data": {"source": ids[s], "target": ids[t], "key": k}, "sources": [source]}))
        .collect();
    let answer = app
        .send(
            Method::PUT,
            "/api/v2/relationships",
            Some(&app.admin),
            Some(json!({"data": body})),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    for ((s, k, t, stix1, stix2), r) in cases.iter().zip(answer.data().as_array().unwrap()) {
        assert_eq!(
            (r["strict_stix_1"].as_bool(), r["strict_stix_2"].as_bool()),
            (Some(*stix1), Some(*stix2)),
            "{s} {k} {t}"
        );
    }
}

async fn relationships_need_both_ends_visible_and_go_with_them(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.group("A", &[], "RED").await;
    let b = app.group("B", &[], "RED").await;
    let rights = [
        "read entities",
        "modify entities",
        "read relationships",
        "modify relationships",
    ];
    let alice = app.user("alice", &rights, &[a["id"].as_i64().unwrap()]).await;
    let bob = app.user("bob", &rights, &[b["id"].as_i64().unwrap()]).await;
    let create = |token: String, title: &'static str| {
        let app = &app;
        async move {
            app.post(
                "/api/v2/entities",
                &token,
                json!({"data": {"data": {"type": "malware", "title": title}}}),
            )
            .await
            .data()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let alices = create(alice.clone(), "alice's").await;
    let bobs = create(bob.clone(), "bob's").await;
    let bobs_other = create(bob.clone(), "bob's other").await;
    // The administrator links Bob's entity to Alice's, under Bob's source.
    let link = app
        .post("/api/v2/relationships", &app.admin, json!({"data": {"data": {"source": bobs, "target": alices, "key": "variant-of"}, "sources": [b["source"]]}}))
        .await;
    assert_eq!(link.status, 201, "{}", link.body);
    let link_id = link.data()["id"].as_str().unwrap().to_owned();
    let own = app.post("/api/v2/relationships", &bob, json!({"data": {"data": {"source": bobs, "target": bobs_other, "key": "related-to"}, "sources": [b["source"]]}})).await;
    assert_eq!(own.status, 201, "{}", own.body);

    // Bob sees the relationship's source but not its target: it is hidden from him.
    let listed = app.get("/api/v2/relationships", &bob).await;
    assert_eq!(listed.body["total_count"], 1);
    assert_eq!(listed.data()[0]["data"]["key"], "related-to");
    assert_eq!(
        app.get(&format!("/api/v2/relationships/{link_id}"), &bob).await.status,
        404
    );
    assert_eq!(
        app.get(
            &format!("/api/v2/relationships?filter[data.target]={alices}&data=false"),
            &bob
        )
        .await
        .body["total_count"],
        0
    );
    assert_eq!(
        app.delete(&format!("/api/v2/relationships/{link_id}"), &bob)
            .await
            .status,
        404
    );
    let to_hidden = app
        .post(
            "/api/v2/relationships",
            &bob,
            json!({"data": {"data": {"source": bobs, "target": alices, "key": "uses"}, "sources": [b["source"]]}}),
        )
        .await;
    assert_eq!((to_hidden.status, to_hidden.source(0)), (400, "/data/data/target"));
    assert!(to_hidden.detail(0).contains("does not exist"));
    // Alice sees both ends but not the relationship's only source.
    assert_eq!(
        app.get(&format!("/api/v2/relationships/{link_id}"), &alice)
            .await
            .status,
        404
    );
    assert_eq!(
        app.get(&format!("/api/v2/relationships/{link_id}"), &app.admin)
            .await
            .status,
        200
    );

    // Deleting an entity removes its relationships.
    assert_eq!(
        app.delete(&format!("/api/v2/entities/{alices}"), &app.admin)
            .await
            .status,
        204
    );
    assert_eq!(
        app.get(&format!("/api/v2/relationships/{link_id}"), &app.admin)
            .await
            .status,
        404
    );
    assert_eq!(count(&app).await, 1);
    let reader = app
        .user("reader", &["read entities"], &[b["id"].as_i64().unwrap()])
        .await;
    assert_eq!(app.get("/api/v2/relationships", &reader).await.status, 403);
}

async fn poison_ivy_report_loads_with_its_stix_alignment(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/oasis-cti-stix2-json-schemas/examples/threat-reports/poisonivy.json");
    let bundle: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let objects = bundle["objects"].as_array().unwrap();
    let entities: Vec<Value> = objects
        .iter()
        .filter(|o| o["type"] != "relationship")
        .map(|o| {
            let mut data = o.as_object().unwrap().clone();
            let title = data.remove("name").unwrap_or_else(|| json!(o["id"]));
            data.insert("title".into(), title);
            json!({"data": data})
        })
        .collect();
    let stored = app
        .send(
            Method::PUT,
            "/api/v2/entities",
            Some(&app.admin),
            Some(json!({"data": entities})),
        )
        .await;
    assert_eq!(stored.status, 200, "{}", stored.body);
    let by_stix: HashMap<String, String> = stored
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["data"]["id"].as_str().unwrap().to_owned(),
                e["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let source = admin_source(&app).await;
    let relationships: Vec<Value> = objects
        .iter()
        .filter(|o| o["type"] == "relationship")
        .map(|o| {
            json!({"data": {"source": by_stix[o["source_ref"].as_str().unwrap()], "target": by_stix[o["target_ref"].as_str().unwrap()],
                    "key": o["relationship_type"]}, "sources": [source]})
        })
        .collect();
    assert_eq!(relationships.len(), 90);
    let answer = app
        .send(
            Method::PUT,
            "/api/v2/relationships",
            Some(&app.admin),
            Some(json!({"data": relationships})),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    // Every relationship in the report is one STIX 2.1 defines (indicator indicates malware and
    // campaign, campaign uses malware and attack-pattern, … targets vulnerability, course-of-action
    // mitigates malware); none uses a STIX 1.2 relation.
    let listed = app.get("/api/v2/relationships?limit=1000", &app.admin).await;
    assert_eq!(listed.body["total_count"], 90);
    for r in listed.data().as_array().unwrap() {
        assert_eq!(
            (r["strict_stix_2"].as_bool(), r["strict_stix_1"].as_bool()),
            (Some(true), Some(false)),
            "{}",
            r["data"]
        );
    }
}
