//! The conventions every endpoint shares (spec §1).

use crate::helpers::{Backend, Settings, TestApp};
use crate::on_both_backends;
use reqwest::Method;
use serde_json::{json, Value};

on_both_backends!(
    list_envelope_paging_and_count_only,
    limit_offset_and_sort_are_checked,
    filter_errors_name_their_parameter,
    filters_combine_as_documented,
    urls_are_absolute_under_the_public_url,
    urls_follow_the_host_without_a_public_url,
    trailing_slashes_and_null_bodies_are_tolerated,
    bad_bodies_are_400_413_415_and_change_nothing,
    unknown_routes_methods_and_ids,
    long_query_strings_are_accepted,
    totals_above_the_threshold_are_estimates,
    probes_metrics_and_request_ids,
    the_openapi_document_describes_every_route,
);

/// Creates groups named `prefix-1..=n` (each with its source).
async fn groups(app: &TestApp, prefix: &str, n: usize) -> Vec<Value> {
    let mut out = Vec::new();
    for i in 1..=n {
        out.push(app.group(&format!("{prefix}-{i}"), &[], "AMBER").await);
    }
    out
}

fn names(answer: &Value) -> Vec<String> {
    answer["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn list_envelope_paging_and_count_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    groups(&app, "team", 5).await; // 5 sources + the administrators' one

    let page = app.get("/api/v2/sources?limit=2&offset=1&sort=name", &app.admin).await;
    assert_eq!(page.status, 200);
    let keys: Vec<&str> = page.body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "count",
            "data",
            "limit",
            "offset",
            "total_count",
            "total_count_is_estimate"
        ]
    );
    assert_eq!(
        (
            page.body["count"].as_u64(),
            page.body["limit"].as_u64(),
            page.body["offset"].as_u64()
        ),
        (Some(2), Some(2), Some(1))
    );
    assert_eq!(page.body["total_count"], 6);
    assert_eq!(page.body["total_count_is_estimate"], false);
    assert_eq!(names(&page.body), ["team-1", "team-2"]);

    let past_the_end = app.get("/api/v2/sources?offset=50", &app.admin).await;
    assert_eq!(
        (
            past_the_end.body["count"].as_u64(),
            past_the_end.body["total_count"].as_u64()
        ),
        (Some(0), Some(6))
    );

    let counted = app
        .get("/api/v2/sources?data=false&filter[name]=team", &app.admin)
        .await;
    assert_eq!(counted.status, 200);
    assert!(counted.body.get("data").is_none(), "{}", counted.body);
    assert_eq!(
        (counted.body["count"].as_u64(), counted.body["total_count"].as_u64()),
        (Some(5), Some(5))
    );

    let sparse = app.get("/api/v2/sources?attributes=id,name&limit=1", &app.admin).await;
    let item = sparse.data()[0].as_object().unwrap();
    assert_eq!(item.keys().collect::<Vec<_>>(), ["id", "name"]);
}

async fn limit_offset_and_sort_are_checked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (query, parameter) in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("offset=x", "offset"),
        ("sort=colour", "sort"),
        ("sort=name,-colour", "sort"),
        ("data=maybe", "data"),
    ] {
        let answer = app.get(&format!("/api/v2/sources?{query}"), &app.admin).await;
        assert_eq!(answer.status, 400, "{query}");
        assert_eq!(answer.sources(), vec![parameter], "{query}: {}", answer.body);
        assert_eq!(answer.body["errors"][0]["status"], "400");
        assert_eq!(answer.body["errors"][0]["title"], "Bad Request");
    }
    let sort = app.get("/api/v2/sources?sort=colour", &app.admin).await;
    assert!(
        sort.detail(0).contains("name, created_at, last_updated_at"),
        "{}",
        sort.detail(0)
    );
    // Every problem is reported at once.
    let many = app
        .get("/api/v2/sources?limit=0&offset=-1&sort=colour", &app.admin)
        .await;
    assert_eq!(many.sources(), vec!["limit", "offset", "sort"]);
    assert_eq!(app.get("/api/v2/sources?limit=1000", &app.admin).await.status, 200);

    groups(&app, "b", 2).await;
    app.group("a-1", &[], "AMBER").await;
    let ascending = app.get("/api/v2/sources?sort=name", &app.admin).await;
    assert_eq!(names(&ascending.body), ["Administrators", "a-1", "b-1", "b-2"]);
    let descending = app.get("/api/v2/sources?sort=-name", &app.admin).await;
    assert_eq!(names(&descending.body), ["b-2", "b-1", "a-1", "Administrators"]);
    // The default order is the most recently updated first.
    let default = app.get("/api/v2/sources", &app.admin).await;
    assert_eq!(names(&default.body)[0], "a-1");
}

async fn filter_errors_name_their_parameter(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (query, parameter, says) in [
        ("filter[id]=1111", "filter[id]", "not a valid ID"),
        (
            "filter[colour]=red",
            "filter[colour]",
            "filterable fields: id, name, source_type",
        ),
        ("filter[>name]=a", "filter[>name]", "does not apply"),
        (
            "filter[source_type]=feed",
            "filter[source_type]",
            "group, incoming_feed",
        ),
        ("filter[>created_at]=yesterday", "filter[>created_at]", "RFC 3339"),
        ("filter=name", "filter", "filter[<field>]"),
    ] {
        let answer = app.get(&format!("/api/v2/sources?{query}"), &app.admin).await;
        assert_eq!(answer.status, 400, "{query}: {}", answer.body);
        assert_eq!(answer.source(0), parameter, "{query}");
        assert!(answer.detail(0).contains(says), "{query}: {}", answer.detail(0));
    }
    let users = app.get("/api/v2/users?filter[groups]=abc", &app.admin).await;
    assert_eq!(users.status, 400);
    assert_eq!(users.source(0), "filter[groups]");
    assert!(users.detail(0).contains("positive integer"));
    let groups = app.get("/api/v2/groups?filter[allowed_sources]=1111", &app.admin).await;
    assert_eq!((groups.status, groups.source(0)), (400, "filter[allowed_sources]"));
}

async fn filters_combine_as_documented(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.group("Testing Group", &[], "AMBER").await;
    app.group("Red Team", &[], "AMBER").await;
    app.group("100%_done", &[], "AMBER").await;
    let cases: [(&str, &[&str]); 9] = [
        ("filter[name]=Testing Group", &["Testing Group"]),
        ("filter[name]=testing", &["Testing Group"]),
        ("filter[name]=\"Testing\"", &[]),
        ("filter[name]=%22Red%20Team%22", &["Red Team"]),
        ("filter[name]=*team", &["Red Team"]),
        ("filter[name]=testing&filter[name]=red", &["Red Team", "Testing Group"]),
        ("filter[name]=%25_", &["100%_done"]),
        (
            "filter[!name]=team&filter[source_type]=group",
            &["100%_done", "Administrators", "Testing Group"],
        ),
        ("filter%5Bname%5D=Testing+Group", &["Testing Group"]),
    ];
    for (query, expected) in cases {
        let answer = app.get(&format!("/api/v2/sources?sort=name&{query}"), &app.admin).await;
        assert_eq!(answer.status, 200, "{query}: {}", answer.body);
        let mut got = names(&answer.body);
        got.sort();
        assert_eq!(got, expected, "{query}");
        assert_eq!(answer.body["total_count"], expected.len(), "{query}");
    }
    // Different keys are AND; time operators compare instants.
    let newest = app
        .get("/api/v2/sources?sort=-created_at&limit=1", &app.admin)
        .await
        .data()[0]
        .clone();
    let created = newest["created_at"].as_str().unwrap();
    let after = app
        .get(
            &format!("/api/v2/sources?filter[>=created_at]={}", created.replace('+', "%2B")),
            &app.admin,
        )
        .await;
    assert_eq!(after.status, 200, "{}", after.body);
    assert_eq!(names(&after.body), ["100%_done"]);
    let before = app
        .get(
            &format!(
                "/api/v2/sources?filter[<created_at]={}&filter[name]=team",
                created.replace('+', "%2B")
            ),
            &app.admin,
        )
        .await;
    let mut got = names(&before.body);
    got.sort();
    assert_eq!(got, ["Red Team"]);
}

async fn urls_are_absolute_under_the_public_url(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        Settings {
            public_url: Some("https://cairn.example:8443/".into()),
            ..Settings::default()
        },
    )
    .await;
    let me = app.get("/api/v2/users/self", &app.admin).await;
    let group = me.data()["groups"][0].as_str().unwrap();
    assert!(
        group.starts_with("https://cairn.example:8443/api/v2/groups/"),
        "{group}"
    );
    let source = me.data()["default_source"].as_str().unwrap();
    assert!(
        source.starts_with("https://cairn.example:8443/api/v2/sources/"),
        "{source}"
    );
    // The URL Cairn gave resolves, and the same URL is accepted as a reference.
    let path = source.trim_start_matches("https://cairn.example:8443");
    assert_eq!(app.get(path, &app.admin).await.status, 200);
    let g = app
        .post(
            "/api/v2/groups",
            &app.admin,
            json!({"data": {"name": "by-url", "allowed_sources": [source]}}),
        )
        .await;
    assert_eq!(g.status, 201, "{}", g.body);
    assert_eq!(g.data()["allowed_sources"][0], source);
}

async fn urls_follow_the_host_without_a_public_url(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let request = app
        .request(Method::GET, "/api/v2/users/self")
        .bearer_auth(&app.admin)
        .header("Host", "intel.local:9999");
    let me = app.finish(request).await;
    let permission = me.data()["permissions"][0].as_str().unwrap();
    assert_eq!(permission, "http://intel.local:9999/api/v2/permissions/1");
    let resolved = app.get("/api/v2/permissions/1", &app.admin).await;
    assert_eq!(resolved.data()["name"], "read entities");
}

async fn trailing_slashes_and_null_bodies_are_tolerated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let plain = app.get("/api/v2/sources", &app.admin).await;
    let slashed = app.get("/api/v2/sources/", &app.admin).await;
    assert_eq!(slashed.status, 200);
    assert_eq!(plain.body["total_count"], slashed.body["total_count"]);
    assert_eq!(
        app.get("/private/groups/?filter[name]=Administrators", &app.admin)
            .await
            .status,
        200
    );

    let request = app
        .request(Method::GET, "/api/v2/users/self/")
        .bearer_auth(&app.admin)
        .header("Content-Type", "application/json")
        .body("null");
    assert_eq!(app.finish(request).await.status, 200);
    let role = app
        .post("/api/v2/roles", &app.admin, json!({"data": {"name": "temporary"}}))
        .await;
    let request = app
        .request(Method::DELETE, &format!("/api/v2/roles/{}", role.data()["id"]))
        .bearer_auth(&app.admin)
        .header("Content-Type", "application/json")
        .body("null");
    assert_eq!(app.finish(request).await.status, 204);
}

async fn bad_bodies_are_400_413_415_and_change_nothing(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        Settings {
            body_limit: Some(2048),
            ..Settings::default()
        },
    )
    .await;
    let count = || async { app.get("/api/v2/groups?data=false", &app.admin).await.body["total_count"].clone() };
    let before = count().await;

    let raw = |body: &'static str| {
        app.request(Method::POST, "/api/v2/groups")
            .bearer_auth(&app.admin)
            .header("Content-Type", "application/json")
            .body(body)
    };
    let malformed = app.finish(raw("{\"data\": {\n  \"name\": \"x\",\n}}")).await;
    assert_eq!(malformed.status, 400);
    assert!(
        malformed.detail(0).contains("not valid JSON"),
        "{}",
        malformed.detail(0)
    );
    assert!(
        malformed.detail(0).contains("line 3, column 1"),
        "{}",
        malformed.detail(0)
    );

    let empty = app.finish(raw("")).await;
    assert_eq!(empty.status, 400);
    assert!(empty.detail(0).contains("needs a JSON body"));

    let cases = [
        (json!({"name": "flat"}), "/name", "unknown field `name`"),
        (json!({"data": {"name": 7}}), "/data/name", "expected a string"),
        (
            json!({"data": {"name": "x", "colour": "red"}}),
            "/data/colour",
            "unknown field `colour`",
        ),
        (
            json!({"data": {"name": "x", "allowed_sources": "all"}}),
            "/data/allowed_sources",
            "expected a sequence",
        ),
        (
            json!({"data": {"name": "x", "max_tlp": "amber"}}),
            "/data/max_tlp",
            "not a TLP colour",
        ),
        (
            json!({"data": {"name": "x", "allowed_sources": [uuid::Uuid::new_v4().to_string()]}}),
            "/data/allowed_sources/0",
            "does not exist",
        ),
        (json!({"data": {"name": "   "}}), "/data/name", "not only spaces"),
    ];
    for (body, pointer, says) in cases {
        let answer = app.post("/api/v2/groups", &app.admin, body.clone()).await;
        assert_eq!(answer.status, 400, "{body}: {}", answer.body);
        assert_eq!(answer.source(0), pointer, "{body}");
        assert!(answer.detail(0).contains(says), "{body}: {}", answer.detail(0));
    }

    let form = app
        .request(Method::POST, "/api/v2/groups")
        .bearer_auth(&app.admin)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("name=x");
    let form = app.finish(form).await;
    assert_eq!(form.status, 415);
    assert!(form.detail(0).contains("application/json"));

    let huge = json!({"data": {"name": "x".repeat(4096)}});
    let too_large = app.post("/api/v2/groups", &app.admin, huge).await;
    assert_eq!(too_large.status, 413);
    assert!(too_large.detail(0).contains("2048 bytes"), "{}", too_large.detail(0));
    // Without a Content-Length the cap holds too.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![
        Ok(b"{\"data\": {\"name\": \"".to_vec()),
        Ok(vec![b'y'; 4096]),
        Ok(b"\"}}".to_vec()),
    ];
    let streamed = app
        .request(Method::POST, "/api/v2/groups")
        .bearer_auth(&app.admin)
        .header("Content-Type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_stream(chunks)));
    assert_eq!(app.finish(streamed).await.status, 413);

    assert_eq!(count().await, before, "no bad request created anything");
    let duplicate = app
        .post(
            "/api/v2/groups",
            &app.admin,
            json!({"data": {"name": "Administrators"}}),
        )
        .await;
    assert_eq!(duplicate.status, 409);
    assert!(
        duplicate.detail(0).contains("'Administrators' already exists"),
        "{}",
        duplicate.detail(0)
    );
    assert_eq!(count().await, before);
    let sources = app.get("/api/v2/sources?data=false", &app.admin).await;
    assert_eq!(
        sources.body["total_count"], 1,
        "a failed group creation leaves no source behind"
    );
}

/// A body stream from ready chunks.
fn futures_stream(
    chunks: Vec<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    struct Chunks(std::vec::IntoIter<Result<Vec<u8>, std::io::Error>>);
    impl futures_core::Stream for Chunks {
        type Item = Result<Vec<u8>, std::io::Error>;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            std::task::Poll::Ready(self.0.next())
        }
    }
    Chunks(chunks.into_iter())
}

async fn unknown_routes_methods_and_ids(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let missing = app.get("/api/v2/nothing-here", &app.admin).await;
    assert_eq!(missing.status, 404);
    assert!(missing.detail(0).contains("GET /api/v2/nothing-here"));
    let method = app.send(Method::PUT, "/api/v2/sources", Some(&app.admin), None).await;
    assert_eq!(method.status, 405);
    assert!(method.body["errors"][0]["detail"].is_string());
    for path in [
        "/api/v2/sources/not-a-uuid",
        "/api/v2/groups/abc",
        "/api/v2/users/-1",
        "/api/v2/roles/0",
    ] {
        let answer = app.get(path, &app.admin).await;
        assert_eq!(answer.status, 404, "{path}");
        assert!(answer.detail(0).contains("ids are"), "{path}: {}", answer.detail(0));
    }
    let absent = app
        .get(&format!("/api/v2/sources/{}", uuid::Uuid::new_v4()), &app.admin)
        .await;
    assert_eq!(absent.status, 404);
    assert_eq!(app.get("/api/v2/groups/999999", &app.admin).await.status, 404);
}

async fn long_query_strings_are_accepted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let query: Vec<String> = (0..500).map(|i| format!("filter[name]=team-{i:05}")).collect();
    let query = query.join("&") + "&filter[name]=Administrators";
    assert!(query.len() > 8 * 1024);
    let answer = app.get(&format!("/api/v2/sources?{query}"), &app.admin).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["total_count"], 1);
}

async fn totals_above_the_threshold_are_estimates(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        Settings {
            count_threshold: Some(3),
            ..Settings::default()
        },
    )
    .await;
    groups(&app, "team", 6).await; // 7 sources
    let all = app.get("/api/v2/sources?limit=2", &app.admin).await;
    let counted = app.get("/api/v2/sources?data=false", &app.admin).await;
    let few = app.get("/api/v2/sources?filter[name]=team-1", &app.admin).await;
    assert_eq!(
        (
            few.body["total_count"].as_u64(),
            few.body["total_count_is_estimate"].as_bool()
        ),
        (Some(1), Some(false))
    );
    assert_eq!(all.body["count"], 2);
    match backend {
        Backend::Postgres => {
            for answer in [&all, &counted] {
                assert_eq!(answer.body["total_count_is_estimate"], true, "{}", answer.body);
                assert!(answer.body["total_count"].as_u64().unwrap() > 3, "{}", answer.body);
            }
        }
        Backend::Sqlite => {
            for answer in [&all, &counted] {
                assert_eq!(answer.body["total_count_is_estimate"], false);
                assert_eq!(answer.body["total_count"], 7);
            }
        }
    }
}

async fn probes_metrics_and_request_ids(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_eq!(app.send(Method::GET, "/healthz", None, None).await.body["status"], "ok");
    assert_eq!(app.send(Method::GET, "/readyz", None, None).await.status, 200);
    app.get("/api/v2/sources", &app.admin).await;
    let metrics = app.finish(app.request(Method::GET, "/metrics")).await;
    let text = metrics.body.as_str().unwrap();
    assert!(
        text.contains("cairn_http_requests_total{method=\"GET\",route=\"/api/v2/sources\",status=\"200\"} 1"),
        "{text}"
    );
    assert!(!text.contains(&app.admin));

    let given = app
        .finish(app.request(Method::GET, "/healthz").header("X-Request-Id", "trace-42"))
        .await;
    assert_eq!(given.headers["x-request-id"], "trace-42");
    let made = app
        .finish(
            app.request(Method::GET, "/healthz")
                .header("X-Request-Id", "bad id\twith spaces"),
        )
        .await;
    let id = made.headers["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 32);

    let status = app.get("/private/status", &app.admin).await;
    assert_eq!(status.data()["health"], "GREEN");
    assert_eq!(app.send(Method::GET, "/private/status", None, None).await.status, 401);
    let private = app.get("/private", &app.admin).await;
    assert_eq!(
        (private.status, private.data()["username"].as_str()),
        (200, Some("admin"))
    );
    assert_eq!(app.send(Method::GET, "/private", None, None).await.status, 401);
}

async fn the_openapi_document_describes_every_route(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let doc = app.send(Method::GET, "/api/v2/openapi.json", None, None).await.body;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/api/v2/sources", &["get"][..]),
        ("/api/v2/sources/{id}", &["get", "patch"]),
        ("/api/v2/users", &["get", "post"]),
        ("/api/v2/users/{id}", &["get", "patch", "delete"]),
        ("/api/v2/users/self", &["get"]),
        ("/api/v2/users/self/tokens", &["get", "post"]),
        ("/api/v2/users/self/tokens/{id}", &["delete"]),
        ("/api/v2/groups", &["get", "post"]),
        ("/api/v2/groups/{id}", &["get", "patch", "delete"]),
        ("/api/v2/roles", &["get", "post"]),
        ("/api/v2/roles/{id}", &["get", "patch", "delete"]),
        ("/api/v2/permissions", &["get"]),
        ("/api/v2/permissions/{id}", &["get"]),
        ("/private", &["get"]),
        ("/private/groups", &["get"]),
        ("/private/status", &["get"]),
        ("/healthz", &["get"]),
        ("/api/v2/entities", &["get", "post", "put"]),
        ("/api/v2/entities/{id}", &["get", "patch", "delete"]),
        ("/api/v2/observables", &["get", "post", "put"]),
        ("/api/v2/observables/{id}", &["get", "patch", "delete"]),
        ("/api/v2/relationships", &["get", "post", "put"]),
        ("/api/v2/relationships/{id}", &["get", "patch", "delete"]),
        ("/api/v2/taxonomies", &["get", "post"]),
        ("/api/v2/taxonomies/{id}", &["get", "patch", "delete"]),
        ("/api/v2/tags", &["get"]),
        ("/api/v2/entity-attachments", &["post"]),
        ("/api/v2/entity-attachments/{id}", &["get"]),
        ("/api/v2/entity-attachments/{id}/download", &["get"]),
        ("/private/entity-attachments/{id}/download", &["get"]),
    ] {
        for method in methods {
            let operation = &paths[path][*method];
            assert!(operation.is_object(), "{method} {path} is not documented");
            if path.starts_with("/api") {
                assert!(
                    operation["responses"]["401"].is_object(),
                    "{method} {path} documents no 401"
                );
                assert!(
                    operation["security"].is_array(),
                    "{method} {path} documents no security"
                );
            }
        }
    }
    let list = &paths["/api/v2/sources"]["get"]["parameters"];
    let parameters: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for expected in ["limit", "offset", "sort", "data", "filter[name]", "filter[source_type]"] {
        assert!(parameters.contains(&expected), "{expected} missing from {parameters:?}");
    }
    let entity_filters = &paths["/api/v2/entities"]["get"]["parameters"];
    let names: Vec<&str> = entity_filters
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for expected in [
        "filter[data.type]",
        "filter[observables]",
        "filter[last_updated_at]",
        "filter[meta.tlp_color]",
    ] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
    assert!(paths["/api/v2/groups"]["post"]["responses"]["413"].is_object());

    // Every route the server answers on is documented (probing the undocumented ones).
    let documented: Vec<&String> = paths.keys().collect();
    for undocumented in ["/api/v2/tokens", "/api/v2/source"] {
        assert!(!documented.iter().any(|p| *p == undocumented));
        assert_eq!(app.get(undocumented, &app.admin).await.status, 404);
    }

    let docs = app.finish(app.request(Method::GET, "/api/v2/docs")).await;
    assert_eq!(docs.status, 200);
    let html = docs.body.as_str().unwrap();
    assert!(html.contains("openapi.json"));
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "the docs page loads nothing from elsewhere"
    );
    assert!(docs.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
}
