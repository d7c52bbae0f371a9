//! Entity attachments and safe descriptions (spec §3.4).

use crate::helpers::{Backend, Settings, TestApp};
use crate::on_both_backends;
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

on_both_backends!(
    uploads_come_back_byte_exact_and_never_inline,
    images_may_only_show_the_entitys_own_attachments,
    classic_xss_payloads_are_neutralized,
    attachments_follow_the_visibility_of_their_entities,
    oversize_and_malformed_uploads_are_refused,
);

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A multipart/form-data body with one `file` field.
fn multipart(filename: &str, content_type: &str, content: &[u8]) -> (String, Vec<u8>) {
    let boundary = "cairn-test-boundary-7d2f";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload_raw(
    app: &TestApp,
    token: &str,
    filename: &str,
    content_type: &str,
    content: Vec<u8>,
) -> crate::helpers::Answer {
    let request = app
        .request(Method::POST, &format!("/api/v2/entity-attachments?filename={filename}"))
        .bearer_auth(token)
        .header("Content-Type", content_type)
        .body(content);
    app.finish(request).await
}

async fn download(app: &TestApp, token: &str, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let response = app.request(Method::GET, path).bearer_auth(token).send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

async fn uploads_come_back_byte_exact_and_never_inline(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // 10 MiB of every byte value, in a pattern that is not all zeroes.
    let big: Vec<u8> = (0..10 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let stored = upload_raw(&app, &app.admin, "sample.bin", "application/octet-stream", big.clone()).await;
    assert_eq!(stored.status, 201, "{}", stored.body);
    let meta = stored.data().clone();
    assert_eq!(meta["size"], big.len());
    assert_eq!(meta["sha256"], hex(&Sha256::digest(&big)));
    assert_eq!(
        (meta["filename"].as_str(), meta["content_type"].as_str()),
        (Some("sample.bin"), Some("application/octet-stream"))
    );
    let id = meta["id"].as_i64().unwrap();
    for path in [
        format!("/api/v2/entity-attachments/{id}/download"),
        format!("/private/entity-attachments/{id}/download"),
    ] {
        let (status, headers, bytes) = download(&app, &app.admin, &path).await;
        assert_eq!(status, 200, "{path}");
        assert!(bytes == big, "{path}: the download differs from the upload");
        assert!(headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"sample.bin\""));
        assert_eq!(headers["x-content-type-options"], "nosniff");
    }

    // Multipart, and an HTML file that must not render as a page.
    let page = b"<html><script>alert(document.cookie)</script></html>".to_vec();
    let (content_type, body) = multipart("../../evil name.html", "text/html", &page);
    let request = app
        .request(Method::POST, "/api/v2/entity-attachments")
        .bearer_auth(&app.admin)
        .header("Content-Type", content_type)
        .body(body);
    let html = app.finish(request).await;
    assert_eq!(html.status, 201, "{}", html.body);
    assert_eq!(html.data()["filename"], "evil name.html", "no path");
    let quoted = upload_raw(&app, &app.admin, "a%22b%0d%0a.txt", "text/plain", b"q".to_vec()).await;
    assert_eq!(
        quoted.data()["filename"],
        "ab.txt",
        "no quotes or line breaks to break the download header"
    );
    let (status, headers, bytes) = download(
        &app,
        &app.admin,
        &format!("/api/v2/entity-attachments/{}/download", html.data()["id"]),
    )
    .await;
    assert_eq!((status, bytes), (200, page));
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment;"));
    assert!(headers["content-security-policy"].to_str().unwrap().contains("sandbox"));

    // The same bytes twice are two attachments over one stored content.
    let again = upload_raw(&app, &app.admin, "copy.bin", "application/octet-stream", big.clone()).await;
    assert_ne!(again.data()["id"], meta["id"]);
    assert_eq!(again.data()["sha256"], meta["sha256"]);
    let (_, _, copy) = download(
        &app,
        &app.admin,
        &format!("/api/v2/entity-attachments/{}/download", again.data()["id"]),
    )
    .await;
    assert!(copy == big);
}

async fn images_may_only_show_the_entitys_own_attachments(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let chart = upload_raw(&app, &app.admin, "chart.png", "image/png", b"\x89PNG fake".to_vec())
        .await
        .data()
        .clone();
    let other = upload_raw(&app, &app.admin, "other.png", "image/png", b"\x89PNG other".to_vec())
        .await
        .data()
        .clone();
    let (chart_id, other_id) = (chart["id"].as_i64().unwrap(), other["id"].as_i64().unwrap());
    let description =
        format!("<p>Timeline:</p><img src=\"/private/entity-attachments/{chart_id}/download\" alt=\"chart\">");

    for kind in ["report", "malware", "indicator"] {
        let refused = app
            .post(
                "/api/v2/entities",
                &app.admin,
                json!({"data": {"data": {"type": kind, "title": "t", "description": description}}}),
            )
            .await;
        assert_eq!(
            (refused.status, refused.source(0)),
            (400, "/data/data/description"),
            "{kind}: {}",
            refused.body
        );
        assert!(
            refused.detail(0).contains(&format!("attachment {chart_id}")),
            "{}",
            refused.detail(0)
        );
    }
    let short = app
        .post("/api/v2/entities", &app.admin, json!({"data": {"data": {"type": "tool", "title": "t",
            "short_description": format!("<img src=\"https://cairn.example/api/v2/entity-attachments/{other_id}/download\">")}}}))
        .await;
    assert_eq!((short.status, short.source(0)), (400, "/data/data/short_description"));

    // Listed in attachments (by id or URL), the image is fine, on any entity type.
    let created = app
        .post(
            "/api/v2/entities",
            &app.admin,
            json!({"data": {"data": {"type": "malware", "title": "with chart", "description": description},
            "attachments": [format!("{}/api/v2/entity-attachments/{chart_id}", app.base), other_id]}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let entity = created.data().clone();
    let id = entity["id"].as_str().unwrap();
    assert_eq!(entity["attachments"].as_array().unwrap().len(), 2);
    assert!(entity["data"]["description"]
        .as_str()
        .unwrap()
        .contains(&format!("/private/entity-attachments/{chart_id}/download")));

    // Removing the chart while the description still shows it is refused; the entity is unchanged.
    let removal = app
        .patch(
            &format!("/api/v2/entities/{id}"),
            &app.admin,
            json!({"data": {"attachments": [other_id]}}),
        )
        .await;
    assert_eq!(
        (removal.status, removal.source(0)),
        (400, "/data/data/description"),
        "{}",
        removal.body
    );
    assert_eq!(
        app.get(&format!("/api/v2/entities/{id}"), &app.admin).await.data()["attachments"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let put = app.send(Method::PUT, "/api/v2/entities", Some(&app.admin), Some(json!({"data": [
        {"id": id, "data": {"type": "malware", "title": "with chart", "description": description}, "attachments": []}]}))).await;
    assert_eq!((put.status, put.source(0)), (400, "/data/0/data/description"));

    // Updating attachments really updates them: one, then none.
    let one = app
        .patch(
            &format!("/api/v2/entities/{id}"),
            &app.admin,
            json!({"data": {"attachments": [chart_id]}}),
        )
        .await;
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(
        one.data()["attachments"],
        json!([format!("{}/api/v2/entity-attachments/{chart_id}", app.base)])
    );
    let none = app
        .patch(
            &format!("/api/v2/entities/{id}"),
            &app.admin,
            json!({"data": {"data": {"description": "<p>No chart.</p>"}, "attachments": []}}),
        )
        .await;
    assert_eq!(none.status, 200, "{}", none.body);
    assert_eq!(none.data()["attachments"], json!([]));
    let by_put = app
        .send(
            Method::PUT,
            "/api/v2/entities",
            Some(&app.admin),
            Some(json!({"data": [
        {"id": id, "data": {"type": "malware", "title": "with chart"}, "attachments": [other_id]}]})),
        )
        .await;
    assert_eq!(by_put.data()[0]["attachments"].as_array().unwrap().len(), 1);
    let unknown = app
        .post(
            "/api/v2/entities",
            &app.admin,
            json!({"data": {"data": {"type": "note", "title": "n"}, "attachments": [999999]}}),
        )
        .await;
    assert_eq!((unknown.status, unknown.source(0)), (400, "/data/attachments/0"));
}

async fn classic_xss_payloads_are_neutralized(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let payloads = [
        "<script>alert('xss')</script>",
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)>",
        "<a href=\"javascript:alert(1)\">click</a>",
        "<a href=\"JaVaScRiPt:alert(1)\">click</a>",
        "<iframe src=\"https://evil.example\"></iframe>",
        "<object data=\"https://evil.example/x.swf\"></object>",
        "<embed src=\"https://evil.example/x.swf\">",
        "<body onload=alert(1)>",
        "<div style=\"background:url(javascript:alert(1))\">x</div>",
        "<img src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\">",
        "<a href=\"data:text/html,<script>alert(1)</script>\">x</a>",
        "<form action=\"https://evil.example\"><input name=q></form>",
        "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\">",
        "<p onclick=\"steal()\">text</p><math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    ];
    let bodies: Vec<Value> = payloads
        .iter()
        .map(|p| json!({"data": {"type": "report", "title": "xss", "description": format!("<p>ok</p>{p}"), "short_description": p}}))
        .collect();
    let answer = app
        .send(
            Method::PUT,
            "/api/v2/entities",
            Some(&app.admin),
            Some(json!({"data": bodies})),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    for (payload, entity) in payloads.iter().zip(answer.data().as_array().unwrap()) {
        let stored = app
            .get(
                &format!("/api/v2/entities/{}", entity["id"].as_str().unwrap()),
                &app.admin,
            )
            .await;
        for field in ["description", "short_description"] {
            let html = stored.data()["data"][field].as_str().unwrap_or("").to_lowercase();
            for dangerous in [
                "<script",
                "onerror",
                "onload",
                "onclick",
                "javascript:",
                "<iframe",
                "<object",
                "<embed",
                "data:",
                "<form",
                "<meta",
                "<style",
                "evil.example",
            ] {
                assert!(
                    !html.contains(dangerous),
                    "{payload} left {dangerous} in {field}: {html}"
                );
            }
        }
        assert!(
            stored.data()["data"]["description"]
                .as_str()
                .unwrap()
                .contains("<p>ok</p>"),
            "harmless markup stays"
        );
    }
}

async fn attachments_follow_the_visibility_of_their_entities(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.group("A", &[], "RED").await;
    let b = app.group("B", &[], "RED").await;
    let rights = ["read entities", "modify entities"];
    let alice = app.user("alice", &rights, &[a["id"].as_i64().unwrap()]).await;
    let bob = app.user("bob", &rights, &[b["id"].as_i64().unwrap()]).await;
    let file = upload_raw(&app, &alice, "notes.txt", "text/plain", b"alice's notes".to_vec())
        .await
        .data()
        .clone();
    let id = file["id"].as_i64().unwrap();
    let paths = [
        format!("/api/v2/entity-attachments/{id}"),
        format!("/api/v2/entity-attachments/{id}/download"),
        format!("/private/entity-attachments/{id}/download"),
    ];
    // Not linked yet: its uploader only.
    for path in &paths {
        assert_eq!(download(&app, &alice, path).await.0, 200, "{path}");
        assert_eq!(download(&app, &bob, path).await.0, 404, "{path}");
    }
    let stolen = app
        .post(
            "/api/v2/entities",
            &bob,
            json!({"data": {"data": {"type": "note", "title": "mine"}, "attachments": [id]}}),
        )
        .await;
    assert_eq!(
        (stolen.status, stolen.source(0)),
        (400, "/data/attachments/0"),
        "Bob cannot link what he cannot see"
    );

    // Linked to Alice's entity: it follows that entity's visibility.
    let entity = app
        .post(
            "/api/v2/entities",
            &alice,
            json!({"data": {"data": {"type": "report", "title": "r"}, "attachments": [id]}}),
        )
        .await;
    assert_eq!(entity.status, 201, "{}", entity.body);
    for path in &paths {
        assert_eq!(download(&app, &alice, path).await.0, 200, "{path}");
        assert_eq!(download(&app, &bob, path).await.0, 404, "{path}");
    }
    // Shared with group B through an allowed source: now Bob may read it too.
    app.patch(
        &format!("/api/v2/groups/{}", b["id"]),
        &app.admin,
        json!({"data": {"allowed_sources": [a["source"]]}}),
    )
    .await;
    let (status, _, bytes) = download(&app, &bob, &paths[1]).await;
    assert_eq!((status, bytes), (200, b"alice's notes".to_vec()));

    let reader = app
        .user("reader", &["read entities"], &[a["id"].as_i64().unwrap()])
        .await;
    let refused = upload_raw(&app, &reader, "x.txt", "text/plain", b"x".to_vec()).await;
    assert_eq!(refused.status, 403);
    assert_eq!(app.send(Method::GET, &paths[1], None, None).await.status, 401);
    assert_eq!(
        download(&app, &alice, "/api/v2/entity-attachments/abc/download")
            .await
            .0,
        404
    );
}

async fn oversize_and_malformed_uploads_are_refused(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        Settings {
            attachment_limit: Some(4096),
            ..Settings::default()
        },
    )
    .await;
    let raw = upload_raw(&app, &app.admin, "big.bin", "application/octet-stream", vec![7u8; 5000]).await;
    assert_eq!(raw.status, 413, "{}", raw.body);
    assert!(raw.detail(0).contains("4096 bytes"));
    let (content_type, body) = multipart("big.bin", "application/octet-stream", &[7u8; 5000]);
    let request = app
        .request(Method::POST, "/api/v2/entity-attachments")
        .bearer_auth(&app.admin)
        .header("Content-Type", content_type)
        .body(body);
    assert_eq!(app.finish(request).await.status, 413);
    let at_limit = upload_raw(
        &app,
        &app.admin,
        "fits.bin",
        "application/octet-stream",
        vec![7u8; 4096],
    )
    .await;
    assert_eq!(at_limit.status, 201);

    let unnamed = app
        .request(Method::POST, "/api/v2/entity-attachments")
        .bearer_auth(&app.admin)
        .header("Content-Type", "application/pdf")
        .body(vec![1u8; 10]);
    let unnamed = app.finish(unnamed).await;
    assert_eq!((unnamed.status, unnamed.source(0)), (400, "filename"));
    let (content_type, body) = multipart("x.bin", "application/octet-stream", b"abc");
    let wrong_field = body.windows(6).position(|w| w == b"\"file\"").map(|i| {
        let mut b = body.clone();
        b.splice(i..i + 6, b"\"data\"".iter().copied());
        b
    });
    let request = app
        .request(Method::POST, "/api/v2/entity-attachments")
        .bearer_auth(&app.admin)
        .header("Content-Type", content_type)
        .body(wrong_field.unwrap());
    let no_file = app.finish(request).await;
    assert_eq!(no_file.status, 400);
    assert!(no_file.detail(0).contains("'file'"));
    let dots = upload_raw(&app, &app.admin, "..", "text/plain", b"x".to_vec()).await;
    assert_eq!((dots.status, dots.source(0)), (400, "filename"));
}
