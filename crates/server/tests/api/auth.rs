//! Authentication (401) and authorization (403).

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;
use cairn_domain::Timestamp;
use reqwest::Method;
use serde_json::json;

on_both_backends!(
    tokens_that_do_not_authenticate_get_401,
    created_tokens_work_until_revoked,
    deactivated_users_are_locked_out,
    missing_permission_is_403_and_changes_nothing,
    nobody_grants_what_they_do_not_hold,
    configured_admin_token_is_kept_across_starts,
);

async fn tokens_that_do_not_authenticate_get_401(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let me = app.store.get_user_by_name("admin").await.unwrap();
    let expired = app.token_for(me.id, Some(Timestamp::now().plus_days(-1))).await;
    let cases: Vec<(Option<String>, &str)> = vec![
        (None, "Authentication required"),
        (Some("Basic YWRtaW46YWRtaW4=".into()), "must be 'Bearer <token>'"),
        (Some("Bearer not-a-token".into()), "malformed"),
        (Some(format!("Bearer {}", "0".repeat(64))), "not valid"),
        (Some(format!("Bearer {}", app.admin.to_uppercase())), "malformed"),
        (Some(format!("Bearer {expired}")), "expired"),
    ];
    for (header, expected) in cases {
        let mut request = app.request(Method::GET, "/api/v2/users/self");
        if let Some(header) = &header {
            request = request.header("Authorization", header);
        }
        let answer = app.finish(request).await;
        assert_eq!(answer.status, 401, "{header:?}: {}", answer.body);
        assert!(answer.detail(0).contains(expected), "{header:?}: {}", answer.detail(0));
        assert_eq!(answer.headers["www-authenticate"], "Bearer");
    }
    // The scheme is case-insensitive, and unknown extra headers (one client sends AUTH_TYPE) are ignored.
    let request = app
        .request(Method::GET, "/api/v2/users/self")
        .header("Authorization", format!("bearer {}", app.admin))
        .header("AUTH_TYPE", "BEARER_TOKEN");
    let answer = app.finish(request).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.data()["username"], "admin");
}

async fn created_tokens_work_until_revoked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app
        .post(
            "/api/v2/users/self/tokens",
            &app.admin,
            json!({"data": {"name": "soar", "expires_in_days": 30}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let token = created.data()["token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 64);
    assert!(created.data()["expires_at"].is_string());
    assert_eq!(app.get("/api/v2/users/self", &token).await.status, 200);

    // The secret is shown once: listing never shows it.
    let listed = app.get("/api/v2/users/self/tokens", &app.admin).await;
    assert_eq!(listed.status, 200);
    let tokens = listed.data().as_array().unwrap();
    assert!(tokens.iter().any(|t| t["name"] == "soar"));
    assert!(tokens.iter().all(|t| t.get("token").is_none()), "{}", listed.body);
    assert!(!listed.body.to_string().contains(&token));

    // Another user cannot revoke it; its owner can, and it stops working at once.
    let id = created.data()["id"].as_i64().unwrap();
    let other = app.user("other", &[], &[]).await;
    let foreign = app.delete(&format!("/api/v2/users/self/tokens/{id}"), &other).await;
    assert_eq!(foreign.status, 404, "{}", foreign.body);
    assert_eq!(app.get("/api/v2/users/self", &token).await.status, 200);
    assert_eq!(
        app.delete(&format!("/api/v2/users/self/tokens/{id}"), &app.admin)
            .await
            .status,
        204
    );
    let revoked = app.get("/api/v2/users/self", &token).await;
    assert_eq!(revoked.status, 401);
    assert!(revoked.detail(0).contains("revoked"), "{}", revoked.detail(0));

    // Bad token requests are refused with the field named.
    let bad = app
        .post(
            "/api/v2/users/self/tokens",
            &app.admin,
            json!({"data": {"name": " ", "expires_in_days": 0}}),
        )
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.sources(), vec!["/data/name", "/data/expires_in_days"]);
}

async fn deactivated_users_are_locked_out(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.user("leaver", &["read sources"], &[]).await;
    assert_eq!(app.get("/api/v2/sources", &token).await.status, 200);
    let id = app.get("/api/v2/users/self", &token).await.data()["id"].clone();
    let patched = app
        .patch(
            &format!("/api/v2/users/{id}"),
            &app.admin,
            json!({"data": {"is_active": false}}),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    let answer = app.get("/api/v2/sources", &token).await;
    assert_eq!(answer.status, 401);
    assert!(answer.detail(0).contains("deactivated"));
}

async fn missing_permission_is_403_and_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let reader = app
        .user(
            "reader",
            &["read sources", "read users", "read groups", "read roles"],
            &[],
        )
        .await;
    let nobody = app.user("nobody", &[], &[]).await;

    let answer = app.get("/api/v2/sources", &nobody).await;
    assert_eq!(answer.status, 403);
    assert!(answer.detail(0).contains("'read sources'"), "{}", answer.detail(0));
    for path in ["/api/v2/users", "/api/v2/groups", "/api/v2/roles", "/private/groups"] {
        assert_eq!(app.get(path, &nobody).await.status, 403, "{path}");
        assert_eq!(app.get(path, &reader).await.status, 200, "{path}");
    }

    // Reading is not writing: each write is refused and leaves the data as it was.
    let before = app.get("/api/v2/users?data=false", &app.admin).await.body["total_count"].clone();
    let source = app.get("/api/v2/sources", &app.admin).await.data()[0].clone();
    let writes = [
        (
            Method::POST,
            "/api/v2/users".to_owned(),
            json!({"data": {"username": "sneaky"}}),
            "'modify users'",
        ),
        (
            Method::POST,
            "/api/v2/groups".to_owned(),
            json!({"data": {"name": "Sneaky"}}),
            "'modify groups'",
        ),
        (
            Method::POST,
            "/api/v2/roles".to_owned(),
            json!({"data": {"name": "Sneaky"}}),
            "'modify roles'",
        ),
        (
            Method::PATCH,
            format!("/api/v2/sources/{}", source["id"].as_str().unwrap()),
            json!({"data": {"name": "x"}}),
            "'modify sources'",
        ),
        (
            Method::DELETE,
            "/api/v2/roles/1".to_owned(),
            json!(null),
            "'modify roles'",
        ),
    ];
    for (method, path, body, permission) in writes {
        let answer = app.send(method.clone(), &path, Some(&reader), Some(body)).await;
        assert_eq!(answer.status, 403, "{method} {path}: {}", answer.body);
        assert!(answer.detail(0).contains(permission), "{}", answer.detail(0));
    }
    assert_eq!(
        app.get("/api/v2/users?data=false", &app.admin).await.body["total_count"],
        before
    );
    assert_eq!(
        app.get(
            &format!("/api/v2/sources/{}", source["id"].as_str().unwrap()),
            &app.admin
        )
        .await
        .data()["name"],
        source["name"]
    );
    assert_eq!(app.get("/api/v2/roles/1", &app.admin).await.status, 200);
}

async fn nobody_grants_what_they_do_not_hold(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let manager = app
        .user(
            "manager",
            &["read users", "modify users", "read roles", "modify roles"],
            &[],
        )
        .await;

    let role = app
        .post(
            "/api/v2/roles",
            &manager,
            json!({"data": {"name": "Too much", "permissions": ["modify sources"]}}),
        )
        .await;
    assert_eq!(role.status, 403);
    assert!(role.detail(0).contains("'modify sources'"), "{}", role.detail(0));

    // The bootstrap role holds everything: handing it out would be an escalation.
    let admin_role = app
        .post(
            "/api/v2/users",
            &manager,
            json!({"data": {"username": "escalated", "roles": [1]}}),
        )
        .await;
    assert_eq!(admin_role.status, 403, "{}", admin_role.body);
    let admin_flag = app
        .post(
            "/api/v2/users",
            &manager,
            json!({"data": {"username": "escalated", "is_admin": true}}),
        )
        .await;
    assert_eq!(admin_flag.status, 403);
    let touch_admin = app
        .patch("/api/v2/users/1", &manager, json!({"data": {"email": "a@b.example"}}))
        .await;
    assert_eq!(touch_admin.status, 403);
    assert_eq!(app.delete("/api/v2/users/1", &manager).await.status, 403);

    let users = app.get("/api/v2/users?filter[username]=escalated", &app.admin).await;
    assert_eq!(users.body["total_count"], 0);
    // What they hold, they may grant.
    let fine = app
        .post(
            "/api/v2/roles",
            &manager,
            json!({"data": {"name": "Readers", "permissions": ["read users"]}}),
        )
        .await;
    assert_eq!(fine.status, 201, "{}", fine.body);
}

async fn configured_admin_token_is_kept_across_starts(backend: Backend) {
    // TestApp starts like `CAIRN_ADMIN_TOKEN=<token> cairn serve`.
    let app = TestApp::spawn(backend).await;
    let me = app.get("/api/v2/users/self", &app.admin).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.data()["is_admin"], true);
    assert_eq!(
        me.data()["permissions"].as_array().unwrap().len(),
        cairn_domain::permission::Permission::all().count()
    );
    assert!(
        !cairn::admin_token_path(&app.data_dir).exists(),
        "a configured token is not written to a file"
    );

    // A second start with the same token bootstraps nothing new and the token still works.
    let again = app
        .store
        .bootstrap(Some(&cairn_domain::token::TokenSecret::parse(&app.admin).unwrap()))
        .await
        .unwrap();
    assert!(!again.admin_created);
    assert_eq!(
        app.get("/api/v2/users?data=false", &app.admin).await.body["total_count"],
        1
    );
    assert_eq!(app.get("/api/v2/users/self", &app.admin).await.status, 200);
}
