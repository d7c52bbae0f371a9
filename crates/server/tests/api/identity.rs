//! Users, groups, roles, permissions and sources (spec §1.2, §2).

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;
use serde_json::json;

on_both_backends!(
    users_are_created_changed_and_deleted,
    groups_own_a_source,
    roles_resolve_permissions_by_name_id_or_url,
    the_permission_catalogue,
    sources_can_be_renamed_and_rated,
    private_groups_give_the_source_id,
);

async fn users_are_created_changed_and_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = app.group("First", &[], "GREEN").await;
    let second = app.group("Second", &[], "GREEN").await;
    let role = app
        .post(
            "/api/v2/roles",
            &app.admin,
            json!({"data": {"name": "Reader", "permissions": ["read sources"]}}),
        )
        .await;
    let role_url = role.data()["id"].to_string();

    let created = app
        .post(
            "/api/v2/users",
            &app.admin,
            json!({"data": {"username": "analyst", "email": "analyst@example.org",
                "groups": [first["id"], format!("https://anywhere/api/v2/groups/{}", second["id"])], "roles": [role_url]}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let user = created.data().clone();
    assert_eq!(user["username"], "analyst");
    assert_eq!(user["is_admin"], false);
    assert_eq!(user["groups"].as_array().unwrap().len(), 2);
    assert_eq!(
        user["default_source"].as_str().unwrap().rsplit('/').next(),
        first["source"].as_str().unwrap().rsplit('/').next()
    );
    assert_eq!(user["permissions"].as_array().unwrap().len(), 1);
    let id = user["id"].as_i64().unwrap();

    let found = app.get("/api/v2/users?filter[username]=analy*", &app.admin).await;
    assert_eq!(found.body["total_count"], 1);
    let by_group = app
        .get(&format!("/api/v2/users?filter[groups]={}", second["id"]), &app.admin)
        .await;
    assert_eq!(by_group.data()[0]["username"], "analyst");

    // The group order decides the default source; null clears the email.
    let patched = app
        .patch(
            &format!("/api/v2/users/{id}"),
            &app.admin,
            json!({"data": {"groups": [second["id"], first["id"]], "email": null}}),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.data()["email"], serde_json::Value::Null);
    assert_eq!(patched.data()["default_source"], second["source"]);

    for (body, pointer, says) in [
        (
            json!({"data": {"username": "bad name"}}),
            "/data/username",
            "not a user name",
        ),
        (
            json!({"data": {"username": "x", "email": "nope"}}),
            "/data/email",
            "not an email",
        ),
        (
            json!({"data": {"username": "x", "groups": [999]}}),
            "/data/groups/0",
            "group 999 does not exist",
        ),
        (
            json!({"data": {"username": "x", "roles": ["abc"]}}),
            "/data/roles/0",
            "not a role id",
        ),
        (
            json!({"data": {"username": "x", "groups": ["https://h/api/v2/roles/1"]}}),
            "/data/groups/0",
            "not a group id",
        ),
    ] {
        let answer = app.post("/api/v2/users", &app.admin, body.clone()).await;
        assert_eq!(answer.status, 400, "{body}");
        assert_eq!(answer.source(0), pointer, "{body}");
        assert!(answer.detail(0).contains(says), "{body}: {}", answer.detail(0));
    }
    let taken = app
        .post("/api/v2/users", &app.admin, json!({"data": {"username": "analyst"}}))
        .await;
    assert_eq!(taken.status, 409);
    assert!(taken.detail(0).contains("'analyst' already exists"));

    let me = app.get("/api/v2/users/self", &app.admin).await.data()["id"].clone();
    assert_eq!(app.delete(&format!("/api/v2/users/{me}"), &app.admin).await.status, 409);
    let deactivate = app
        .patch(
            &format!("/api/v2/users/{me}"),
            &app.admin,
            json!({"data": {"is_active": false}}),
        )
        .await;
    assert_eq!((deactivate.status, deactivate.source(0)), (400, "/data/is_active"));

    let token = app.token_for(id, None).await;
    assert_eq!(app.delete(&format!("/api/v2/users/{id}"), &app.admin).await.status, 204);
    assert_eq!(app.get(&format!("/api/v2/users/{id}"), &app.admin).await.status, 404);
    assert_eq!(
        app.get("/api/v2/users/self", &token).await.status,
        401,
        "a deleted user's tokens die with them"
    );
}

async fn groups_own_a_source(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let feed = app
        .store
        .create_source("Partner feed", cairn_domain::source::SourceType::IncomingFeed)
        .await
        .unwrap();
    let group = app.group("Hunters", &[&feed.id.to_string()], "AMBER+STRICT").await;
    assert_eq!(group["max_tlp"], "AMBER+STRICT");
    let source_id = TestApp::id_of(&group["source"]);
    let source = app.get(&format!("/api/v2/sources/{source_id}"), &app.admin).await;
    assert_eq!(
        (source.data()["name"].as_str(), source.data()["source_type"].as_str()),
        (Some("Hunters"), Some("group"))
    );
    assert_eq!(TestApp::id_of(&group["allowed_sources"][0]), feed.id.to_string());
    let by_allowed = app
        .get(
            &format!("/api/v2/groups?filter[allowed_sources]={}", feed.id),
            &app.admin,
        )
        .await;
    assert_eq!(by_allowed.body["total_count"], 1);

    let id = group["id"].as_i64().unwrap();
    let renamed = app
        .patch(
            &format!("/api/v2/groups/{id}"),
            &app.admin,
            json!({"data": {"name": "Threat Hunters", "allowed_sources": [], "max_tlp": "RED"}}),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert_eq!(renamed.data()["allowed_sources"], json!([]));
    assert_eq!(renamed.data()["max_tlp"], "RED");
    let source = app.get(&format!("/api/v2/sources/{source_id}"), &app.admin).await;
    assert_eq!(
        source.data()["name"],
        "Threat Hunters",
        "renaming a group renames its source"
    );

    let bad = app
        .patch(
            &format!("/api/v2/groups/{id}"),
            &app.admin,
            json!({"data": {"max_tlp": "PURPLE"}}),
        )
        .await;
    assert_eq!((bad.status, bad.source(0)), (400, "/data/max_tlp"));
    assert_eq!(
        app.get(&format!("/api/v2/groups/{id}"), &app.admin).await.data()["max_tlp"],
        "RED"
    );

    assert_eq!(
        app.delete(&format!("/api/v2/groups/{id}"), &app.admin).await.status,
        204
    );
    assert_eq!(app.get(&format!("/api/v2/groups/{id}"), &app.admin).await.status, 404);
    assert_eq!(
        app.get(&format!("/api/v2/sources/{source_id}"), &app.admin)
            .await
            .status,
        200,
        "provenance stays"
    );
}

async fn roles_resolve_permissions_by_name_id_or_url(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let role = app
        .post(
            "/api/v2/roles",
            &app.admin,
            json!({"data": {"name": "Mixed", "description": "three ways",
                "permissions": ["read entities", 3, "https://h/api/v2/permissions/4"]}}),
        )
        .await;
    assert_eq!(role.status, 201, "{}", role.body);
    let ids: Vec<String> = role.data()["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(TestApp::id_of)
        .collect();
    assert_eq!(ids, ["1", "3", "4"]);
    let mut names = Vec::new();
    for id in &ids {
        names.push(
            app.get(&format!("/api/v2/permissions/{id}"), &app.admin).await.data()["name"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(names, ["read entities", "read extracts", "modify extracts"]);

    let bad = app
        .post(
            "/api/v2/roles",
            &app.admin,
            json!({"data": {"name": "Bad", "permissions": ["write entities", 0]}}),
        )
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.sources(), vec!["/data/permissions/0", "/data/permissions/1"]);

    let id = role.data()["id"].as_i64().unwrap();
    let patched = app
        .patch(
            &format!("/api/v2/roles/{id}"),
            &app.admin,
            json!({"data": {"permissions": [], "description": null}}),
        )
        .await;
    assert_eq!(patched.data()["permissions"], json!([]));
    assert_eq!(patched.data()["description"], serde_json::Value::Null);
    let listed = app.get("/api/v2/roles?filter[name]=mix&sort=name", &app.admin).await;
    assert_eq!(listed.body["total_count"], 1);
}

async fn the_permission_catalogue(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let nobody = app.user("nobody", &[], &[]).await;
    let all = app.get("/api/v2/permissions?limit=1000", &nobody).await;
    assert_eq!(all.status, 200, "the catalogue is readable by every authenticated user");
    let names: Vec<&str> = all
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for required in [
        "read entities",
        "modify entities",
        "read extracts",
        "modify extracts",
        "read intel-sets",
        "read knowledge-packs",
        "modify knowledge-packs",
    ] {
        assert!(names.contains(&required), "{required}");
    }
    let entities = app
        .get("/api/v2/permissions?filter[name]=entities&sort=id", &nobody)
        .await;
    assert_eq!(entities.body["total_count"], 2);
    assert_eq!(app.get("/api/v2/permissions/9999", &nobody).await.status, 404);
}

async fn sources_can_be_renamed_and_rated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let source = app.get("/api/v2/sources", &app.admin).await.data()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v2/sources/{source}");
    let rated = app
        .patch(&path, &app.admin, json!({"data": {"reliability": "B"}}))
        .await;
    assert_eq!((rated.status, rated.data()["reliability"].as_str()), (200, Some("B")));
    let filtered = app.get("/api/v2/sources?filter[reliability]=B", &app.admin).await;
    assert_eq!(filtered.body["total_count"], 1);
    let bad = app
        .patch(&path, &app.admin, json!({"data": {"reliability": "Z", "name": ""}}))
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.sources(), vec!["/data/name", "/data/reliability"]);
    assert_eq!(app.get(&path, &app.admin).await.data()["reliability"], "B");
    let cleared = app
        .patch(&path, &app.admin, json!({"data": {"reliability": null}}))
        .await;
    assert_eq!(cleared.data()["reliability"], serde_json::Value::Null);
}

async fn private_groups_give_the_source_id(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let group = app.group("Testing Group", &[], "AMBER").await;
    let answer = app.get("/private/groups/?filter[name]=Testing Group", &app.admin).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.data()[0]["id"], group["id"]);
    assert_eq!(
        answer.data()[0]["source"].as_str().unwrap(),
        TestApp::id_of(&group["source"])
    );
}
