//! The newsroom's side: sign-in, sessions and their limits, lockout, CSRF, rate limits, two-step
//! sign-in, account management, the audit log, and the authorisation matrix over every admin
//! route.

use axum::http::StatusCode;
use bantin_core::account::Role;
use bantin_core::totp::TotpSecret;
use bantin_store::AuditFilter;
use bantin_web::{Access, WebSettings};

use crate::helpers::*;

async fn audit_actions(app: &TestApp) -> Vec<String> {
    app.store()
        .audit_entries(&AuditFilter::default(), 500)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

#[tokio::test]
async fn sign_in_shows_the_admin_and_the_idle_warning_only_to_the_signed_in() {
    let app = TestApp::with_demo().await;
    app.add_user("admin", Role::Administrator).await;
    let (_, seed_url) = app.seed().await;

    let anonymous = app.get(&seed_url).await;
    assert!(!anonymous.body.contains("bantin-idle"));
    assert!(!anonymous.body.contains("Bấm vào đây để duy trì"));
    let redirect = app.get("/admin/users").await;
    assert_eq!(redirect.status, StatusCode::SEE_OTHER);
    assert_eq!(redirect.location(), "/admin/login?tiep=%2Fadmin%2Fusers");

    let mut a = Agent::new(&app, "198.51.100.1:4000");
    let res = a.try_sign_in("Admin", PASSWORD).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.location(), "/admin");
    let set = res
        .set_cookies()
        .into_iter()
        .find(|(n, _, _)| n == "bantin_session")
        .unwrap();
    // A 256-bit token and its MAC: a made-up cookie is told apart without the database.
    assert_eq!(set.1.len(), 64 + 1 + 32);
    assert!(
        set.2.contains("HttpOnly") && set.2.contains("SameSite=Lax"),
        "{}",
        set.2
    );
    assert!(!set.2.contains("Secure"), "plain HTTP by default");

    let dash = a.get("/admin").await;
    assert_eq!(dash.status, StatusCode::OK);
    assert!(dash.body.contains("Bảng điều khiển"));
    let text = text_of(&dash.body).replace(" .", ".");
    assert!(
        text.contains("Bạn đã không sử dụng Site, Bấm vào đây để duy trì trạng thái đăng nhập. Thời gian chờ: 60 giây"),
        "{text}"
    );
    assert!(dash.body.contains("data-idle=\"1800\""));
    assert_eq!(dash.header("cache-control"), Some("private, no-store"));

    // Public pages for a signed-in user carry the warning too, and are not cached.
    let page = a.get(&seed_url).await;
    assert!(page.body.contains("id=\"bantin-idle\""));
    assert_eq!(page.header("cache-control"), Some("private, no-store"));
    assert!(!app.get(&seed_url).await.body.contains("bantin-idle"));

    // The session is stored hashed: the cookie value is nowhere in the table.
    let token = a.cookies["bantin_session"].clone();
    let sessions = app
        .store()
        .user_sessions(bantin_core::UserId::new(1))
        .await
        .unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].ip, "198.51.100.1");

    // Sign out: the session ends server-side; the old cookie is worth nothing.
    let csrf = a.csrf().await;
    let out = a.post("/admin/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), "/admin/login?ly-do=da-thoat");
    assert!(!a.cookies.contains_key("bantin_session"));
    assert!(
        app.store()
            .user_sessions(bantin_core::UserId::new(1))
            .await
            .unwrap()
            .is_empty()
    );
    a.cookies.insert("bantin_session".into(), token);
    let again = a.get("/admin").await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert!(again.location().starts_with("/admin/login"));
    let login = a.get("/admin/login?ly-do=da-thoat").await;
    assert!(login.body.contains("Bạn đã đăng xuất."));

    let actions = audit_actions(&app).await;
    assert!(actions.contains(&"login".to_owned()) && actions.contains(&"logout".to_owned()));
}

#[tokio::test]
async fn wrong_passwords_get_one_generic_message_then_the_pair_is_locked() {
    let app = TestApp::with_demo().await;
    app.add_user("bientap", Role::Editor).await;
    let mut a = Agent::new(&app, "198.51.100.2:4000");
    for name in ["bientap", "khongco"] {
        let res = a.try_sign_in(name, "sai mật khẩu rồi").await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        assert!(res.body.contains("Tên đăng nhập hoặc mật khẩu không đúng."));
        assert!(
            res.body.contains(&format!("value=\"{name}\"")),
            "the name stays typed"
        );
    }
    // Five failures within five minutes lock (username, address): known or unknown name alike.
    for name in ["bientap", "khongco"] {
        let mut last = None;
        for _ in 0..4 {
            last = Some(a.try_sign_in(name, "sai mật khẩu rồi").await);
        }
        let last = last.unwrap();
        assert!(
            last.body
                .contains("Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau 30 phút."),
            "{}",
            text_of(&last.body)
        );
    }
    // While locked, even the right password is refused with the same message.
    let locked = a.try_sign_in("bientap", PASSWORD).await;
    assert_eq!(locked.status, StatusCode::FORBIDDEN);
    assert!(locked.body.contains("thử lại sau 30 phút"));
    // The lock is per pair: the same account from another address still signs in.
    let mut b = Agent::new(&app, "198.51.100.3:4000");
    b.sign_in("bientap", PASSWORD).await;

    let actions = audit_actions(&app).await;
    assert_eq!(actions.iter().filter(|a| *a == "login.failed").count(), 10);
    assert_eq!(actions.iter().filter(|a| *a == "login.locked").count(), 2);
}

#[tokio::test]
async fn bad_input_is_refused_before_hashing_and_bad_cookies_read_as_signed_out() {
    let app = TestApp::with_demo().await;
    app.add_user("admin", Role::Administrator).await;
    let mut a = Agent::new(&app, "198.51.100.4:4000");
    let long = "x".repeat(1025);
    let res = a.try_sign_in(&long, PASSWORD).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains("quá dài"));
    let res = a.try_sign_in("admin", &long).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    let res = a.try_sign_in("ad\u{7}min", PASSWORD).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains("ký tự không hợp lệ"));
    // None of these counted as a failed attempt.
    assert!(
        !audit_actions(&app)
            .await
            .contains(&"login.failed".to_owned())
    );

    // Invalid UTF-8 in the body: a clear 400 page.
    let page = a.get("/admin/login").await;
    let csrf = csrf_of(&page.body);
    let mut body = format!("csrf={csrf}&username=admin&password=").into_bytes();
    body.extend_from_slice(&[0xff, 0xfe, 0x41]);
    let res = a.post_raw("/admin/login", body, &[]).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.body);
    assert!(res.body.contains("<html"));

    // Tampered, truncated and absurd session cookies: signed out, never a 500.
    for bogus in [
        "0".repeat(64),
        "zz".into(),
        "é".repeat(40),
        "a".repeat(5000),
    ] {
        let mut b = Agent::new(&app, "198.51.100.5:4000");
        b.cookies.insert("bantin_session".into(), bogus);
        let res = b.get("/admin").await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        let res = b.get("/").await;
        assert_eq!(res.status, StatusCode::OK);
        assert!(!res.body.contains("bantin-idle"));
    }
}

#[tokio::test]
async fn csrf_failures_reshow_the_form_with_what_was_typed() {
    let app = TestApp::with_demo().await;
    app.add_user("admin", Role::Administrator).await;
    let mut a = Agent::new(&app, "198.51.100.6:4000");
    a.get("/admin/login").await;
    let res = a
        .post(
            "/admin/login",
            &[
                ("username", "admin"),
                ("password", PASSWORD),
                ("csrf", "0123"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(res.body.contains("Biểu mẫu đã hết hạn"));
    assert!(res.body.contains("value=\"admin\""));
    // The re-shown form carries a working token.
    let csrf = csrf_of(&res.body);
    let ok = a
        .post(
            "/admin/login",
            &[
                ("username", "admin"),
                ("password", PASSWORD),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);

    // Adding an account with a stale token keeps every typed field but the password.
    let res = a
        .post(
            "/admin/users",
            &[
                ("csrf", "stale"),
                ("username", "phongvien"),
                ("display_name", "Phóng viên Nông Văn A"),
                ("email", "a@example.vn"),
                ("role", "editor"),
                ("category", "2"),
                ("password", "mật khẩu ban đầu dài"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(res.body.contains("Biểu mẫu đã hết hạn"));
    for kept in [
        "value=\"phongvien\"",
        "Phóng viên Nông Văn A",
        "a@example.vn",
    ] {
        assert!(res.body.contains(kept), "{kept}");
    }
    assert!(!res.body.contains("mật khẩu ban đầu dài"));
    assert!(app.store().users().await.unwrap().len() == 1);

    // A cross-site POST is refused by the Origin check even with a valid token.
    let csrf = a.csrf().await;
    let body = format!("csrf={csrf}").into_bytes();
    let res = a
        .post_raw(
            "/admin/logout",
            body,
            &[
                ("origin", "https://evil.example"),
                ("sec-fetch-site", "cross-site"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(res.body.contains("từ một trang web khác"));
    assert_eq!(
        app.store()
            .user_sessions(bantin_core::UserId::new(1))
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn sign_in_rotates_the_session_and_password_changes_end_every_other_session() {
    let app = TestApp::with_demo().await;
    let id = app.add_user("admin", Role::Administrator).await;
    let mut a = Agent::new(&app, "198.51.100.7:4000");
    a.sign_in("admin", PASSWORD).await;
    let first = a.cookies["bantin_session"].clone();
    // Signing in again while a session cookie is present (say, one planted by someone else).
    a.cookies.remove("bantin_session");
    let page = a.get("/admin/login").await;
    a.cookies.insert("bantin_session".into(), first.clone());
    let res = a
        .post(
            "/admin/login",
            &[
                ("username", "admin"),
                ("password", PASSWORD),
                ("csrf", &csrf_of(&page.body)),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_ne!(
        a.cookies["bantin_session"], first,
        "a new id at every sign-in"
    );
    assert_eq!(
        app.store().user_sessions(id).await.unwrap().len(),
        1,
        "the old one ended"
    );

    let mut b = Agent::new(&app, "198.51.100.8:4000");
    b.sign_in("admin", PASSWORD).await;
    assert_eq!(app.store().user_sessions(id).await.unwrap().len(), 2);

    let csrf = a.csrf().await;
    let res = a
        .post(
            "/admin/account/password",
            &[
                ("csrf", &csrf),
                ("current", PASSWORD),
                ("new", "một mật khẩu mới đủ dài"),
                ("confirm", "một mật khẩu mới đủ dài"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(
        a.get("/admin").await.status,
        StatusCode::OK,
        "this browser continues"
    );
    assert_eq!(
        b.get("/admin").await.status,
        StatusCode::SEE_OTHER,
        "the other is out"
    );
    assert_eq!(app.store().user_sessions(id).await.unwrap().len(), 1);

    // The sessions page ends another session on request.
    let mut c = Agent::new(&app, "198.51.100.9:4000");
    c.sign_in("admin", "một mật khẩu mới đủ dài").await;
    let page = a.get("/admin/sessions").await;
    assert!(page.body.contains("198.51.100.9"));
    let other = app
        .store()
        .user_sessions(id)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.ip == "198.51.100.9")
        .unwrap();
    let csrf = csrf_of(&page.body);
    let res = a
        .post(
            &format!("/admin/sessions/{}/end", other.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(c.get("/admin").await.status, StatusCode::SEE_OTHER);
    // Someone else's session id is not found.
    let res = c.get("/admin/sessions").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn idle_and_absolute_limits_are_enforced_by_the_server() {
    // Instants are whole seconds, so limits here leave a second of slack either way.
    let settings = WebSettings {
        session_idle_timeout: 4,
        session_absolute_timeout: 9,
        session_warning: 1,
        ..WebSettings::default()
    };
    let app = TestApp::with_settings(settings).await;
    app.add_user("admin", Role::Administrator).await;
    let mut a = Agent::new(&app, "198.51.100.10:4000");
    let json = [("accept", "application/json")];
    a.sign_in("admin", PASSWORD).await;
    // Status checks do not count as activity; the session runs out.
    app.advance(2);
    let st = a.get_with("/admin/session", &json).await;
    assert_eq!(st.status, StatusCode::OK);
    app.advance(4);
    let st = a.get_with("/admin/session", &json).await;
    assert_eq!(st.status, StatusCode::UNAUTHORIZED, "{}", st.body);
    assert!(
        audit_actions(&app)
            .await
            .contains(&"session.expired".to_owned())
    );

    // Activity keeps it alive past the idle limit, but not past the absolute one.
    a.sign_in("admin", PASSWORD).await;
    let mut seen = Vec::new();
    for second in 1..=11 {
        app.advance(1);
        let res = a.get("/admin").await;
        seen.push((second, res.status));
    }
    assert!(
        seen.iter()
            .any(|(s, status)| *s > 6 && *status == StatusCode::OK),
        "{seen:?}"
    );
    assert_eq!(seen.last().unwrap().1, StatusCode::SEE_OTHER, "{seen:?}");
}

#[tokio::test]
async fn keep_alive_needs_the_token_and_extends_the_session() {
    let settings = WebSettings {
        session_idle_timeout: 100,
        session_warning: 10,
        ..WebSettings::default()
    };
    let app = TestApp::with_settings(settings).await;
    app.add_user("admin", Role::Administrator).await;
    let mut a = Agent::new(&app, "198.51.100.11:4000");
    a.sign_in("admin", PASSWORD).await;
    let csrf = a.csrf().await;
    let json = [("accept", "application/json")];
    let res = a.post_raw("/admin/session", vec![], &json).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = a
        .post_raw(
            "/admin/session",
            vec![],
            &[("accept", "application/json"), ("x-csrf-token", &csrf)],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    let remaining = v["remaining"].as_i64().unwrap();
    assert!((99..=100).contains(&remaining), "{remaining}");
    let mut anon = Agent::new(&app, "198.51.100.12:4000");
    let res = anon.get_with("/admin/session", &json).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn posts_over_the_per_address_limit_get_429_with_retry_after() {
    let settings = WebSettings {
        posts_per_minute: 3,
        login_attempts_per_minute: 2,
        ..WebSettings::default()
    };
    let app = TestApp::with_settings(settings).await;
    app.add_user("admin", Role::Administrator).await;
    let mut a = Agent::new(&app, "198.51.100.13:4000");
    a.try_sign_in("admin", "sai mật khẩu rồi").await;
    a.try_sign_in("admin", "sai mật khẩu rồi").await;
    let res = a.try_sign_in("admin", PASSWORD).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(res.body.contains("Bạn gửi quá nhiều yêu cầu"));
    // Another address is not affected.
    let mut b = Agent::new(&app, "198.51.100.14:4000");
    b.sign_in("admin", PASSWORD).await;
    // The general POST limit covers every POST route, ratings included.
    let (id, _) = app.seed().await;
    let mut last = None;
    for _ in 0..4 {
        last = Some(
            b.post_raw(&format!("/rate/{id}"), b"point=5&token=x".to_vec(), &[])
                .await,
        );
    }
    assert_eq!(last.unwrap().status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn two_step_sign_in_with_codes_and_one_time_backup_codes() {
    let app = TestApp::with_demo().await;
    let id = app.add_user("admin", Role::Administrator).await;
    let mut a = Agent::new(&app, "198.51.100.15:4000");
    a.sign_in("admin", PASSWORD).await;
    let page = a.get("/admin/account/two-step").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<svg"), "QR code");
    let secret = TotpSecret::from_stored(between(&page.body, "id=\"totp-secret\">", "<")).unwrap();
    let csrf = csrf_of(&page.body);
    let wrong = a
        .post(
            "/admin/account/two-step",
            &[("csrf", &csrf), ("code", "000000"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    let done = a
        .post(
            "/admin/account/two-step",
            &[
                ("csrf", &csrf),
                ("code", &secret.code_at(app.now())),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let codes: Vec<String> = between(&done.body, "id=\"backup-codes\">", "</ul>")
        .split("<li>")
        .filter_map(|s| s.split("</li>").next())
        .filter(|s| s.len() == 9)
        .map(str::to_owned)
        .collect();
    assert_eq!(codes.len(), 10);
    assert!(
        app.store()
            .user(id)
            .await
            .unwrap()
            .unwrap()
            .totp_secret()
            .is_some()
    );

    // Sign in again: the password leads to the code step, not into the admin.
    let mut b = Agent::new(&app, "198.51.100.16:4000");
    let res = b.try_sign_in("admin", PASSWORD).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(res.location().starts_with("/admin/login/two-step"));
    assert!(!b.cookies.contains_key("bantin_session"));
    assert_eq!(b.get("/admin").await.status, StatusCode::SEE_OTHER);
    let step = b.get(res.location()).await;
    let csrf = csrf_of(&step.body);
    let bad = b
        .post(
            "/admin/login/two-step",
            &[("csrf", &csrf), ("code", "123456")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    // The code used at enrolment cannot be replayed; a backup code works once.
    let backup = codes[0].to_uppercase().replace('-', " ");
    let ok = b
        .post(
            "/admin/login/two-step",
            &[("csrf", &csrf), ("code", &backup)],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert_eq!(b.get("/admin").await.status, StatusCode::OK);

    let mut c = Agent::new(&app, "198.51.100.17:4000");
    c.try_sign_in("admin", PASSWORD).await;
    let step = c.get("/admin/login/two-step").await;
    let csrf = csrf_of(&step.body);
    let reused = c
        .post(
            "/admin/login/two-step",
            &[("csrf", &csrf), ("code", &codes[0])],
        )
        .await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED);
    let next_code = secret.code_at(app.now() + 30);
    let ok = c
        .post(
            "/admin/login/two-step",
            &[("csrf", &csrf), ("code", &next_code)],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
}

#[tokio::test]
async fn a_role_can_be_required_to_use_two_step_sign_in() {
    let settings = WebSettings {
        totp_required_roles: vec![Role::Editor],
        ..WebSettings::default()
    };
    let app = TestApp::with_settings(settings).await;
    app.add_user("bientap", Role::Editor).await;
    let mut a = Agent::new(&app, "198.51.100.18:4000");
    a.sign_in("bientap", PASSWORD).await;
    let res = a.get("/admin").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.location(), "/admin/account/two-step?bat-buoc=1");
    let page = a.get(res.location()).await;
    assert!(page.body.contains("bắt buộc dùng xác thực hai bước"));
    assert_eq!(a.get("/admin/sessions").await.status, StatusCode::OK);
}

#[tokio::test]
async fn administrators_manage_accounts_and_every_change_is_audited() {
    let app = TestApp::with_demo().await;
    app.add_user("admin", Role::Administrator).await;
    let mut a = Agent::new(&app, "198.51.100.19:4000");
    a.sign_in("admin", PASSWORD).await;
    let cats = app.store().categories().await.unwrap();
    let (c1, c2) = (cats[0].id.to_string(), cats[1].id.to_string());
    let csrf = a.csrf().await;
    let res = a
        .post(
            "/admin/users",
            &[
                ("csrf", &csrf),
                ("username", "BienTapChinh"),
                ("display_name", "Biên tập chính"),
                ("email", "btc@example.vn"),
                ("role", "editor-in-chief"),
                ("category", &c1),
                ("category", &c2),
                ("password", "mật khẩu ban đầu dài"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", text_of(&res.body));
    let u = app
        .store()
        .users()
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.username == "bientapchinh")
        .unwrap();
    assert_eq!(u.role(), Role::EditorInChief);
    assert!(!u.all_categories);
    let mut assigned = app.store().user_categories(u.id).await.unwrap();
    assigned.sort();
    let mut want = vec![cats[0].id, cats[1].id];
    want.sort();
    assert_eq!(assigned, want);

    // Taken names and weak passwords are refused with the reason.
    let res = a
        .post(
            "/admin/users",
            &[
                ("csrf", &csrf),
                ("username", "bientapchinh"),
                ("role", "editor"),
                ("password", "mật khẩu ban đầu dài"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    let res = a
        .post(
            "/admin/users",
            &[
                ("csrf", &csrf),
                ("username", "moi"),
                ("role", "editor"),
                ("password", "password123"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains("quá phổ biến"));

    // The new account signs in; disabling it ends its session at once.
    let mut b = Agent::new(&app, "198.51.100.20:4000");
    b.sign_in("bientapchinh", "mật khẩu ban đầu dài").await;
    assert_eq!(b.get("/admin").await.status, StatusCode::OK);
    assert_eq!(b.get("/admin/users").await.status, StatusCode::FORBIDDEN);
    let res = a
        .post(
            &format!("/admin/users/{}/active", u.id),
            &[("csrf", &csrf), ("active", "0")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(b.get("/admin").await.status, StatusCode::SEE_OTHER);
    let res = b.try_sign_in("bientapchinh", "mật khẩu ban đầu dài").await;
    assert_eq!(
        res.status,
        StatusCode::UNAUTHORIZED,
        "disabled: the generic message"
    );

    // Role change, password reset; the last administrator cannot demote or disable itself.
    let res = a
        .post(
            &format!("/admin/users/{}", u.id),
            &[
                ("csrf", &csrf),
                ("role", "editor"),
                ("all_categories", "1"),
                ("display_name", "Đổi tên"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let res = a
        .post(
            &format!("/admin/users/{}/password", u.id),
            &[("csrf", &csrf), ("password", "mật khẩu đặt lại dài")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let res = a
        .post("/admin/users/1", &[("csrf", &csrf), ("role", "editor")])
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    let res = a
        .post("/admin/users/1/active", &[("csrf", &csrf), ("active", "0")])
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);

    // The audit page lists and filters it all.
    let actions = audit_actions(&app).await;
    for want in [
        "user.created",
        "user.disabled",
        "user.updated",
        "user.password_reset",
        "login.failed",
    ] {
        assert!(actions.contains(&want.to_owned()), "{want}: {actions:?}");
    }
    let page = a.get("/admin/audit?action=user").await;
    assert_eq!(page.status, StatusCode::OK);
    let table = between(&page.body, "<tbody>", "</tbody>");
    assert!(table.contains("user.created") && table.contains("user.updated"));
    assert!(!table.contains("login.failed"));
    let page = a
        .get("/admin/audit?user=bientapchinh&action=login.failed")
        .await;
    let table = between(&page.body, "<tbody>", "</tbody>");
    assert_eq!(table.matches("<tr>").count(), 1, "{table}");
    let page = a.get("/admin/audit?from=2000-01-01&to=2000-01-02").await;
    assert!(page.body.contains("Không có mục nào."));
}

/// The table-driven authorisation test: every admin route × every role and anonymous.
#[tokio::test]
async fn every_admin_route_allows_exactly_the_roles_it_should() {
    let settings = WebSettings {
        posts_per_minute: 100_000,
        login_attempts_per_minute: 100_000,
        ..WebSettings::default()
    };
    let app = TestApp::with_settings(settings).await;
    app.add_user("admin", Role::Administrator).await;
    app.add_user("chief", Role::EditorInChief).await;
    app.add_user("editor", Role::Editor).await;
    let routes = bantin_web::admin_routes();
    let paths: Vec<&str> = routes.iter().map(|r| r.path).collect();
    for must in [
        "/admin",
        "/admin/users",
        "/admin/audit",
        "/admin/sessions",
        "/admin/login",
        "/admin/logout",
        "/admin/session",
    ] {
        assert!(paths.contains(&must), "{must} missing from the route table");
    }
    for r in &routes {
        for who in [
            None,
            Some(("admin", Role::Administrator)),
            Some(("chief", Role::EditorInChief)),
            Some(("editor", Role::Editor)),
        ] {
            let mut agent = Agent::new(&app, "198.51.100.30:4000");
            if let Some((name, _)) = who {
                agent.sign_in(name, PASSWORD).await;
            }
            let csrf = if who.is_some() {
                agent.csrf().await
            } else {
                String::new()
            };
            let allowed = match (r.access, who) {
                (Access::Public, _) => true,
                (_, None) => false,
                (Access::Enrolling, Some(_)) => true,
                (Access::Allowed(cap), Some((_, role))) => role.grants(cap),
            };
            let res = if r.method == axum::http::Method::GET {
                agent.get(r.sample).await
            } else {
                agent
                    .post_raw(
                        r.sample,
                        format!("csrf={csrf}").into_bytes(),
                        &[("x-csrf-token", csrf.as_str())],
                    )
                    .await
            };
            let to_login = res.status == StatusCode::SEE_OTHER
                && res.location().starts_with("/admin/login?tiep")
                || res.status == StatusCode::UNAUTHORIZED && r.access != Access::Public;
            let label = format!(
                "{} {} as {:?}: {}",
                r.method,
                r.sample,
                who.map(|w| w.0),
                res.status
            );
            if r.access == Access::Public {
                assert!(res.status != StatusCode::INTERNAL_SERVER_ERROR, "{label}");
            } else if allowed {
                assert!(
                    !to_login && res.status != StatusCode::FORBIDDEN,
                    "{label} should be allowed"
                );
                assert!(res.status != StatusCode::INTERNAL_SERVER_ERROR, "{label}");
            } else if who.is_none() {
                assert!(to_login, "{label} should ask to sign in");
            } else {
                assert_eq!(
                    res.status,
                    StatusCode::FORBIDDEN,
                    "{label} should be refused"
                );
            }
            // State-changing routes refuse a missing token even for those allowed.
            if let Some((name, _)) = who
                && allowed
                && r.method == axum::http::Method::POST
                && r.access != Access::Public
            {
                let mut fresh = Agent::new(&app, "198.51.100.31:4000");
                fresh.sign_in(name, PASSWORD).await;
                let res = fresh.post_raw(r.sample, b"csrf=".to_vec(), &[]).await;
                assert_eq!(
                    res.status,
                    StatusCode::FORBIDDEN,
                    "{} {} without a token",
                    r.method,
                    r.sample
                );
            }
        }
    }
}

/// A minimal SMTP server that accepts every message and hands each one's data to the test.
async fn smtp_sink() -> (u16, tokio::sync::mpsc::UnboundedReceiver<String>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                w.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(d) = data.as_mut() {
                        if line == "." {
                            tx.send(data.take().unwrap()).ok();
                            w.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            d.push_str(&line);
                            d.push('\n');
                        }
                        continue;
                    }
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 sink\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go on\r\n"
                        }
                        "QUIT" => {
                            w.write_all(b"221 bye\r\n").await.ok();
                            break;
                        }
                        _ => b"250 OK\r\n",
                    };
                    w.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, rx)
}

#[tokio::test]
async fn forgotten_passwords_are_reset_by_an_emailed_one_time_link() {
    let (port, mut inbox) = smtp_sink().await;
    let settings = WebSettings {
        mailer: Some(
            bantin_web::Mailer::new(
                &format!("smtp://127.0.0.1:{port}"),
                "Cổng thông tin <noreply@cong.example.vn>",
            )
            .unwrap(),
        ),
        public_url: Some("https://cong.example.vn".to_owned()),
        ..WebSettings::default()
    };
    let app = TestApp::with_settings(settings).await;
    let id = app.add_user("bientap", Role::Editor).await;
    app.app()
        .update_account(
            &bantin_app::Actor::cli(),
            id,
            &bantin_app::ProfileChange {
                display_name: bantin_core::account::DisplayName::parse("Biên tập").unwrap(),
                email: bantin_core::account::Email::parse("bt@example.vn").unwrap(),
                role: Role::Editor,
                all_categories: true,
                categories: Vec::new(),
            },
        )
        .await
        .unwrap();
    let mut a = Agent::new(&app, "198.51.100.40:4000");
    let page = a.get("/admin/forgot").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = csrf_of(&page.body);
    // The same answer whether or not an account matches.
    let none = a
        .post("/admin/forgot", &[("csrf", &csrf), ("who", "khongco")])
        .await;
    let some = a
        .post(
            "/admin/forgot",
            &[("csrf", &csrf), ("who", "BT@example.vn")],
        )
        .await;
    assert_eq!(none.status, StatusCode::OK);
    assert_eq!(some.status, StatusCode::OK);
    assert_eq!(
        between(&none.body, "id=\"forgot-notice\">", "<"),
        between(&some.body, "id=\"forgot-notice\">", "<")
    );
    let mail = tokio::time::timeout(std::time::Duration::from_secs(10), inbox.recv())
        .await
        .expect("the reset email arrives")
        .unwrap();
    assert!(mail.contains("To: bt@example.vn"), "{mail}");
    // Undo quoted-printable soft line breaks and the one escape a link can contain.
    let body = mail.replace("=\n", "").replace("=3D", "=");
    let start = body
        .find("https://cong.example.vn/admin/reset/")
        .expect("a link")
        + 23;
    let path = &body[start..start + "/admin/reset/".len() + 64];
    assert!(inbox.try_recv().is_err(), "no mail for the unknown name");

    let mut b = Agent::new(&app, "198.51.100.41:4000");
    let form = b.get(path).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let csrf = csrf_of(&form.body);
    let res = b
        .post(
            path,
            &[
                ("csrf", &csrf),
                ("new", "mật khẩu mới qua thư"),
                ("confirm", "khác"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    let res = b
        .post(
            path,
            &[
                ("csrf", &csrf),
                ("new", "mật khẩu mới qua thư"),
                ("confirm", "mật khẩu mới qua thư"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.location(), "/admin/login?ly-do=da-dat-lai");
    b.sign_in("bientap", "mật khẩu mới qua thư").await;
    assert_eq!(
        Agent::new(&app, "198.51.100.42:4000")
            .try_sign_in("bientap", PASSWORD)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // The link works once.
    let again = b.get(path).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert!(again.body.contains("không hợp lệ, đã dùng hoặc đã hết hạn"));
    assert!(
        audit_actions(&app)
            .await
            .contains(&"account.password_reset_by_email".to_owned())
    );
}

#[tokio::test]
async fn without_smtp_the_forgotten_password_page_points_to_an_administrator() {
    let app = TestApp::with_demo().await;
    let page = app.get("/admin/forgot").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Hãy liên hệ quản trị viên"));
    assert!(!page.body.contains("name=\"who\""));
}

#[tokio::test]
async fn a_database_failure_does_not_sign_anyone_out() {
    let app = TestApp::with_demo().await;
    app.add_user("admin", Role::Administrator).await;
    let mut a = Agent::new(&app, "198.51.100.50:4000");
    a.sign_in("admin", PASSWORD).await;
    app.store().close().await;
    // The sign-in page needs no database; the session lookup fails and must not clear the cookie.
    let res = a.get("/admin/login").await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(
        !res.set_cookies()
            .iter()
            .any(|(n, _, _)| n == "bantin_session"),
        "{:?}",
        res.set_cookies()
    );
}
