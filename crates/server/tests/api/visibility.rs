//! Visibility: a user sees only what their groups' sources and maximum TLP allow, on every
//! read path, and a hidden object is indistinguishable from one that does not exist.

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;
use cairn_domain::source::SourceType;
use serde_json::json;

on_both_backends!(a_source_only_group_a_may_see_stays_invisible_to_group_b);

async fn a_source_only_group_a_may_see_stays_invisible_to_group_b(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let secret = app
        .store
        .create_source("Confidential partner feed", SourceType::IncomingFeed)
        .await
        .unwrap();
    let secret_id = secret.id.to_string();
    let a = app.group("Group A", &[&secret_id], "RED").await;
    let b = app.group("Group B", &[], "RED").await;
    let reader = ["read sources", "read groups", "modify groups"];
    let alice = app.user("alice", &reader, &[a["id"].as_i64().unwrap()]).await;
    let bob = app.user("bob", &reader, &[b["id"].as_i64().unwrap()]).await;

    // Alice sees her group's source and the feed; Bob sees his group's source only.
    let alices = app.get("/api/v2/sources?sort=name", &alice).await;
    let names: Vec<&str> = alices
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Confidential partner feed", "Group A"]);
    let bobs = app.get("/api/v2/sources", &bob).await;
    assert_eq!(bobs.body["total_count"], 1);
    assert_eq!(bobs.data()[0]["name"], "Group B");

    // Not through counts, filters, sorting or paging either.
    let probes = [
        ("/api/v2/sources?data=false".to_owned(), 1),
        (format!("/api/v2/sources?filter[id]={secret_id}"), 0),
        (format!("/api/v2/sources?filter[id]={secret_id}&data=false"), 0),
        ("/api/v2/sources?filter[name]=Confidential".to_owned(), 0),
        ("/api/v2/sources?filter[source_type]=incoming_feed".to_owned(), 0),
        ("/api/v2/sources?filter[!name]=Group B".to_owned(), 0),
        ("/api/v2/sources?sort=-name&offset=1".to_owned(), 1),
    ];
    for (probe, expected) in &probes {
        let answer = app.get(probe, &bob).await;
        assert_eq!(answer.status, 200, "{probe}");
        assert_eq!(answer.body["total_count"], *expected, "{probe}: {}", answer.body);
        assert!(!answer.body.to_string().contains(&secret_id), "{probe}");
    }

    // A hidden source answers exactly like one that does not exist.
    let hidden = app.get(&format!("/api/v2/sources/{secret_id}"), &bob).await;
    let ghost_id = uuid::Uuid::new_v4().to_string();
    let ghost = app.get(&format!("/api/v2/sources/{ghost_id}"), &bob).await;
    assert_eq!((hidden.status, ghost.status), (404, 404));
    assert_eq!(
        hidden.detail(0).replace(&secret_id, "ID"),
        ghost.detail(0).replace(&ghost_id, "ID")
    );
    let patch = app
        .patch(
            &format!("/api/v2/sources/{secret_id}"),
            &app.admin,
            json!({"data": {"name": "Renamed"}}),
        )
        .await;
    assert_eq!(patch.status, 200);

    // Bob cannot widen a group's view to a source he cannot see: it "does not exist".
    let widen = app
        .patch(
            &format!("/api/v2/groups/{}", b["id"]),
            &bob,
            json!({"data": {"allowed_sources": [secret_id]}}),
        )
        .await;
    assert_eq!(widen.status, 400, "{}", widen.body);
    assert!(widen.detail(0).contains("does not exist"), "{}", widen.detail(0));
    assert_eq!(app.get("/api/v2/sources?data=false", &bob).await.body["total_count"], 1);

    // The administrator sees everything.
    assert_eq!(
        app.get("/api/v2/sources?data=false", &app.admin).await.body["total_count"],
        4
    );
    assert_eq!(
        app.get(&format!("/api/v2/sources/{secret_id}"), &app.admin)
            .await
            .status,
        200
    );
}
