//! Team accounts against the Supabase Auth fake: every flow of `salesdesk_core::auth`, the
//! session's refresh and persistence rules, and end to end with the test Postgres cluster (a
//! token from the fake opens RLS; after sign-out the database refuses it).

use std::sync::Arc;
use std::time::Duration;

use salesdesk_core::ErrorKind;
use salesdesk_core::ai::ManualClock;
use salesdesk_core::auth::{
    AuthClient, AuthError, MemoryVault, SessionManager, SessionStore, SignOutScope, SignUpOutcome,
    VerifyToken, VerifyType,
};
use salesdesk_core::data::remote::RemoteStore;
use salesdesk_core::secrets::SecretString;
use salesdesk_testkit::fakes::supabase_auth::{AuthFault, SupabaseAuthFake};
use salesdesk_testkit::supabase::TestDb;

const ANON: &str = "anon-key-for-tests";
const SECRET: &str = "fake-auth-jwt-secret-at-least-32-characters";
const PASSWORD: &str = "correct horse battery";

fn pw(p: &str) -> SecretString {
    SecretString::new(p)
}

struct Env {
    fake: SupabaseAuthFake,
    clock: Arc<ManualClock>,
}

impl Env {
    async fn new() -> Self {
        Self {
            fake: SupabaseAuthFake::start(ANON, SECRET).await,
            clock: Arc::new(ManualClock::new()),
        }
    }

    fn client(&self) -> AuthClient {
        self.client_with_key(ANON)
    }

    fn client_with_key(&self, key: &str) -> AuthClient {
        AuthClient::with_timeouts(
            &self.fake.project_url(),
            SecretString::new(key),
            self.clock.clone(),
            Duration::from_secs(2),
            Duration::from_millis(800),
        )
        .expect("client")
    }

    fn manager(&self, vault: Arc<MemoryVault>) -> SessionManager {
        SessionManager::new(self.client(), SessionStore::new(vault))
    }

    /// Signs up `email` and confirms it through the emailed link.
    async fn confirmed_user(&self, email: &str) {
        let client = self.client();
        let outcome = client.sign_up(email, &pw(PASSWORD)).await.expect("sign up");
        assert!(matches!(outcome, SignUpOutcome::ConfirmationSent(_)));
        let mail = self.fake.last_email(email, "signup").await.expect("email");
        client
            .verify(
                VerifyType::Email,
                &VerifyToken::TokenHash(SecretString::new(mail.token_hash)),
            )
            .await
            .expect("verify");
    }
}

#[tokio::test]
async fn sign_up_needs_the_email_confirmed_before_password_sign_in() {
    let env = Env::new().await;
    let client = env.client();
    let SignUpOutcome::ConfirmationSent(user) = client
        .sign_up("Ana@Example.com", &pw(PASSWORD))
        .await
        .unwrap()
    else {
        panic!("confirmation is required by default");
    };
    assert_eq!(user.email.as_deref(), Some("ana@example.com"));
    assert!(user.email_confirmed_at.is_none());

    let err = client
        .sign_in_password("ana@example.com", &pw(PASSWORD))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::EmailNotConfirmed), "{err:?}");
    assert_eq!(err.error_code(), Some("email_not_confirmed"));
    assert!(err.to_string().contains("confirmation email"));

    let mail = env
        .fake
        .last_email("ana@example.com", "signup")
        .await
        .unwrap();
    let session = client
        .verify(
            VerifyType::Email,
            &VerifyToken::TokenHash(SecretString::new(mail.token_hash.clone())),
        )
        .await
        .unwrap();
    assert_eq!(session.user.id, user.id);
    // A link works once.
    let again = client
        .verify(
            VerifyType::Email,
            &VerifyToken::TokenHash(SecretString::new(mail.token_hash)),
        )
        .await
        .unwrap_err();
    assert_eq!(again.error_code(), Some("otp_expired"));

    let session = client
        .sign_in_password("ana@example.com", &pw(PASSWORD))
        .await
        .unwrap();
    let me = client.get_user(&session.access_token).await.unwrap();
    assert_eq!(me.id, user.id);
    assert!(me.email_confirmed_at.is_some());

    // On the wire: the anon key as `apikey`, the grant in the query string.
    let sign_in = env
        .fake
        .requests()
        .into_iter()
        .rfind(|r| r.path_and_query.starts_with("/auth/v1/token"))
        .unwrap();
    assert_eq!(sign_in.path_and_query, "/auth/v1/token?grant_type=password");
    assert_eq!(sign_in.header("apikey"), Some(ANON));
    assert_eq!(sign_in.body["email"], "ana@example.com");
}

#[tokio::test]
async fn email_code_confirms_too() {
    let env = Env::new().await;
    let client = env.client();
    client
        .sign_up("bo@example.com", &pw(PASSWORD))
        .await
        .unwrap();
    let mail = env
        .fake
        .last_email("bo@example.com", "signup")
        .await
        .unwrap();
    let wrong = client
        .verify(
            VerifyType::Email,
            &VerifyToken::EmailOtp {
                email: "bo@example.com".into(),
                token: SecretString::new("000000x"),
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(wrong, AuthError::LinkExpired { .. }), "{wrong:?}");
    client
        .verify(
            VerifyType::Email,
            &VerifyToken::EmailOtp {
                email: "bo@example.com".into(),
                token: SecretString::new(mail.otp),
            },
        )
        .await
        .unwrap();
    client
        .sign_in_password("bo@example.com", &pw(PASSWORD))
        .await
        .unwrap();
}

#[tokio::test]
async fn wrong_password_and_unknown_user_are_invalid_credentials() {
    let env = Env::new().await;
    env.confirmed_user("cy@example.com").await;
    let client = env.client();
    for (email, password) in [
        ("cy@example.com", "not the password"),
        ("nobody@example.com", PASSWORD),
    ] {
        let err = client
            .sign_in_password(email, &pw(password))
            .await
            .unwrap_err();
        assert!(matches!(err, AuthError::InvalidCredentials), "{err:?}");
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("invalid_credentials"));
        assert!(!err.to_string().contains(password));
    }
}

#[tokio::test]
async fn sign_up_rejections_carry_the_error_code() {
    let env = Env::new().await;
    let client = env.client();
    let weak = client
        .sign_up("di@example.com", &pw("abc"))
        .await
        .unwrap_err();
    let AuthError::WeakPassword { reasons } = &weak else {
        panic!("{weak:?}");
    };
    assert_eq!(reasons, &["length".to_owned()]);

    // Without confirmation the server says the account exists; a session comes at once.
    env.fake.set_confirm_email(false);
    let first = client
        .sign_up("di@example.com", &pw(PASSWORD))
        .await
        .unwrap();
    assert!(matches!(first, SignUpOutcome::SignedIn(_)));
    let dup = client
        .sign_up("di@example.com", &pw(PASSWORD))
        .await
        .unwrap_err();
    assert!(matches!(dup, AuthError::UserAlreadyExists), "{dup:?}");
}

#[tokio::test]
async fn a_wrong_or_missing_anon_key_is_a_setup_error() {
    let env = Env::new().await;
    let err = env
        .client_with_key("not-the-key")
        .sign_in_password("x@example.com", &pw(PASSWORD))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::Config(_)), "{err:?}");
    assert!(!err.to_string().contains("not-the-key"));
    assert!(AuthClient::new("not a url", SecretString::new(ANON), env.clock.clone()).is_err());
    assert!(
        AuthClient::new(
            &env.fake.project_url(),
            SecretString::new(" "),
            env.clock.clone()
        )
        .is_err()
    );
}

#[tokio::test]
async fn password_reset_by_email_link() {
    let env = Env::new().await;
    env.confirmed_user("ed@example.com").await;
    let client = env.client();
    client.recover("ed@example.com").await.unwrap();
    // Same answer for an address without an account, and no email.
    client.recover("ghost@example.com").await.unwrap();
    assert!(
        env.fake
            .last_email("ghost@example.com", "recovery")
            .await
            .is_none()
    );

    let mail = env
        .fake
        .last_email("ed@example.com", "recovery")
        .await
        .unwrap();
    // A recovery link is not a sign-up link.
    let wrong_type = client
        .verify(
            VerifyType::Signup,
            &VerifyToken::TokenHash(SecretString::new(mail.token_hash.clone())),
        )
        .await
        .unwrap_err();
    assert_eq!(wrong_type.error_code(), Some("otp_expired"));
    let session = client
        .verify(
            VerifyType::Recovery,
            &VerifyToken::TokenHash(SecretString::new(mail.token_hash)),
        )
        .await
        .unwrap();
    assert_eq!(session.user.email.as_deref(), Some("ed@example.com"));

    // The reset ends with a new password.
    let same = client
        .update_password(&session.access_token, &pw(PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(same.error_code(), Some("same_password"));
    client
        .update_password(&session.access_token, &pw("a brand new password"))
        .await
        .unwrap();
    let old = client
        .sign_in_password("ed@example.com", &pw(PASSWORD))
        .await
        .unwrap_err();
    assert!(matches!(old, AuthError::InvalidCredentials));
    client
        .sign_in_password("ed@example.com", &pw("a brand new password"))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_manager_refreshes_before_expiry_and_saves_the_new_session() {
    let env = Env::new().await;
    env.confirmed_user("fay@example.com").await;
    let vault = Arc::new(MemoryVault::default());
    let manager = env.manager(vault.clone());
    let user = manager
        .sign_in_password("fay@example.com", &pw(PASSWORD))
        .await
        .unwrap();
    assert!(!vault.is_empty());
    let first = manager.access_token().await.unwrap();
    assert_eq!(manager.access_token().await.unwrap(), first);
    assert_eq!(manager.refresh_count(), 0);

    // 59 minutes later the token is inside the 2-minute margin: refreshed.
    let before = manager.status().await.unwrap().expires_at.unwrap();
    env.clock.advance(Duration::from_secs(59 * 60));
    let second = manager.access_token().await.unwrap();
    assert_eq!(manager.refresh_count(), 1);
    let after = manager.status().await.unwrap().expires_at.unwrap();
    assert!(
        after - before >= chrono::Duration::seconds(59 * 60),
        "{before} -> {after}"
    );
    assert_eq!(manager.access_token().await.unwrap(), second);
    assert_eq!(
        manager.refresh_count(),
        1,
        "a fresh token is not refreshed again"
    );
    assert_eq!(
        env.client().get_user(&second).await.unwrap().id,
        user.id,
        "the new token is accepted"
    );

    // A restart reads the refreshed session from the store.
    let restarted = env.manager(vault);
    assert_eq!(restarted.access_token().await.unwrap(), second);
    let status = restarted.status().await.unwrap();
    assert!(status.signed_in && !status.expired);
    assert_eq!(
        status.user.unwrap().email.as_deref(),
        Some("fay@example.com")
    );
}

#[tokio::test]
async fn concurrent_callers_share_one_refresh() {
    let env = Env::new().await;
    env.confirmed_user("gus@example.com").await;
    let manager = Arc::new(env.manager(Arc::new(MemoryVault::default())));
    manager
        .sign_in_password("gus@example.com", &pw(PASSWORD))
        .await
        .unwrap();
    env.clock.advance(Duration::from_secs(3600));
    env.fake.script([AuthFault::Latency(
        Duration::from_millis(100),
        Box::new(AuthFault::Ok),
    )]);
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let m = manager.clone();
            tokio::spawn(async move { m.access_token().await })
        })
        .collect();
    let mut tokens = Vec::new();
    for c in calls {
        tokens.push(c.await.unwrap().unwrap());
    }
    assert_eq!(manager.refresh_count(), 1);
    assert!(tokens.windows(2).all(|w| w[0] == w[1]));
    let refreshes = env
        .fake
        .requests()
        .iter()
        .filter(|r| r.path_and_query == "/auth/v1/token?grant_type=refresh_token")
        .count();
    assert_eq!(refreshes, 1);
}

#[tokio::test]
async fn refresh_token_reuse_is_detected_and_ends_the_session() {
    let env = Env::new().await;
    env.confirmed_user("hal@example.com").await;
    let client = env.client();
    let s0 = client
        .sign_in_password("hal@example.com", &pw(PASSWORD))
        .await
        .unwrap();
    let s1 = client.refresh(&s0.refresh_token).await.unwrap();
    assert_ne!(s1.refresh_token, s0.refresh_token);
    // Within the reuse interval a replay gets the current token back (a retried request).
    let replay = client.refresh(&s0.refresh_token).await.unwrap();
    assert_eq!(replay.refresh_token, s1.refresh_token);

    // After it, a replay is taken as theft: refused, and the whole family revoked.
    env.fake.set_reuse_interval(Duration::ZERO);
    let err = client.refresh(&s0.refresh_token).await.unwrap_err();
    assert!(err.ends_session(), "{err:?}");
    assert_eq!(err.error_code(), Some("refresh_token_already_used"));
    assert_eq!(err.kind(), ErrorKind::SignedOut);
    let err = client.refresh(&s1.refresh_token).await.unwrap_err();
    assert_eq!(err.error_code(), Some("refresh_token_already_used"));

    let unknown = client
        .refresh(&SecretString::new("no-such-token"))
        .await
        .unwrap_err();
    assert_eq!(unknown.error_code(), Some("refresh_token_not_found"));
    assert!(unknown.ends_session());
}

#[tokio::test]
async fn an_expired_session_signs_out_and_clears_the_store() {
    let env = Env::new().await;
    env.confirmed_user("ida@example.com").await;
    let vault = Arc::new(MemoryVault::default());
    let manager = env.manager(vault.clone());
    manager
        .sign_in_password("ida@example.com", &pw(PASSWORD))
        .await
        .unwrap();
    env.fake.expire_sessions("ida@example.com").await;
    env.clock.advance(Duration::from_secs(3600));
    let err = manager.access_token().await.unwrap_err();
    assert!(matches!(err, AuthError::SessionEnded { .. }), "{err:?}");
    assert_eq!(err.error_code(), Some("session_expired"));
    assert!(vault.is_empty());
    assert!(!manager.status().await.unwrap().signed_in);
    assert!(matches!(
        manager.access_token().await.unwrap_err(),
        AuthError::NotSignedIn
    ));
}

#[tokio::test]
async fn network_loss_during_refresh_keeps_the_session() {
    let env = Env::new().await;
    env.confirmed_user("jo@example.com").await;
    let vault = Arc::new(MemoryVault::default());
    let manager = env.manager(vault.clone());
    manager
        .sign_in_password("jo@example.com", &pw(PASSWORD))
        .await
        .unwrap();
    env.clock.advance(Duration::from_secs(3600));

    env.fake.set_offline(true);
    let err = manager.access_token().await.unwrap_err();
    assert!(matches!(err, AuthError::Network(_)), "{err:?}");
    assert!(err.is_transient() && !err.ends_session());
    assert_eq!(err.kind(), ErrorKind::Remote);
    env.fake.set_offline(false);

    // Server trouble, rate limits and timeouts keep it too.
    env.fake.script([
        AuthFault::Status(503),
        AuthFault::RateLimited(7),
        AuthFault::Latency(Duration::from_secs(2), Box::new(AuthFault::Ok)),
    ]);
    let e503 = manager.access_token().await.unwrap_err();
    assert!(
        matches!(e503, AuthError::Unavailable { status: 503, .. }),
        "{e503:?}"
    );
    let e429 = manager.access_token().await.unwrap_err();
    assert!(
        matches!(e429, AuthError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(7)),
        "{e429:?}"
    );
    let slow = manager.access_token().await.unwrap_err();
    assert!(matches!(slow, AuthError::Network(_)), "{slow:?}");
    assert!(!vault.is_empty());
    assert!(manager.status().await.unwrap().signed_in);

    // The network is back: the same session refreshes.
    let token = manager.access_token().await.unwrap();
    env.client().get_user(&token).await.unwrap();
}

#[tokio::test]
async fn offline_start_with_a_saved_session() {
    let env = Env::new().await;
    env.confirmed_user("kim@example.com").await;
    let vault = Arc::new(MemoryVault::default());
    env.manager(vault.clone())
        .sign_in_password("kim@example.com", &pw(PASSWORD))
        .await
        .unwrap();

    // Next morning, no network: the app starts signed in (cached data and local writes go on).
    env.clock.advance(Duration::from_secs(12 * 3600));
    env.fake.set_offline(true);
    let manager = env.manager(vault.clone());
    let status = manager.status().await.unwrap();
    assert!(status.signed_in && status.expired);
    assert!(manager.access_token().await.unwrap_err().is_transient());
    assert!(!vault.is_empty());

    env.fake.set_offline(false);
    let token = manager.access_token().await.unwrap();
    assert_eq!(
        env.client()
            .get_user(&token)
            .await
            .unwrap()
            .email
            .as_deref(),
        Some("kim@example.com")
    );
}

#[tokio::test]
async fn sign_out_scopes_travel_in_the_query_string() {
    let env = Env::new().await;
    env.confirmed_user("lu@example.com").await;
    let devices: Vec<_> = (0..3)
        .map(|_| env.manager(Arc::new(MemoryVault::default())))
        .collect();
    for d in &devices {
        d.sign_in_password("lu@example.com", &pw(PASSWORD))
            .await
            .unwrap();
    }
    // Plus the session the confirmation link opened.
    assert_eq!(env.fake.session_count("lu@example.com").await, 4);

    // Local: only this device.
    let laptop_token = devices[1].access_token().await.unwrap();
    let report = devices[0].sign_out(SignOutScope::Local).await.unwrap();
    assert!(report.server_confirmed);
    assert_eq!(env.fake.session_count("lu@example.com").await, 3);
    assert!(!devices[0].status().await.unwrap().signed_in);
    env.client().get_user(&laptop_token).await.unwrap();
    let logout = env
        .fake
        .requests()
        .into_iter()
        .rfind(|r| r.path_and_query.starts_with("/auth/v1/logout"))
        .unwrap();
    assert_eq!(logout.path_and_query, "/auth/v1/logout?scope=local");

    // Global: every device.
    let phone_token = devices[2].access_token().await.unwrap();
    devices[1].sign_out(SignOutScope::Global).await.unwrap();
    assert_eq!(env.fake.session_count("lu@example.com").await, 0);
    let err = env.client().get_user(&phone_token).await.unwrap_err();
    assert_eq!(err.error_code(), Some("session_not_found"));
    assert!(err.ends_session());
    // The phone learns at its next refresh.
    env.clock.advance(Duration::from_secs(3600));
    let ended = devices[2].access_token().await.unwrap_err();
    assert!(ended.ends_session(), "{ended:?}");
    // Signing out a session the server already ended is fine.
    devices[2].sign_out(SignOutScope::Local).await.unwrap();
}

#[tokio::test]
async fn signing_out_offline_still_clears_this_device() {
    let env = Env::new().await;
    env.confirmed_user("max@example.com").await;
    let vault = Arc::new(MemoryVault::default());
    let manager = env.manager(vault.clone());
    manager
        .sign_in_password("max@example.com", &pw(PASSWORD))
        .await
        .unwrap();
    env.fake.set_offline(true);
    let report = manager.sign_out(SignOutScope::Local).await.unwrap();
    assert!(!report.server_confirmed);
    assert!(vault.is_empty());
}

#[tokio::test]
async fn end_to_end_rls_sees_the_fakes_sessions() {
    let db = TestDb::new().await.expect("test database");
    let fake = SupabaseAuthFake::with_db(ANON, db.jwt_secret(), db.admin.clone()).await;
    let clock = Arc::new(ManualClock::new());
    let client = AuthClient::new(&fake.project_url(), SecretString::new(ANON), clock.clone())
        .expect("client");
    client
        .sign_up("nia@example.com", &pw(PASSWORD))
        .await
        .unwrap();
    let mail = fake.last_email("nia@example.com", "signup").await.unwrap();
    client
        .verify(
            VerifyType::Signup,
            &VerifyToken::TokenHash(SecretString::new(mail.token_hash)),
        )
        .await
        .unwrap();
    let manager = SessionManager::new(client, SessionStore::new(Arc::new(MemoryVault::default())));
    let user = manager
        .sign_in_password("nia@example.com", &pw(PASSWORD))
        .await
        .unwrap();

    let remote = RemoteStore::from_pool(db.app_pool().await.unwrap());
    let read_self = |token: SecretString| {
        let remote = remote.clone();
        async move {
            let mut tx = remote.begin_as(token.expose()).await?;
            let me: String = sqlx::query_scalar("select app.current_user_id()::text")
                .fetch_one(&mut *tx)
                .await
                .expect("current user");
            let profiles: i64 = sqlx::query_scalar("select count(*) from app.profiles")
                .fetch_one(&mut *tx)
                .await
                .expect("own profile");
            tx.commit().await.expect("commit");
            Ok::<_, salesdesk_core::data::remote::RemoteError>((me, profiles))
        }
    };
    let (me, profiles) = read_self(manager.access_token().await.unwrap())
        .await
        .unwrap();
    assert_eq!(me, user.id);
    assert_eq!(profiles, 1);

    // A refreshed token works as well (rotation written to auth.refresh_tokens).
    clock.advance(Duration::from_secs(3600));
    let token = manager.access_token().await.unwrap();
    read_self(token.clone()).await.unwrap();
    let revoked: i64 = sqlx::query_scalar("select count(*) from auth.refresh_tokens where revoked")
        .fetch_one(&db.admin)
        .await
        .unwrap();
    assert_eq!(revoked, 1);

    manager.sign_out(SignOutScope::Local).await.unwrap();
    let err = read_self(token).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SignedOut, "{err}");
}

#[tokio::test]
async fn a_logout_scope_in_the_body_is_ignored_and_ends_every_session() {
    // Why the client puts the scope in the query string: the server reads only that, and
    // without it applies `global`.
    let env = Env::new().await;
    env.confirmed_user("oz@example.com").await;
    let client = env.client();
    let a = client
        .sign_in_password("oz@example.com", &pw(PASSWORD))
        .await
        .unwrap();
    assert_eq!(env.fake.session_count("oz@example.com").await, 2);
    let status = reqwest::Client::new()
        .post(format!("{}/auth/v1/logout", env.fake.project_url()))
        .header("apikey", ANON)
        .bearer_auth(a.access_token.expose())
        .header("content-type", "application/json")
        .body(r#"{"scope":"local"}"#)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 204);
    assert_eq!(env.fake.session_count("oz@example.com").await, 0);
}
