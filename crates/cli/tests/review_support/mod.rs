//! Shared by the review app's tests: invoices that go to review for a real reason, managers, and a
//! small cookie-keeping HTTP client over the app's router (in process, no socket).
#![allow(dead_code)]

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use tower::ServiceExt;

use crate::services::fixture;

/// The first line of fixture fx03 in a distributor's own words: its own article code and GTIN
/// (unknown to the catalog) and a short wording ("Duct fan inline") that fits two catalog fans
/// almost equally, so the matcher is unsure (`line_match_uncertain`, proposing the 2-speed
/// NV-652022) and the invoice goes to a manager, who knows this distributor's "Duct fan inline" is
/// the 1-speed [`REWORDED_SKU`]. `suffix` makes the invoice number (and
/// so the fingerprint) unique. Returns (word JSON, invoice number).
pub fn reworded_invoice(suffix: &str) -> (Vec<u8>, String) {
    let truth: serde_json::Value = serde_json::from_slice(
        &std::fs::read(fixture("fx03_digital_en_twoline.truth.json")).unwrap(),
    )
    .unwrap();
    let number = truth["header"]["invoice_number"]
        .as_str()
        .unwrap()
        .to_string();
    let new_number = format!("{number}{suffix}");
    let line = &truth["lines"][0];
    let desc_box: Vec<f64> = line["bbox"]["description"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let code = line["product_code"].as_str().unwrap().to_string();
    let gtin = line["gtin"].as_str().unwrap().to_string();
    let mut wording = REWORDED_WORDS.iter();
    let pages: Vec<serde_json::Value> = truth["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let words: Vec<serde_json::Value> = p["words"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|w| {
                    let text = w[0].as_str().unwrap();
                    let b: Vec<f64> = w[1].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
                    let inside = b[0] >= desc_box[0] - 1.0
                        && b[2] <= desc_box[2] + 1.0
                        && b[1] >= desc_box[1] - 1.0
                        && b[3] <= desc_box[3] + 1.0;
                    let text = if text == number {
                        new_number.clone()
                    } else if text == code {
                        REWORDED_CODE.to_string()
                    } else if text == gtin {
                        REWORDED_GTIN.to_string()
                    } else if inside {
                        // the wording, word for word; surplus original words are dropped
                        (*wording.next()?).to_string()
                    } else {
                        text.to_string()
                    };
                    Some(serde_json::json!({"text": text, "bbox": w[1]}))
                })
                .collect();
            serde_json::json!({"width": p["width"], "height": p["height"], "dpi": p["dpi"], "words": words})
        })
        .collect();
    (
        serde_json::to_vec(&serde_json::json!({"pages": pages})).unwrap(),
        new_number,
    )
}

/// The distributor's wording of line 1.
pub const REWORDED_WORDS: [&str; 3] = ["Duct", "fan", "inline"];
pub const REWORDED_CODE: &str = "WM-44810";
pub const REWORDED_GTIN: &str = "WM-44810-B";
/// What the matcher proposes for line 1.
pub const PROPOSED_SKU: &str = "NV-652022";
/// What line 1 really is (the manager's correction).
pub const REWORDED_SKU: &str = "NV-300719";

/// Creates a manager through the CLI (`claimscan review add-manager`), as an operator would.
pub fn add_manager(schema: &str, email: &str, password: &str, programs: &[&str]) {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_claimscan"));
    c.args(["review", "add-manager", "--email", email])
        .env("CLAIMSCAN_DATABASE__URL", crate::services::PG)
        .env("CLAIMSCAN_DATABASE__SCHEMA", schema)
        .env("CLAIMSCAN_PIPELINE__CATALOG", fixture("catalog.csv"))
        .env("CLAIMSCAN_PIPELINE__VALIDATION_DATA", fixture(""))
        .env("CLAIMSCAN_REVIEW_PASSWORD", password);
    for p in programs {
        c.args(["--program", p]);
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "add-manager: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A response: status, headers, body.
pub struct Resp {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
    pub fn code(&self) -> &str {
        self.headers
            .get("x-error-code")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
    /// The first form's CSRF token on the page.
    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a csrf field")
            + 19;
        self.body[at..].split('"').next().unwrap().to_string()
    }
}

/// A browser stand-in: keeps cookies, sends requests to the router.
pub struct Client {
    pub app: Router,
    pub cookies: HashMap<String, String>,
    /// Every Set-Cookie header seen, as sent.
    pub set_cookies: Vec<String>,
}

impl Client {
    pub fn new(app: Router) -> Client {
        Client {
            app,
            cookies: HashMap::new(),
            set_cookies: Vec::new(),
        }
    }

    pub async fn send(&mut self, method: &str, uri: &str, form: Option<&[(&str, &str)]>) -> Resp {
        let mut b = Request::builder().method(method).uri(uri);
        if !self.cookies.is_empty() {
            let c: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            b = b.header(header::COOKIE, c.join("; "));
        }
        let body = match form {
            Some(f) => {
                b = b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Body::from(serde_urlencoded::to_string(f).unwrap())
            }
            None => Body::empty(),
        };
        let r = self
            .app
            .clone()
            .oneshot(b.body(body).unwrap())
            .await
            .unwrap();
        for v in r.headers().get_all(header::SET_COOKIE) {
            let s = v.to_str().unwrap().to_string();
            let (kv, _) = s.split_once(';').unwrap_or((&s, ""));
            let (k, v) = kv.split_once('=').unwrap();
            if s.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
            self.set_cookies.push(s);
        }
        let status = r.status();
        let headers = r.headers().clone();
        let bytes = axum::body::to_bytes(r.into_body(), 16 << 20).await.unwrap();
        Resp {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&mut self, uri: &str) -> Resp {
        self.send("GET", uri, None).await
    }

    pub async fn post(&mut self, uri: &str, form: &[(&str, &str)]) -> Resp {
        self.send("POST", uri, Some(form)).await
    }

    /// Logs in through the form; panics unless it worked.
    pub async fn login(&mut self, email: &str, password: &str) {
        let page = self.get("/login").await;
        assert_eq!(page.status, StatusCode::OK);
        let csrf = page.csrf();
        let r = self
            .post(
                "/login",
                &[("email", email), ("password", password), ("csrf", &csrf)],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "login {email}: {}", r.body);
        assert_eq!(r.location(), "/queue");
    }

    /// The CSRF token of the session (read from the queue page's logout form).
    pub async fn session_csrf(&mut self) -> String {
        self.get("/queue").await.csrf()
    }
}
